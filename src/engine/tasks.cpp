#include "engine/tasks.hpp"

#include <algorithm>

#include "calendar/civil.hpp"
#include "calendar/zone.hpp"
#include "store/repos.hpp"

namespace sk::engine {
namespace {

constexpr std::size_t kLongestTitle = 200;

Result<Timestamp> due_from(const std::string& due, const calendar::Zone& zone) {
  if (due.empty()) return Timestamp{0};
  const auto space = due.find(' ');
  auto day = calendar::parse_date(due.substr(0, space));
  std::optional<int> minutes = 0;
  if (space != std::string::npos) minutes = calendar::minutes_of_day(due.substr(space + 1));
  if (!day || !minutes)
    return make_error(
        Errc::invalid_input,
        "the due date is YYYY-MM-DD or YYYY-MM-DD HH:MM (24-hour clock), not '" + due + "'");
  day->hour = *minutes / 60;
  day->minute = *minutes % 60;
  return zone.to_utc(*day);
}

}  // namespace

Result<store::Task> add_task(store::Db& db, const Clock& clock, IdSource& ids,
                             const ClientId& client, const TaskRequest& request,
                             const std::string& actor) {
  std::string title = request.title;
  std::replace(title.begin(), title.end(), '\n', ' ');
  std::erase(title, '\r');
  while (!title.empty() && title.back() == ' ') title.pop_back();
  while (!title.empty() && title.front() == ' ') title.erase(0, 1);
  if (title.empty()) return make_error(Errc::invalid_input, "a task needs a title");
  if (title.size() > kLongestTitle)
    return make_error(Errc::invalid_input,
                      "a task's title is at most 200 characters: put the "
                      "rest in its notes");
  SK_ASSIGN(auto c, store::find_client(db, client));
  SK_ASSIGN(auto zone, calendar::Zone::find(c.timezone));
  store::Task t;
  t.client = client;
  t.title = title;
  t.notes = request.notes;
  t.item = request.item;
  t.created_by = actor;
  SK_ASSIGN(t.due_at, due_from(request.due, zone));
  if (!t.item.empty()) SK_TRY(store::get_item(db, client, t.item));
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_ASSIGN(t, store::add_task(db, ids, clock, t));
    return store::append_audit(db, client, clock.now(), actor, "task added", t.id + ": " + t.title,
                               t.due_at ? "due " + describe_due(t, c.timezone) : "no date");
  }));
  return t;
}

Result<store::Task> finish_task(store::Db& db, const Clock& clock, const ClientId& client,
                                const std::string& id, const std::string& actor, bool done) {
  store::Task t;
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_ASSIGN(t, store::get_task(db, client, id));
    if (t.done == done) return ok();  // already so: nothing to change or audit
    SK_TRY(store::set_task_done(db, client, id, done, clock.now(), actor));
    t.done = done;
    t.done_at = done ? clock.now() : 0;
    t.done_by = done ? actor : std::string();
    return store::append_audit(db, client, clock.now(), actor, done ? "task done" : "task reopened",
                               t.id + ": " + t.title, "");
  }));
  return t;
}

Result<std::vector<store::Task>> due_tasks(store::Db& db, const std::vector<ClientId>& clients,
                                           Timestamp now) {
  std::vector<store::Task> out;
  for (const auto& c : clients) {
    SK_ASSIGN(auto open, store::list_tasks(db, c));
    for (auto& t : open)
      if (t.due_at != 0 && t.due_at <= now) out.push_back(std::move(t));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.due_at < b.due_at; });
  return out;
}

Result<Timestamp> next_task_due(store::Db& db, const std::vector<ClientId>& clients,
                                Timestamp now) {
  Timestamp next = 0;
  for (const auto& c : clients) {
    SK_ASSIGN(auto rows, db.query("SELECT COALESCE(MIN(due_at), 0) FROM tasks WHERE client_id = "
                                  "? AND status = 'open' AND due_at > ?",
                                  {c, now}));
    const Timestamp t = rows.at(0).i64(0);
    if (t != 0 && (next == 0 || t < next)) next = t;
  }
  return next;
}

std::string describe_due(const store::Task& t, const std::string& zone) {
  if (t.due_at == 0) return "";
  auto z = calendar::Zone::find(zone);
  const calendar::CivilTime local = (z ? *z : calendar::Zone::utc()).to_local(t.due_at);
  std::string out = calendar::long_date(local);
  if (local.hour != 0 || local.minute != 0) out += ", " + calendar::format_hh_mm(local);
  return out;
}

}  // namespace sk::engine
