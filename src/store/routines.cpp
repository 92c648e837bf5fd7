#include "store/routines.hpp"

#include "store/lists.hpp"

namespace sk::store {
namespace {

constexpr const char* kCols =
    "SELECT id, client_id, name, rrule, starts, to_addrs, subject, body, send_alone, last_run, "
    "created_at FROM routines ";

Routine routine_from(const Row& r) {
  return Routine{r.str(0), r.str(1), r.str(2),      r.str(3), r.str(4), list_from_json(r.str(5)),
                 r.str(6), r.str(7), r.i64(8) != 0, r.i64(9), r.i64(10)};
}

}  // namespace

Result<Routine> save_routine(Db& db, IdSource& ids, const Clock& clock, Routine r) {
  SK_ASSIGN(auto existing,
            db.query(std::string(kCols) + "WHERE client_id = ? AND name = ?", {r.client, r.name}));
  if (!existing.empty()) {
    const Routine before = routine_from(existing[0]);
    r.id = before.id;
    r.created_at = before.created_at;
    // A changed schedule starts afresh from now; the same one keeps what has already run.
    r.last_run =
        before.rrule == r.rrule && before.starts == r.starts ? before.last_run : clock.now();
    SK_TRY(
        db.exec("UPDATE routines SET rrule = ?, starts = ?, to_addrs = ?, subject = ?, body "
                "= ?, send_alone = ?, last_run = ? WHERE id = ?",
                {r.rrule, r.starts, json_list(r.to), r.subject, r.body,
                 std::int64_t{r.send_alone ? 1 : 0}, r.last_run, r.id}));
    return r;
  }
  r.id = ids.next("rtn");
  r.created_at = clock.now();
  // Occurrences before the routine existed are not owed.
  r.last_run = r.created_at;
  SK_TRY(
      db.exec("INSERT INTO routines (id, client_id, name, rrule, starts, to_addrs, subject, "
              "body, send_alone, last_run, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {r.id, r.client, r.name, r.rrule, r.starts, json_list(r.to), r.subject, r.body,
               std::int64_t{r.send_alone ? 1 : 0}, r.last_run, r.created_at}));
  return r;
}

Result<std::vector<Routine>> list_routines(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kCols) + "WHERE client_id = ? ORDER BY name", {client}));
  std::vector<Routine> out;
  for (const auto& r : rows) out.push_back(routine_from(r));
  return out;
}

Result<bool> delete_routine(Db& db, const ClientId& client, const std::string& name) {
  SK_TRY(db.exec("DELETE FROM routines WHERE client_id = ? AND name = ?", {client, name}));
  return db.changes() > 0;
}

Result<void> set_routine_last_run(Db& db, const ClientId& client, const std::string& id,
                                  Timestamp occurrence) {
  return db.exec("UPDATE routines SET last_run = ? WHERE client_id = ? AND id = ?",
                 {occurrence, client, id});
}

}  // namespace sk::store
