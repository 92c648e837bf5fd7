// Watching a real IMAP mailbox (Dovecot on loopback): new mail is decided and filed in the
// client's own mailbox; a correction moves it back; nothing is taken in or decided twice.
#include <gtest/gtest.h>

#include "core/secrets.hpp"
#include "engine/engine.hpp"
#include "engine/mailbox.hpp"
#include "mailserver.hpp"
#include "store/accounts.hpp"
#include "store/repos.hpp"
#include "support.hpp"

using namespace sk;

namespace {

std::string message(const std::string& from, const std::string& subject, const std::string& id) {
  return "From: " + from + "\r\nTo: alice@sidekick.test\r\nSubject: " + subject +
         "\r\nMessage-ID: <" + id +
         "@test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
         "Hello Alice,\r\nsome words about " +
         subject + ".\r\n";
}

struct MailboxTest : ::testing::Test {
  test::MailServer& server = test::MailServer::shared();
  std::unique_ptr<store::Db> db = std::move(store::open_sqlite(":memory:")).value();
  SystemClock clock;
  std::unique_ptr<store::DbIds> ids;
  std::unique_ptr<engine::Engine> engine;
  store::AccountRecord account;
  std::string user = "carol";

  void SetUp() override {
    ASSERT_TRUE(store::migrate(*db).ok());
    ids = std::make_unique<store::DbIds>(*db);
    engine = std::make_unique<engine::Engine>(*db, clock, *ids, triage::SpamModel{});
    auto client = store::create_client(*db, *ids, clock, "carol", "", "carol@sidekick.test");
    ASSERT_TRUE(client.ok());
    auto mailbox_user = server.user(user);
    account.client = client->id;
    account.address = mailbox_user.address;
    account.username = mailbox_user.name;
    account.sealed_secret = "unused";
    account.secret_kind = "password";
    account.imap_host = "127.0.0.1";
    account.imap_port = server.imap_port();
    account.imap_security = "starttls";
    account.verify_certificate = false;  // the fixture's self-signed certificate
    auto added = store::add_account(*db, *ids, clock, account);
    ASSERT_TRUE(added.ok()) << added.error().message;
    account = *added;
  }
};

TEST_F(MailboxTest, NewMailIsDecidedAndFiledAndACorrectionMovesItBack) {
  ASSERT_TRUE(store::set_relationship(*db, *ids, clock, account.client, "boss@big.example",
                                      Relationship::vip)
                  .ok());
  ASSERT_TRUE(store::set_relationship(*db, *ids, clock, account.client, "pest@nuisance.example",
                                      Relationship::blocked)
                  .ok());
  server.deliver(user, message("boss@big.example", "Quarterly plan", "m1"));
  server.deliver(user, message("stranger@new.example", "Hello there", "m2"));
  server.deliver(user, message("pest@nuisance.example", "Again", "m3"));

  engine::MailboxWatcher watcher(*engine, *db, clock, account, server.user(user).password);
  auto round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message << "\n" << server.logs();
  EXPECT_EQ(round->taken_in, 3u);
  EXPECT_EQ(round->decided, 3u);
  EXPECT_EQ(round->effects_failed, 0u);

  // The VIP's mail stays in INBOX, flagged; the stranger waits in the screener; the blocked
  // sender is out of sight.
  auto inbox = server.messages(user, "INBOX");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_NE(inbox[0].find("Quarterly plan"), std::string::npos);
  auto screened = server.messages(user, "Sidekick/Screened");
  ASSERT_EQ(screened.size(), 1u);
  EXPECT_NE(screened[0].find("Hello there"), std::string::npos);
  EXPECT_EQ(server.messages(user, "Sidekick/Blocked").size(), 1u);

  // Nothing new: nothing is taken in or decided again.
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->taken_in, 0u);
  EXPECT_EQ(round->decided, 0u);

  // The VA lets the stranger in: the message comes back to INBOX.
  auto rows = db->query("SELECT id FROM items WHERE from_address = 'stranger@new.example'");
  ASSERT_EQ(rows->size(), 1u);
  auto taught = engine->teach(account.client, rows->at(0).str(0), Category::personal, std::nullopt,
                              "va:kim", "a new customer");
  ASSERT_TRUE(taught.ok()) << taught.error().message;
  EXPECT_EQ(taught->disposition, Disposition::to_client);
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->effects_failed, 0u);
  EXPECT_EQ(server.messages(user, "Sidekick/Screened").size(), 0u);
  EXPECT_EQ(server.messages(user, "INBOX").size(), 2u);

  // Every move is in the audit log with what happened.
  auto audit = store::list_audit(*db, account.client);
  int moves = 0;
  for (const auto& e : *audit) moves += e.action == "move";
  EXPECT_EQ(moves, 3);
}

TEST_F(MailboxTest, ABadPasswordIsAClearErrorAndNothingIsTakenIn) {
  server.deliver(user, message("x@y.example", "hi", "m9"));
  engine::MailboxWatcher watcher(*engine, *db, clock, account, "wrong password");
  auto round = watcher.poll_once();
  ASSERT_FALSE(round.ok());
  EXPECT_EQ(*store::count_items(*db, account.client), 0);
}

}  // namespace
