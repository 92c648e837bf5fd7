// Customer support end to end through the engine: a support item is matched against the
// client's knowledge base and sent, drafted or only suggested per the threshold and the
// delegation; unsafe ones go to the VA with the reason; conversations follow the thread.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "engine/engine.hpp"
#include "engine/policy_codec.hpp"
#include "engine/replies.hpp"
#include "engine/support.hpp"
#include "postgres.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "store/users.hpp"
#include "support.hpp"
#include "support/conversation.hpp"
#include "support/kb.hpp"
#include "support/repo.hpp"

using namespace sk;
using test::has_reason;

namespace {

constexpr Timestamp kStart = 1'795'000'000;  // 2026-11-17

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string mail(const std::string& from, const std::string& subject, const std::string& body,
                 const std::string& id, const std::string& extra = "") {
  return "From: " + from + "\r\nTo: shop@silva.example\r\nSubject: " + subject +
         "\r\nMessage-ID: <" + id + ">\r\nDate: Tue, 17 Nov 2026 10:00:00 +0000\r\n" + extra +
         "\r\n" + body + "\r\n";
}

// Sends nothing, says yes: the time it was "sent" is the clock's.
struct FakeSender : engine::MailSender {
  int submitted = 0;
  Result<bool> already_sent(const store::OutgoingMessage&) override { return false; }
  Result<mail::Handover> submit(const store::OutgoingMessage&,
                                const std::function<bool()>& before_end) override {
    ++submitted;
    if (!before_end()) return make_error(Errc::internal, "abandoned");
    return mail::Handover{};
  }
  Result<void> file_copy(const store::OutgoingMessage&) override { return ok(); }
};

struct SupportTest : ::testing::Test {
  std::unique_ptr<store::Db> db = sk::test::open_test_database();
  FixedClock clock{kStart};
  std::unique_ptr<store::DbIds> ids;
  std::unique_ptr<engine::Engine> engine;
  ClientId client;
  int n = 0;

  void SetUp() override {
    ASSERT_TRUE(store::migrate(*db).ok());
    ids = std::make_unique<store::DbIds>(*db);
    engine = std::make_unique<engine::Engine>(*db, clock, *ids, triage::SpamModel{});
    auto c =
        store::create_client(*db, *ids, clock, "silva", "Silva Ceramics", "shop@silva.example");
    ASSERT_TRUE(c.ok());
    client = c->id;
    auto kb = support::kb_from_toml(read(std::string(SK_SOURCE_DIR) + "/examples/support-kb.toml"),
                                    "support-kb.toml");
    ASSERT_TRUE(kb.ok()) << kb.error().message;
    auto replaced = support::replace_entries(*db, client, kb->entries);
    ASSERT_TRUE(replaced.ok()) << replaced.error().message;
    auto saved = support::save_settings(*db, client, {*kb->threshold, *kb->signature, *kb->tone});
    ASSERT_TRUE(saved.ok()) << saved.error().message;
  }

  void delegate_support(Delegation d) {
    auto policy = engine->load_policy(client);
    ASSERT_TRUE(policy.ok());
    policy->client_addresses.clear();  // load_policy adds the client's own address again
    policy->client_domains.clear();
    policy->delegation[static_cast<int>(Category::support)] = d;
    ASSERT_TRUE(store::set_client_policy(*db, client, engine::policy_to_json(*policy)).ok());
  }

  // Takes the message in and decides it; returns its item id.
  ItemId arrive(const std::string& raw) {
    auto id = engine->intake_message(client, "test:" + std::to_string(++n), raw, "test");
    EXPECT_TRUE(id.ok());
    auto report = engine->triage_pending(client);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return id.ok() ? *id : ItemId{};
  }

  Decision decision(const ItemId& item) {
    auto d = store::current_decision(*db, client, item);
    EXPECT_TRUE(d.ok() && d->has_value());
    return d.ok() && d->has_value() ? **d : Decision{};
  }

  support::AnswerRecord answer(const ItemId& item) {
    auto a = support::get_answer(*db, client, item);
    EXPECT_TRUE(a.ok() && a->has_value()) << "no support answer for " << item;
    return a.ok() && a->has_value() ? **a : support::AnswerRecord{};
  }

