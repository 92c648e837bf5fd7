// Scheduling core: recurrence (libical's own vectors), iTIP parsing (RFC 2446 examples), time
// zones and free slots across daylight-saving changes.
#include <gtest/gtest.h>

#include <strings.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "calendar/ical.hpp"
#include "calendar/recur.hpp"
#include "calendar/slots.hpp"
#include "calendar/zone.hpp"

using namespace sk;
using namespace sk::calendar;
namespace fs = std::filesystem;

namespace {

const fs::path kData = fs::path(SK_SOURCE_DIR) / ".." / "shared" / "data" / "calendar";

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string x;
  while (std::getline(ss, x, sep)) out.push_back(x);
  return out;
}

Timestamp utc(const char* s) {
  return parse_civil(s)->seconds();
}

// ---------------------------------------------------------------- recurrence vectors

struct Vector {
  int line = 0;
  std::string rrule, dtstart, start_at, instances;
};

std::vector<Vector> read_vectors() {
  std::ifstream f(kData / "libical-icalrecur_test.txt");
  std::vector<Vector> out;
  Vector v;
  std::string line;
  int n = 0;
  while (std::getline(f, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto val = [&](const char* name) { return line.substr(std::string(name).size()); };
    if (line.rfind("RRULE:", 0) == 0) {
      v = Vector{};
      v.line = n;
      v.rrule = val("RRULE:");
    } else if (line.rfind("DTSTART:", 0) == 0) {
      v.dtstart = val("DTSTART:");
    } else if (line.rfind("START-AT:", 0) == 0) {
      v.start_at = val("START-AT:");
    } else if (line.rfind("INSTANCES:", 0) == 0) {
      v.instances = val("INSTANCES:");
      out.push_back(v);
    }
  }
  return out;
}

TEST(Recurrence, EveryLibicalVector) {
  auto vectors = read_vectors();
  ASSERT_EQ(vectors.size(), 146u);
  int errors_expected = 0;
  for (const auto& v : vectors) {
    SCOPED_TRACE("line " + std::to_string(v.line) + ": RRULE:" + v.rrule + " DTSTART:" + v.dtstart);
    auto dt = parse_civil(v.dtstart);
    ASSERT_TRUE(dt);
    auto rule = parse_rule(v.rrule);
    ASSERT_TRUE(rule.ok()) << rule.error().message;
    auto it = RecurIterator::make(*rule, *dt);
    if (v.instances.rfind(" ***", 0) == 0) {
      // libical refuses this combination; so do we.
      EXPECT_FALSE(it.ok());
      ++errors_expected;
      continue;
    }
    ASSERT_TRUE(it.ok()) << it.error().message;
    std::vector<std::string> expected = split(v.instances, ',');
    if (!v.start_at.empty()) {
      // From START-AT on, as libical's own test reads this column.
      const auto from = parse_civil(v.start_at)->seconds();
      std::erase_if(expected,
                    [&](const std::string& s) { return parse_civil(s)->seconds() < from; });
      it->skip_to(*parse_civil(v.start_at));
    }
    std::vector<std::string> got;
    while (auto t = it->next()) {
      got.push_back(format_civil(*t));
      if (got.size() > expected.size() + 5) break;
    }
    EXPECT_EQ(got, expected);
  }
  EXPECT_EQ(errors_expected, 1);
}

TEST(Recurrence, SkipToMatchesWalkingFromTheStart) {
  // The jump that slot search relies on must give what a full walk gives.
  const char* rules[] = {"FREQ=DAILY;INTERVAL=3", "FREQ=WEEKLY;BYDAY=MO,WE,FR;INTERVAL=2",
                         "FREQ=MONTHLY;BYDAY=-1FR", "FREQ=YEARLY;BYMONTH=3;BYDAY=2SU",
                         "FREQ=HOURLY;INTERVAL=7;BYHOUR=9,10,11"};
  auto start = *parse_civil("20190104T093000");
  auto from = *parse_civil("20260301T000000");
  auto to = parse_civil("20260601T000000")->seconds();
  for (const char* text : rules) {
    SCOPED_TRACE(text);
    auto rule = *parse_rule(text);
    auto walk = *RecurIterator::make(rule, start);
    std::vector<std::string> a, b;
    while (auto t = walk.next()) {
      if (t->seconds() >= to) break;
      if (*t >= from) a.push_back(format_civil(*t));
    }
    auto jump = *RecurIterator::make(rule, start);
    jump.skip_to(from);
    while (auto t = jump.next()) {
      if (t->seconds() >= to) break;
      b.push_back(format_civil(*t));
    }
    EXPECT_FALSE(a.empty());
    EXPECT_EQ(a, b);
  }
}

TEST(Recurrence, BadRulesAreClearErrors) {
  EXPECT_FALSE(parse_rule("").ok());
  EXPECT_FALSE(parse_rule("BYDAY=MO").ok());
  EXPECT_FALSE(parse_rule("FREQ=FORTNIGHTLY").ok());
  EXPECT_FALSE(parse_rule("FREQ=DAILY;COUNT=2;UNTIL=20200101").ok());
  EXPECT_FALSE(parse_rule("FREQ=MONTHLY;BYMONTHDAY=32").ok());
  auto r = parse_rule("FREQ=WEEKLY;BYDAY=XX");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("BYDAY"), std::string::npos);
  // A rule that can never match ends instead of spinning.
  auto never = *RecurIterator::make(*parse_rule("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"),
                                    *parse_civil("20200101T090000"));
  EXPECT_FALSE(never.next());
}

