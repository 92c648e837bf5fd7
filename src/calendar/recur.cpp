#include "calendar/recur.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace sk::calendar {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"MO", "TU", "WE", "TH", "FR", "SA", "SU"};
constexpr std::array<std::string_view, 7> kFreqs = {"SECONDLY", "MINUTELY", "HOURLY", "DAILY",
                                                    "WEEKLY",   "MONTHLY",  "YEARLY"};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

bool to_int(std::string_view s, int& v) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

int weekday_index(std::string_view s) {
  for (int i = 0; i < 7; ++i)
    if (kDays[i] == s) return i;
  return -1;
}

Error bad(std::string_view why) {
  return make_error(Errc::invalid_input, "RRULE: " + std::string(why));
}

Result<std::vector<int>> int_list(std::string_view v, int lo, int hi, bool allow_negative,
                                  std::string_view name) {
  std::vector<int> out;
  for (auto part : split(v, ',')) {
    int n = 0;
    if (!to_int(part, n)) return bad(std::string(name) + " is not a list of numbers");
    int a = n < 0 ? -n : n;
    if ((n < 0 && !allow_negative) || (n == 0 && lo > 0) || a > hi || (n >= 0 && n < lo))
      return bad(std::string(name) + " value out of range: " + std::string(part));
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

bool contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// First day of week 1 of `year`: the first week (starting on wkst) with 4 days in the year.
std::int64_t week1_start(int year, int wkst) {
  std::int64_t jan1 = days_from_civil(year, 1, 1);
  int offset = (weekday_of(jan1) - wkst + 7) % 7;
  std::int64_t start = jan1 - offset;
  return offset <= 3 ? start : start + 7;
}

// The week-numbering year a day belongs to.
int week_year_of(std::int64_t day, int wkst) {
  int y = civil_from_days(day).y;
  if (day >= week1_start(y + 1, wkst)) return y + 1;
  if (day < week1_start(y, wkst)) return y - 1;
  return y;
}

}  // namespace

Result<Rule> parse_rule(std::string_view text) {
  Rule r;
  bool have_freq = false;
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n' || text.back() == ' '))
    text.remove_suffix(1);
  if (text.empty()) return bad("empty");
  for (auto part : split(text, ';')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    if (eq == std::string_view::npos) return bad("part without '=': " + std::string(part));
    auto name = part.substr(0, eq);
    auto v = part.substr(eq + 1);
    if (name == "FREQ") {
      auto it = std::find(kFreqs.begin(), kFreqs.end(), v);
      if (it == kFreqs.end()) return bad("unknown FREQ " + std::string(v));
      r.freq = static_cast<Freq>(it - kFreqs.begin());
      have_freq = true;
    } else if (name == "INTERVAL") {
      if (!to_int(v, r.interval) || r.interval < 1) return bad("INTERVAL must be positive");
    } else if (name == "COUNT") {
      int c = 0;
      if (!to_int(v, c) || c < 0) return bad("COUNT must be a number");
      r.count = c;
    } else if (name == "UNTIL") {
      auto u = parse_civil(v);
      if (!u) return bad("UNTIL is not a date or date-time");
      r.until = *u;
    } else if (name == "WKST") {
      r.wkst = weekday_index(v);
      if (r.wkst < 0) return bad("unknown WKST");
    } else if (name == "BYSECOND") {
      SK_ASSIGN(r.by_second, int_list(v, 0, 60, false, name));
    } else if (name == "BYMINUTE") {
      SK_ASSIGN(r.by_minute, int_list(v, 0, 59, false, name));
    } else if (name == "BYHOUR") {
      SK_ASSIGN(r.by_hour, int_list(v, 0, 23, false, name));
    } else if (name == "BYMONTHDAY") {
      SK_ASSIGN(r.by_month_day, int_list(v, 1, 31, true, name));
    } else if (name == "BYYEARDAY") {
      SK_ASSIGN(r.by_year_day, int_list(v, 1, 366, true, name));
    } else if (name == "BYWEEKNO") {
      SK_ASSIGN(r.by_week_no, int_list(v, 1, 53, true, name));
    } else if (name == "BYMONTH") {
      SK_ASSIGN(r.by_month, int_list(v, 1, 12, false, name));
    } else if (name == "BYSETPOS") {
      SK_ASSIGN(r.by_set_pos, int_list(v, 1, 366, true, name));
    } else if (name == "BYDAY") {
      for (auto d : split(v, ',')) {
        if (d.size() < 2) return bad("bad BYDAY " + std::string(d));
        WeekdayNum w;
        w.weekday = weekday_index(d.substr(d.size() - 2));
        if (w.weekday < 0) return bad("bad BYDAY " + std::string(d));
        if (d.size() > 2 &&
            (!to_int(d.substr(0, d.size() - 2), w.n) || w.n == 0 || w.n > 53 || w.n < -53))
          return bad("bad BYDAY " + std::string(d));
        bool dup = false;
        for (auto& x : r.by_day) dup |= x.weekday == w.weekday && x.n == w.n;
        if (!dup) r.by_day.push_back(w);
      }
    } else if (name.size() > 2 && name.substr(0, 2) == "X-") {
      continue;
    } else {
      return bad("unsupported part " + std::string(name));
    }
  }
  if (!have_freq) return bad("FREQ is required");
  if (r.count && r.until) return bad("COUNT and UNTIL together");
  return r;
}

std::string format_rule(const Rule& r) {
  std::string s = "FREQ=" + std::string(kFreqs[static_cast<int>(r.freq)]);
  auto list = [&](const char* name, const std::vector<int>& v) {
    if (v.empty()) return;
    s += ';';
    s += name;
    s += '=';
    for (std::size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  };
  if (r.interval != 1) s += ";INTERVAL=" + std::to_string(r.interval);
  if (r.count) s += ";COUNT=" + std::to_string(*r.count);
  if (r.until) s += ";UNTIL=" + format_civil(*r.until);
  list("BYMONTH", r.by_month);
  list("BYWEEKNO", r.by_week_no);
  list("BYYEARDAY", r.by_year_day);
  list("BYMONTHDAY", r.by_month_day);
  if (!r.by_day.empty()) {
    s += ";BYDAY=";
    for (std::size_t i = 0; i < r.by_day.size(); ++i) {
      if (i) s += ',';
      if (r.by_day[i].n) s += std::to_string(r.by_day[i].n);
      s += kDays[r.by_day[i].weekday];
    }
  }
  list("BYHOUR", r.by_hour);
  list("BYMINUTE", r.by_minute);
  list("BYSECOND", r.by_second);
  list("BYSETPOS", r.by_set_pos);
  if (r.wkst != 0) s += ";WKST=" + std::string(kDays[r.wkst]);
  return s;
}

RecurIterator::RecurIterator(const Rule& r, const CivilTime& dtstart) : rule_(r), start_(dtstart) {}

Result<RecurIterator> RecurIterator::make(const Rule& rule, const CivilTime& dtstart) {
  if (!rule.by_week_no.empty() && !rule.by_month_day.empty())
    return make_error(Errc::invalid_input, "RRULE: BYWEEKNO with BYMONTHDAY is not supported");
  RecurIterator it(rule, dtstart);
  Rule& r = it.rule_;
  const std::int64_t d0 = dtstart.days();
  // Defaults from DTSTART for the parts the rule leaves open (as libical does).
  const bool no_days =
      r.by_week_no.empty() && r.by_year_day.empty() && r.by_month_day.empty() && r.by_day.empty();
  if (r.freq == Freq::yearly) {
    if (no_days) {
      if (r.by_month.empty()) r.by_month = {dtstart.month};
      r.by_month_day = {dtstart.day};
    } else if (!r.by_month_day.empty() && r.by_month.empty() && r.by_year_day.empty() &&
               r.by_day.empty()) {
      r.by_month = {dtstart.month};
    } else if (!r.by_week_no.empty() && r.by_day.empty() && r.by_year_day.empty()) {
      r.by_day = {{weekday_of(d0), 0}};
    }
  } else if (r.freq == Freq::monthly && no_days) {
    r.by_month_day = {dtstart.day};
  } else if (r.freq == Freq::weekly && no_days) {
    r.by_day = {{weekday_of(d0), 0}};
  }
  if (dtstart.date_only) {
    // Time parts mean nothing for all-day instances.
    r.by_hour = {0};
    r.by_minute = {0};
    r.by_second = {0};
  } else {
    if (r.by_hour.empty() && r.freq > Freq::hourly) r.by_hour = {dtstart.hour};
    if (r.by_minute.empty() && r.freq > Freq::minutely) r.by_minute = {dtstart.minute};
    if (r.by_second.empty() && r.freq > Freq::secondly) r.by_second = {dtstart.second};
  }
  std::sort(r.by_hour.begin(), r.by_hour.end());
  std::sort(r.by_minute.begin(), r.by_minute.end());
  std::sort(r.by_second.begin(), r.by_second.end());
  if (r.until && dtstart.date_only) r.until->hour = r.until->minute = r.until->second = 0;
  it.base_ = it.period_unit_of(dtstart);
  if (r.freq == Freq::yearly && !r.by_week_no.empty() && it.base_ != dtstart.year) {
    // DTSTART lies in the previous week-numbering year. Periods count from that year only
    // when DTSTART is one of its instances; otherwise from DTSTART's calendar year (the
    // libical vectors for github issue 1223 expect this).
    it.fill_period();
    const bool member = std::binary_search(it.buf_.begin(), it.buf_.end(), dtstart.seconds());
    if (!member) it.base_ = dtstart.year;
    it.period_ = 0;
    it.buf_.clear();
    it.pos_ = 0;
  }
  return it;
}

std::int64_t RecurIterator::period_unit_of(const CivilTime& t) const {
  const std::int64_t s = t.seconds();
  const std::int64_t day = t.days();
  auto floordiv = [](std::int64_t a, std::int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
  };
  switch (rule_.freq) {
    case Freq::yearly:
      return rule_.by_week_no.empty() ? t.year : week_year_of(day, rule_.wkst);
    case Freq::monthly:
      return static_cast<std::int64_t>(t.year) * 12 + (t.month - 1);
    case Freq::weekly:
      return day - (weekday_of(day) - rule_.wkst + 7) % 7;
    case Freq::daily:
      return day;
    case Freq::hourly:
      return floordiv(s, 3600);
    case Freq::minutely:
      return floordiv(s, 60);
    case Freq::secondly:
      return s;
  }
  return 0;
}

void RecurIterator::skip_to(const CivilTime& from) {
  skip_from_ = from.seconds();
  if (rule_.count) return;
  const std::int64_t unit = period_unit_of(from);
  std::int64_t step = rule_.interval;
  if (rule_.freq == Freq::weekly) step *= 7;
  // Periods are aligned on DTSTART's; start one period early, the filter drops the rest.
  std::int64_t k = (unit - base_) / step - 1;
  if (k > period_) {
    period_ = k;
    buf_.clear();
    pos_ = 0;
  }
}

void RecurIterator::fill_period() {
  const Rule& r = rule_;
  buf_.clear();
  pos_ = 0;
  const std::int64_t p = period_++;
  std::int64_t step = static_cast<std::int64_t>(r.interval) * p;

  // The period's candidate days.
  std::int64_t first = 0, last = 0;  // inclusive day range
  std::int64_t unit = 0;             // sub-daily: the period's hour / minute / second
  int period_year = 0;
  switch (r.freq) {
    case Freq::yearly: {
      period_year = static_cast<int>(base_ + step);
      if (r.by_week_no.empty()) {
        first = days_from_civil(period_year, 1, 1);
        last = days_from_civil(period_year, 12, 31);
      } else {
        first = week1_start(period_year, r.wkst);
        last = week1_start(period_year + 1, r.wkst) - 1;
      }
      break;
    }
    case Freq::monthly: {
      std::int64_t m = base_ + step;
      int y = static_cast<int>(m >= 0 ? m / 12 : (m - 11) / 12);
      int mo = static_cast<int>(m - static_cast<std::int64_t>(y) * 12) + 1;
      first = days_from_civil(y, mo, 1);
      last = first + days_in_month(y, mo) - 1;
      break;
    }
    case Freq::weekly:
      first = base_ + step * 7;
      last = first + 6;
      break;
    case Freq::daily:
      first = last = base_ + step;
      break;
    case Freq::hourly:
      unit = (base_ + step) * 3600;
      break;
    case Freq::minutely:
      unit = (base_ + step) * 60;
      break;
    case Freq::secondly:
      unit = base_ + step;
      break;
  }
  const bool sub_daily = r.freq < Freq::daily;
  if (sub_daily) {
    std::int64_t s = unit;
    first = last = s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
  }

  // Most rules (weekly on some days) need only the weekday; the civil date is costlier.
  const bool needs_ymd =
      !r.by_month.empty() || !r.by_week_no.empty() || !r.by_year_day.empty() ||
      !r.by_month_day.empty() ||
      std::any_of(r.by_day.begin(), r.by_day.end(), [](const WeekdayNum& w) { return w.n != 0; });
  auto day_ok = [&](std::int64_t day) {
    if (!needs_ymd) {
      if (r.by_day.empty()) return true;
      const int wd = weekday_of(day);
      for (const auto& w : r.by_day)
        if (w.weekday == wd) return true;
      return false;
    }
    Ymd ymd = civil_from_days(day);
    if (!r.by_month.empty() && !contains(r.by_month, ymd.m)) return false;
    if (!r.by_week_no.empty()) {
      int wy = r.freq == Freq::yearly ? period_year : week_year_of(day, r.wkst);
      std::int64_t w1 = week1_start(wy, r.wkst);
      int nweeks = static_cast<int>((week1_start(wy + 1, r.wkst) - w1) / 7);
      int wk = static_cast<int>((day - w1) / 7) + 1;
      if (!contains(r.by_week_no, wk) && !contains(r.by_week_no, wk - nweeks - 1)) return false;
    }
    const int ylen = is_leap(ymd.y) ? 366 : 365;
    const int yday = static_cast<int>(day - days_from_civil(ymd.y, 1, 1)) + 1;
    if (!r.by_year_day.empty() && !contains(r.by_year_day, yday) &&
        !contains(r.by_year_day, yday - ylen - 1))
      return false;
    const int mlen = days_in_month(ymd.y, ymd.m);
    if (!r.by_month_day.empty() && !contains(r.by_month_day, ymd.d) &&
        !contains(r.by_month_day, ymd.d - mlen - 1))
      return false;
    if (!r.by_day.empty()) {
      const int wd = weekday_of(day);
      // Ordinals count within the month for MONTHLY (and YEARLY with BYMONTH), else the year.
      const bool in_month =
          r.freq == Freq::monthly || (r.freq == Freq::yearly && !r.by_month.empty());
      const bool ordinals =
          (r.freq == Freq::monthly || r.freq == Freq::yearly) && r.by_week_no.empty();
      bool hit = false;
      for (const auto& w : r.by_day) {
        if (w.weekday != wd) continue;
        if (w.n == 0 || !ordinals) {
          hit = true;
          break;
        }
        int idx = in_month ? ymd.d : yday;
        int len = in_month ? mlen : ylen;
        int pos = (idx - 1) / 7 + 1;
        int neg = -((len - idx) / 7 + 1);
        if (w.n == pos || w.n == neg) {
          hit = true;
          break;
        }
      }
      if (!hit) return false;
    }
    return true;
  };

  std::vector<std::int64_t>& out = buf_;
  for (std::int64_t day = first; day <= last; ++day) {
    if (!day_ok(day)) continue;
    const std::int64_t base = day * 86400;
    if (!sub_daily) {
      for (int h : r.by_hour)
        for (int m : r.by_minute)
          for (int s : r.by_second) out.push_back(base + h * 3600 + m * 60 + s);
      continue;
    }
    const std::int64_t in_day = unit - base;
    const int h = static_cast<int>(in_day / 3600);
    if (!r.by_hour.empty() && !contains(r.by_hour, h)) continue;
    if (r.freq == Freq::hourly) {
      for (int m : r.by_minute)
        for (int s : r.by_second) out.push_back(base + h * 3600 + m * 60 + s);
      continue;
    }
    const int m = static_cast<int>(in_day / 60 % 60);
    if (!r.by_minute.empty() && !contains(r.by_minute, m)) continue;
    if (r.freq == Freq::minutely) {
      for (int s : r.by_second) out.push_back(base + h * 3600 + m * 60 + s);
      continue;
    }
    const int s = static_cast<int>(in_day % 60);
    if (!r.by_second.empty() && !contains(r.by_second, s)) continue;
    out.push_back(unit);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  if (!r.by_set_pos.empty() && !out.empty()) {
    std::vector<std::int64_t> picked;
    const int n = static_cast<int>(out.size());
    for (int sp : r.by_set_pos) {
      int i = sp > 0 ? sp - 1 : n + sp;
      if (i >= 0 && i < n) picked.push_back(out[i]);
    }
    std::sort(picked.begin(), picked.end());
    picked.erase(std::unique(picked.begin(), picked.end()), picked.end());
    out.swap(picked);
  }
  // A period that cannot contain anything: skip whole days at once for sub-daily rules.
  if (out.empty() && sub_daily && !day_ok(first)) {
    const std::int64_t next_day = (first + 1) * 86400;
    const std::int64_t unit_len = (r.freq == Freq::hourly     ? 3600
                                   : r.freq == Freq::minutely ? 60
                                                              : 1) *
                                  r.interval;
    const std::int64_t base_s = r.freq == Freq::hourly     ? base_ * 3600
                                : r.freq == Freq::minutely ? base_ * 60
                                                           : base_;
    std::int64_t k = (next_day - base_s + unit_len - 1) / unit_len;
    if (k > period_) period_ = k;
  }
}

std::optional<CivilTime> RecurIterator::next() {
  const std::int64_t dtstart = start_.seconds();
  const bool has_until = rule_.until.has_value();
  const std::int64_t until = has_until ? rule_.until->seconds() : 0;
  // Rules that match nothing (BYMONTHDAY=31;BYMONTH=2) end after this many empty periods.
  const int kMaxEmpty = rule_.freq == Freq::yearly    ? 400
                        : rule_.freq == Freq::monthly ? 4800
                        : rule_.freq >= Freq::daily   ? 20000
                                                      : 200000;
  while (!done_) {
    if (rule_.count && emitted_ >= *rule_.count) break;
    if (pos_ >= buf_.size()) {
      fill_period();
      if (buf_.empty()) {
        if (++empty_run_ > kMaxEmpty) break;
        continue;
      }
      empty_run_ = 0;
      // Periods only move forward, so one past UNTIL ends the rule.
      if (has_until && buf_.front() > until) break;
      continue;
    }
    const std::int64_t t = buf_[pos_++];
    if (t < dtstart) continue;
    if (has_until && t > until) break;
    ++emitted_;
    if (skip_from_ && t < *skip_from_) continue;
    CivilTime c = CivilTime::from_seconds(t, start_.utc);
    c.date_only = start_.date_only;
    return c;
  }
  done_ = true;
  return std::nullopt;
}

Result<std::vector<CivilTime>> expand_all(const Rule& rule, const CivilTime& dtstart,
                                          std::size_t limit) {
  SK_ASSIGN(auto it, RecurIterator::make(rule, dtstart));
  std::vector<CivilTime> out;
  while (out.size() < limit) {
    auto t = it.next();
    if (!t) break;
    out.push_back(*t);
  }
  return out;
}

}  // namespace sk::calendar
