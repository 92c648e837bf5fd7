// Watching a real IMAP mailbox (Dovecot on loopback): new mail is decided and filed in the
// client's own mailbox; a correction moves it back; nothing is taken in or decided twice.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "core/secrets.hpp"
#include "engine/engine.hpp"
#include "engine/mailbox.hpp"
#include "engine/outbox.hpp"
#include "engine/replies.hpp"
#include "mail/message.hpp"
#include "mailserver.hpp"
#include "postgres.hpp"
#include "store/accounts.hpp"
#include "store/outgoing.hpp"
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
  std::unique_ptr<store::Db> db = sk::test::open_test_database();
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
    account.smtp_host = "127.0.0.1";
    account.smtp_port = server.smtp_port();
    account.smtp_security = "starttls";
    auto added = store::add_account(*db, *ids, clock, account);
    ASSERT_TRUE(added.ok()) << added.error().message;
    account = *added;
  }

  // What is in INBOX now, taken in and decided as the watcher would, but not carried out.
  // `n` messages from as many first-time senders ("Memo 0", "Memo 1"...), each with a
  // Message-ID of its own in this process.
  void deliver_from_new_senders(int n, const std::string& subject, const std::string& key) {
    const std::string tag = std::to_string(::getpid());
    for (int i = 0; i < n; ++i)
      server.deliver(
          user, message("sender" + std::to_string(i) + "@new.example",
                        subject + " " + std::to_string(i), key + std::to_string(i) + "-" + tag));
  }

  std::vector<mail::FetchedMessage> decide_without_acting(mail::ImapSession& mua) {
    auto inbox = mua.select("INBOX");
    EXPECT_TRUE(inbox.ok());
    if (!inbox.ok()) return {};
    auto messages = mua.fetch(*mua.uids_from(1));
    EXPECT_TRUE(messages.ok());
    if (!messages.ok()) return {};
    for (const auto& m : *messages) {
      auto id = engine->intake_message(account.client,
                                       store::imap_item_key(account.id, inbox->uidvalidity, m.uid),
                                       m.bytes, account.address + "/INBOX");
      EXPECT_TRUE(id.ok()) << id.error().message;
    }
    auto decided = engine->triage_pending(account.client);
    EXPECT_TRUE(decided.ok());
    EXPECT_EQ(decided.ok() ? decided->decided : 0, messages->size());
    return *messages;
  }
};

// A mailbox that cannot be read (the client changed their password at 3 a.m.) is recorded
// with the server's answer and since when; the first round that goes through clears it.
TEST_F(MailboxTest, AMailboxThatCannotBeReadIsRecordedUntilItCanBeAgain) {
  auto health = [&] {
    auto all = store::account_health(*db, {account.client});
    EXPECT_TRUE(all.ok());
    EXPECT_EQ(all.ok() ? all->size() : 0u, 1u);
    return all.ok() && !all->empty() ? all->front() : store::AccountHealth{};
  };
  auto reach = [&] { return health().reach; };
  EXPECT_EQ(reach().failures, 0);  // never polled
  engine::MailboxWatcher locked_out(*engine, *db, clock, account, "not the password");
  const Timestamp first = clock.now();
  for (int i = 0; i < store::Reachability::kFailuresShown; ++i) {
    EXPECT_FALSE(reach().failing());
    ASSERT_FALSE(locked_out.poll_once().ok());
  }
  EXPECT_EQ(health().address, account.address);
  store::Reachability h = reach();
  EXPECT_TRUE(h.failing());
  EXPECT_EQ(h.state(store::AccountHealth::kWords),
            "cannot be read since " + format_utc(h.failing_since));
  EXPECT_GE(h.failing_since, first);
  EXPECT_LE(h.failing_since, first + 5);
  EXPECT_NE(h.last_error.find("login"), std::string::npos) << h.last_error;
  EXPECT_EQ(h.last_ok_at, 0);

  engine::MailboxWatcher watcher(*engine, *db, clock, account, server.user(user).password);
  ASSERT_TRUE(watcher.poll_once().ok());
  h = reach();
  EXPECT_FALSE(h.failing());
  EXPECT_EQ(h.state(store::AccountHealth::kWords), "read " + format_utc(h.last_ok_at));
  EXPECT_EQ(h.failing_since, 0);
  EXPECT_EQ(h.last_error, "");
  EXPECT_GE(h.last_ok_at, first);
}

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
  // Back in INBOX under a new UID, it is the same item: not taken in or decided again, and
  // Sidekick's own undo is no correction by the client.
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->taken_in, 0u);
  EXPECT_EQ(round->decided, 0u);
  EXPECT_EQ(round->corrections, 0u);
  EXPECT_EQ(*store::count_items(*db, account.client), 3);

  // Every move is in the audit log with what happened.
  auto audit = store::list_audit(*db, account.client);
  int moves = 0;
  for (const auto& e : *audit) moves += e.action == "move";
  EXPECT_EQ(moves, 3);
}

