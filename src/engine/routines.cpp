#include "engine/routines.hpp"

#include <optional>

#include "calendar/civil.hpp"
#include "calendar/recur.hpp"
#include "calendar/zone.hpp"
#include "core/placeholders.hpp"
#include "engine/replies.hpp"
#include "store/repos.hpp"

namespace sk::engine {
namespace {

// A guard, not a limit anyone meets: without COUNT the expansion jumps to the last run, and a
// rule with COUNT has at most that many occurrences to walk.
constexpr int kMaxSteps = 100000;

Result<calendar::RecurIterator> iterator_of(const store::Routine& r) {
  SK_ASSIGN(auto rule, calendar::parse_rule(r.rrule));
  auto start = calendar::parse_civil(r.starts);
  if (!start || start->date_only || start->utc)
    return make_error(
        Errc::invalid_input,
        "the first time must be YYYYMMDDTHHMMSS on the client's clock, not '" + r.starts + "'");
  return calendar::RecurIterator::make(rule, *start);
}

}  // namespace

Result<void> check_routine(const store::Routine& r) {
  if (r.name.empty()) return make_error(Errc::invalid_input, "a routine needs a name");
  if (r.subject.empty()) return make_error(Errc::invalid_input, "a routine needs a subject");
  if (r.to.empty()) return make_error(Errc::invalid_input, "a routine needs someone to write to");
  for (const auto& a : r.to)
    if (a.find('@') == std::string::npos)
      return make_error(Errc::invalid_input, "'" + a + "' is not a mail address");
  SK_TRY(iterator_of(r));
  return ok();
}

Result<store::Routine> save_routine(store::Db& db, const Clock& clock, IdSource& ids,
                                    const store::Routine& r, const std::string& actor) {
  SK_TRY(check_routine(r));
  store::Routine saved;
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_ASSIGN(saved, store::save_routine(db, ids, clock, r));
    return store::append_audit(db, r.client, clock.now(), actor, "routine saved", saved.name,
                               saved.rrule + " from " + saved.starts +
                                   (saved.send_alone ? ", sent" : ", drafted for a VA"));
  }));
  return saved;
}

Result<void> remove_routine(store::Db& db, const Clock& clock, const ClientId& client,
                            const std::string& name, const std::string& actor) {
  return db.transaction([&]() -> Result<void> {
    SK_ASSIGN(bool removed, store::delete_routine(db, client, name));
    if (!removed) return make_error(Errc::not_found, "no routine '" + name + "'");
    return store::append_audit(db, client, clock.now(), actor, "routine removed", name, "");
  });
}

Result<std::string> routine_start(store::Db& db, const ClientId& client, Timestamp now,
                                  const std::string& at, const std::string& from) {
  auto minutes = calendar::minutes_of_day(at);
  if (!minutes) return make_error(Errc::invalid_input, "the time is HH:MM on a 24-hour clock");
  SK_ASSIGN(auto c, store::find_client(db, client));
  SK_ASSIGN(auto zone, calendar::Zone::find(c.timezone));
  calendar::CivilTime first = zone.to_local(now);
  if (!from.empty()) {
    auto day = calendar::parse_date(from);
    if (!day) return make_error(Errc::invalid_input, "the first day is YYYY-MM-DD");
    first = *day;
  }
  first.date_only = false;
  first.utc = false;
  first.hour = *minutes / 60;
  first.minute = *minutes % 60;
  first.second = 0;
  return calendar::format_civil(first);
}

Result<std::vector<Timestamp>> next_occurrences(const store::Routine& r, const calendar::Zone& zone,
                                                Timestamp now, int n) {
  SK_ASSIGN(auto it, iterator_of(r));
  it.skip_to(zone.to_local(now + 1));
  std::vector<Timestamp> out;
  for (int steps = 0; static_cast<int>(out.size()) < n && steps < kMaxSteps; ++steps) {
    auto occ = it.next();
    if (!occ) break;
    const Timestamp t = zone.to_utc(*occ);
    if (t > now) out.push_back(t);
  }
  return out;
}

Result<RoutineRun> run_due_routines(store::Db& db, const Clock& clock, IdSource& ids,
                                    const ClientId& client) {
  RoutineRun run;
  SK_ASSIGN(auto routines, store::list_routines(db, client));
  if (routines.empty()) return run;
  SK_ASSIGN(auto c, store::find_client(db, client));
  SK_ASSIGN(auto zone, calendar::Zone::find(c.timezone));
  const Timestamp now = clock.now();
  for (const auto& r : routines) {
    SK_ASSIGN(auto it, iterator_of(r));
    it.skip_to(zone.to_local(r.last_run + 1));
    // The latest occurrence that has come since the routine last ran.
    std::optional<calendar::CivilTime> due;
    Timestamp due_at = 0;
    for (int steps = 0; steps < kMaxSteps; ++steps) {
      auto occ = it.next();
      if (!occ) break;
      const Timestamp t = zone.to_utc(*occ);
      if (t > now) break;
      if (t > r.last_run) {
        due = occ;
        due_at = t;
      }
    }
    if (!due) continue;
    SK_TRY(db.transaction([&]() -> Result<void> {
      SK_TRY(store::set_routine_last_run(db, client, r.id, due_at));
      if (now - due_at > kRoutineGrace) {
        ++run.skipped;
        return store::append_audit(db, client, now, "sidekick", "routine skipped",
                                   r.name + " of " + calendar::long_date(*due),
                                   "its time passed " + std::to_string((now - due_at) / 3600) +
                                       " hours ago, while nothing was running");
      }
      const std::vector<std::pair<std::string, std::string>> values{
          {"date", calendar::long_date(*due)}, {"client_name", c.name}};
      MessageRequest m;
      m.to = r.to;
      m.subject = fill_placeholders(r.subject, values);
      m.body = fill_placeholders(r.body, values);
      m.kind = "routine";
      m.reason = "the routine \"" + r.name + "\" (" + r.rrule + ")";
      m.send_now = r.send_alone;
      m.source_key = "routine:" + r.id + ":" + calendar::format_civil(*due);
      SK_TRY(queue_message(db, clock, ids, client, m, "sidekick"));
      ++(r.send_alone ? run.sent : run.drafted);
      return ok();
    }));
  }
  return run;
}

}  // namespace sk::engine
