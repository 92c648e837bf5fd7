#pragma once
// Civil (wall-clock) dates and times with no zone attached: what a calendar shows. Recurrence
// rules are expanded on these; a Zone turns them into instants.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace sk::calendar {

using sk::days_from_civil;
struct Ymd {
  int y = 1970, m = 1, d = 1;
};
Ymd civil_from_days(std::int64_t days);
// 0 = Monday ... 6 = Sunday (ISO).
int weekday_of(std::int64_t days);
int days_in_month(int y, int m);
bool is_leap(int y);

struct CivilTime {
  int year = 1970, month = 1, day = 1;
  int hour = 0, minute = 0, second = 0;
  bool date_only = false;  // a DATE value (all-day)
  bool utc = false;        // written with a trailing Z

  std::int64_t days() const { return days_from_civil(year, month, day); }
  // Seconds since 1970-01-01T00:00:00 on the same wall clock (not an instant unless utc).
  std::int64_t seconds() const { return days() * 86400 + hour * 3600 + minute * 60 + second; }
  static CivilTime from_seconds(std::int64_t s, bool utc = false);
  auto operator<=>(const CivilTime& o) const { return seconds() <=> o.seconds(); }
  bool operator==(const CivilTime& o) const { return seconds() == o.seconds(); }
};

// "19970902T090000", "19970902T090000Z" or "19970902".
std::optional<CivilTime> parse_civil(std::string_view s);
std::string format_civil(const CivilTime& t);
// "2026-11-24" (nothing else: no time, no other separators) as a date at midnight, not
// date_only; nothing for anything else or a day the month does not have.
std::optional<CivilTime> parse_date(std::string_view s);
// "2026-11-24"
std::string format_date(const CivilTime& t);
// "08:00" → minutes after midnight; nothing for anything but HH:MM on a 24-hour clock
// (00:00-23:59: a time something happens, not the end of a range).
std::optional<int> minutes_of_day(std::string_view hh_mm);
// The wall-clock time of `t` as HH:MM ("09:05").
std::string format_hh_mm(const CivilTime& t);
// For people: "Tuesday 24 November 2026".
std::string long_date(const CivilTime& t);

}  // namespace sk::calendar