// A server without MOVE and UIDPLUS (the fixture's Dovecot on 127.0.0.4 offers neither): the
// same filing, by COPY, \Deleted and EXPUNGE, and a message the client had marked for deletion
// is never expunged with Sidekick's.
TEST_F(MailboxTest, AServerWithoutMoveOrUidplusFilesTheSame) {
  account.imap_host = "127.0.0.4";
  account.imap_security = "none";
  ASSERT_TRUE(db->exec("UPDATE accounts SET imap_host = ?, imap_security = ? WHERE id = ?",
                       {account.imap_host, account.imap_security, account.id})
                  .ok());
  ASSERT_TRUE(store::set_relationship(*db, *ids, clock, account.client, "boss@big.example",
                                      Relationship::vip)
                  .ok());
  server.deliver(user, message("boss@big.example", "Quarterly plan", "old1"));
  server.deliver(user, message("stranger@new.example", "Hello there", "old2"));

  engine::MailboxWatcher watcher(*engine, *db, clock, account, server.user(user).password);
  auto round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message << "\n" << server.logs();
  EXPECT_EQ(round->taken_in, 2u);
  EXPECT_EQ(round->effects_failed, 0u);
  auto inbox = server.messages(user, "INBOX");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_NE(inbox[0].find("Quarterly plan"), std::string::npos);
  ASSERT_EQ(server.messages(user, "Sidekick/Screened").size(), 1u);

  // The client's mail program marks the VIP's message for deletion; the next stranger is
  // screened, and the client's message is not expunged with it.
  {
    auto mua = mail::ImapSession::connect(engine::imap_config(account, server.user(user).password));
    ASSERT_TRUE(mua.ok()) << mua.error().message;
    ASSERT_TRUE((*mua)->select("INBOX").ok());
    auto uids = (*mua)->uids_from(1);
    ASSERT_TRUE(uids.ok());
    ASSERT_EQ(uids->size(), 1u);
    ASSERT_TRUE((*mua)->set_flag(uids->front(), "\\Deleted", true).ok());
  }
  server.deliver(user, message("other@new.example", "Hello again", "old3"));
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->taken_in, 1u);
  EXPECT_EQ(round->effects_failed, 0u);
  EXPECT_EQ(server.messages(user, "Sidekick/Screened").size(), 2u);
  inbox = server.messages(user, "INBOX");
  bool boss = false;
  for (const auto& m : inbox) boss = boss || m.find("Quarterly plan") != std::string::npos;
  EXPECT_TRUE(boss) << "the client's own deletion is theirs to expunge";

  // Nothing is taken in twice for the copy that waits, marked, in INBOX.
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->taken_in, 0u);
  EXPECT_EQ(round->decided, 0u);
  EXPECT_EQ(round->corrections, 0u) << "the marked copy is not the client moving it back";
  EXPECT_EQ(*store::count_items(*db, account.client), 3);
}

