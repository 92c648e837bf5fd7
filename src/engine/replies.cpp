#include "engine/replies.hpp"

#include <algorithm>
#include <tuple>

#include "core/hash.hpp"
#include "core/placeholders.hpp"
#include "engine/policy_codec.hpp"
#include "mail/compose.hpp"
#include "store/accounts.hpp"
#include "triage/autoreply.hpp"

namespace sk::engine {
namespace {

struct Sender {
  std::string name;
  std::string address;
  std::string account;                     // the account it goes out through; empty: none
  std::vector<std::string> own_addresses;  // every address of the client
};

// Mail goes out through one of the client's mailboxes and comes from its address: `account`
// when it is one of theirs (the mailbox the answered mail came to), else the one added first.
Result<Sender> sender_of(store::Db& db, const ClientId& client, const std::string& account = "") {
  SK_ASSIGN(auto record, store::find_client(db, client));
  SK_ASSIGN(auto accounts, store::list_accounts(db, client));
  Sender s;
  s.name = record.name;
  for (const auto& a : accounts) s.own_addresses.push_back(lower(a.address));
  if (!record.email.empty()) s.own_addresses.push_back(lower(record.email));
  s.address = record.email;
  if (!accounts.empty()) {
    auto chosen = std::find_if(accounts.begin(), accounts.end(),
                               [&](const auto& a) { return a.id == account; });
    if (chosen == accounts.end())
      chosen = std::min_element(accounts.begin(), accounts.end(), [](const auto& x, const auto& y) {
        return std::tie(x.created_at, x.id) < std::tie(y.created_at, y.id);
      });
    const auto& a = *chosen;
    s.address = a.address;
    s.account = a.id;
  }
  if (s.address.empty())
    return make_error(Errc::invalid_input, "client '" + record.slug +
                                               "' has no address to send from: add a mail "
                                               "account or an email");
  return s;
}

// Globally unique without randomness: the client, the message and the moment, hashed.
std::string message_id_for(const ClientId& client, const std::string& id, Timestamp at,
                           const std::string& from_address) {
  std::string domain = domain_of(from_address);
  if (domain.empty()) domain = "sidekick.invalid";
  return sha256_hex(client + "\n" + id + "\n" + std::to_string(at)).substr(0, 32) + "@" + domain;
}

std::string quoted(const Item& original, const std::string& text) {
  std::string out = text;
  if (!out.empty() && out.back() != '\n') out += '\n';
  std::string who = original.from_name.empty() ? original.from_address : original.from_name;
  out += "\nOn " + mail::rfc5322_date(original.sent_at ? original.sent_at : original.received_at) +
         ", " + who + " wrote:\n";
  std::size_t start = 0;
  while (start < original.text.size()) {
    auto end = original.text.find('\n', start);
    if (end == std::string::npos) end = original.text.size();
    std::string line = original.text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out += line.empty() ? ">\n" : "> " + line + "\n";
    start = end + 1;
  }
  return out;
}

std::vector<mail::Attachment> attachments_of(const std::vector<store::OutgoingPart>& parts) {
  std::vector<mail::Attachment> out;
  for (const auto& p : parts) out.push_back({p.content_type, p.filename, p.content});
  return out;
}

// Fixes the bytes: what is queued is exactly what will be sent, on every attempt.
Result<void> render_into(store::Db& db, const ClientId& client, store::OutgoingMessage& m) {
  SK_ASSIGN(Sender from, sender_of(db, client, m.account));
  mail::Outgoing o;
  if (!m.answers.empty() && m.kind == "forward") {
    SK_ASSIGN(auto original, store::get_item(db, client, m.answers));
    SK_ASSIGN(auto raw, store::raw_message(db, client, m.answers));
    o = mail::forward_of(original.item, raw, from.name, from.address, m.to, m.body, m.message_id,
                         m.created_at);
  } else if (!m.answers.empty()) {
    SK_ASSIGN(auto original, store::get_item(db, client, m.answers));
    o = mail::reply_to(original.item, from.name, from.address, m.body, m.message_id, m.created_at,
                       m.kind == "auto_reply");
  } else {
    o.from_name = from.name;
    o.from_address = from.address;
    o.text = m.body;
    o.message_id = m.message_id;
    o.date = m.created_at;
  }
  if (!m.to.empty()) o.to = m.to;
  o.cc = m.cc;
  if (!m.subject.empty()) o.subject = m.subject;
  o.attachments = attachments_of(m.parts);
  if (o.to.empty()) return make_error(Errc::invalid_input, "the message has no recipient");
  m.to = o.to;
  m.subject = o.subject;
  m.raw = mail::render(o);
  return ok();
}

Result<store::OutgoingMessage> create(store::Db& db, const Clock& clock, IdSource& ids,
                                      store::OutgoingMessage m, bool send_now,
                                      const std::string& actor) {
  std::string answered_at;  // the mailbox the answered mail came to
  if (!m.answers.empty()) {
    SK_ASSIGN(auto original, store::get_item(db, m.client, m.answers));
    answered_at = store::account_of_item_key(original.item.source_key);
  }
  SK_ASSIGN(Sender from, sender_of(db, m.client, answered_at));
  m.account = from.account;
  m.id = ids.next("out");
  m.created_at = clock.now();
  m.created_by = actor;
  m.message_id = message_id_for(m.client, m.id, m.created_at, from.address);
  for (auto& a : m.to) a = lower(a);
  for (auto& a : m.cc) a = lower(a);
  m.status = send_now ? store::OutgoingStatus::queued : store::OutgoingStatus::draft;
  // A draft is rendered too, so the VA sees the recipients and subject it will have.
  SK_TRY(render_into(db, m.client, m));
  store::OutgoingMessage stored;
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_ASSIGN(stored, store::insert_outgoing(db, m));
    if (stored.id != m.id) return ok();  // the same request came before
    std::string what = std::string(send_now ? "queued " : "drafted ") + m.kind + " to " +
                       (m.to.empty() ? std::string("?") : m.to.front()) + ": " + m.subject;
    return store::append_audit(db, m.client, m.created_at, actor,
                               send_now ? "mail queued" : "draft written", m.id + " " + what,
                               m.reason);
  }));
  return stored;
}

}  // namespace