// ---------------------------------------------------------------- iTIP examples

// A deliberately naive reader of the same text (unfold, split name/params/value) as an oracle
// for the libical adapter.
struct NaiveProp {
  std::string name, params, value;
};
struct NaiveComp {
  std::string kind;
  std::vector<NaiveProp> props;
  std::vector<std::string> values(const std::string& n) const {
    std::vector<std::string> out;
    for (const auto& p : props)
      if (p.name == n) out.push_back(p.value);
    return out;
  }
  std::string first(const std::string& n) const {
    auto v = values(n);
    return v.empty() ? "" : v[0];
  }
};
struct NaiveCal {
  std::string method;
  std::vector<NaiveComp> comps;
};

NaiveCal naive_read(const std::string& text) {
  std::vector<std::string> lines;
  for (auto& raw : split(text, '\n')) {
    std::string l = raw;
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (!l.empty() && (l[0] == ' ' || l[0] == '\t') && !lines.empty())
      lines.back() += l.substr(1);
    else if (!l.empty())
      lines.push_back(l);
  }
  NaiveCal cal;
  std::vector<std::string> stack;
  for (const auto& l : lines) {
    bool quoted = false;
    std::size_t colon = std::string::npos;
    for (std::size_t i = 0; i < l.size(); ++i) {
      if (l[i] == '"') quoted = !quoted;
      if (l[i] == ':' && !quoted) {
        colon = i;
        break;
      }
    }
    std::string head = l.substr(0, colon), value = l.substr(colon + 1);
    std::string name = head.substr(0, head.find(';'));
    std::string params = head.find(';') == std::string::npos ? "" : head.substr(head.find(';'));
    if (name == "BEGIN") {
      stack.push_back(value);
      if (stack.size() == 2 && value != "VTIMEZONE") cal.comps.push_back({value, {}});
      continue;
    }
    if (name == "END") {
      stack.pop_back();
      continue;
    }
    if (stack.size() == 1 && name == "METHOD") cal.method = value;
    if (stack.size() == 2 && stack[1] != "VTIMEZONE")
      cal.comps.back().props.push_back({name, params, value});
  }
  return cal;
}

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(0, 1);
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string address(std::string v) {
  if (v.size() >= 7 && strncasecmp(v.c_str(), "mailto:", 7) == 0) v.erase(0, 7);
  return v;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string param_of(const std::string& params, const std::string& name) {
  auto p = params.find(";" + name + "=");
  if (p == std::string::npos) return "";
  auto v = params.substr(p + name.size() + 2);
  if (!v.empty() && v[0] == '"') return v.substr(1, v.find('"', 1) - 1);
  return v.substr(0, v.find(';'));
}

TEST(Itip, EveryRfc2446ExampleParses) {
  auto text = slurp(kData / "rfc2446-itip-examples.ics");
  auto cals = split_calendars(text);
  ASSERT_EQ(cals.size(), 53u);
  std::map<std::string, int> methods;
  int components = 0, attendees = 0;
  for (std::size_t i = 0; i < cals.size(); ++i) {
    SCOPED_TRACE("calendar #" + std::to_string(i + 1));
    auto cal = parse_ics(cals[i]);
    ASSERT_TRUE(cal.ok()) << cal.error().message;
    NaiveCal want = naive_read(cals[i]);
    EXPECT_EQ(cal->method, want.method);
    ++methods[cal->method];
    ASSERT_EQ(cal->components.size(), want.comps.size());
    for (std::size_t k = 0; k < want.comps.size(); ++k) {
      const auto& got = cal->components[k];
      const auto& w = want.comps[k];
      ++components;
      EXPECT_EQ(got.kind, w.kind);
      EXPECT_EQ(got.uid, trim(w.first("UID")));
      EXPECT_EQ(got.sequence, w.first("SEQUENCE").empty() ? 0 : std::stoi(w.first("SEQUENCE")));
      EXPECT_EQ(lower(got.organizer), lower(address(w.first("ORGANIZER"))));
      EXPECT_EQ(got.summary, trim(w.first("SUMMARY")));
      EXPECT_EQ(got.status, w.first("STATUS"));
      EXPECT_EQ(got.request_status.empty(), w.first("REQUEST-STATUS").empty());
      if (!w.first("DTSTART").empty()) {
        ASSERT_TRUE(got.start);
        EXPECT_EQ(format_civil(*got.start), w.first("DTSTART"));
      }
      if (!w.first("RECURRENCE-ID").empty()) {
        ASSERT_TRUE(got.recurrence_id);
        EXPECT_EQ(format_civil(*got.recurrence_id), w.first("RECURRENCE-ID"));
      }
      EXPECT_EQ(got.rrule.empty(), w.first("RRULE").empty());
      std::vector<const NaiveProp*> watt;
      for (const auto& p : w.props)
        if (p.name == "ATTENDEE") watt.push_back(&p);
      ASSERT_EQ(got.attendees.size(), watt.size());
      for (std::size_t a = 0; a < watt.size(); ++a) {
        ++attendees;
        EXPECT_EQ(lower(got.attendees[a].address), lower(address(watt[a]->value)));
        EXPECT_EQ(got.attendees[a].partstat, param_of(watt[a]->params, "PARTSTAT"));
        EXPECT_EQ(got.attendees[a].role, param_of(watt[a]->params, "ROLE"));
        EXPECT_EQ(got.attendees[a].name, param_of(watt[a]->params, "CN"));
        EXPECT_EQ(got.attendees[a].rsvp, param_of(watt[a]->params, "RSVP") == "TRUE");
      }
      EXPECT_EQ(got.freebusy.size(), w.values("FREEBUSY").size() == 0 ? 0u : got.freebusy.size());
    }
  }
  EXPECT_EQ(methods["REQUEST"], 24);
  EXPECT_EQ(methods["REPLY"], 10);
  EXPECT_EQ(methods["CANCEL"], 5);
  EXPECT_EQ(methods["PUBLISH"], 6);
  EXPECT_EQ(methods["COUNTER"], 2);
  EXPECT_EQ(methods["ADD"], 3);
  EXPECT_EQ(methods["REFRESH"], 2);
  EXPECT_EQ(methods["DECLINECOUNTER"], 1);
  EXPECT_EQ(components, 54);
  EXPECT_GT(attendees, 60);
}

TEST(Itip, SpotChecksAgainstTheRfcText) {
  auto cals = split_calendars(slurp(kData / "rfc2446-itip-examples.ics"));
  // The third example: the organizer cancels the game.
  auto c3 = *parse_ics(cals[2]);
  EXPECT_EQ(c3.method, "CANCEL");
  ASSERT_EQ(c3.components.size(), 1u);
  EXPECT_EQ(c3.components[0].uid, "0981234-1234234-23@example.com");
  EXPECT_EQ(c3.components[0].sequence, 2);
  EXPECT_EQ(c3.components[0].comment, "DUKES forfeit the game");
  // A REPLY carries the answering attendee's PARTSTAT.
  bool saw_accept = false, saw_delegate = false, saw_decline = false;
  for (const auto& text : cals) {
    auto c = *parse_ics(text);
    for (const auto& comp : c.components)
      for (const auto& a : comp.attendees) {
        if (c.method == "REPLY") saw_accept |= a.partstat == "ACCEPTED";
        if (c.method == "REPLY")
          saw_delegate |= a.partstat == "DELEGATED" && !a.delegated_to.empty();
        saw_decline |= a.partstat == "DECLINED" && a.delegated_from == "C@example.com";
      }
  }
  EXPECT_TRUE(saw_accept);
  EXPECT_TRUE(saw_delegate);
  EXPECT_TRUE(saw_decline);
  // Free/busy periods are read.
  int periods = 0;
  for (const auto& text : cals) {
    auto c = parse_ics(text);
    ASSERT_TRUE(c.ok());
    for (const auto& comp : c->components) periods += static_cast<int>(comp.freebusy.size());
  }
  EXPECT_GT(periods, 0);
  EXPECT_FALSE(parse_ics("hello").ok());
}

TEST(Itip, WrittenRequestReadsBack) {
  Calendar cal;
  cal.method = "REQUEST";
  Component e;
  e.kind = "VEVENT";
  e.uid = "bkg_1@sidekick";
  e.sequence = 3;
  e.dtstamp = *parse_civil("20261123T120000Z");
  e.start = *parse_civil("20261201T150000Z");
  e.end = *parse_civil("20261201T153000Z");
  e.summary = "Intro call; with, commas";
  e.organizer = "owner@acme.example";
  e.organizer_name = "Ann Owner";
  e.attendees.push_back(
      {"guest@example.org", "Gus Guest", "REQ-PARTICIPANT", "NEEDS-ACTION", true, "", ""});
  e.alarms.push_back("-PT15M");
  cal.components.push_back(e);
  auto back = parse_ics(write_ics(cal));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->method, "REQUEST");
  const auto& b = back->components.at(0);
  EXPECT_EQ(b.uid, e.uid);
  EXPECT_EQ(b.sequence, 3);
  EXPECT_EQ(b.summary, e.summary);
  EXPECT_EQ(format_civil(*b.start), "20261201T150000Z");
  EXPECT_EQ(b.organizer, "owner@acme.example");
  ASSERT_EQ(b.attendees.size(), 1u);
  EXPECT_EQ(b.attendees[0].partstat, "NEEDS-ACTION");
  EXPECT_TRUE(b.attendees[0].rsvp);
  EXPECT_EQ(b.alarms, std::vector<std::string>{"-PT15M"});
}