// The first pass over a full INBOX moves its messages a folder's worth at a time, not one
// command round per message, and still knows where each one went.
TEST_F(MailboxTest, AFirstPassMovesInBatchesAndKnowsWhereEachMessageWent) {
  ASSERT_TRUE(store::set_relationship(*db, *ids, clock, account.client, "pest@nuisance.example",
                                      Relationship::blocked)
                  .ok());
  const std::string tag = std::to_string(::getpid());
  std::map<std::string, std::string> folder_of;  // Message-ID → where it belongs
  for (int i = 0; i < 60; ++i) {
    std::string id = "batch" + std::to_string(i) + "-" + tag;
    if (i % 6 == 5) {
      server.deliver(user, message("pest@nuisance.example", "Again " + std::to_string(i), id));
      folder_of[id + "@test"] = "Sidekick/Blocked";
    } else {
      server.deliver(user, message("sender" + std::to_string(i) + "@new.example",
                                   "Hello " + std::to_string(i), id));
      folder_of[id + "@test"] = "Sidekick/Screened";
    }
  }

  engine::MailboxWatcher watcher(*engine, *db, clock, account, server.user(user).password);
  auto round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message << "\n" << server.logs();
  EXPECT_EQ(round->taken_in, 60u);
  EXPECT_EQ(round->effects_failed, 0u);
  EXPECT_TRUE(server.messages(user, "INBOX").empty());
  EXPECT_EQ(server.messages(user, "Sidekick/Screened").size(), 50u);
  EXPECT_EQ(server.messages(user, "Sidekick/Blocked").size(), 10u);
  // Connecting, making Sidekick's folders, taking in and looking for the client's moves
  // take a few dozen commands; the 60 moves add a handful, not three per message.
  EXPECT_LT(round->imap_commands, 60u) << round->imap_commands << " IMAP commands";

  // Each item's stored place is its message: the UID there holds the same message.
  auto mua = mail::ImapSession::connect(engine::imap_config(account, server.user(user).password));
  ASSERT_TRUE(mua.ok()) << mua.error().message;
  auto rows = db->query("SELECT id, message_id FROM items");
  ASSERT_EQ(rows->size(), 60u);
  for (const auto& row : *rows) {
    auto where = store::item_location(*db, account.client, row.str(0));
    ASSERT_TRUE(where.ok() && *where) << row.str(1);
    EXPECT_EQ((*where)->folder, folder_of[row.str(1)]) << row.str(1);
    ASSERT_TRUE((*mua)->ensure_selected((*where)->folder).ok());
    auto there = (*mua)->fetch({(*where)->uid});
    ASSERT_TRUE(there.ok());
    ASSERT_EQ(there->size(), 1u) << row.str(1);
    EXPECT_NE((*there)[0].bytes.find("<" + row.str(1) + ">"), std::string::npos) << row.str(1);
  }

  // Every move is audited as before, one entry per message.
  int to_screened = 0, to_blocked = 0;
  auto audit = store::list_audit(*db, account.client);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit) {
    if (e.action != "move") continue;
    to_screened += e.reason == "moved from INBOX to Sidekick/Screened";
    to_blocked += e.reason == "moved from INBOX to Sidekick/Blocked";
  }
  EXPECT_EQ(to_screened, 50);
  EXPECT_EQ(to_blocked, 10);

  // The stored UIDs are right: the VA lets one sender in, and that message comes back.
  auto stranger = db->query("SELECT id FROM items WHERE from_address = 'sender7@new.example'");
  ASSERT_EQ(stranger->size(), 1u);
  auto taught = engine->teach(account.client, stranger->at(0).str(0), Category::personal,
                              std::nullopt, "va:kim", "a new customer");
  ASSERT_TRUE(taught.ok()) << taught.error().message;
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->effects_failed, 0u);
  auto inbox = server.messages(user, "INBOX");
  ASSERT_EQ(inbox.size(), 1u);
  EXPECT_NE(inbox[0].find("Hello 7"), std::string::npos);
  EXPECT_EQ(server.messages(user, "Sidekick/Screened").size(), 49u);
}