std::optional<store::Template> builtin_template(const std::string& name) {
  if (name == "decline")
    return store::Template{
        "decline", "",
        "Hello {{sender_name}},\n\n"
        "Thank you for thinking of {{client_name}}. We are not taking on anything of this kind "
        "at the moment, so we will pass for now.\n\n"
        "Kind regards,\n"
        "The office of {{client_name}}\n"};
  if (name == "acknowledge")
    return store::Template{"acknowledge", "",
                           "Hello {{sender_name}},\n\n"
                           "Thank you for your message about \"{{subject}}\". It has reached us "
                           "and we will come back to you shortly.\n\n"
                           "Kind regards,\n"
                           "The office of {{client_name}}\n"};
  return std::nullopt;
}

Result<store::OutgoingMessage> queue_reply(store::Db& db, const Clock& clock, IdSource& ids,
                                           const ClientId& client, const ReplyRequest& request,
                                           const std::string& actor) {
  SK_ASSIGN(auto original, store::get_item(db, client, request.answers));
  // A forward of a text or a call's voicemail is mail; a reply to one would be mail to a
  // phone number.
  if (original.item.channel != Channel::email && request.kind != "forward")
    return make_error(Errc::invalid_input,
                      std::string("this came by ") +
                          (original.item.channel == Channel::voice ? "phone" : "text") +
                          ": it cannot be answered by mail (forward it, or answer by phone)");
  store::OutgoingMessage m;
  m.client = client;
  m.answers = request.answers;
  m.kind = request.kind;
  if (m.kind == "forward") {
    if (request.to.empty())
      return make_error(Errc::invalid_input, "a forward needs someone to go to");
    m.to = request.to;
  }
  m.body = request.quote ? quoted(original.item, request.body) : request.body;
  m.reason = request.reason;
  m.source_key = request.source_key;
  m.parts = request.parts;
  return create(db, clock, ids, std::move(m), request.send_now, actor);
}

Result<store::OutgoingMessage> queue_message(store::Db& db, const Clock& clock, IdSource& ids,
                                             const ClientId& client, const MessageRequest& request,
                                             const std::string& actor) {
  if (request.to.empty()) return make_error(Errc::invalid_input, "the message has no recipient");
  for (const auto& a : request.to)
    if (a.find('@') == std::string::npos)
      return make_error(Errc::invalid_input, "'" + a + "' is not a mail address");
  store::OutgoingMessage m;
  m.client = client;
  m.kind = request.kind;
  m.to = request.to;
  m.cc = request.cc;
  m.subject = request.subject;
  m.body = request.body;
  m.reason = request.reason;
  m.source_key = request.source_key;
  m.parts = request.parts;
  return create(db, clock, ids, std::move(m), request.send_now, actor);
}

