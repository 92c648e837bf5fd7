#include "store/tasks.hpp"

namespace sk::store {
namespace {

constexpr const char* kCols =
    "SELECT id, client_id, title, notes, item_id, due_at, status, created_at, created_by, "
    "done_at, done_by FROM tasks ";

Task task_from(const Row& r) {
  return Task{r.str(0),           r.str(1), r.str(2), r.str(3), r.str(4), r.i64(5),
              r.str(6) == "done", r.i64(7), r.str(8), r.i64(9), r.str(10)};
}

}  // namespace

Result<Task> add_task(Db& db, IdSource& ids, const Clock& clock, Task t) {
  t.id = ids.next("tsk");
  t.created_at = clock.now();
  t.done = false;
  SK_TRY(db.exec(
      "INSERT INTO tasks (id, client_id, title, notes, item_id, due_at, status, created_at, "
      "created_by) VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?)",
      {t.id, t.client, t.title, t.notes, t.item, t.due_at, t.created_at, t.created_by}));
  return t;
}

Result<std::vector<Task>> list_tasks(Db& db, const ClientId& client, bool done) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kCols) +
                         (done ? "WHERE client_id = ? AND status = 'done' ORDER BY done_at DESC, id"
                               : "WHERE client_id = ? AND status = 'open' ORDER BY due_at = 0, "
                                 "due_at, created_at, id"),
                     {client}));
  std::vector<Task> out;
  for (const auto& r : rows) out.push_back(task_from(r));
  return out;
}

Result<Task> get_task(Db& db, const ClientId& client, const std::string& id) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kCols) + "WHERE client_id = ? AND id = ?", {client, id}));
  if (rows.empty()) return make_error(Errc::not_found, "no task '" + id + "' for this client");
  return task_from(rows[0]);
}

Result<void> set_task_done(Db& db, const ClientId& client, const std::string& id, bool done,
                           Timestamp at, const std::string& by) {
  return db.exec(
      "UPDATE tasks SET status = ?, done_at = ?, done_by = ? WHERE client_id = ? AND id = ?",
      {std::string(done ? "done" : "open"), done ? at : Timestamp{0}, done ? by : std::string(),
       client, id});
}

}  // namespace sk::store
