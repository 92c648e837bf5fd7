#include "digest/digest.hpp"

#include <map>

#include "calendar/civil.hpp"
#include "calendar/zone.hpp"
#include "core/clock.hpp"
#include "store/repos.hpp"
#include "store/users.hpp"

namespace sk::digest {
namespace {

calendar::CivilTime shifted(const calendar::CivilTime& day, int days) {
  return calendar::CivilTime::from_seconds(day.seconds() + std::int64_t{days} * 86400);
}

// The lines and counts of the digest's period, [d.from, d.to).
Result<void> fill(store::Db& db, Digest& d) {
  SK_ASSIGN(auto rows, store::rows_between(db, d.client, d.from, d.to));
  std::map<Category, int> by_category;
  for (const auto& r : rows) {
    const auto disposition = r.decision.disposition;
    const auto category = r.decision.category;
    ++by_category[category];
    Line line{r.item, r.from, r.from_name, r.subject.empty() ? "(no subject)" : r.subject,
              category};
    if (disposition == Disposition::to_client)
      d.needs_you.push_back(std::move(line));
    else if (disposition == Disposition::screened && category != Category::spam)
      d.screened.push_back(std::move(line));
    if (disposition == Disposition::handled) ++d.handled;
    if (disposition == Disposition::blocked || disposition == Disposition::protected_ ||
        (disposition == Disposition::screened && category == Category::spam))
      ++d.kept_away;
    if (disposition == Disposition::awaiting_va) ++d.with_va;
  }
  d.by_category.assign(by_category.begin(), by_category.end());
  d.total = rows.size();
  return ok();
}

}  // namespace

Result<Digest> build(store::Db& db, const ClientId& client, Timestamp now, const std::string& day) {
  SK_ASSIGN(auto c, store::find_client(db, client));
  SK_ASSIGN(auto zone, calendar::Zone::find(c.timezone));
  calendar::CivilTime local_now = zone.to_local(now);
  calendar::CivilTime today;
  today.year = local_now.year;
  today.month = local_now.month;
  today.day = local_now.day;
  calendar::CivilTime chosen = today;
  if (!day.empty()) {
    auto parsed = calendar::parse_date(day);
    if (!parsed) return make_error(Errc::invalid_input, "not a day: '" + day + "' (YYYY-MM-DD)");
    if (*parsed > today)
      return make_error(Errc::invalid_input, day + " has not come yet for " + c.name);
    chosen = *parsed;
  }
  Digest d;
  d.client = client;
  d.client_name = c.name;
  d.day = calendar::format_date(chosen);
  d.date = calendar::long_date(chosen);
  // Midnight to midnight on the client's wall clock: 23 or 25 hours across a change.
  d.from = zone.to_utc(chosen);
  d.to = zone.to_utc(shifted(chosen, 1));
  d.today = chosen == today;
  d.previous_day = calendar::format_date(shifted(chosen, -1));
  if (!d.today) d.next_day = calendar::format_date(shifted(chosen, 1));

  SK_TRY(fill(db, d));
  return d;
}

Result<Digest> build_mailed(store::Db& db, const ClientId& client, Timestamp at) {
  SK_ASSIGN(auto c, store::find_client(db, client));
  SK_ASSIGN(auto zone, calendar::Zone::find(c.timezone));
  const calendar::CivilTime local = zone.to_local(at);
  const calendar::CivilTime before = shifted(local, -1);
  Digest d;
  d.client = client;
  d.client_name = c.name;
  d.mailed = true;
  d.today = true;
  d.day = calendar::format_date(local);
  d.date = "since " + calendar::long_date(before) + ", " + calendar::format_hh_mm(before);
  d.from = zone.to_utc(before);
  d.to = at;
  d.previous_day = calendar::format_date(before);
  SK_TRY(fill(db, d));
  return d;
}

std::string subject_of(const Digest& d) {
  // "Since Monday 23 November 2026, 08:00: …" or "Your day, Tuesday 24 November 2026: …"
  std::string s = d.mailed ? "S" + d.date.substr(1) + ": " : "Your day, " + d.date + ": ";
  s += d.needs_you.empty() ? "nothing needs you"
                           : std::to_string(d.needs_you.size()) + " need" +
                                 (d.needs_you.size() == 1 ? "s" : "") + " you";
  return s;
}

std::string text_of(const Digest& d, const std::string& link) {
  auto who = [](const Line& l) { return l.from_name.empty() ? l.from : l.from_name; };
  std::string t = d.client_name + ", " + d.date + "\n\n";
  if (d.needs_you.empty()) {
    t += "Nothing needs you.\n";
  } else {
    t += "Needs you:\n";
    for (const auto& l : d.needs_you)
      t += "- " + who(l) + ": " + l.subject + " (" + std::string(label(l.category)) + ")\n";
  }
  if (!d.screened.empty()) {
    t += "\nWaiting in the screener (first-time senders):\n";
    for (const auto& l : d.screened) t += "- " + who(l) + ": " + l.subject + "\n";
  }
  t += "\nHandled for you: " + std::to_string(d.handled) +
       ". Kept away: " + std::to_string(d.kept_away) +
       ". With your VA: " + std::to_string(d.with_va) + ".\n";
  if (!link.empty()) t += "\nThe whole day, and one click to let a sender in: " + link + "\n";
  return t;
}

}  // namespace sk::digest