// Between the decision and the batch the client files one message away: the batch moves the
// others and leaves that one where the client put it.
TEST_F(MailboxTest, AMessageTheClientMovedBeforeTheBatchIsLeftAlone) {
  deliver_from_new_senders(5, "Note", "away");
  auto mua = mail::ImapSession::connect(engine::imap_config(account, server.user(user).password));
  ASSERT_TRUE(mua.ok()) << mua.error().message;
  auto messages = decide_without_acting(**mua);
  ASSERT_EQ(messages.size(), 5u);
  std::uint32_t filed_away = 0;
  for (const auto& m : messages)
    if (m.bytes.find("Note 2") != std::string::npos) filed_away = m.uid;
  ASSERT_TRUE((*mua)->create_folder("Archive").ok());
  ASSERT_TRUE((*mua)->move(filed_away, "Archive").ok());

  auto session =
      mail::ImapSession::connect(engine::imap_config(account, server.user(user).password));
  ASSERT_TRUE(session.ok()) << session.error().message;
  engine::ImapExecutor executor(*db, **session, account.client, account.id);
  engine::Outbox outbox(*db, clock, *ids);
  const auto before = (*session)->commands_sent();
  auto report = outbox.run(account.client, executor);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->failed, 0u);
  // SELECT, one SEARCH, CREATE and SUBSCRIBE of the target, one MOVE.
  EXPECT_LE((*session)->commands_sent() - before, 5u);

  EXPECT_EQ(server.messages(user, "Sidekick/Screened").size(), 4u);
  auto archived = server.messages(user, "Archive");
  ASSERT_EQ(archived.size(), 1u);
  EXPECT_NE(archived[0].find("Note 2"), std::string::npos);
  EXPECT_TRUE(server.messages(user, "INBOX").empty());
  auto left = db->query(
      "SELECT COUNT(*) FROM effects WHERE kind = 'move' AND status = 'done' AND result = "
      "'no longer in INBOX: left where the client filed it'");
  EXPECT_EQ(left->at(0).i64(0), 1);
}

// Killed after the server moved the batch but before the new UIDs were stored: the repeat
// finds each message in its target, records it there, and the watcher does not take
// Sidekick's own moves for the client's corrections.
TEST_F(MailboxTest, ABatchInterruptedAfterTheMoveIsFoundWhereItWent) {
  engine::MailboxWatcher watcher(*engine, *db, clock, account, server.user(user).password);
  ASSERT_TRUE(watcher.poll_once().ok());  // Sidekick's folders exist and are watched
  deliver_from_new_senders(4, "Memo", "cut");
  auto mua = mail::ImapSession::connect(engine::imap_config(account, server.user(user).password));
  ASSERT_TRUE(mua.ok()) << mua.error().message;
  auto messages = decide_without_acting(**mua);
  ASSERT_EQ(messages.size(), 4u);
  // The interrupted attempt: recorded running, and the server carried out its MOVE.
  auto moves = db->query("SELECT id FROM effects WHERE kind = 'move'");
  ASSERT_EQ(moves->size(), 4u);
  for (const auto& row : *moves)
    ASSERT_TRUE(store::begin_effect(*db, account.client, row.str(0)).ok());
  ASSERT_TRUE((*mua)->select("INBOX").ok());
  std::vector<std::uint32_t> uids;
  for (const auto& m : messages) uids.push_back(m.uid);
  ASSERT_EQ((*mua)->move_many(uids, "Sidekick/Screened")->size(), 4u);

  auto round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->effects_failed, 0u);
  EXPECT_EQ(round->corrections, 0u);
  auto moved = db->query(
      "SELECT COUNT(*) FROM effects WHERE kind = 'move' AND status = 'done' AND result = "
      "'moved from INBOX to Sidekick/Screened'");
  EXPECT_EQ(moved->at(0).i64(0), 4);
  ASSERT_TRUE((*mua)->select("Sidekick/Screened").ok());
  auto rows = db->query("SELECT id, message_id FROM items");
  ASSERT_EQ(rows->size(), 4u);
  for (const auto& row : *rows) {
    auto where = store::item_location(*db, account.client, row.str(0));
    ASSERT_TRUE(where.ok() && *where) << row.str(1);
    EXPECT_EQ((*where)->folder, "Sidekick/Screened");
    auto there = (*mua)->fetch({(*where)->uid});
    ASSERT_TRUE(there.ok());
    ASSERT_EQ(there->size(), 1u) << row.str(1);
    EXPECT_NE((*there)[0].bytes.find("<" + row.str(1) + ">"), std::string::npos) << row.str(1);
  }
  // Nothing more to notice on the next round either.
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->corrections, 0u);
}

