#include "calendar/slots.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace sk::calendar {

Timestamp BusyCalendar::instant(const CivilTime& t, const Zone& z) const {
  if (t.utc) return t.seconds();
  return z.to_utc(t);
}

Zone BusyCalendar::zone_for(const Component& e) const {
  if (e.tzid.empty()) return home_;
  if (e.tzid == home_.name()) return home_;
  auto z = Zone::find(e.tzid);
  // A custom VTIMEZONE we cannot name: the client's own zone is the best reading.
  return z ? *z : home_;
}

void BusyCalendar::add(Interval b) {
  if (b.end <= b.start) return;
  if (!singles_.empty() && b.start < singles_.back().start) sorted_ = false;
  singles_.push_back(b);
  max_single_ = std::max<long>(max_single_, b.end - b.start);
}

Result<void> BusyCalendar::add_event(const Component& e) {
  return add_component(e, {});
}

Result<void> BusyCalendar::add_component(const Component& e, std::vector<std::int64_t> skip) {
  if (!e.start) return make_error(Errc::invalid_input, "event " + e.uid + " has no DTSTART");
  if (e.status == "CANCELLED" || e.transp == "TRANSPARENT") return ok();
  const Zone z = zone_for(e);
  const CivilTime& s = *e.start;
  long duration = e.duration_s;
  if (e.end) {
    duration = s.date_only ? static_cast<long>(e.end->seconds() - s.seconds())
                           : static_cast<long>(instant(*e.end, z) - instant(s, z));
  } else if (duration == 0 && s.date_only) {
    duration = 86400;
  }
  if (duration <= 0) return ok();  // takes no time
  auto span = [&](const CivilTime& at) {
    if (at.date_only) {
      // An all-day event covers the client's whole local day(s).
      CivilTime a = at;
      a.date_only = false;
      CivilTime b = CivilTime::from_seconds(a.seconds() + duration);
      return Interval{home_.to_utc(a), home_.to_utc(b)};
    }
    Timestamp a = instant(at, z);
    return Interval{a, a + duration};
  };
  if (e.rrule.empty()) {
    add(span(s));
  } else {
    SK_ASSIGN(Rule rule, parse_rule(e.rrule));
    if (rule.until && rule.until->utc && !s.utc && !s.date_only) {
      // UNTIL in UTC bounds a rule expanded on the event's own wall clock.
      CivilTime u = z.to_local(rule.until->seconds());
      rule.until = u;
    }
    SK_ASSIGN(auto it, RecurIterator::make(rule, s));  // reject bad rules now, not later
    std::optional<std::int64_t> last;
    if (rule.until) {
      last = rule.until->seconds();
    } else if (rule.count) {
      while (auto t = it.next()) last = t->seconds();
      if (!last) last = s.seconds();
    }
    for (const auto& x : e.exdates)
      skip.push_back(x.utc && !s.utc ? z.to_local(x.seconds()).seconds() : x.seconds());
    std::sort(skip.begin(), skip.end());
    recurring_.push_back(Recurring{std::move(rule), s, z, duration, std::move(skip), last});
  }
  for (const auto& r : e.rdates) add(span(r));
  return ok();
}

Result<int> BusyCalendar::add_calendar(const Calendar& cal) {
  // Overridden instances (RECURRENCE-ID) replace the master's instance of the same time.
  std::map<std::string, std::vector<std::int64_t>> overridden;
  for (const auto& c : cal.components) {
    if (c.kind != "VEVENT" || !c.recurrence_id) continue;
    const Zone z = zone_for(c);
    const CivilTime& r = *c.recurrence_id;
    overridden[c.uid].push_back(r.utc ? z.to_local(r.seconds()).seconds() : r.seconds());
  }
  int n = 0;
  for (const auto& c : cal.components) {
    if (c.kind == "VFREEBUSY") {
      for (const auto& p : c.freebusy) add({instant(p.start, home_), instant(p.end, home_)});
      ++n;
      continue;
    }
    if (c.kind != "VEVENT") continue;
    std::vector<std::int64_t> skip;
    if (!c.recurrence_id) {
      if (auto it = overridden.find(c.uid); it != overridden.end()) skip = it->second;
    }
    SK_TRY(add_component(c, std::move(skip)));
    ++n;
  }
  return n;
}

std::vector<Interval> BusyCalendar::busy_between(Timestamp from, Timestamp to) const {
  if (!sorted_) {
    std::sort(singles_.begin(), singles_.end(),
              [](const Interval& a, const Interval& b) { return a.start < b.start; });
    sorted_ = true;
  }
  std::vector<Interval> out;
  // Singles: everything starting after from - longest event, up to `to`.
  auto lo = std::lower_bound(singles_.begin(), singles_.end(), from - max_single_,
                             [](const Interval& a, Timestamp t) { return a.start < t; });
  for (auto it = lo; it != singles_.end() && it->start < to; ++it)
    if (it->end > from) out.push_back(*it);
  for (const auto& r : recurring_) {
    // Instances are on the event's wall clock; a day either side covers any offset.
    const std::int64_t local_from = from - r.duration - 2 * 86400;
    const std::int64_t local_to = to + 2 * 86400;
    if (r.last && *r.last < local_from) continue;
    if (r.start.seconds() >= local_to) continue;
    auto it = RecurIterator::make(r.rule, r.start);
    if (!it) continue;
    it->skip_to(CivilTime::from_seconds(local_from));
    while (auto t = it->next()) {
      const std::int64_t cs = t->seconds();
      if (cs >= local_to) break;
      if (!r.skip.empty() && std::binary_search(r.skip.begin(), r.skip.end(), cs)) continue;
      Interval iv;
      if (t->date_only) {
        CivilTime a = *t;
        a.date_only = false;
        iv = {home_.to_utc(a), home_.to_utc(CivilTime::from_seconds(cs + r.duration))};
      } else {
        iv.start = t->utc ? cs : r.zone.to_utc(*t);
        iv.end = iv.start + r.duration;
      }
      if (iv.end > from && iv.start < to) out.push_back(iv);
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Interval& a, const Interval& b) { return a.start < b.start; });
  std::vector<Interval> merged;
  for (const auto& iv : out) {
    if (!merged.empty() && iv.start <= merged.back().end)
      merged.back().end = std::max(merged.back().end, iv.end);
    else
      merged.push_back(iv);
  }
  return merged;
}