  std::vector<store::OutgoingMessage> outgoing() {
    auto all = store::list_outgoing(*db, client);
    EXPECT_TRUE(all.ok());
    return all.ok() ? *all : std::vector<store::OutgoingMessage>{};
  }
};

const std::string kShipping =
    "Hello,\r\n\r\nI have a question about my order: how long does shipping to Germany "
    "take?\r\n\r\n"
    "Thanks,\r\nBob\r\n";

TEST_F(SupportTest, AboveTheThresholdWithAutoDelegationTheAnswerIsSentThreaded) {
  delegate_support(Delegation::auto_);
  ItemId item = arrive(
      mail("Bob Meyer <bob@kunde.example>", "Shipping question", kShipping, "q1@kunde.example"));
  Decision d = decision(item);
  EXPECT_EQ(d.category, Category::support);
  EXPECT_EQ(d.disposition, Disposition::handled);
  EXPECT_TRUE(has_reason(d, "support.sent"));
  auto a = answer(item);
  EXPECT_EQ(a.action, "sent");
  ASSERT_FALSE(a.suggestions.empty());
  EXPECT_EQ(a.suggestions[0].key, "shipping-time");
  EXPECT_GE(a.suggestions[0].confidence, 0.6);

  auto out = outgoing();
  ASSERT_EQ(out.size(), 1u);
  const auto& m = out[0];
  EXPECT_EQ(m.id, a.outgoing_id);
  EXPECT_EQ(m.status, store::OutgoingStatus::queued);
  EXPECT_EQ(m.kind, "auto_reply");
  EXPECT_EQ(m.to, std::vector<std::string>{"bob@kunde.example"});
  EXPECT_EQ(m.subject, "Re: Shipping question");
  // The tone's greeting by first name, the entry's answer, the signature, the question quoted.
  EXPECT_NE(m.body.find("Hi Bob,"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("Orders leave our studio within 2 working days"), std::string::npos);
  EXPECT_NE(m.body.find("Ana Silva\nSilva Ceramics"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("> I have a question about my order: how long does shipping to Germany"),
            std::string::npos)
      << m.body;
  // Threaded: the bytes answer the customer's Message-ID.
  EXPECT_NE(m.raw.find("In-Reply-To: <q1@kunde.example>"), std::string::npos) << m.raw;
  EXPECT_NE(m.raw.find("References: <q1@kunde.example>"), std::string::npos);
  EXPECT_NE(m.raw.find("Auto-Submitted: auto-replied"), std::string::npos);

  // Deciding again does not answer twice.
  ASSERT_TRUE(engine->triage_item(client, item).ok());
  EXPECT_EQ(outgoing().size(), 1u);

  // The audit log says what was done and why.
  bool audited = false;
  auto audit = store::list_audit(*db, client);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit)
    audited = audited || (e.action == "support answered" &&
                          e.reason.find("shipping-time") != std::string::npos);
  EXPECT_TRUE(audited);
}

TEST_F(SupportTest, AboveTheThresholdWithDraftDelegationTheVaApprovesADraft) {
  delegate_support(Delegation::draft);
  ItemId item = arrive(
      mail("Bob Meyer <bob@kunde.example>", "Shipping question", kShipping, "q2@kunde.example"));
  Decision d = decision(item);
  EXPECT_EQ(d.disposition, Disposition::awaiting_va);
  EXPECT_TRUE(has_reason(d, "support.drafted"));
  auto out = outgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].status, store::OutgoingStatus::draft);
  EXPECT_EQ(out[0].kind, "reply");
  EXPECT_NE(out[0].body.find("Orders leave our studio"), std::string::npos);
  EXPECT_EQ(answer(item).action, "drafted");
  auto approved = engine::approve_outgoing(*db, clock, client, out[0].id, std::nullopt, "va:kim");
  ASSERT_TRUE(approved.ok()) << approved.error().message;
  EXPECT_EQ(approved->status, store::OutgoingStatus::queued);
}

TEST_F(SupportTest, NotifyDelegationOnlySuggests) {
  delegate_support(Delegation::notify);
  ItemId item =
      arrive(mail("bob@kunde.example", "Shipping question", kShipping, "q3@kunde.example"));
  Decision d = decision(item);
  EXPECT_TRUE(has_reason(d, "support.suggested"));
  EXPECT_TRUE(outgoing().empty());
  auto a = answer(item);
  EXPECT_EQ(a.action, "suggested");
  EXPECT_EQ(a.suggestions.size(), 3u);
}