TEST_F(MailboxTest, AutomaticRepliesAreThreadedFiledInSentAndNeverSentTwice) {
  // The client answers everything with an acknowledgement; RFC 3834 still decides who gets one.
  ASSERT_TRUE(engine
                  ->import_rules(account.client,
                                 "[[rule]]\nname = \"acknowledge everything\"\n"
                                 "when.header = { \"Message-ID\" = \"\" }\n"
                                 "then.reply = \"acknowledge\"\nthen.let_through = true\n",
                                 "rules.toml", "va:kim")
                  .ok());
  const std::string bob = server.user("bob").address;
  const std::string tag = std::to_string(::getpid());
  server.deliver(user, message("Bob <" + bob + ">", "Opening hours", "ask-" + tag));
  // A delivery report and a mailing-list post must never be answered.
  std::string bounce = test::file_text(test::shared_data() + "/mime/bounce.eml");
  ASSERT_FALSE(bounce.empty());
  server.deliver(user, bounce);
  server.deliver(user, "From: Bob <" + bob +
                           ">\r\nTo: list@sidekick.test\r\nList-Id: <team.sidekick.test>\r\n"
                           "Subject: weekly notes\r\nMessage-ID: <list-" +
                           tag + "@test>\r\n\r\nnotes\r\n");

  engine::MailboxWatcher watcher(*engine, *db, clock, account, server.user(user).password);
  auto round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message << "\n" << server.logs();
  EXPECT_EQ(round->taken_in, 3u);
  EXPECT_EQ(round->sent, 1u) << server.logs();
  EXPECT_EQ(round->send_failed, 0u);

  auto replies = server.wait_for("bob", "<ask-" + tag + "@test>", 1);
  ASSERT_EQ(replies.size(), 1u) << server.logs();
  const Item reply = mail::parse_message(replies[0]);
  EXPECT_EQ(reply.subject, "Re: Opening hours");
  EXPECT_EQ(reply.in_reply_to, "ask-" + tag + "@test");
  EXPECT_EQ(reply.from_address, account.address);
  ASSERT_NE(reply.header("auto-submitted"), nullptr);
  EXPECT_EQ(*reply.header("auto-submitted"), "auto-replied");
  EXPECT_NE(reply.text.find("Opening hours"), std::string::npos);  // the template was filled

  // A copy is in the client's Sent folder, with the same Message-ID.
  auto sent = server.messages(user, "Sent");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(mail::parse_message(sent[0]).message_id, reply.message_id);

  // The bounce and the list post were not answered, and the log says why.
  auto outgoing = store::list_outgoing(*db, account.client);
  ASSERT_EQ(outgoing->size(), 1u);
  EXPECT_EQ(outgoing->at(0).status, store::OutgoingStatus::sent);
  EXPECT_TRUE(outgoing->at(0).filed);
  auto refused = db->query(
      "SELECT result FROM effects WHERE kind = 'reply' AND result LIKE 'no automatic reply%'");
  EXPECT_EQ(refused->size(), 2u);

  // More rounds send nothing again; a second question from Bob within the week gets no second
  // automatic reply.
  server.deliver(user, message("Bob <" + bob + ">", "Parking", "ask2-" + tag));
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->sent, 0u);
  EXPECT_EQ(store::list_outgoing(*db, account.client)->size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(server.wait_for("bob", "auto-replied", 1, 0).size(), 1u);

  // Every send is in the audit log with its reason.
  int sends = 0;
  auto audit = store::list_audit(*db, account.client);
  for (const auto& e : *audit) sends += e.action == "mail sent";
  EXPECT_EQ(sends, 1);
}

