#include "calendar/civil.hpp"

#include <cstdio>

namespace sk::calendar {

// Howard Hinnant's civil_from_days (a public domain algorithm; days_from_civil is in core).

Ymd civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return Ymd{static_cast<int>(y + (m <= 2)), static_cast<int>(m), static_cast<int>(d)};
}

int weekday_of(std::int64_t days) {
  // 1970-01-01 was a Thursday (3).
  std::int64_t w = (days + 3) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

bool is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

CivilTime CivilTime::from_seconds(std::int64_t s, bool utc) {
  std::int64_t days = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
  std::int64_t rest = s - days * 86400;
  Ymd ymd = civil_from_days(days);
  CivilTime t;
  t.year = ymd.y;
  t.month = ymd.m;
  t.day = ymd.d;
  t.hour = static_cast<int>(rest / 3600);
  t.minute = static_cast<int>(rest / 60 % 60);
  t.second = static_cast<int>(rest % 60);
  t.utc = utc;
  return t;
}

static bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

std::optional<CivilTime> parse_civil(std::string_view s) {
  CivilTime t;
  if (!digits(s, 0, 4, t.year) || !digits(s, 4, 2, t.month) || !digits(s, 6, 2, t.day))
    return std::nullopt;
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month))
    return std::nullopt;
  if (s.size() == 8) {
    t.date_only = true;
    return t;
  }
  if (s.size() < 15 || s[8] != 'T' || !digits(s, 9, 2, t.hour) || !digits(s, 11, 2, t.minute) ||
      !digits(s, 13, 2, t.second))
    return std::nullopt;
  if (t.hour > 23 || t.minute > 59 || t.second > 60) return std::nullopt;
  if (s.size() == 16 && s[15] == 'Z')
    t.utc = true;
  else if (s.size() != 15)
    return std::nullopt;
  return t;
}

std::string format_civil(const CivilTime& t) {
  char buf[32];
  if (t.date_only) {
    std::snprintf(buf, sizeof buf, "%04d%02d%02d", t.year, t.month, t.day);
  } else {
    std::snprintf(buf, sizeof buf, "%04d%02d%02dT%02d%02d%02d%s", t.year, t.month, t.day, t.hour,
                  t.minute, t.second, t.utc ? "Z" : "");
  }
  return buf;
}

std::optional<CivilTime> parse_date(std::string_view s) {
  CivilTime t;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 0, 4, t.year) ||
      !digits(s, 5, 2, t.month) || !digits(s, 8, 2, t.day))
    return std::nullopt;
  if (t.month < 1 || t.month > 12 || t.day < 1 || t.day > days_in_month(t.year, t.month))
    return std::nullopt;
  return t;
}

std::string format_date(const CivilTime& t) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", t.year, t.month, t.day);
  return buf;
}

std::optional<int> minutes_of_day(std::string_view s) {
  int h = 0, m = 0;
  if (s.size() != 5 || s[2] != ':' || !digits(s, 0, 2, h) || !digits(s, 3, 2, m) || h > 23 ||
      m > 59)
    return std::nullopt;
  return h * 60 + m;
}

std::string format_hh_mm(const CivilTime& t) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", t.hour, t.minute);
  return buf;
}

std::string long_date(const CivilTime& t) {
  static constexpr const char* kWeekdays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                              "Friday", "Saturday", "Sunday"};
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  return std::string(kWeekdays[weekday_of(t.days())]) + " " + std::to_string(t.day) + " " +
         kMonths[t.month - 1] + " " + std::to_string(t.year);
}

}  // namespace sk::calendar