TEST_F(SupportTest, BelowTheThresholdTheVaSeesThreeSuggestions) {
  delegate_support(Delegation::auto_);
  ItemId item = arrive(mail("bob@kunde.example", "Help",
                            "Hi, I have a problem: how do I pay with a gift card from my aunt?",
                            "q4@kunde.example"));
  Decision d = decision(item);
  EXPECT_EQ(d.category, Category::support);
  EXPECT_EQ(d.disposition, Disposition::awaiting_va);
  EXPECT_TRUE(has_reason(d, "support.weak_match"));
  EXPECT_TRUE(outgoing().empty());
  auto a = answer(item);
  EXPECT_EQ(a.action, "escalated");
  ASSERT_EQ(a.suggestions.size(), 3u);
  EXPECT_LT(a.suggestions[0].confidence, 0.6);
  // `sidekick explain` shows them to the VA.
  auto text = engine->explain(client, item);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("Customer support: escalated (support.weak_match)"), std::string::npos)
      << *text;
  EXPECT_NE(text->find("suggestions from the knowledge base:"), std::string::npos);
  EXPECT_NE(text->find("1. "), std::string::npos);
  EXPECT_NE(text->find("3. "), std::string::npos);
  // The VA is told.
  auto effects = store::effects_for_item(*db, client, item);
  ASSERT_TRUE(effects.ok());
  bool notify = false;
  for (const auto& e : *effects) notify = notify || e.kind == EffectKind::notify_va;
  EXPECT_TRUE(notify);
}

TEST_F(SupportTest, ACustomerAskingForAPersonGoesToTheVa) {
  delegate_support(Delegation::auto_);
  ItemId item = arrive(mail("bob@kunde.example", "Re: my order",
                            "How long does shipping take? Honestly I want to talk to a person, "
                            "please help.",
                            "q5@kunde.example"));
  Decision d = decision(item);
  EXPECT_EQ(d.disposition, Disposition::awaiting_va);
  EXPECT_TRUE(has_reason(d, "support.asks_person"));
  EXPECT_TRUE(outgoing().empty());
  EXPECT_EQ(answer(item).action, "escalated");
}

TEST_F(SupportTest, AnAngryCustomerGoesToTheVa) {
  delegate_support(Delegation::auto_);
  ItemId item = arrive(mail("bob@kunde.example", "WHERE IS MY ORDER",
                            "This is unacceptable!! I ordered three weeks ago and I am still "
                            "waiting for my order. How long does shipping take?! Help!",
                            "q6@kunde.example"));
  Decision d = decision(item);
  EXPECT_EQ(d.disposition, Disposition::awaiting_va);
  EXPECT_TRUE(has_reason(d, "support.angry"));
  EXPECT_TRUE(outgoing().empty());
}

TEST_F(SupportTest, PrivateAnswersOnlyGoToKnownCustomers) {
  delegate_support(Delegation::auto_);
  const std::string body = "Hi, I need help: who is my account manager for our trade account?";
  ItemId stranger = arrive(mail("someone@unknown.example", "Account manager", body, "q7@x"));
  EXPECT_TRUE(has_reason(decision(stranger), "support.private_unknown"));
  EXPECT_TRUE(outgoing().empty());

  ASSERT_TRUE(store::set_relationship(*db, *ids, clock, client, "buyer@cafe.example",
                                      Relationship::customer)
                  .ok());
  ItemId known = arrive(mail("buyer@cafe.example", "Account manager", body, "q8@x"));
  EXPECT_TRUE(has_reason(decision(known), "support.sent"));
  auto out = outgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NE(out[0].body.find("TRADE-7731"), std::string::npos);
}

TEST_F(SupportTest, AQuestionTheKnowledgeBaseKnowsIsSupportEvenWithoutSupportWords) {
  delegate_support(Delegation::auto_);
  const std::string raw =
      mail("Bob <bob@kunde.example>", "Mugs", "Are your mugs dishwasher safe?", "r1@kunde.example");
  ItemId item = arrive(raw);
  Decision d = decision(item);
  EXPECT_EQ(d.category, Category::support);
  EXPECT_TRUE(has_reason(d, "support.recognised"));
  EXPECT_TRUE(has_reason(d, "support.sent"));
  // Without a knowledge base the same words are not support.
  ASSERT_TRUE(support::replace_entries(*db, client, {}).ok());
  ItemId again = arrive(mail("Bob <bob@kunde.example>", "Mugs", "Are your mugs dishwasher safe?",
                             "r2@kunde.example"));
  EXPECT_EQ(decision(again).category, Category::other);
}