Result<store::OutgoingMessage> approve_outgoing(store::Db& db, const Clock& clock,
                                                const ClientId& client, const std::string& id,
                                                const std::optional<std::string>& edited_body,
                                                const std::string& actor) {
  SK_ASSIGN(auto m, store::get_outgoing(db, client, id));
  const bool again = m.status == store::OutgoingStatus::failed;
  if (m.status != store::OutgoingStatus::draft && !again)
    return make_error(Errc::conflict, id + " is " + std::string(store::to_string(m.status)) +
                                          ", not a draft waiting for approval");
  if (edited_body) {
    m.body = *edited_body;
    SK_TRY(render_into(db, client, m));
  }
  const std::string last_error = m.last_error;
  m.status = store::OutgoingStatus::queued;
  if (again) {
    // A person looked at why it failed (and maybe mended it): tried again now, from scratch.
    m.attempts = 0;
    m.next_attempt_at = 0;
    m.last_error.clear();
  }
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_TRY(store::update_outgoing(db, m));
    return store::append_audit(
        db, client, clock.now(), actor, again ? "mail sent again" : "draft approved",
        id + " to " + (m.to.empty() ? std::string("?") : m.to.front()) + ": " + m.subject,
        again ? (edited_body ? "edited, after: " : "after: ") + last_error
              : (edited_body ? "approved with edits" : "approved as drafted"));
  }));
  return m;
}

Result<void> discard_outgoing(store::Db& db, const Clock& clock, const ClientId& client,
                              const std::string& id, const std::string& actor,
                              const std::string& why) {
  SK_ASSIGN(auto m, store::get_outgoing(db, client, id));
  if (m.status != store::OutgoingStatus::draft && m.status != store::OutgoingStatus::failed)
    return make_error(Errc::conflict, id + " is " + std::string(store::to_string(m.status)) +
                                          ": only drafts and failed mail can be discarded");
  m.status = store::OutgoingStatus::discarded;
  return db.transaction([&]() -> Result<void> {
    SK_TRY(store::update_outgoing(db, m));
    return store::append_audit(db, client, clock.now(), actor, "draft discarded",
                               id + ": " + m.subject, why);
  });
}

Result<std::string> plan_automatic_reply(store::Db& db, const Clock& clock, IdSource& ids,
                                         const ClientId& client, const store::EffectRecord& effect,
                                         const store::StoredItem& stored) {
  const Item& item = stored.item;
  // A text is answered in the answer to its webhook (engine/phone.cpp), when it arrives.
  if (item.channel != Channel::email) return std::string("not by mail: it came by phone");
  SK_ASSIGN(Sender from, sender_of(db, client));
  SK_ASSIGN(auto record, store::find_client(db, client));
  SK_ASSIGN(auto policy, policy_from_json(record.policy_json.empty() ? "{}" : record.policy_json));
  const Timestamp period = Timestamp{policy.auto_reply_period_hours} * 3600;
  Timestamp last = 0;
  if (!item.from_address.empty()) {
    SK_ASSIGN(last, store::last_outgoing_to(db, client, "auto_reply", item.from_address));
  }
  // The effect planned this very reply before (a repeat after a crash): not "too recent".
  SK_ASSIGN(auto earlier, db.query("SELECT id FROM outgoing WHERE client_id = ? AND source_key = ?",
                                   {client, "effect:" + effect.id}));
  if (!earlier.empty()) return "reply " + earlier[0].str(0) + " already planned";
  auto check = triage::may_auto_reply(item, from.own_addresses, last, clock.now(), period);
  if (!check.allowed) return "no automatic reply: " + check.reason;

  SK_ASSIGN(auto custom, store::get_template(db, client, effect.target));
  std::optional<store::Template> t = custom ? custom : builtin_template(effect.target);
  if (!t)
    return make_error(Errc::not_found, "the client has no template named '" + effect.target + "'");
  std::vector<std::pair<std::string, std::string>> values{
      {"sender_name", item.from_name.empty() ? std::string("there") : item.from_name},
      {"client_name", record.name},
      {"subject", item.subject}};
  ReplyRequest r;
  r.answers = item.id;
  r.kind = "auto_reply";
  r.body = fill_placeholders(t->body, values);
  r.reason = "template \"" + t->name + "\" (" + check.reason + ")";
  r.send_now = true;
  r.source_key = "effect:" + effect.id;
  SK_ASSIGN(auto m, queue_reply(db, clock, ids, client, r, "sidekick"));
  if (!t->subject.empty()) {
    m.subject = fill_placeholders(t->subject, values);
    SK_TRY(render_into(db, client, m));
    SK_TRY(store::update_outgoing(db, m));
  }
  return "reply " + m.id + " queued to " + (m.to.empty() ? std::string("?") : m.to.front());
}

