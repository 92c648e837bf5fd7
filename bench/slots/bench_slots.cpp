// Slot search over a 60-day horizon in a calendar of 5,000 events (200 recurring):
// Sidekick's search (only the window expanded, merged, one sweep) against a plain baseline
// that expands every event from its start and checks each candidate against every busy
// interval. Both must return the same slots. A third row is what the booking page pays per
// visit: the same calendar imported into a client's store, searched through the engine
// (availability, booking type, busy time and the client's bookings read from SQLite).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include <filesystem>

#include "calendar/slots.hpp"
#include "engine/scheduling.hpp"
#include "store/repos.hpp"

using namespace sk;
using namespace sk::calendar;

namespace {

struct Stats {
  double p50 = 0, p99 = 0, mean = 0;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  Stats s;
  s.p50 = v[v.size() / 2];
  s.p99 = v[std::min(v.size() - 1, (v.size() * 99) / 100)];
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  return s;
}

std::vector<Component> make_calendar(Timestamp now, int total, int recurring, unsigned seed) {
  std::mt19937 rng(seed);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const char* zones[] = {"America/Toronto", "America/Toronto", "Europe/London", "UTC"};
  std::vector<Component> out;
  for (int i = 0; i < total; ++i) {
    Component e;
    e.kind = "VEVENT";
    e.uid = "ev" + std::to_string(i);
    const bool rec = i < recurring;
    // Singles spread a year either side of now; recurring ones began up to three years ago.
    Timestamp at = rec ? now - static_cast<Timestamp>(pick(30, 3 * 365)) * 86400
                       : now + static_cast<Timestamp>(pick(-365, 365)) * 86400;
    std::string tz = zones[pick(0, 3)];
    Zone z = *Zone::find(tz);
    CivilTime local = z.to_local(at);
    local.hour = pick(7, 18);
    local.minute = pick(0, 3) * 15;
    local.second = 0;
    const int minutes = pick(1, 4) * 15;
    if (tz == "UTC") {
      local.utc = true;
    } else {
      e.tzid = tz;
    }
    e.start = local;
    e.end = CivilTime::from_seconds(local.seconds() + minutes * 60, local.utc);
    if (rec) {
      static const char* days[] = {"MO", "TU", "WE", "TH", "FR"};
      const int kind = i % 10;
      if (kind < 6) {
        e.rrule = std::string("FREQ=WEEKLY;BYDAY=") + days[pick(0, 4)];
        if (kind == 0) e.rrule += std::string(",") + days[pick(0, 4)];
        if (kind == 1) e.rrule += ";INTERVAL=2";
      } else if (kind < 8) {
        e.rrule = "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=" + std::to_string(pick(5, 400));
      } else if (kind == 8) {
        e.rrule = "FREQ=MONTHLY;BYDAY=" + std::to_string(pick(1, 3)) + days[pick(0, 4)];
      } else {
        e.rrule = "FREQ=MONTHLY;BYMONTHDAY=" + std::to_string(pick(1, 28));
      }
      // Three series in four have ended, as in any calendar that has been used for a while.
      if (i % 4 != 0 && e.rrule.find("COUNT") == std::string::npos) {
        CivilTime until = CivilTime::from_seconds(now - pick(1, 29) * 86400L, true);
        e.rrule += ";UNTIL=" + format_civil(until);
      }
      if (i % 7 == 0) e.exdates.push_back(CivilTime::from_seconds(local.seconds() + 7 * 86400));
    }
    out.push_back(std::move(e));
  }
  return out;
}

// The baseline: expand everything from its start to the end of the horizon, keep every
// interval, then test each candidate start against all of them.
std::vector<Slot> baseline(const Availability& a, const BookingType& t,
                           const std::vector<Component>& events, Timestamp now) {
  const Zone home = *Zone::find(a.zone);
  const Timestamp from = now + a.min_notice_min * 60L;
  const Timestamp to = now + a.horizon_days * 86400L;
  std::vector<Interval> busy;
  for (const auto& e : events) {
    Zone z = e.tzid.empty() ? home : *Zone::find(e.tzid);
    auto instant = [&](const CivilTime& c) { return c.utc ? c.seconds() : z.to_utc(c); };
    const long dur = static_cast<long>(instant(*e.end) - instant(*e.start));
    if (e.rrule.empty()) {
      busy.push_back({instant(*e.start), instant(*e.start) + dur});
      continue;
    }
    auto it = *RecurIterator::make(*parse_rule(e.rrule), *e.start);
    while (auto c = it.next()) {
      Timestamp s = instant(*c);
      if (s > to) break;
      bool skipped = false;
      for (const auto& x : e.exdates) skipped |= x.seconds() == c->seconds();
      if (!skipped) busy.push_back({s, s + dur});
    }
  }
  std::vector<Slot> out;
  const long d = t.duration_min * 60L;
  const long step = (a.step_min ? a.step_min : t.duration_min) * 60L;
  auto open = *open_hours(a, from, to);
  for (const auto& o : open) {
    const CivilTime l = home.to_local(o.start);
    const Timestamp boundary = home.to_utc(CivilTime::from_seconds(l.days() * 86400));
    Timestamp s = o.start;
    if ((o.start - boundary) % step) s += step - (o.start - boundary) % step;
    for (; s + d <= o.end; s += step) {
      bool clash = false;
      for (const auto& b : busy)
        if (b.start < s + d + a.buffer_after_min * 60L && b.end > s - a.buffer_before_min * 60L) {
          clash = true;
          break;
        }
      if (!clash) out.push_back({s, s + d});
    }
  }
  return out;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// This thread's CPU time: on a machine shared with other jobs, wall-clock percentiles also
// measure the time spent waiting for a core.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace

// The generated events as an iCalendar file, the way a client's calendar exports them (zoned
// times with TZID, EXDATEs); calendar::write_ics writes what invitations need (UTC times, no
// EXDATE), so it is not used here.
std::string ics_text(const std::vector<Component>& events) {
  std::string out = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sidekick//bench//EN\r\n";
  auto when = [](const std::string& name, const Component& e, const CivilTime& t) {
    return name + (e.tzid.empty() ? "" : ";TZID=" + e.tzid) + ":" + format_civil(t) + "\r\n";
  };
  for (const auto& e : events) {
    out += "BEGIN:VEVENT\r\nUID:" + e.uid + "\r\nDTSTAMP:20261101T000000Z\r\n";
    out += when("DTSTART", e, *e.start) + when("DTEND", e, *e.end);
    if (!e.rrule.empty()) out += "RRULE:" + e.rrule + "\r\n";
    for (const auto& x : e.exdates) out += when("EXDATE", e, x);
    out += "SUMMARY:busy\r\nEND:VEVENT\r\n";
  }
  return out + "END:VCALENDAR\r\n";
}

int main(int argc, char** argv) {
  int runs = argc > 1 ? std::atoi(argv[1]) : 300;
  int baseline_runs = argc > 2 ? std::atoi(argv[2]) : 15;
  const Timestamp now = parse_civil("20261123T150000")->seconds();  // a Monday, 10:00 Toronto
  Availability a;
  a.zone = "America/Toronto";
  for (int dd = 0; dd < 5; ++dd) a.weekly[dd] = {{9 * 60, 17 * 60}};
  a.buffer_before_min = 10;
  a.buffer_after_min = 10;
  a.min_notice_min = 240;
  a.horizon_days = 60;
  a.step_min = 15;
  BookingType t;
  t.duration_min = 30;
  auto events = make_calendar(now, 5000, 200, 42);
  const Zone home = *Zone::find(a.zone);
  for (const auto& e : events)
    if (!e.tzid.empty()) (void)Zone::find(e.tzid);  // zone tables are built once per process

  std::vector<double> build_search, search_only, base, build_cpu, search_cpu, base_cpu;
  std::vector<Slot> fast_slots, base_slots;
  BusyCalendar prepared(home);
  for (const auto& e : events) (void)prepared.add_event(e);
  SlotQuery q;
  q.now = now;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_ms();
    BusyCalendar cal(home);
    for (const auto& e : events) (void)cal.add_event(e);
    auto s = free_slots(a, t, cal, q);
    build_search.push_back(ms_since(t0));
    build_cpu.push_back(cpu_ms() - c0);
    t0 = std::chrono::steady_clock::now();
    c0 = cpu_ms();
    auto s2 = free_slots(a, t, prepared, q);
    search_only.push_back(ms_since(t0));
    search_cpu.push_back(cpu_ms() - c0);
    if (i == 0) fast_slots = *s;
  }
  for (int i = 0; i < baseline_runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    double c0 = cpu_ms();
    auto s = baseline(a, t, events, now);
    base.push_back(ms_since(t0));
    base_cpu.push_back(cpu_ms() - c0);
    if (i == 0) base_slots = s;
  }
  // The booking page's path: the calendar imported into a client's store, searched through
  // the engine as every visit does.
  std::vector<double> page, page_cpu;
  double page_first = 0;
  std::size_t page_slot_count = 0;
  {
    const auto dir =
        std::filesystem::temp_directory_path() / ("sk-bench-slots-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    FixedClock clock(now);
    auto db = store::open_sqlite((dir / "sidekick.db").string()).value();
    (void)store::migrate(*db);
    SequentialIds ids;
    auto client = store::create_client(*db, ids, clock, "bench", "Bench", "o@bench.example");
    (void)store::set_availability(*db, client->id, to_json(a), now);
    BookingType bt = t;
    bt.slug = "call";
    bt.name = "Call";
    (void)store::put_booking_type(*db, client->id, "call", to_json(bt));
    auto imported =
        engine::import_calendar(*db, clock, client->id, "work", ics_text(events), "bench");
    if (!imported.ok()) {
      std::fprintf(stderr, "import failed: %s\n", imported.error().message.c_str());
      return 1;
    }
    // The first visit after an import parses the calendar; later ones reuse it until the next
    // import or sync.
    for (int i = 0; i <= runs; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      double c0 = cpu_ms();
      auto s = engine::find_slots(*db, clock, client->id, "call");
      if (i == 0) {
        page_first = ms_since(t0);
      } else {
        page.push_back(ms_since(t0));
        page_cpu.push_back(cpu_ms() - c0);
      }
      if (!s.ok()) {
        std::fprintf(stderr, "find_slots failed: %s\n", s.error().message.c_str());
        return 1;
      }
      page_slot_count = s->size();
    }
    db.reset();
    std::filesystem::remove_all(dir);
  }
  Stats f = stats(build_search), so = stats(search_only), b = stats(base);
  Stats fc = stats(build_cpu), sc = stats(search_cpu), bc = stats(base_cpu);
  std::printf("calendar: %zu events (%zu recurring), horizon %d days, %zu free slots\n",
              events.size(), prepared.recurring_count(), a.horizon_days, fast_slots.size());
  std::printf("same slots as baseline: %s\n", fast_slots == base_slots ? "yes" : "NO");
  std::printf("%-34s %8s %8s %8s %8s %6s\n", "", "p50 ms", "p99 ms", "cpu p50", "cpu p99", "runs");
  auto row = [](const char* name, const Stats& w, const Stats& c, int n) {
    std::printf("%-34s %8.3f %8.3f %8.3f %8.3f %6d\n", name, w.p50, w.p99, c.p50, c.p99, n);
  };
  row("sidekick search (prepared)", so, sc, runs);
  row("sidekick build + search", f, fc, runs);
  row("baseline expand-all + subtract", b, bc, baseline_runs);
  const Stats pw = stats(page), pc = stats(page_cpu);
  row("booking page (store + engine)", pw, pc, static_cast<int>(page.size()));
  std::printf("booking page: %zu slots (search alone: %zu); first visit after the import %.1f ms\n",
              page_slot_count, fast_slots.size(), page_first);
  std::printf("ratio baseline/sidekick p50: %.0fx (search), %.0fx (build + search)\n",
              b.p50 / so.p50, b.p50 / f.p50);
  auto met = [](double v) { return v <= 2.0 ? "met" : "missed"; };
  std::printf("target p99 <= 2 ms: search wall %s, cpu %s; booking page wall %s, cpu %s\n",
              met(so.p99), met(sc.p99), met(pw.p99), met(pc.p99));
  return fast_slots == base_slots && page_slot_count == fast_slots.size() ? 0 : 1;
}