// A client with two mailboxes: an answer goes out from the mailbox the question came to,
// through that mailbox's server, and is filed in that mailbox's Sent; the other mailbox's
// watcher leaves it alone.
TEST_F(MailboxTest, AnswersGoOutFromTheMailboxTheQuestionCameTo) {
  store::AccountRecord second = account;
  second.id.clear();
  second.address = server.user("alice").address;
  second.username = server.user("alice").name;
  auto added = store::add_account(*db, *ids, clock, second);
  ASSERT_TRUE(added.ok()) << added.error().message;
  second = *added;
  const std::string bob = server.user("bob").address;
  const std::string tag = "two-" + std::to_string(::getpid());
  server.deliver("alice", message("Bob <" + bob + ">", "Invoice 7", tag));

  engine::MailboxWatcher first(*engine, *db, clock, account, server.user(user).password);
  engine::MailboxWatcher other(*engine, *db, clock, second, server.user("alice").password);
  auto round = other.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  ASSERT_EQ(round->taken_in, 1u);
  auto items = store::list_decisions(*db, account.client);
  ASSERT_TRUE(items.ok());
  ItemId question;
  for (const auto& d : *items)
    if (d.subject == "Invoice 7") question = d.item;
  ASSERT_FALSE(question.empty());

  engine::ReplyRequest req;
  req.answers = question;
  req.body = "It is paid.";
  req.reason = "the VA answers";
  auto draft = engine::queue_reply(*db, clock, *ids, account.client, req, "va:kim");
  ASSERT_TRUE(draft.ok()) << draft.error().message;
  EXPECT_EQ(draft->account, second.id);
  ASSERT_TRUE(
      engine::approve_outgoing(*db, clock, account.client, draft->id, std::nullopt, "va:kim").ok());

  // The first mailbox's watcher does not send it...
  round = first.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->sent, 0u);
  EXPECT_EQ(store::get_outgoing(*db, account.client, draft->id)->status,
            store::OutgoingStatus::queued);
  // ...the second one does, from its own address, filed in its own Sent.
  round = other.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->sent, 1u) << server.logs();
  auto replies = server.wait_for("bob", "<" + tag + "@test>", 1);
  ASSERT_EQ(replies.size(), 1u) << server.logs();
  EXPECT_EQ(mail::parse_message(replies[0]).from_address, second.address);
  EXPECT_EQ(server.messages("alice", "Sent").size(), 1u);
  EXPECT_TRUE(server.messages(user, "Sent").empty());

  // New mail that answers nothing comes from the first mailbox.
  engine::MessageRequest note;
  note.to = {bob};
  note.subject = "A note";
  note.body = "Hello.";
  note.reason = "test";
  auto fresh = engine::queue_message(*db, clock, *ids, account.client, note, "va:kim");
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_EQ(fresh->account, account.id);
}