// ---------------------------------------------------------------- zones

TEST(Zones, GapsMoveForwardOverlapsTakeTheFirst) {
  struct Case {
    const char* zone;
    const char* local;
    const char* want_utc;
  };
  const Case cases[] = {
      {"America/Toronto", "20260308T023000", "20260308T073000"},   // gap → 03:30 EDT
      {"America/Toronto", "20261101T013000", "20261101T053000"},   // first 01:30 is EDT
      {"Europe/London", "20260329T013000", "20260329T013000"},     // gap → 02:30 BST
      {"Europe/London", "20261025T013000", "20261025T003000"},     // first 01:30 is BST
      {"Australia/Sydney", "20261004T023000", "20261003T163000"},  // gap → 03:30 AEDT
      {"Australia/Sydney", "20260405T023000", "20260404T153000"},  // first 02:30 is AEDT
      {"Australia/Adelaide", "20261004T023000", "20261003T170000"},
      {"Australia/Adelaide", "20260405T023000", "20260404T160000"},
      {"Asia/Kolkata", "20260705T093000", "20260705T040000"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(std::string(c.zone) + " " + c.local);
    auto z = Zone::find(c.zone);
    ASSERT_TRUE(z.ok());
    EXPECT_EQ(z->to_utc(*parse_civil(c.local)), utc(c.want_utc));
  }
  EXPECT_EQ(Zone::find("Australia/Adelaide")->offset_label(utc("20260701T000000")), "UTC+09:30");
  EXPECT_EQ(Zone::find("America/Toronto")->offset_label(utc("20260101T000000")), "UTC-05:00");
  auto bad = Zone::find("Mars/Olympus_Mons");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
}

// ---------------------------------------------------------------- slots across DST

std::vector<std::string> local_starts(const std::vector<Slot>& slots, const Zone& z,
                                      std::int64_t day) {
  std::vector<std::string> out;
  for (const auto& s : slots) {
    auto l = z.to_local(s.start);
    if (l.days() != day) continue;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02d:%02d", l.hour, l.minute);
    out.emplace_back(buf);
  }
  return out;
}

struct DstCase {
  const char* zone;
  const char* change_day;          // the Sunday of the change (local)
  std::vector<std::string> night;  // starts offered 00:00-04:00 that night
  const char* monday_9am_utc;      // Monday 09:00 local after the change
  const char* friday_9am_utc;      // Friday 09:00 local before the change
};

void PrintTo(const DstCase& c, std::ostream* os) {
  *os << c.zone << " " << c.change_day;
}

class DstSlots : public ::testing::TestWithParam<DstCase> {};

TEST_P(DstSlots, OpenHoursFollowTheWallClock) {
  const auto& c = GetParam();
  auto zone = *Zone::find(c.zone);
  Availability a;
  a.zone = c.zone;
  for (int d = 0; d < 5; ++d) a.weekly[d] = {{9 * 60, 12 * 60}};
  a.weekly[6] = {{0, 4 * 60}};  // Sunday small hours: the change happens inside them
  a.horizon_days = 30;
  BookingType t;
  t.duration_min = 60;
  // A weekly Monday 10:00 meeting in the same zone that started long before the change
  // keeps its wall-clock time after it.
  BusyCalendar busy(zone);
  Component weekly;
  weekly.kind = "VEVENT";
  weekly.uid = "standup";
  weekly.start = *parse_civil("20240101T100000");
  weekly.end = *parse_civil("20240101T110000");
  weekly.tzid = c.zone;
  weekly.rrule = "FREQ=WEEKLY;BYDAY=MO";
  ASSERT_TRUE(busy.add_event(weekly).ok());

  const std::int64_t sunday = parse_civil(c.change_day)->days();
  SlotQuery q;
  q.now = zone.to_utc(CivilTime::from_seconds((sunday - 3) * 86400));  // Thursday 00:00
  auto slots = free_slots(a, t, busy, q);
  ASSERT_TRUE(slots.ok()) << slots.error().message;
  EXPECT_EQ(local_starts(*slots, zone, sunday), c.night);
  EXPECT_EQ(local_starts(*slots, zone, sunday + 1), (std::vector<std::string>{"09:00", "11:00"}));
  EXPECT_EQ(local_starts(*slots, zone, sunday - 2),
            (std::vector<std::string>{"09:00", "10:00", "11:00"}));
  bool monday = false, friday = false;
  for (const auto& s : *slots) {
    monday |= s.start == utc(c.monday_9am_utc);
    friday |= s.start == utc(c.friday_9am_utc);
  }
  EXPECT_TRUE(monday);
  EXPECT_TRUE(friday);
}

INSTANTIATE_TEST_SUITE_P(Zones, DstSlots,
                         ::testing::Values(DstCase{"America/Toronto",
                                                   "20260308",
                                                   {"00:00", "01:00", "03:00"},
                                                   "20260309T130000",
                                                   "20260306T140000"},
                                           DstCase{"America/Toronto",
                                                   "20261101",
                                                   {"00:00", "01:00", "01:00", "02:00", "03:00"},
                                                   "20261102T140000",
                                                   "20261030T130000"},
                                           DstCase{"Europe/London",
                                                   "20260329",
                                                   {"00:00", "02:00", "03:00"},
                                                   "20260330T080000",
                                                   "20260327T090000"},
                                           DstCase{"Europe/London",
                                                   "20261025",
                                                   {"00:00", "01:00", "01:00", "02:00", "03:00"},
                                                   "20261026T090000",
                                                   "20261023T080000"},
                                           DstCase{"Australia/Sydney",
                                                   "20261004",
                                                   {"00:00", "01:00", "03:00"},
                                                   "20261004T220000",
                                                   "20261001T230000"},
                                           DstCase{"Australia/Sydney",
                                                   "20260405",
                                                   {"00:00", "01:00", "02:00", "02:00", "03:00"},
                                                   "20260405T230000",
                                                   "20260402T220000"},
                                           DstCase{"Australia/Adelaide",
                                                   "20261004",
                                                   {"00:00", "01:00", "03:00"},
                                                   "20261004T223000",
                                                   "20261001T233000"},
                                           DstCase{"Australia/Adelaide",
                                                   "20260405",
                                                   {"00:00", "01:00", "02:00", "02:00", "03:00"},
                                                   "20260405T233000",
                                                   "20260402T223000"},
                                           DstCase{"Asia/Kolkata",
                                                   "20260308",
                                                   {"00:00", "01:00", "02:00", "03:00"},
                                                   "20260309T033000",
                                                   "20260306T033000"}));

// ---------------------------------------------------------------- slots: rules

struct SlotRules : ::testing::Test {
  Zone zone = *Zone::find("Europe/London");
  Availability a;
  BookingType t;
  // Mon 2026-06-01 08:00 local (07:00Z)
  Timestamp now = utc("20260601T070000");
  void SetUp() override {
    a.zone = "Europe/London";
    for (int d = 0; d < 5; ++d) a.weekly[d] = {{9 * 60, 12 * 60}, {13 * 60, 17 * 60}};
    t.duration_min = 30;
  }
  std::vector<std::string> day(const std::vector<Slot>& s, const char* date) {
    return local_starts(s, zone, parse_civil(date)->days());
  }
};

TEST_F(SlotRules, BuffersNoticeAndBusyTime) {
  a.min_notice_min = 120;  // nothing before 10:00 today
  a.buffer_before_min = 15;
  a.buffer_after_min = 15;
  BusyCalendar busy(zone);
  busy.add(
      {zone.to_utc(*parse_civil("20260601T110000")), zone.to_utc(*parse_civil("20260601T113000"))});
  SlotQuery q;
  q.now = now;
  q.days = 1;
  auto s = free_slots(a, t, busy, q);
  ASSERT_TRUE(s.ok());
  // 10:30 would end at 11:00 with no room for the 15-minute buffer; 11:30 starts inside the
  // after-buffer; 12:00 is past the morning's hours.
  EXPECT_EQ(day(*s, "20260601"),
            (std::vector<std::string>{"10:00", "13:00", "13:30", "14:00", "14:30", "15:00", "15:30",
                                      "16:00", "16:30"}));
}

TEST_F(SlotRules, OverridesHolidaysAndLimits) {
  a.overrides.push_back({2026, 6, 2, {}, "holiday"});
  a.overrides.push_back({2026, 6, 6, {{10 * 60, 11 * 60}}, "Saturday clinic"});
  a.max_per_day = 2;
  BusyCalendar busy(zone);
  SlotQuery q;
  q.now = now;
  q.days = 7;
  q.booked_starts = {zone.to_utc(*parse_civil("20260603T090000")),
                     zone.to_utc(*parse_civil("20260603T100000"))};
  auto s = free_slots(a, t, busy, q);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(day(*s, "20260602").empty());  // holiday
  EXPECT_TRUE(day(*s, "20260603").empty());  // two bookings already: the day is full
  EXPECT_EQ(day(*s, "20260604").size(), 14u);
  EXPECT_EQ(day(*s, "20260606"), (std::vector<std::string>{"10:00", "10:30"}));
  a.max_per_week = 3;  // two this week already, so one more day at most... per week counting
  q.booked_starts.push_back(zone.to_utc(*parse_civil("20260601T150000")));
  auto w = free_slots(a, t, busy, q);
  ASSERT_TRUE(w.ok());
  for (const auto& slot : *w) EXPECT_GE(slot.start, zone.to_utc(*parse_civil("20260608T000000")));
}

TEST_F(SlotRules, ImportedCalendarWithExceptionsAndOverrides) {
  const char* ics =
      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n"
      "BEGIN:VEVENT\r\nUID:daily@x\r\nDTSTART;TZID=Europe/London:20260501T090000\r\n"
      "DTEND;TZID=Europe/London:20260501T100000\r\nRRULE:FREQ=DAILY\r\n"
      "EXDATE;TZID=Europe/London:20260602T090000\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:daily@x\r\nRECURRENCE-ID;TZID=Europe/London:20260603T090000\r\n"
      "DTSTART;TZID=Europe/London:20260603T140000\r\nDTEND;TZID=Europe/London:20260603T150000\r\n"
      "END:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:free@x\r\nDTSTART:20260604T130000Z\r\nDTEND:20260604T150000Z\r\n"
      "TRANSP:TRANSPARENT\r\nEND:VEVENT\r\n"
      "BEGIN:VEVENT\r\nUID:allday@x\r\nDTSTART;VALUE=DATE:20260605\r\nDTEND;VALUE=DATE:20260606\r\n"
      "END:VEVENT\r\n"
      "END:VCALENDAR\r\n";
  auto cal = parse_ics(ics);
  ASSERT_TRUE(cal.ok()) << cal.error().message;
  BusyCalendar busy(zone);
  ASSERT_EQ(*busy.add_calendar(*cal), 4);
  SlotQuery q;
  q.now = now;
  q.days = 5;
  auto s = free_slots(a, t, busy, q);
  ASSERT_TRUE(s.ok());
  auto mon = day(*s, "20260601"), tue = day(*s, "20260602"), wed = day(*s, "20260603"),
       thu = day(*s, "20260604"), fri = day(*s, "20260605");
  EXPECT_EQ(mon.front(), "10:00");  // 09:00-10:00 daily
  EXPECT_EQ(tue.front(), "09:00");  // EXDATE
  EXPECT_EQ(wed.front(), "09:00");  // moved to 14:00 that day
  EXPECT_EQ(std::count(wed.begin(), wed.end(), "14:00"), 0);
  EXPECT_EQ(std::count(thu.begin(), thu.end(), "14:00"), 1);  // transparent
  EXPECT_TRUE(fri.empty());                                   // all-day event
}

TEST_F(SlotRules, BadAvailabilityIsAClearError) {
  a.zone = "Nowhere/Special";
  BusyCalendar busy(zone);
  SlotQuery q;
  q.now = now;
  auto s = free_slots(a, t, busy, q);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("Nowhere/Special"), std::string::npos);
  a.zone = "UTC";
  a.weekly[0] = {{600, 540}};
  EXPECT_FALSE(free_slots(a, t, busy, q).ok());
  auto j = availability_from_json(R"({"zone":"UTC","weekly":{"mon":["9-17"]}})");
  ASSERT_FALSE(j.ok());
  auto good = availability_from_json(
      R"({"zone":"Asia/Kolkata","weekly":{"mon":["09:00-12:30"]},"overrides":[{"date":"2026-01-26","hours":[]}],"max_per_day":3})");
  ASSERT_TRUE(good.ok()) << good.error().message;
  EXPECT_EQ(good->weekly[0][0].end_min, 750);
  auto again = availability_from_json(to_json(*good));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(to_json(*again), to_json(*good));
}

}  // namespace
