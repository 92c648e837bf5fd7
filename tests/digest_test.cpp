// The client's digest: a day on the client's own wall clock, not the last 24 hours in UTC.
#include <gtest/gtest.h>

#include "digest/digest.hpp"
#include "engine/engine.hpp"
#include "store/repos.hpp"
#include "support.hpp"

using namespace sk;

namespace {

struct DigestTest : ::testing::Test {
  std::unique_ptr<store::Db> db = std::move(store::open_sqlite(":memory:")).value();
  FixedClock clock{1'784'000'000};
  std::unique_ptr<store::DbIds> ids;
  std::unique_ptr<engine::Engine> engine;
  ClientId client;
  int n = 0;

  void SetUp() override {
    ASSERT_TRUE(store::migrate(*db).ok());
    ids = std::make_unique<store::DbIds>(*db);
    engine = std::make_unique<engine::Engine>(*db, clock, *ids, triage::SpamModel{});
    client = store::create_client(*db, *ids, clock, "acme", "Acme", "owner@acme.example")->id;
    ASSERT_TRUE(store::set_client_zone(*db, client, "America/Toronto").ok());
    ASSERT_TRUE(
        store::set_relationship(*db, *ids, clock, client, "vip@big.example", Relationship::vip)
            .ok());
  }

  // Mail that arrives at `at`, decided at once.
  ItemId arrives(Timestamp at, const std::string& from, const std::string& subject) {
    clock.set(at);
    std::string raw = "From: " + from + "\r\nTo: owner@acme.example\r\nSubject: " + subject +
                      "\r\nMessage-ID: <d" + std::to_string(++n) +
                      "@big.example>\r\n\r\nHello.\r\n";
    auto id = engine->intake_message(client, "t:" + std::to_string(n), raw, "test");
    EXPECT_TRUE(id.ok() && !id->empty());
    EXPECT_TRUE(engine->triage_pending(client).ok());
    return id.ok() ? *id : ItemId{};
  }
};

std::vector<ItemId> items_of(const std::vector<digest::Line>& lines) {
  std::vector<ItemId> out;
  for (const auto& l : lines) out.push_back(l.item);
  return out;
}

TEST_F(DigestTest, ADayIsMidnightToMidnightInTheClientsZone) {
  // 2026-07-15 03:30 UTC is 23:30 on the 14th in Toronto (EDT); 04:30 UTC is 00:30 on the 15th.
  const ItemId late = arrives(1'784'086'200, "VIP <vip@big.example>", "Late on Tuesday");
  const ItemId early = arrives(1'784'089'800, "VIP <vip@big.example>", "Early on Wednesday");
  const ItemId stranger = arrives(1'784'127'600, "Sam <sam@new.example>", "Hello there");
  const Timestamp afternoon = 1'784'131'200;  // 16:00 UTC, 12:00 in Toronto

  auto today = digest::build(*db, client, afternoon);
  ASSERT_TRUE(today.ok()) << today.error().message;
  EXPECT_EQ(today->day, "2026-07-15");
  EXPECT_EQ(today->date, "Wednesday 15 July 2026");
  EXPECT_TRUE(today->today);
  EXPECT_EQ(today->from, 1'784'088'000);  // 04:00 UTC
  EXPECT_EQ(today->to, 1'784'174'400);
  EXPECT_EQ(items_of(today->needs_you), std::vector<ItemId>{early});
  EXPECT_EQ(items_of(today->screened), std::vector<ItemId>{stranger});
  EXPECT_EQ(today->previous_day, "2026-07-14");
  EXPECT_EQ(today->next_day, "");
  EXPECT_EQ(today->total, 2u);

  auto tuesday = digest::build(*db, client, afternoon, "2026-07-14");
  ASSERT_TRUE(tuesday.ok());
  EXPECT_EQ(items_of(tuesday->needs_you), std::vector<ItemId>{late});
  EXPECT_FALSE(tuesday->today);
  EXPECT_EQ(tuesday->next_day, "2026-07-15");

  // In UTC both VIP messages are the same day.
  ASSERT_TRUE(store::set_client_zone(*db, client, "UTC").ok());
  EXPECT_EQ(digest::build(*db, client, afternoon)->needs_you.size(), 2u);

  for (const char* bad : {"2026-07-16", "2026-02-30", "15/07/2026", "2026-7-15", ""}) {
    if (*bad == 0) continue;
    auto r = digest::build(*db, client, afternoon, bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, Errc::invalid_input) << bad;
  }
}

TEST_F(DigestTest, TheMailReadsOnAPhone) {
  arrives(1'784'127'600, "VIP <vip@big.example>", "Contract renewal");
  arrives(1'784'127'700, "sam@new.example", "Hello there");
  auto d = digest::build(*db, client, 1'784'131'200);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(digest::subject_of(*d), "Your day, Wednesday 15 July 2026: 1 needs you");
  const std::string text = digest::text_of(*d, "https://va.example/c/acme/digest");
  EXPECT_EQ(text.rfind("Acme, Wednesday 15 July 2026\n\nNeeds you:\n- VIP: Contract renewal (", 0),
            0u)
      << text;
  EXPECT_NE(
      text.find("Waiting in the screener (first-time senders):\n- sam@new.example: Hello there\n"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("https://va.example/c/acme/digest"), std::string::npos);
  auto quiet = digest::build(*db, client, 1'784'131'200, "2026-07-10");
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(digest::subject_of(*quiet), "Your day, Friday 10 July 2026: nothing needs you");
}

}  // namespace
