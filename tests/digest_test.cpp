// The client's digest: a day on the client's own wall clock, not the last 24 hours in UTC.
#include <gtest/gtest.h>

#include "calendar/civil.hpp"
#include "digest/digest.hpp"
#include "engine/digest_mail.hpp"
#include "engine/engine.hpp"
#include "postgres.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "support.hpp"

using namespace sk;

namespace {

struct DigestTest : ::testing::Test {
  std::unique_ptr<store::Db> db = sk::test::open_test_database();
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

// Mailed at the client's time on their clock, once a day, covering the 24 hours before it.
TEST_F(DigestTest, TheDigestIsMailedOnceADayAtTheClientsTime) {
  ASSERT_TRUE(store::set_client_digest_at(*db, client, "08:00").ok());
  // 2026-07-15 in Toronto (UTC-4): 07:00 on the 14th is before the window, 07:30 on the 15th
  // inside it.
  arrives(1'784'026'800, "VIP <vip@big.example>", "Too old");
  arrives(1'784'115'000, "VIP <vip@big.example>", "Contract renewal");
  auto at = [&](Timestamp t) {
    clock.set(t);
    return engine::mail_digest_if_due(*db, clock, *ids, client, "https://va.example");
  };
  const Timestamp eight = 1'784'116'800;  // 2026-07-15 12:00 UTC
  auto early = at(eight - 60);
  ASSERT_TRUE(early.ok()) << early.error().message;
  EXPECT_FALSE(*early);
  auto due = at(eight + 30);
  ASSERT_TRUE(due.ok()) << due.error().message;
  ASSERT_TRUE(*due);
  const store::OutgoingMessage& m = **due;
  EXPECT_EQ(m.kind, "digest");
  EXPECT_EQ(m.status, store::OutgoingStatus::queued);
  EXPECT_EQ(m.to, std::vector<std::string>{"owner@acme.example"});
  EXPECT_EQ(m.subject, "Since Tuesday 14 July 2026, 08:00: 1 needs you");
  EXPECT_NE(m.body.find("- VIP: Contract renewal"), std::string::npos) << m.body;
  EXPECT_EQ(m.body.find("Too old"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("https://va.example/c/" + client + "/digest"), std::string::npos);
  EXPECT_NE(m.raw.find("Subject: Since Tuesday 14 July 2026, 08:00"), std::string::npos);
  // Once a day, however often asked.
  EXPECT_FALSE(*at(eight + 1800));
  EXPECT_FALSE(*at(eight + 12 * 3600));
  auto next = at(eight + 86400 + 300);
  ASSERT_TRUE(next.ok() && *next);
  EXPECT_NE((*next)->id, m.id);
  auto all = store::list_outgoing(*db, client);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  // A client who wants no mail gets none.
  ASSERT_TRUE(store::set_client_digest_at(*db, client, "").ok());
  EXPECT_FALSE(*at(eight + 2 * 86400 + 300));
  EXPECT_FALSE(calendar::minutes_of_day("8:00"));
  EXPECT_FALSE(calendar::minutes_of_day("24:00"));
  EXPECT_EQ(calendar::minutes_of_day("17:30"), 17 * 60 + 30);
}

}  // namespace
