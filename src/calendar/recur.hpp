#pragma once
// RFC 5545 recurrence rules (RRULE), expanded on civil times. Our own expander rather than
// libical's: Debian 12's libical 3.0.16 gives wrong instances for a third of the vectors that
// newer libical ships (docs/ARCHITECTURE.md, "Calendar"). Zones are applied by the caller.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/civil.hpp"
#include "core/result.hpp"

namespace sk::calendar {

enum class Freq { secondly, minutely, hourly, daily, weekly, monthly, yearly };

struct WeekdayNum {
  int weekday = 0;  // 0 = Monday
  int n = 0;        // 0: every such weekday; 2: the second; -1: the last
};

struct Rule {
  Freq freq = Freq::daily;
  int interval = 1;
  std::optional<long> count;
  std::optional<CivilTime> until;
  std::vector<int> by_second, by_minute, by_hour, by_month_day, by_year_day, by_week_no, by_month,
      by_set_pos;
  std::vector<WeekdayNum> by_day;
  int wkst = 0;
};

// "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4" (without the "RRULE:" name).
Result<Rule> parse_rule(std::string_view text);
std::string format_rule(const Rule& r);

// Yields a rule's instances in order, starting at DTSTART.
class RecurIterator {
 public:
  // Fails for rules it cannot expand (unsupported combinations).
  static Result<RecurIterator> make(const Rule& rule, const CivilTime& dtstart);
  // Skips to the first instance at or after `from`. With COUNT the rule must still be
  // walked from the start (the count depends on it); without, it jumps.
  void skip_to(const CivilTime& from);
  std::optional<CivilTime> next();

 private:
  RecurIterator(const Rule& r, const CivilTime& dtstart);
  void fill_period();
  std::int64_t period_unit_of(const CivilTime& t) const;

  Rule rule_;
  CivilTime start_;
  std::int64_t base_ = 0;          // period unit of DTSTART (year, month, week-start day, ...)
  std::int64_t period_ = 0;        // index of the next period to fill
  std::vector<std::int64_t> buf_;  // civil seconds of the current period's instances
  std::size_t pos_ = 0;
  long emitted_ = 0;
  int empty_run_ = 0;
  bool done_ = false;
  std::optional<std::int64_t> skip_from_;
};

// All instances (at most `limit`), for tests and small rules.
Result<std::vector<CivilTime>> expand_all(const Rule& rule, const CivilTime& dtstart,
                                          std::size_t limit = 100000);

}  // namespace sk::calendar