TEST_F(MailboxTest, MessagesTheClientMovesAreCorrections) {
  const std::string tag = std::to_string(::getpid());
  ASSERT_TRUE(store::set_relationship(*db, *ids, clock, account.client, "friend@old.example",
                                      Relationship::family)
                  .ok());
  server.deliver(user, message("newcomer@fresh.example", "Lunch next week?", "c1-" + tag));
  server.deliver(user, message("friend@old.example", "Cheap watches", "c2-" + tag));
  engine::MailboxWatcher watcher(*engine, *db, clock, account, server.user(user).password);
  auto round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  ASSERT_EQ(server.messages(user, "Sidekick/Screened").size(), 1u);
  round = watcher.poll_once();  // Sidekick's folders are looked at from here on
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->corrections, 0u);

  // The client, in their own mail program, takes the newcomer out of the screener and drops
  // the friend's message into Sidekick/Spam.
  mail::ImapConfig as_client = engine::imap_config(account, server.user(user).password);
  auto mua = mail::ImapSession::connect(as_client);
  ASSERT_TRUE(mua.ok()) << mua.error().message;
  ASSERT_TRUE((*mua)->select("Sidekick/Screened").ok());
  auto screened = (*mua)->uids_from(1);
  ASSERT_EQ(screened->size(), 1u);
  ASSERT_TRUE((*mua)->move(screened->at(0), "INBOX").ok());
  ASSERT_TRUE((*mua)->select("INBOX").ok());
  auto inbox = (*mua)->fetch(*(*mua)->uids_from(1));
  std::uint32_t watches = 0;
  for (const auto& m : *inbox)
    if (m.bytes.find("Cheap watches") != std::string::npos) watches = m.uid;
  ASSERT_NE(watches, 0u);
  ASSERT_TRUE((*mua)->move(watches, "Sidekick/Spam").ok());

  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->taken_in, 0u);
  EXPECT_EQ(round->corrections, 2u);
  auto decision_of = [&](const std::string& from) {
    auto rows = db->query("SELECT id FROM items WHERE from_address = ?", {from});
    return *store::current_decision(*db, account.client, rows->at(0).str(0));
  };
  auto lunch = decision_of("newcomer@fresh.example");
  EXPECT_EQ(lunch->disposition, Disposition::to_client);
  EXPECT_EQ(lunch->decided_by, "client");
  auto watches_decision = decision_of("friend@old.example");
  EXPECT_EQ(watches_decision->category, Category::spam);
  EXPECT_EQ(watches_decision->decided_by, "client");
  // The client put them where they wanted: Sidekick moves nothing back.
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->corrections, 0u);
  EXPECT_EQ(server.messages(user, "Sidekick/Spam").size(), 1u);
  EXPECT_EQ(server.messages(user, "Sidekick/Screened").size(), 0u);

  // The corrections teach: the newcomer's next message is not screened.
  server.deliver(user, message("newcomer@fresh.example", "Friday then", "c3-" + tag));
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->decided, 1u);
  EXPECT_EQ(server.messages(user, "Sidekick/Screened").size(), 0u);
  auto audit = store::list_audit(*db, account.client);
  int by_client = 0;
  for (const auto& e : *audit) by_client += e.actor == "client" && e.action == "corrected";
  EXPECT_EQ(by_client, 2);
}

TEST_F(MailboxTest, AWatcherOnIdleFilesNewMailWithinSeconds) {
  engine::MailboxWatcher watcher(*engine, *db, clock, account, server.user(user).password);
  ASSERT_TRUE(watcher.poll_once().ok());
  std::atomic<bool> stop{false};
  std::thread watching([&] { watcher.run(stop, 60); });
  auto mua = mail::ImapSession::connect(engine::imap_config(account, server.user(user).password));
  ASSERT_TRUE(mua.ok());
  ASSERT_TRUE(
      (*mua)->append("INBOX", message("someone@new.example", "Are you there?", "idle-1"), {}).ok());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.messages(user, "Sidekick/Screened").empty() &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  watching.join();
  // Noticed long before the 60-second idle period was over, and stopped promptly.
  EXPECT_EQ(server.messages(user, "Sidekick/Screened").size(), 1u) << server.logs();
}

// A first pass plans more effects than one round carries out: the watcher goes on at once
// until they are done, rather than filing one round's share per idle period.
TEST_F(MailboxTest, AFirstPassBiggerThanARoundIsFiledWithoutWaiting) {
  deliver_from_new_senders(25, "Hello", "big");
  engine::MailboxWatcher watcher(*engine, *db, clock, account, server.user(user).password);
  watcher.set_effects_per_round(10);
  std::atomic<bool> stop{false};
  std::thread watching([&] { watcher.run(stop, 60); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (server.messages(user, "Sidekick/Screened").size() < 25 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  stop = true;
  watching.join();
  EXPECT_EQ(server.messages(user, "Sidekick/Screened").size(), 25u) << server.logs();
  EXPECT_TRUE(server.messages(user, "INBOX").empty());
}

TEST_F(MailboxTest, ABadPasswordIsAClearErrorAndNothingIsTakenIn) {
  server.deliver(user, message("x@y.example", "hi", "m9"));
  engine::MailboxWatcher watcher(*engine, *db, clock, account, "wrong password");
  auto round = watcher.poll_once();
  ASSERT_FALSE(round.ok());
  EXPECT_EQ(*store::count_items(*db, account.client), 0);
}

}  // namespace