Result<std::vector<Interval>> open_hours(const Availability& a, Timestamp from, Timestamp to) {
  SK_ASSIGN(Zone z, Zone::find(a.zone));
  std::vector<Interval> out;
  if (to <= from) return out;
  const std::int64_t first_day = z.to_local(from).days();
  const std::int64_t last_day = z.to_local(to).days();
  std::map<std::int64_t, const DateOverride*> overrides;
  for (const auto& o : a.overrides) overrides[days_from_civil(o.year, o.month, o.day)] = &o;
  for (std::int64_t d = first_day; d <= last_day; ++d) {
    const std::vector<HoursRange>* hours = &a.weekly[weekday_of(d)];
    if (auto it = overrides.find(d); it != overrides.end()) hours = &it->second->hours;
    for (const auto& h : *hours) {
      Timestamp s = z.to_utc(CivilTime::from_seconds(d * 86400 + h.start_min * 60));
      Timestamp e = z.to_utc(CivilTime::from_seconds(d * 86400 + h.end_min * 60));
      s = std::max(s, from);
      e = std::min(e, to);
      if (e > s) out.push_back({s, e});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Interval& x, const Interval& y) { return x.start < y.start; });
  return out;
}

Result<std::vector<Slot>> free_slots(const Availability& a, const BookingType& type,
                                     const BusyCalendar& busy, const SlotQuery& q) {
  SK_TRY(validate(a));
  SK_TRY(validate(type));
  SK_ASSIGN(Zone z, Zone::find(a.zone));
  const long duration = static_cast<long>(type.duration_min) * 60;
  const long step = static_cast<long>(a.step_min > 0 ? a.step_min : type.duration_min) * 60;
  const long before = static_cast<long>(a.buffer_before_min) * 60;
  const long after = static_cast<long>(a.buffer_after_min) * 60;
  Timestamp from = std::max(q.now + static_cast<Timestamp>(a.min_notice_min) * 60, q.from);
  Timestamp to = q.now + static_cast<Timestamp>(a.horizon_days) * 86400;
  if (q.days > 0) to = std::min(to, q.now + static_cast<Timestamp>(q.days) * 86400);
  if (q.to > 0) to = std::min(to, q.to);
  std::vector<Slot> out;
  if (to <= from) return out;

  SK_ASSIGN(auto open, open_hours(a, from, to));
  // A booking [s, s+d) needs [s-before, s+d+after) clear: widen busy time by the buffers.
  auto blocked = busy.busy_between(from - before - duration, to + after + duration);
  for (auto& b : blocked) {
    b.start -= after;
    b.end += before;
  }
  std::vector<Interval> merged;
  for (const auto& b : blocked) {
    if (!merged.empty() && b.start <= merged.back().end)
      merged.back().end = std::max(merged.back().end, b.end);
    else
      merged.push_back(b);
  }

  std::map<std::int64_t, int> per_day, per_week;
  auto week_of = [](std::int64_t day) { return day - weekday_of(day); };
  for (Timestamp s : q.booked_starts) {
    const std::int64_t d = z.to_local(s).days();
    ++per_day[d];
    ++per_week[week_of(d)];
  }

  std::size_t bi = 0;
  for (const auto& o : open) {
    // Start times keep to the step counted from the opening on the local clock, so a
    // 09:00 opening offers 09:00, 09:30, ... even when `from` falls mid-way.
    const CivilTime open_local = z.to_local(o.start);
    const std::int64_t day = open_local.days();
    if (a.max_per_day > 0 && per_day[day] >= a.max_per_day) continue;
    if (a.max_per_week > 0 && per_week[week_of(day)] >= a.max_per_week) continue;
    Timestamp s = o.start;
    const Timestamp boundary = z.to_utc(CivilTime::from_seconds(day * 86400));
    const long since = static_cast<long>(o.start - boundary);
    if (since % step) s += step - since % step;
    while (s + duration <= o.end) {
      while (bi < merged.size() && merged[bi].end <= s) ++bi;
      std::size_t k = bi;
      bool clash = false;
      while (k < merged.size() && merged[k].start < s + duration) {
        if (merged[k].end > s) {
          clash = true;
          break;
        }
        ++k;
      }
      if (!clash) {
        out.push_back({s, s + duration});
        s += step;
        continue;
      }
      // Jump past the busy block to the next start on the step grid.
      const Timestamp free_at = merged[k].end;
      s += ((free_at - s + step - 1) / step) * step;
    }
  }
  return out;
}

std::string describe(Timestamp t, const Zone& zone) {
  static constexpr const char* kDays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  CivilTime l = zone.to_local(t);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s %d %s %d %02d:%02d (%s)", kDays[weekday_of(l.days())], l.day,
                kMonths[l.month - 1], l.year, l.hour, l.minute, zone.offset_label(t).c_str());
  return buf;
}

}  // namespace sk::calendar
