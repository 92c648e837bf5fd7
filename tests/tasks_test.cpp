// Tasks: what a VA has to do for a client, with a day on the client's clock, done when done.
#include <gtest/gtest.h>

#include "engine/tasks.hpp"
#include "postgres.hpp"
#include "store/repos.hpp"
#include "support.hpp"

using namespace sk;

namespace {

struct TasksTest : ::testing::Test {
  std::unique_ptr<store::Db> db = sk::test::open_test_database();
  // Tuesday 2026-11-24 15:00 UTC, 10:00 in Toronto.
  FixedClock clock{1'795'532'400};
  std::unique_ptr<store::DbIds> ids;
  ClientId acme, globex;

  void SetUp() override {
    ASSERT_TRUE(store::migrate(*db).ok());
    ids = std::make_unique<store::DbIds>(*db);
    acme = store::create_client(*db, *ids, clock, "acme", "Acme", "owner@acme.example")->id;
    ASSERT_TRUE(store::set_client_zone(*db, acme, "America/Toronto").ok());
    globex = store::create_client(*db, *ids, clock, "globex", "Globex", "g@globex.example")->id;
  }

  store::Task add(const ClientId& c, engine::TaskRequest r) {
    auto t = engine::add_task(*db, clock, *ids, c, r, "va:kim");
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t.ok() ? *t : store::Task{};
  }
};

TEST_F(TasksTest, ADayAndTimeAreOnTheClientsClock) {
  auto call = add(acme, {"Call Dana back", "about the quote", "", "2026-11-27 17:00"});
  EXPECT_EQ(call.due_at, 1'795'816'800);  // 22:00 UTC: Toronto is UTC-5 in November
  EXPECT_EQ(engine::describe_due(call, "America/Toronto"), "Friday 27 November 2026, 17:00");
  auto renew = add(acme, {"Renew the domain", "", "", "2026-11-25"});
  EXPECT_EQ(renew.due_at, 1'795'582'800);  // the start of that day in Toronto
  EXPECT_EQ(engine::describe_due(renew, "America/Toronto"), "Wednesday 25 November 2026");
  auto someday = add(acme, {"Sort the shared drive", "", "", ""});
  EXPECT_EQ(someday.due_at, 0);
  // Open ones with a day first, soonest first.
  auto open = store::list_tasks(*db, acme);
  ASSERT_EQ(open->size(), 3u);
  EXPECT_EQ(open->at(0).id, renew.id);
  EXPECT_EQ(open->at(1).id, call.id);
  EXPECT_EQ(open->at(2).id, someday.id);
}

TEST_F(TasksTest, MistakesAreRefusedWithAReason) {
  auto no_title = engine::add_task(*db, clock, *ids, acme, {" \n ", "", "", ""}, "va:kim");
  ASSERT_FALSE(no_title.ok());
  EXPECT_EQ(no_title.error().code, Errc::invalid_input);
  EXPECT_FALSE(
      engine::add_task(*db, clock, *ids, acme, {std::string(201, 'x'), "", "", ""}, "v").ok());
  for (const char* due : {"tomorrow", "2026-11-31", "2026-11-27 25:00", "2026-11-27T17:00"}) {
    auto bad = engine::add_task(*db, clock, *ids, acme, {"x", "", "", due}, "va:kim");
    ASSERT_FALSE(bad.ok()) << due;
    EXPECT_NE(bad.error().message.find("YYYY-MM-DD"), std::string::npos) << due;
  }
  auto no_item = engine::add_task(*db, clock, *ids, acme, {"x", "", "itm_404", ""}, "va:kim");
  ASSERT_FALSE(no_item.ok());
  EXPECT_EQ(no_item.error().code, Errc::not_found);
  EXPECT_TRUE(store::list_tasks(*db, acme)->empty());
  // Another client's task is not found through this one.
  auto theirs = add(globex, {"Theirs", "", "", ""});
  EXPECT_EQ(engine::finish_task(*db, clock, acme, theirs.id, "va:kim").error().code,
            Errc::not_found);
}

TEST_F(TasksTest, DueTasksComeUpAcrossClientsAndDoneOnesGo) {
  auto later = add(acme, {"Call Dana back", "", "", "2026-11-24 16:00"});     // 21:00 UTC
  auto now = add(globex, {"Send the contract", "", "", "2026-11-24 09:00"});  // UTC client
  auto undated = add(acme, {"Sometime", "", "", ""});
  auto due = engine::due_tasks(*db, {acme, globex}, clock.now());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ(due->at(0).id, now.id);
  EXPECT_EQ(*engine::next_task_due(*db, {acme, globex}, clock.now()), later.due_at);
  clock.set(later.due_at);
  EXPECT_EQ(engine::due_tasks(*db, {acme, globex}, clock.now())->size(), 2u);
  EXPECT_EQ(*engine::next_task_due(*db, {acme, globex}, clock.now()), 0);

  auto done = engine::finish_task(*db, clock, globex, now.id, "va:kim");
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->done);
  EXPECT_EQ(done->done_by, "va:kim");
  // Done twice says so and changes nothing; open again brings it back.
  EXPECT_TRUE(engine::finish_task(*db, clock, globex, now.id, "va:lee")->done_by == "va:kim");
  EXPECT_EQ(engine::due_tasks(*db, {acme, globex}, clock.now())->size(), 1u);
  ASSERT_TRUE(engine::finish_task(*db, clock, globex, now.id, "va:kim", false).ok());
  EXPECT_EQ(engine::due_tasks(*db, {acme, globex}, clock.now())->size(), 2u);
  EXPECT_EQ(store::list_tasks(*db, acme, true)->size(), 0u);
  (void)undated;

  auto log = store::list_audit(*db, globex);
  int added = 0, finished = 0, reopened = 0;
  for (const auto& e : *log) {
    added += e.action == "task added";
    finished += e.action == "task done";
    reopened += e.action == "task reopened";
  }
  EXPECT_EQ(added, 1);
  EXPECT_EQ(finished, 1);
  EXPECT_EQ(reopened, 1);
}

}  // namespace
