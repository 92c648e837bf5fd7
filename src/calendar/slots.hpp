#pragma once
// Busy time and free-slot search. Only the query window is expanded: single events are kept
// sorted and found by binary search, recurring ones jump straight to the window, busy
// intervals are merged, and one sweep over the open hours yields the slots.
#include <optional>
#include <string>
#include <vector>

#include "calendar/availability.hpp"
#include "calendar/civil.hpp"
#include "calendar/ical.hpp"
#include "calendar/recur.hpp"
#include "calendar/zone.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace sk::calendar {

struct Interval {
  Timestamp start = 0;
  Timestamp end = 0;
  bool operator==(const Interval&) const = default;
};

class BusyCalendar {
 public:
  // Floating times (no zone) are read in `home` (the client's zone).
  explicit BusyCalendar(Zone home) : home_(std::move(home)) {}

  void add(Interval busy);
  // Adds a calendar's events: recurring ones with their EXDATEs, RDATEs and overridden
  // instances; cancelled and transparent events take no time. Returns how many were added.
  Result<int> add_calendar(const Calendar& cal);
  // One event (no overrides).
  Result<void> add_event(const Component& e);

  // Busy intervals meeting [from, to), merged, in order.
  std::vector<Interval> busy_between(Timestamp from, Timestamp to) const;

  std::size_t single_count() const { return singles_.size(); }
  std::size_t recurring_count() const { return recurring_.size(); }

 private:
  struct Recurring {
    Rule rule;
    CivilTime start;
    Zone zone;
    long duration = 0;
    std::vector<std::int64_t> skip;  // civil seconds of EXDATEs / overridden instances
    // Civil seconds of the last instance when the rule ends (COUNT or UNTIL), so a series
    // that ended before the window costs nothing.
    std::optional<std::int64_t> last;
  };
  Result<void> add_component(const Component& e, std::vector<std::int64_t> skip);
  Zone zone_for(const Component& e) const;
  Timestamp instant(const CivilTime& t, const Zone& z) const;

  Zone home_;
  mutable std::vector<Interval> singles_;
  mutable bool sorted_ = true;
  long max_single_ = 0;
  std::vector<Recurring> recurring_;
};

struct SlotQuery {
  Timestamp now = 0;
  Timestamp from = 0;  // optional narrower window; 0: now
  Timestamp to = 0;    // 0: now + the horizon
  int days = 0;        // when set, at most this many days from `now` (within the horizon)
  // Start times of the client's own bookings, for the per-day and per-week limits.
  std::vector<Timestamp> booked_starts;
};

struct Slot {
  Timestamp start = 0;
  Timestamp end = 0;
  bool operator==(const Slot&) const = default;
};

Result<std::vector<Slot>> free_slots(const Availability& a, const BookingType& type,
                                     const BusyCalendar& busy, const SlotQuery& q);

// The open hours of [from, to) as instants, before busy time is taken out.
Result<std::vector<Interval>> open_hours(const Availability& a, Timestamp from, Timestamp to);

// "Tue 10 Mar 2026 09:00 (UTC-04:00)" in `zone`.
std::string describe(Timestamp t, const Zone& zone);

}  // namespace sk::calendar