TEST_F(SupportTest, NoKnowledgeBaseLeavesTriageAlone) {
  ASSERT_TRUE(support::replace_entries(*db, client, {}).ok());
  delegate_support(Delegation::auto_);
  ItemId item = arrive(mail("bob@kunde.example", "Shipping question", kShipping, "q9@x"));
  EXPECT_TRUE(outgoing().empty());
  auto a = support::get_answer(*db, client, item);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->has_value());
}

TEST_F(SupportTest, ConversationFollowsTheThreadWithTimesAndReopens) {
  delegate_support(Delegation::auto_);
  FakeSender sender;
  // 10:00 the customer asks; the answer is sent five minutes later.
  ItemId first = arrive(
      mail("Bob Meyer <bob@kunde.example>", "Shipping question", kShipping, "t1@kunde.example"));
  auto a = answer(first);
  ASSERT_EQ(a.action, "sent");
  auto conv = support::get_conversation(*db, client, a.conversation);
  ASSERT_TRUE(conv.ok() && conv->has_value());
  EXPECT_EQ((*conv)->status, support::Status::open);
  clock.advance(300);
  auto sent = engine::send_due(*db, clock, client, sender);
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(sent->sent, 1u);
  ASSERT_TRUE(engine::refresh_conversations(*db, client, clock.now()).ok());
  auto c = **support::get_conversation(*db, client, a.conversation);
  EXPECT_EQ(c.status, support::Status::waiting_on_customer);
  EXPECT_EQ(support::first_response_seconds(c), Timestamp{300});
  EXPECT_FALSE(support::resolution_seconds(c));

  // An hour later the customer answers our reply: same conversation, open again.
  auto out = outgoing();
  ASSERT_EQ(out.size(), 1u);
  clock.advance(3300);
  ItemId second = arrive(mail("bob@kunde.example", "Re: Re: Shipping question",
                              "Thanks! And do you also ship to Austria?", "t2@kunde.example",
                              "In-Reply-To: <" + out[0].message_id +
                                  ">\r\nReferences: "
                                  "<t1@kunde.example> <" +
                                  out[0].message_id + ">\r\n"));
  EXPECT_EQ(answer(second).conversation, a.conversation);
  c = **support::get_conversation(*db, client, a.conversation);
  EXPECT_EQ(c.status, support::Status::open);
  EXPECT_EQ(c.reopened, 0);

  // The VA solves it two hours after it was opened.
  clock.set(kStart + 7200);
  auto solved = engine::solve_conversation(*db, clock, client, a.conversation, "va:kim");
  ASSERT_TRUE(solved.ok());
  EXPECT_EQ(solved->status, support::Status::solved);
  EXPECT_EQ(support::resolution_seconds(*solved), Timestamp{7200});

  // A day later the customer writes again with the same subject and no threading headers:
  // the same conversation is reopened.
  clock.advance(86400);
  ItemId third = arrive(mail("bob@kunde.example", "RE: Shipping question",
                             "Hello again, the parcel has still not arrived, can you help?",
                             "t3@kunde.example"));
  EXPECT_EQ(answer(third).conversation, a.conversation);
  c = **support::get_conversation(*db, client, a.conversation);
  EXPECT_EQ(c.status, support::Status::open);
  EXPECT_EQ(c.reopened, 1);
  EXPECT_EQ(support::first_response_seconds(c), Timestamp{300});

  // Another customer with the same subject is another conversation.
  ItemId other = arrive(mail("eve@kunde.example", "Shipping question", kShipping, "t4@x"));
  EXPECT_NE(answer(other).conversation, a.conversation);
  auto all = support::list_conversations(*db, client);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_F(SupportTest, AConversationQuietForAWeekAfterTheAnswerIsSolved) {
  delegate_support(Delegation::auto_);
  FakeSender sender;
  ItemId item = arrive(mail("bob@kunde.example", "Shipping question", kShipping, "w1@x"));
  clock.advance(600);
  ASSERT_TRUE(engine::send_due(*db, clock, client, sender).ok());
  clock.advance(6 * 86400);
  ASSERT_TRUE(engine::refresh_conversations(*db, client, clock.now()).ok());
  auto c = **support::get_conversation(*db, client, answer(item).conversation);
  EXPECT_EQ(c.status, support::Status::waiting_on_customer);
  clock.advance(86400);
  ASSERT_TRUE(engine::refresh_conversations(*db, client, clock.now()).ok());
  c = **support::get_conversation(*db, client, answer(item).conversation);
  EXPECT_EQ(c.status, support::Status::solved);
  EXPECT_EQ(support::resolution_seconds(c), Timestamp{600});
}

TEST_F(SupportTest, ACorrectionToSupportIsAnsweredLikeAFreshSupportItem) {
  delegate_support(Delegation::auto_);
  // Triage calls it scheduling (a meeting); the question in it is one the KB answers.
  ItemId item = arrive(mail("Bob Meyer <bob@kunde.example>", "Meeting next Tuesday",
                            "Hello, could we meet next Tuesday at 10am to discuss my calendar "
                            "for a visit? And how long does shipping to Germany take?",
                            "c1@kunde.example"));
  // (Taken in before the lesson below, which would make it support by itself.)
  ItemId other = arrive(mail("Eve Braun <eve@kunde.example>", "Meeting next Tuesday",
                             "Hello, could we meet next Tuesday at 10am to discuss my calendar "
                             "for a visit? And how long does shipping to Germany take?",
                             "c2@kunde.example"));
  ASSERT_FALSE(support::get_answer(*db, client, other).value());
  ASSERT_NE(decision(item).category, Category::support);
  EXPECT_FALSE(support::get_answer(*db, client, item).value());
  auto taught = engine->teach(client, item, Category::support, std::nullopt, "va:kim",
                              "a customer's shipping question");
  ASSERT_TRUE(taught.ok()) << taught.error().message;
  EXPECT_TRUE(has_reason(*taught, "correction"));
  EXPECT_TRUE(has_reason(*taught, "support.sent")) << engine->explain(client, item).value();
  EXPECT_EQ(taught->disposition, Disposition::handled);
  auto a = answer(item);
  EXPECT_EQ(a.action, "sent");
  auto out = outgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].answers, item);
  EXPECT_EQ(out[0].status, store::OutgoingStatus::queued);
  EXPECT_NE(out[0].body.find("Delivery takes"), std::string::npos) << out[0].body;
  // Taught again: still one answer.
  ASSERT_TRUE(engine->teach(client, item, Category::support, std::nullopt, "va:kim", "").ok());
  EXPECT_EQ(outgoing().size(), 1u);

  // A correction that says where the item goes is left as the VA said: nothing answered.
  ASSERT_TRUE(
      engine->teach(client, other, Category::support, Disposition::to_client, "va:kim", "").ok());
  EXPECT_FALSE(support::get_answer(*db, client, other).value());
  EXPECT_EQ(outgoing().size(), 1u);
}

