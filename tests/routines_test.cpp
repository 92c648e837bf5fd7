// Routines: mail written on a schedule on the client's clock, each occurrence once.
#include <gtest/gtest.h>

#include "calendar/zone.hpp"
#include "engine/routines.hpp"
#include "postgres.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "support.hpp"

using namespace sk;

namespace {

struct RoutinesTest : ::testing::Test {
  std::unique_ptr<store::Db> db = sk::test::open_test_database();
  // Sunday 2026-03-01 12:00 UTC.
  FixedClock clock{1'772'366'400};
  std::unique_ptr<store::DbIds> ids;
  ClientId client;

  void SetUp() override {
    ASSERT_TRUE(store::migrate(*db).ok());
    ids = std::make_unique<store::DbIds>(*db);
    client = store::create_client(*db, *ids, clock, "acme", "Acme", "owner@acme.example")->id;
    ASSERT_TRUE(store::set_client_zone(*db, client, "America/Toronto").ok());
  }

  store::Routine checkin(bool send_alone) {
    store::Routine r;
    r.client = client;
    r.name = "check-in";
    r.rrule = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR";
    r.starts = "20260302T090000";  // Monday, 09:00 in Toronto
    r.to = {"team@acme.example"};
    r.subject = "Check-in, {{date}}";
    r.body = "Good morning! What are you working on today? {{client_name}}";
    r.send_alone = send_alone;
    return r;
  }

  engine::RoutineRun at(Timestamp t) {
    clock.set(t);
    auto run = engine::run_due_routines(*db, clock, *ids, client);
    EXPECT_TRUE(run.ok()) << run.error().message;
    return run.ok() ? *run : engine::RoutineRun{};
  }
};

constexpr Timestamp kMonday0900 = 1'772'460'000;  // 2026-03-02 14:00 UTC (EST, UTC-5)

TEST_F(RoutinesTest, EachWeekdayOnceAtItsTimeOnTheClientsClock) {
  ASSERT_TRUE(engine::check_routine(checkin(true)).ok());
  auto saved = store::save_routine(*db, *ids, clock, checkin(true));
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  auto next =
      engine::next_occurrences(*saved, *calendar::Zone::find("America/Toronto"), clock.now(), 3);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next,
            (std::vector<Timestamp>{kMonday0900, kMonday0900 + 86400, kMonday0900 + 2 * 86400}));

  EXPECT_EQ(at(kMonday0900 - 60).sent, 0u);
  EXPECT_EQ(at(kMonday0900 + 30).sent, 1u);
  EXPECT_EQ(at(kMonday0900 + 1800).sent, 0u);  // once, however often asked
  auto out = store::list_outgoing(*db, client);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 1u);
  const store::OutgoingMessage& m = out->front();
  EXPECT_EQ(m.status, store::OutgoingStatus::queued);
  EXPECT_EQ(m.kind, "routine");
  EXPECT_EQ(m.to, std::vector<std::string>{"team@acme.example"});
  EXPECT_EQ(m.subject, "Check-in, Monday 2 March 2026");
  EXPECT_EQ(m.body, "Good morning! What are you working on today? Acme");

  EXPECT_EQ(at(kMonday0900 + 86400 + 60).sent, 1u);  // Tuesday
  // Friday to Monday: nothing at the weekend.
  EXPECT_EQ(at(kMonday0900 + 4 * 86400 + 60).sent, 1u);
  EXPECT_EQ(at(kMonday0900 + 5 * 86400 + 60).sent, 0u);
  EXPECT_EQ(at(kMonday0900 + 6 * 86400 + 60).sent, 0u);
  // The week after daylight saving began (8 March): still 09:00 in Toronto, an hour earlier
  // in UTC.
  const Timestamp next_monday_0900 = kMonday0900 + 7 * 86400 - 3600;
  EXPECT_EQ(at(next_monday_0900 - 60).sent, 0u);
  EXPECT_EQ(at(next_monday_0900 + 60).sent, 1u);
  EXPECT_EQ(store::list_outgoing(*db, client)->size(), 4u);
}

TEST_F(RoutinesTest, ADraftWaitsForAVaAndALateOneIsSkippedAndSaid) {
  ASSERT_TRUE(store::save_routine(*db, *ids, clock, checkin(false)).ok());
  EXPECT_EQ(at(kMonday0900 + 60).drafted, 1u);
  EXPECT_EQ(store::list_outgoing(*db, client)->front().status, store::OutgoingStatus::draft);
  // Nothing ran on Tuesday until the evening: that check-in is not sent half a day late.
  auto late = at(kMonday0900 + 86400 + 10 * 3600);
  EXPECT_EQ(late.skipped, 1u);
  EXPECT_EQ(late.drafted, 0u);
  EXPECT_EQ(store::list_outgoing(*db, client)->size(), 1u);
  bool said = false;
  auto audit = store::list_audit(*db, client);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit)
    said =
        said || (e.action == "routine skipped" && e.subject == "check-in of Tuesday 3 March 2026");
  EXPECT_TRUE(said);
  EXPECT_EQ(at(kMonday0900 + 2 * 86400 + 60).drafted, 1u);  // Wednesday as usual
}

TEST_F(RoutinesTest, MistakesAreRefusedWithAReason) {
  auto r = checkin(true);
  r.rrule = "FREQ=SOMETIMES";
  EXPECT_EQ(engine::check_routine(r).error().code, Errc::invalid_input);
  r = checkin(true);
  r.starts = "2026-03-02 09:00";
  EXPECT_NE(engine::check_routine(r).error().message.find("YYYYMMDDTHHMMSS"), std::string::npos);
  r = checkin(true);
  r.to = {"team"};
  EXPECT_NE(engine::check_routine(r).error().message.find("not a mail address"), std::string::npos);
  r = checkin(true);
  r.subject.clear();
  EXPECT_FALSE(engine::check_routine(r).ok());
}

}  // namespace
