// CalDAV against a real Radicale on loopback: the calendar is checked, busy time is read
// (a recurring event becomes busy in the slot search), bookings are written, moved and
// removed, and a wrong password is a clear error.
#include <gtest/gtest.h>

#include <set>

#include "calendar/caldav.hpp"
#include "calendar/ical.hpp"
#include "engine/scheduling.hpp"
#include "postgres.hpp"
#include "radicale.hpp"
#include "store/repos.hpp"
#include "store/scheduling.hpp"

using namespace sk;

namespace {

Timestamp at(const char* civil_utc) {
  return calendar::parse_civil(civil_utc)->seconds();
}

calendar::CaldavClient client_for(const std::string& user, const std::string& name,
                                  const std::string& password = "") {
  auto& r = test::Radicale::shared();
  return calendar::CaldavClient(
      {r.calendar_url(user, name), user, password.empty() ? r.password(user) : password, 10});
}

TEST(Caldav, CalendarsAccountsAndErrors) {
  auto cal = client_for("ann", "checks");
  ASSERT_TRUE(cal.make_calendar().ok()) << test::Radicale::shared().log();
  EXPECT_TRUE(cal.check().ok());
  auto again = cal.make_calendar();
  EXPECT_FALSE(again.ok());
  auto wrong = client_for("ann", "checks", "not-the-password").check();
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("refused the account"), std::string::npos)
      << wrong.error().message;
  auto missing = client_for("ann", "nothing-here").check();
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found) << missing.error().message;
  // Nothing listens here: an I/O error, not a hang.
  calendar::CaldavClient dead({"http://127.0.0.1:9/ann/x/", "ann", "x", 5});
  auto d = dead.check();
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, Errc::io);
}

TEST(Caldav, ReportReturnsEventsInTheRangeOnly) {
  auto cal = client_for("ann", "range");
  ASSERT_TRUE(cal.make_calendar().ok());
  auto ev = [](const char* uid, const char* start, const char* end, const char* extra) {
    return std::string(
               "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:") +
           uid + "\r\nDTSTAMP:20260101T000000Z\r\nDTSTART:" + start + "\r\nDTEND:" + end + "\r\n" +
           extra + "SUMMARY:a <b> & c\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
  };
  ASSERT_TRUE(cal.put("in", ev("in@t", "20260602T090000Z", "20260602T100000Z", ""), true).ok());
  ASSERT_TRUE(cal.put("out", ev("out@t", "20260902T090000Z", "20260902T100000Z", ""), true).ok());
  ASSERT_TRUE(cal.put("weekly",
                      ev("weekly@t", "20250106T140000Z", "20250106T150000Z",
                         "RRULE:FREQ=WEEKLY;BYDAY=MO\r\n"),
                      true)
                  .ok());
  auto got = cal.events_between(at("20260601T000000"), at("20260701T000000"));
  ASSERT_TRUE(got.ok()) << got.error().message;
  std::set<std::string> uids;
  for (const auto& o : *got) {
    auto c = calendar::parse_ics(o.ics);
    ASSERT_TRUE(c.ok()) << o.ics;
    uids.insert(c->components.at(0).uid);
    EXPECT_EQ(c->components.at(0).summary, "a <b> & c");  // unescaped exactly once
    EXPECT_FALSE(o.href.empty());
  }
  EXPECT_EQ(uids, (std::set<std::string>{"in@t", "weekly@t"}));
  // If-None-Match: * refuses to overwrite.
  auto dup = cal.put("in", ev("in@t", "20260602T090000Z", "20260602T100000Z", ""), true);
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, Errc::conflict);
  ASSERT_TRUE(cal.remove("in").ok());
  EXPECT_EQ(cal.remove("in").error().code, Errc::not_found);
}

