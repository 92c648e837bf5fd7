// When a customer is not answered automatically: asks for a person, is angry, the match is
// weak, or a private answer would go to a stranger. Realistic sentences, both ways.
#include <gtest/gtest.h>

#include "support/safety.hpp"

namespace sk::support {
namespace {

TEST(AsksForPerson, RecognisesTheUsualWays) {
  for (const char* s : {
           "I want to talk to a person",
           "Can I please speak to a real person about my order?",
           "Is this a bot? I need a human.",
           "Please stop sending automated replies and have someone call me back.",
           "I'd like to speak with someone from your team, not a canned answer.",
           "Put me through to a manager please",
           "Could I talk to your manager about this?",
           "Can someone call me on 0912 345 678 tomorrow morning?",
       })
    EXPECT_TRUE(asks_for_person(s)) << s;
}

TEST(AsksForPerson, QuietWhenNobodyIsAskedFor) {
  for (const char* s : {
           "How long does shipping to Germany take?",
           "The person who packed my order did a lovely job, thank you!",
           "Can I return a mug I bought as a gift?",
           "Is the glaze safe for the dishwasher?",
           "My husband will call the courier about the delivery.",
       })
    EXPECT_FALSE(asks_for_person(s)) << s << " → " << asks_for_person(s).value_or("");
}

TEST(Anger, RecognisesUpsetCustomers) {
  struct Case {
    const char* subject;
    const char* text;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"Order #4411",
            "This is completely unacceptable. I paid three weeks ago and still "
            "nothing has arrived."},
           {"WHERE IS MY ORDER", "I HAVE WAITED THREE WEEKS AND NOBODY ANSWERS MY EMAILS"},
           {"Broken again", "Second broken mug in a row?! Seriously?! Do you even pack these?"},
           {"refund",
            "If I don't get my refund by Friday I will file a chargeback and report "
            "you to consumer protection."},
           {"", "Worst service ever. You are scammers."},
           {"third time",
            "This is the third time I'm writing and still no reply. I'm really "
            "frustrated!!"},
           {"",
            "What the hell is going on with my order?"
            "?!!"},
       })
    EXPECT_TRUE(anger(c.subject, c.text).angry())
        << c.subject << " / " << c.text << " → " << anger(c.subject, c.text).score;
}

TEST(Anger, CalmCustomersAreNotAngry) {
  struct Case {
    const char* subject;
    const char* text;
  };
  for (const auto& c : std::initializer_list<Case>{
           {"Shipping", "Hi! How long does shipping to Germany take? Thanks!"},
           {"Love the mugs!!", "They arrived today and they are beautiful. Thank you so much!"},
           {"Question", "No rush at all, I'm not upset, just wondering when the bowls ship."},
           {"VAT invoice", "Could you send a VAT invoice as a PDF? Our FAQ team needs it ASAP."},
           {"Return", "I'd like to return a plate, it is not the colour I expected."},
           {"Order", "Still waiting for the tracking number, could you check when you can?"},
       })
    EXPECT_FALSE(anger(c.subject, c.text).angry())
        << c.subject << " / " << c.text << " → " << anger(c.subject, c.text).score << " "
        << anger(c.subject, c.text).reason;
}

TEST(Anger, SaysWhatGaveItAway) {
  auto a = anger("", "This is unacceptable!!!");
  EXPECT_TRUE(a.angry());
  EXPECT_NE(a.reason.find("'unacceptable'"), std::string::npos) << a.reason;
  EXPECT_NE(a.reason.find("exclamation"), std::string::npos) << a.reason;
  EXPECT_NE(
      anger("", "WHY IS THIS STILL NOT SHIPPED I ORDERED IT MONTHS AGO").reason.find("capitals"),
      std::string::npos);
}

SafetyInput good() {
  SafetyInput in;
  in.subject = "Shipping";
  in.text = "How long does shipping take?";
  in.sender_known = true;
  in.has_match = true;
  in.confidence = 0.93;
  in.threshold = 0.8;
  return in;
}

TEST(SafetyCheck, AnswersAConfidentMatchForAKnownCustomer) {
  auto v = check(good());
  EXPECT_TRUE(v.answer);
  EXPECT_EQ(v.code, "support.ok");
}

TEST(SafetyCheck, EscalatesEachReasonWithItsCode) {
  auto in = good();
  in.confidence = 0.55;
  auto v = check(in);
  EXPECT_FALSE(v.answer);
  EXPECT_EQ(v.code, "support.weak_match");
  EXPECT_NE(v.reason.find("55%"), std::string::npos) << v.reason;
  EXPECT_NE(v.reason.find("80%"), std::string::npos) << v.reason;

  in = good();
  in.has_match = false;
  EXPECT_EQ(check(in).code, "support.weak_match");

  in = good();
  in.answer_private = true;
  EXPECT_TRUE(check(in).answer);  // known customer: fine
  in.sender_known = false;
  EXPECT_EQ(check(in).code, "support.private_unknown");
  in.answer_private = false;
  EXPECT_TRUE(check(in).answer);  // a stranger may read a public answer

  in = good();
  in.text = "I want to talk to a person";
  EXPECT_EQ(check(in).code, "support.asks_person");

  in = good();
  in.text = "How long does shipping take?! This is ridiculous, I ordered a month ago!!";
  EXPECT_EQ(check(in).code, "support.angry");
}

}  // namespace
}  // namespace sk::support

TEST(BareThanks, RecognisesAThankYouAndNothingMore) {
  for (const char* t : {"Thanks!", "Got it, thanks", "thank you", "Perfect, thanks a lot :)",
                        "Thank you so much for the quick reply.\nBest regards,\nBob Meyer",
                        "Cheers, Ana", "Great, that helps. Many thanks again!", "Obrigada!"})
    EXPECT_TRUE(sk::support::is_bare_thanks(t)) << t;
}

TEST(BareThanks, AnythingAskedOrWrongIsNotJustThanks) {
  for (const char* t :
       {"Thanks! And do you also ship to Austria?", "Thanks, but it still does not work",
        "thanks for nothing", "Thanks. I want a refund.", "Hello", "",
        "Thanks for the answer, the parcel arrived broken though",
        "Thank you. Could you send the invoice to accounts@example.com as well",
        "Thanks for the reply, our warehouse team in Hamburg will collect the parcel from the "
        "depot on Monday morning and check every item carefully"})
    EXPECT_FALSE(sk::support::is_bare_thanks(t)) << t;
}
