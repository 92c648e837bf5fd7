// A customer's question arrives in the client's real mailbox (Dovecot), is answered from
// the knowledge base, and the threaded answer arrives in the customer's real mailbox
// through Postfix; the customer's reply continues the same conversation.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/engine.hpp"
#include "engine/mailbox.hpp"
#include "engine/policy_codec.hpp"
#include "mail/message.hpp"
#include "mailserver.hpp"
#include "postgres.hpp"
#include "store/accounts.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "support.hpp"
#include "support/kb.hpp"
#include "support/repo.hpp"

using namespace sk;

namespace {

TEST(SupportMailbox, TheAnswerArrivesThreadedInTheCustomersMailbox) {
  test::MailServer& server = test::MailServer::shared();
  auto db = sk::test::open_test_database();
  ASSERT_TRUE(store::migrate(*db).ok());
  SystemClock clock;
  store::DbIds ids(*db);
  engine::Engine engine(*db, clock, ids, triage::SpamModel{});
  const auto alice = server.user("alice");
  const auto bob = server.user("bob");
  // The client's own domain is another than the test server's, where the customer is.
  auto client =
      store::create_client(*db, ids, clock, "silva", "Silva Ceramics", "ana@silva.example");
  ASSERT_TRUE(client.ok());
  const ClientId cid = client->id;

  store::AccountRecord account;
  account.client = cid;
  account.address = alice.address;
  account.username = alice.name;
  account.sealed_secret = "unused";
  account.secret_kind = "password";
  account.imap_host = "127.0.0.1";
  account.imap_port = server.imap_port();
  account.imap_security = "starttls";
  account.verify_certificate = false;  // the fixture's self-signed certificate
  account.smtp_host = "127.0.0.1";
  account.smtp_port = server.smtp_port();
  account.smtp_security = "starttls";
  auto added = store::add_account(*db, ids, clock, account);
  ASSERT_TRUE(added.ok()) << added.error().message;
  account = *added;

  auto kb = support::kb_from_toml(
      test::file_text(std::string(SK_SOURCE_DIR) + "/examples/support-kb.toml"), "support-kb.toml");
  ASSERT_TRUE(kb.ok()) << kb.error().message;
  ASSERT_TRUE(support::replace_entries(*db, cid, kb->entries).ok());
  ASSERT_TRUE(support::save_settings(*db, cid, {*kb->threshold, *kb->signature, *kb->tone}).ok());
  triage::Policy policy;
  policy.delegation[static_cast<int>(Category::support)] = Delegation::auto_;
  ASSERT_TRUE(store::set_client_policy(*db, cid, engine::policy_to_json(policy)).ok());

  const std::string tag = std::to_string(::getpid());
  const std::string question_id = "glaze-" + tag + "@sidekick.test";
  server.deliver(alice.name, "From: Bob Meyer <" + bob.address + ">\r\nTo: " + alice.address +
                                 "\r\nSubject: Glaze question\r\nMessage-ID: <" + question_id +
                                 ">\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
                                 "Hello,\r\nI have a question about my order: can the mugs go "
                                 "in the dishwasher?\r\n\r\nBob\r\n");

  engine::MailboxWatcher watcher(engine, *db, clock, account, alice.password);
  auto round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message << "\n" << server.logs();
  EXPECT_EQ(round->taken_in, 1u);
  {
    // On failure, say how the question was decided and what happened to the answer.
    auto its = db->query("SELECT id FROM items WHERE client_id = ?", {cid});
    std::string why;
    for (const auto& r : *its) why += *engine.explain(cid, r.str(0));
    auto out = store::list_outgoing(*db, cid);
    for (const auto& m : *out)
      why += "\n" + m.id + " " + std::string(store::to_string(m.status)) + " " + m.last_error;
    EXPECT_EQ(round->sent, 1u) << why << server.logs();
  }
  EXPECT_EQ(round->send_failed, 0u);

  auto replies = server.wait_for(bob.name, "<" + question_id + ">", 1);
  ASSERT_EQ(replies.size(), 1u) << server.logs();
  const Item reply = mail::parse_message(replies[0]);
  EXPECT_EQ(reply.subject, "Re: Glaze question");
  EXPECT_EQ(reply.from_address, alice.address);
  EXPECT_EQ(reply.in_reply_to, question_id);
  EXPECT_EQ(reply.references, std::vector<std::string>{question_id});
  EXPECT_NE(reply.text.find("Hi Bob,"), std::string::npos) << reply.text;
  EXPECT_NE(reply.text.find("dishwasher and microwave safe"), std::string::npos) << reply.text;
  EXPECT_NE(reply.text.find("> I have a question about my order: can the mugs go in the "
                            "dishwasher?"),
            std::string::npos)
      << reply.text;
  EXPECT_NE(reply.text.find("Ana Silva\nSilva Ceramics"), std::string::npos) << reply.text;
  // A copy in the client's Sent; the question filed as handled.
  EXPECT_EQ(server.messages(alice.name, "Sent").size(), 1u);
  EXPECT_EQ(server.messages(alice.name, "Sidekick/Handled").size(), 1u);

  // Bob answers the answer: the same conversation, which had its first response.
  auto items = db->query("SELECT id FROM items WHERE client_id = ? ORDER BY received_at", {cid});
  ASSERT_EQ(items->size(), 1u);
  auto first = support::get_answer(*db, cid, items->at(0).str(0));
  ASSERT_TRUE(first.ok() && first->has_value());
  server.deliver(alice.name, "From: Bob Meyer <" + bob.address + ">\r\nTo: " + alice.address +
                                 "\r\nSubject: Re: Glaze question\r\nMessage-ID: <thanks-" + tag +
                                 "@sidekick.test>\r\nIn-Reply-To: <" + reply.message_id +
                                 ">\r\nReferences: <" + question_id + "> <" + reply.message_id +
                                 ">\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\n\r\n"
                                 "Great, thanks. And can I return a mug I bought as a gift?\r\n");
  round = watcher.poll_once();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->taken_in, 1u);
  items = db->query("SELECT id FROM items WHERE client_id = ? ORDER BY id", {cid});
  ASSERT_EQ(items->size(), 2u);
  auto second = support::get_answer(*db, cid, items->at(1).str(0));
  ASSERT_TRUE(second.ok() && second->has_value());
  EXPECT_EQ((*second)->conversation, (*first)->conversation);
  auto conv = support::get_conversation(*db, cid, (*first)->conversation);
  ASSERT_TRUE(conv.ok() && conv->has_value());
  EXPECT_GT((*conv)->first_response_at, 0);
  EXPECT_EQ((*conv)->customer, bob.address);
}

}  // namespace
