#pragma once
// Routines: mail the assistant writes for a client on a schedule (a daily team check-in, a
// weekly report request), sent on the client's behalf or drafted for a VA. What is stored;
// engine/routines.hpp carries them out.
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"

namespace sk::store {

struct Routine {
  std::string id;  // rtn_N
  ClientId client;
  std::string name;    // the client's own name for it, unique per client
  std::string rrule;   // RFC 5545, "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"
  std::string starts;  // the first occurrence on the client's clock, "20261124T090000"
  std::vector<std::string> to;
  std::string subject;  // {{date}} and {{client_name}} are filled in
  std::string body;
  bool send_alone = false;  // true: sent as it is; false: a draft waits for a VA
  Timestamp last_run = 0;   // the occurrence last carried out (or skipped), UTC; 0: none yet
  Timestamp created_at = 0;
};

// Adds the routine, or replaces the client's routine of that name (keeping what has run).
Result<Routine> save_routine(Db& db, IdSource& ids, const Clock& clock, Routine r);
Result<std::vector<Routine>> list_routines(Db& db, const ClientId& client);
// False when the client has no routine of that name.
Result<bool> delete_routine(Db& db, const ClientId& client, const std::string& name);
Result<void> set_routine_last_run(Db& db, const ClientId& client, const std::string& id,
                                  Timestamp occurrence);

}  // namespace sk::store
