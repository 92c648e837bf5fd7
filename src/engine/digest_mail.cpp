#include "engine/digest_mail.hpp"

#include "calendar/civil.hpp"
#include "calendar/zone.hpp"
#include "digest/digest.hpp"
#include "engine/replies.hpp"
#include "store/repos.hpp"

namespace sk::engine {

Result<std::optional<store::OutgoingMessage>> mail_digest_if_due(store::Db& db, const Clock& clock,
                                                                 IdSource& ids,
                                                                 const ClientId& client,
                                                                 const std::string& console_url) {
  using None = std::optional<store::OutgoingMessage>;
  SK_ASSIGN(auto c, store::find_client(db, client));
  const auto minutes = calendar::minutes_of_day(c.digest_at);
  if (!minutes || c.email.empty()) return None{};
  SK_ASSIGN(auto zone, calendar::Zone::find(c.timezone));
  const Timestamp now = clock.now();
  calendar::CivilTime due = zone.to_local(now);
  due.hour = *minutes / 60;
  due.minute = *minutes % 60;
  due.second = 0;
  const Timestamp due_at = zone.to_utc(due);
  if (now < due_at) return None{};
  // Asked every minute: what was queued since today's time says it is done, without building.
  SK_ASSIGN(Timestamp last, store::last_outgoing_to(db, client, "digest", c.email));
  if (last >= due_at) return None{};
  SK_ASSIGN(auto d, digest::build_mailed(db, client, due_at));
  MessageRequest m;
  m.to = {c.email};
  m.subject = digest::subject_of(d);
  m.body = digest::text_of(d, console_url.empty() ? "" : console_url + "/c/" + client + "/digest");
  m.kind = "digest";
  m.reason = "the client's digest, mailed daily at " + c.digest_at;
  m.send_now = true;
  m.source_key = "digest:" + d.day;
  SK_ASSIGN(auto out, queue_message(db, clock, ids, client, m, "sidekick"));
  return None{std::move(out)};
}

}  // namespace sk::engine
