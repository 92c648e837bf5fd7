#include "calendar/zone.hpp"

#include <libical/ical.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>

namespace sk::calendar {

struct Zone::Table {
  std::string name;
  icaltimezone* ical = nullptr;  // libical's own builtin zone (never freed by us)
  // (instant, offset from then on), sorted; covers kFirstYear..kLastYear.
  std::vector<std::pair<Timestamp, int>> changes;
  Timestamp covered_from = 0, covered_to = 0;
};

namespace {

constexpr int kFirstYear = 1970;
constexpr int kLastYear = 2100;

int ical_offset(icaltimezone* z, Timestamp t) {
  if (!z) return 0;
  icaltimetype tt =
      icaltime_from_timet_with_zone(static_cast<time_t>(t), 0, icaltimezone_get_utc_timezone());
  int dst = 0;
  return icaltimezone_get_utc_offset_of_utc_time(z, &tt, &dst);
}

std::shared_ptr<const Zone::Table> build(std::string name, icaltimezone* z) {
  auto t = std::make_shared<Zone::Table>();
  t->name = std::move(name);
  t->ical = z;
  t->covered_from = days_from_civil(kFirstYear, 1, 1) * 86400;
  t->covered_to = days_from_civil(kLastYear, 1, 1) * 86400;
  int cur = ical_offset(z, t->covered_from);
  t->changes.emplace_back(t->covered_from, cur);
  if (!z) return t;
  // Probe every 6 days (no zone changes twice within a week) and bisect each change down to
  // the second.
  constexpr Timestamp kStep = 6 * 86400;
  for (Timestamp a = t->covered_from; a < t->covered_to; a += kStep) {
    Timestamp b = std::min(a + kStep, t->covered_to);
    int ob = ical_offset(z, b);
    if (ob == cur) continue;
    Timestamp lo = a, hi = b;  // offset(lo) == cur, offset(hi) == ob
    while (hi - lo > 1) {
      Timestamp mid = lo + (hi - lo) / 2;
      (ical_offset(z, mid) == cur ? lo : hi) = mid;
    }
    t->changes.emplace_back(hi, ob);
    cur = ob;
  }
  return t;
}

}  // namespace

Result<Zone> Zone::find(std::string_view iana) {
  // Tables are immutable once built, so one per name per process is shared by everyone.
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Table>, std::less<>> cache;
  std::lock_guard lock(mu);
  if (auto it = cache.find(iana); it != cache.end()) return Zone(it->second);
  std::string name(iana);
  icaltimezone* z = nullptr;
  if (name != "UTC" && name != "Etc/UTC") {
    z = icaltimezone_get_builtin_timezone(name.c_str());
    if (!z) return make_error(Errc::invalid_input, "unknown time zone: " + name);
  }
  auto table = build(name, z);
  cache.emplace(name, table);
  return Zone(table);
}

Zone Zone::utc() {
  return *find("UTC");
}

const std::string& Zone::name() const {
  return t_->name;
}

int Zone::offset_at(Timestamp t) const {
  const auto& c = t_->changes;
  if (t >= t_->covered_to) return ical_offset(t_->ical, t);
  auto it = std::upper_bound(c.begin(), c.end(), t,
                             [](Timestamp v, const auto& p) { return v < p.first; });
  if (it == c.begin()) return c.front().second;
  return std::prev(it)->second;
}

CivilTime Zone::to_local(Timestamp t) const {
  return CivilTime::from_seconds(t + offset_at(t));
}

Timestamp Zone::to_utc(const CivilTime& local) const {
  const std::int64_t l = local.seconds();
  // Changes are far more than a day apart: the offsets a day before and after bracket it.
  const int before = offset_at(l - 86400);
  const int after = offset_at(l + 86400);
  if (before == after) return l - before;  // no change within a day: the usual case
  const Timestamp u1 = l - before, u2 = l - after;
  const bool ok1 = offset_at(u1) == before, ok2 = offset_at(u2) == after;
  if (ok1 && ok2) return std::min(u1, u2);
  if (ok1) return u1;
  if (ok2) return u2;
  return u1;  // in the gap: the offset before the change carries it forward
}

std::string Zone::offset_label(Timestamp t) const {
  int o = offset_at(t);
  char sign = o < 0 ? '-' : '+';
  if (o < 0) o = -o;
  char buf[16];
  std::snprintf(buf, sizeof buf, "UTC%c%02d:%02d", sign, o / 3600, o / 60 % 60);
  return buf;
}

}  // namespace sk::calendar
