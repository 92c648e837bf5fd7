#pragma once
// Tasks: what a VA has to do for a client ("call Dana back", "send the contract by Friday"),
// often from an item, open until someone marks them done. What is stored; engine/tasks.hpp
// checks and audits.
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"

namespace sk::store {

struct Task {
  std::string id;  // tsk_N
  ClientId client;
  std::string title;
  std::string notes;
  ItemId item;           // the item it came from; empty: none
  Timestamp due_at = 0;  // UTC; 0: no date
  bool done = false;
  Timestamp created_at = 0;
  std::string created_by;
  Timestamp done_at = 0;
  std::string done_by;
};

Result<Task> add_task(Db& db, IdSource& ids, const Clock& clock, Task t);
// Open tasks (those with a date first, soonest first; then the rest, oldest first), or with
// `done` the ones done, latest first.
Result<std::vector<Task>> list_tasks(Db& db, const ClientId& client, bool done = false);
Result<Task> get_task(Db& db, const ClientId& client, const std::string& id);
// Marks it done at `at` by `by` (or, with `done` false, open again).
Result<void> set_task_done(Db& db, const ClientId& client, const std::string& id, bool done,
                           Timestamp at, const std::string& by);

}  // namespace sk::store