Result<SendReport> send_due(store::Db& db, const Clock& clock, const ClientId& client,
                            MailSender& sender, int limit) {
  SendReport report;
  SK_ASSIGN(auto due, store::due_outgoing(db, client, clock.now(), limit, sender.account()));
  for (auto m : due) {
    const std::string to = m.to.empty() ? std::string("?") : m.to.front();
    // A copy in Sent; when that fails, tried again in five minutes.
    auto file_in_sent = [&](Timestamp now) -> Result<void> {
      auto filed = sender.file_copy(m);
      if (filed.ok()) {
        m.filed = true;
      } else {
        m.next_attempt_at = now + 300;
        m.last_error = "not filed in Sent: " + filed.error().message;
      }
      return store::update_outgoing(db, m);
    };
    if (m.status == store::OutgoingStatus::sent) {
      // Sent but not filed: only the copy in Sent is missing.
      SK_TRY(file_in_sent(clock.now()));
      continue;
    }
    // Sent: on record with why, then a copy filed in Sent.
    auto record_sent = [&](const std::string& reason) -> Result<void> {
      const Timestamp now = clock.now();
      m.status = store::OutgoingStatus::sent;
      m.sent_at = now;
      m.last_error.clear();
      SK_TRY(db.transaction([&]() -> Result<void> {
        SK_TRY(store::update_outgoing(db, m));
        return store::append_audit(db, client, now, "sidekick", "mail sent",
                                   m.id + " to " + to + ": " + m.subject, reason);
      }));
      return file_in_sent(now);
    };
    if (m.status == store::OutgoingStatus::sending ||
        m.status == store::OutgoingStatus::handing_over) {
      SK_ASSIGN(bool there, sender.already_sent(m));
      if (there) {
        m.status = store::OutgoingStatus::sent;
        m.sent_at = clock.now();
        m.filed = true;
        SK_TRY(db.transaction([&]() -> Result<void> {
          SK_TRY(store::update_outgoing(db, m));
          return store::append_audit(db, client, m.sent_at, "sidekick", "mail sent",
                                     m.id + " to " + to + ": " + m.subject,
                                     "found in Sent after a restart: not sent again");
        }));
        ++report.found_sent;
        continue;
      }
      if (m.status == store::OutgoingStatus::handing_over) {
        // Every byte had gone and the end mark was going out: the server almost surely took
        // it (it is lost only if the process died in the microseconds before the mark left).
        // Sending it again would make it arrive twice; the audit says how it was decided.
        SK_TRY(record_sent(
            "Sidekick stopped after handing it over in full, before the server answered: "
            "taken as sent, not sent again"));
        ++report.taken_as_sent;
        continue;
      }
    }
    m.status = store::OutgoingStatus::sending;
    ++m.attempts;
    SK_TRY(store::update_outgoing(db, m));
    // Written the moment every byte is with the server, before the mark that makes it take
    // the message: a process that dies after this never sends it a second time.
    auto mark_handing_over = [&]() -> bool {
      store::OutgoingMessage s = m;
      s.status = store::OutgoingStatus::handing_over;
      return store::update_outgoing(db, s).ok();
    };
    auto submitted = sender.submit(m, mark_handing_over);
    if (submitted.ok() && !submitted->answered) {
      // Sending it again is how mail arrives twice (RFC 5321 6.1); as for a restart above.
      SK_TRY(record_sent("the whole message was handed over, then " + submitted->silence +
                         ": taken as sent, not sent again"));
      ++report.taken_as_sent;
      continue;
    }
    if (submitted.ok()) {
      SK_TRY(record_sent(m.reason));
      ++report.sent;
      continue;
    }
    const Timestamp now = clock.now();
    ++report.failed;
    m.last_error = submitted.error().message;
    if (submitted.error().code == Errc::io && m.attempts < 8) {
      Timestamp delay = 30;
      for (int i = 1; i < m.attempts && delay < 6 * 3600; ++i) delay *= 4;
      m.status = store::OutgoingStatus::queued;
      m.next_attempt_at = now + std::min<Timestamp>(delay, 6 * 3600);
      SK_TRY(store::update_outgoing(db, m));
    } else {
      m.status = store::OutgoingStatus::failed;
      SK_TRY(db.transaction([&]() -> Result<void> {
        SK_TRY(store::update_outgoing(db, m));
        return store::append_audit(db, client, now, "sidekick", "mail not sent",
                                   m.id + " to " + to + ": " + m.subject, m.last_error);
      }));
    }
  }
  return report;
}

}  // namespace sk::engine