TEST_F(SupportTest, ABareThanksAfterTheAnswerIsNoNewWork) {
  delegate_support(Delegation::auto_);
  FakeSender sender;
  ItemId first = arrive(
      mail("Bob Meyer <bob@kunde.example>", "Shipping question", kShipping, "k1@kunde.example"));
  auto a = answer(first);
  ASSERT_EQ(a.action, "sent");
  clock.advance(300);
  ASSERT_TRUE(engine::send_due(*db, clock, client, sender).ok());
  ASSERT_TRUE(engine::refresh_conversations(*db, client, clock.now()).ok());
  auto out = outgoing();
  ASSERT_EQ(out.size(), 1u);
  const std::string threading = "In-Reply-To: <" + out[0].message_id +
                                ">\r\nReferences: " + "<k1@kunde.example> <" + out[0].message_id +
                                ">\r\n";

  // "Thanks!": handled, not the VA's; the conversation is solved as of the answer.
  clock.advance(3600);
  ItemId thanks =
      arrive(mail("bob@kunde.example", "Re: Shipping question",
                  "Got it, thank you so much!\r\n\r\nBob", "k2@kunde.example", threading));
  Decision d = decision(thanks);
  EXPECT_TRUE(has_reason(d, "support.thanks")) << engine->explain(client, thanks).value();
  EXPECT_EQ(d.disposition, Disposition::handled);
  EXPECT_EQ(answer(thanks).action, "thanks");
  auto c = **support::get_conversation(*db, client, a.conversation);
  EXPECT_EQ(c.status, support::Status::solved);
  EXPECT_EQ(c.reopened, 0);
  EXPECT_EQ(support::resolution_seconds(c), Timestamp{300});
  EXPECT_EQ(outgoing().size(), 1u);  // nobody answers a thank-you
  auto queue = store::queue_rows(*db, client, triage::Policy{}.low_confidence);
  ASSERT_TRUE(queue.ok());
  for (const auto& r : *queue) EXPECT_NE(r.item, thanks);

  // Thanked again in the solved conversation: still solved, still not reopened.
  clock.advance(60);
  ItemId again = arrive(mail("bob@kunde.example", "Re: Shipping question", "Thanks again!",
                             "k3@kunde.example", threading));
  EXPECT_TRUE(has_reason(decision(again), "support.thanks"));
  c = **support::get_conversation(*db, client, a.conversation);
  EXPECT_EQ(c.status, support::Status::solved);
  EXPECT_EQ(c.reopened, 0);

  // Thanks with a new problem is new work: the conversation reopens.
  clock.advance(60);
  ItemId trouble =
      arrive(mail("bob@kunde.example", "Re: Shipping question",
                  "Thanks, but the parcel has still not arrived.", "k4@kunde.example", threading));
  EXPECT_FALSE(has_reason(decision(trouble), "support.thanks"));
  c = **support::get_conversation(*db, client, a.conversation);
  EXPECT_EQ(c.status, support::Status::open);
  EXPECT_EQ(c.reopened, 1);
}