TEST(Caldav, BusyTimeReadAndBookingsWritten) {
  auto cal = client_for("bob", "work");
  ASSERT_TRUE(cal.make_calendar().ok());
  // The client's own calendar: a weekly Monday 09:00-10:00 London (08:00Z in summer).
  ASSERT_TRUE(cal.put("standup",
                      "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
                      "UID:standup@bob\r\nDTSTAMP:20260101T000000Z\r\n"
                      "DTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\n"
                      "RRULE:FREQ=WEEKLY;BYDAY=MO\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                      true)
                  .ok());
  auto db = sk::test::open_test_database();
  ASSERT_TRUE(store::migrate(*db).ok());
  FixedClock clock{at("20260601T060000")};  // Monday 2026-06-01
  SequentialIds ids;
  auto c = *store::create_client(*db, ids, clock, "bob", "Bob", "bob@bob.example");
  ASSERT_TRUE(store::set_availability(*db, c.id,
                                      R"({"zone":"Europe/London","weekly":{"mon":["09:00-12:00"]},
                                          "horizon_days":14})",
                                      clock.now())
                  .ok());
  ASSERT_TRUE(
      store::put_booking_type(*db, c.id, "call", R"({"slug":"call","duration_min":60})").ok());
  auto before = *engine::find_slots(*db, clock, c.id, "call", 1);
  ASSERT_EQ(before.size(), 3u);
  auto n = engine::import_caldav_busy(*db, clock, c.id, cal, "bob/work", "sync");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1);
  auto after = *engine::find_slots(*db, clock, c.id, "call", 1);
  ASSERT_EQ(after.size(), 2u);
  // 09:00Z is 10:00 London in summer: the standup takes 10:00, so 09:00 and 11:00 remain.
  EXPECT_EQ(after[0].start, at("20260601T080000"));
  EXPECT_EQ(after[1].start, at("20260601T100000"));

  auto b = engine::create_booking(*db, clock, ids, c.id, "call", at("20260601T080000"),
                                  {"Gus", "gus@example.org", "", "{}"}, "page", "guest");
  ASSERT_TRUE(b.ok()) << b.error().message;
  auto href = engine::push_booking_to_caldav(*db, clock, c.id, b->id, cal, "sync");
  ASSERT_TRUE(href.ok()) << href.error().message;
  EXPECT_NE(href->find("/bob/work/" + b->id + ".ics"), std::string::npos);
  auto server = *cal.events_between(at("20260601T000000"), at("20260602T000000"));
  bool found = false;
  for (const auto& o : server) {
    auto parsed = *calendar::parse_ics(o.ics);
    if (parsed.components[0].uid != b->uid) continue;
    found = true;
    EXPECT_EQ(calendar::format_civil(*parsed.components[0].start), "20260601T090000");
    EXPECT_EQ(parsed.components[0].tzid, "Europe/London");
    EXPECT_EQ(parsed.method, "");
  }
  EXPECT_TRUE(found);
  // Reading the calendar again does not count the booking twice.
  ASSERT_TRUE(engine::import_caldav_busy(*db, clock, c.id, cal, "bob/work", "sync").ok());
  // Moved: the same object is replaced.
  ASSERT_TRUE(
      engine::reschedule_booking(*db, clock, ids, c.id, b->id, at("20260601T100000"), "va").ok());
  ASSERT_TRUE(engine::push_booking_to_caldav(*db, clock, c.id, b->id, cal, "sync").ok());
  int copies = 0;
  auto moved_list = *cal.events_between(at("20260601T000000"), at("20260602T000000"));
  for (const auto& o : moved_list) {
    auto parsed = *calendar::parse_ics(o.ics);
    if (parsed.components[0].uid != b->uid) continue;
    ++copies;
    EXPECT_EQ(calendar::format_civil(*parsed.components[0].start), "20260601T110000");
    EXPECT_EQ(parsed.components[0].sequence, 1);
  }
  EXPECT_EQ(copies, 1);
  // Cancelled: removed from the client's calendar.
  ASSERT_TRUE(engine::cancel_booking(*db, clock, ids, c.id, b->id, "va", "off").ok());
  auto gone = engine::push_booking_to_caldav(*db, clock, c.id, b->id, cal, "sync");
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  auto left = *cal.events_between(at("20260601T000000"), at("20260602T000000"));
  EXPECT_EQ(left.size(), 1u);  // the standup only
  for (const auto& o : left) EXPECT_EQ(o.ics.find(b->uid), std::string::npos);
  auto audit = *store::list_audit(*db, c.id);
  int writes = 0;
  for (const auto& e : audit) writes += e.action.find("calendar") != std::string::npos;
  EXPECT_GE(writes, 3);
}

}  // namespace
