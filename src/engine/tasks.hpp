#pragma once
// A VA's tasks for a client: added by hand or from an item, with a day (and time) on the
// client's clock, done when done; every change audited. A task whose time has come waits in
// the VA's queue with the drafts.
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "store/tasks.hpp"

namespace sk::engine {

struct TaskRequest {
  std::string title;
  std::string notes;
  ItemId item;      // the item it comes from, if any
  std::string due;  // "YYYY-MM-DD" (from the start of that day) or "YYYY-MM-DD HH:MM", on the
                    // client's clock; empty: no date
};

Result<store::Task> add_task(store::Db& db, const Clock& clock, IdSource& ids,
                             const ClientId& client, const TaskRequest& request,
                             const std::string& actor);
// Done (or, with `done` false, open again). Done twice is not an error: it says so.
Result<store::Task> finish_task(store::Db& db, const Clock& clock, const ClientId& client,
                                const std::string& id, const std::string& actor, bool done = true);
// The open tasks whose time has come, every client's given, soonest first.
Result<std::vector<store::Task>> due_tasks(store::Db& db, const std::vector<ClientId>& clients,
                                           Timestamp now);
// When the next open task of these clients comes due after `now`; 0: none will.
Result<Timestamp> next_task_due(store::Db& db, const std::vector<ClientId>& clients, Timestamp now);

// For people, on the client's clock: "Friday 27 November 2026, 17:00", or "" for no date.
std::string describe_due(const store::Task& t, const std::string& zone);

}  // namespace sk::engine
