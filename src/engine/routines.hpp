#pragma once
// Carrying out routines (store/routines.hpp): each occurrence of a routine's rule, on the
// client's clock, becomes one message, sent on the client's behalf or drafted for a VA.
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "store/routines.hpp"

namespace sk::calendar {
class Zone;
}

namespace sk::engine {

// How late an occurrence is still carried out (a process was down, a machine restarted): a
// check-in half a day late is noise, so an older one is skipped, and the audit log says so.
inline constexpr Timestamp kRoutineGrace = 6 * 3600;

struct RoutineRun {
  std::size_t sent = 0;     // queued to send
  std::size_t drafted = 0;  // waiting for a VA
  std::size_t skipped = 0;  // too late
};

// The routine as a person wrote it, checked: a rule this engine expands, a first occurrence
// ("YYYYMMDDTHHMMSS" on the client's clock), addresses, a subject.
Result<void> check_routine(const store::Routine& r);

// A routine's first occurrence as people give it: `at` "HH:MM" on the client's clock, on
// `from` "YYYY-MM-DD" (empty: the client's today). "YYYYMMDDTHHMMSS", or invalid_input.
Result<std::string> routine_start(store::Db& db, const ClientId& client, Timestamp now,
                                  const std::string& at, const std::string& from);

// Checks, stores (replacing the client's routine of that name) and audits a routine.
Result<store::Routine> save_routine(store::Db& db, const Clock& clock, IdSource& ids,
                                    const store::Routine& r, const std::string& actor);
// not_found when the client has no routine of that name.
Result<void> remove_routine(store::Db& db, const Clock& clock, const ClientId& client,
                            const std::string& name, const std::string& actor);

// The next `n` occurrences after `now`, as instants, in `zone` (the client's).
Result<std::vector<Timestamp>> next_occurrences(const store::Routine& r, const calendar::Zone& zone,
                                                Timestamp now, int n);

// Carries out the client's routines whose time has come: for each, the latest occurrence
// since it last ran, once (its source key is the occurrence). Safe to call every minute
// and from several processes.
Result<RoutineRun> run_due_routines(store::Db& db, const Clock& clock, IdSource& ids,
                                    const ClientId& client);

}  // namespace sk::engine