TEST(ConversationStatus, Transitions) {
  support::Conversation c;
  support::on_customer_message(c, 100);
  EXPECT_EQ(c.status, support::Status::open);
  EXPECT_EQ(c.opened_at, 100);
  EXPECT_FALSE(support::first_response_seconds(c));
  support::on_reply(c, 160);
  EXPECT_EQ(c.status, support::Status::waiting_on_customer);
  EXPECT_EQ(support::first_response_seconds(c), Timestamp{60});
  support::on_customer_message(c, 200);
  EXPECT_EQ(c.status, support::Status::open);
  EXPECT_EQ(c.reopened, 0);  // waiting on them, not solved: no reopening
  support::on_reply(c, 260);
  EXPECT_EQ(support::first_response_seconds(c), Timestamp{60});  // the first one counts
  support::on_solved(c, 300);
  EXPECT_EQ(support::resolution_seconds(c), Timestamp{200});
  support::on_customer_message(c, 400);
  EXPECT_EQ(c.status, support::Status::open);
  EXPECT_EQ(c.reopened, 1);
  EXPECT_FALSE(support::resolution_seconds(c));
  support::on_solved(c, 500);
  EXPECT_EQ(support::resolution_seconds(c), Timestamp{400});
  EXPECT_FALSE(support::solve_if_quiet(c, 10'000'000, 10));  // already solved
}

// The console and the CLI say how long a customer waited the same way.
TEST(ConversationStatus, WaitsReadTheSameEverywhere) {
  EXPECT_EQ(support::describe_wait(std::nullopt), "-");
  EXPECT_EQ(support::describe_wait(-5), "0s");
  EXPECT_EQ(support::describe_wait(45), "45s");
  EXPECT_EQ(support::describe_wait(12 * 60 + 59), "12m");
  EXPECT_EQ(support::describe_wait(3600 + 5 * 60), "1h 5m");
  EXPECT_EQ(support::describe_wait(2 * 86400 + 3 * 3600 + 59), "2d 3h");
}

TEST(ConversationStatus, ThreadSubjects) {
  EXPECT_EQ(support::thread_subject("Re: RE: Fwd:  Shipping   Question "), "shipping question");
  EXPECT_EQ(support::thread_subject("AW: [Ticket 12] Shipping question"), "shipping question");
  EXPECT_EQ(support::thread_subject(""), "");
}

}  // namespace
