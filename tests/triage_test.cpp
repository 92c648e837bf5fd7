#include <gtest/gtest.h>

#include "engine/policy_codec.hpp"
#include "support.hpp"
#include "triage/categorize.hpp"
#include "triage/features.hpp"
#include "triage/triage.hpp"

using namespace sk;
using namespace sk::triage;
using sk::test::make_item;

namespace {

// A small model that has learned pills are spam and project notes are not.
const SpamModel& toy_model() {
  static const SpamModel model = [] {
    std::vector<LabelledFeatures> ex;
    for (int i = 0; i < 40; ++i) {
      ex.push_back({extract_features(make_item("seller" + std::to_string(i) + "@pills.example",
                                               "CHEAP PILLS NOW",
                                               "buy cheap pills viagra now, "
                                               "limited offer, click here"))
                        .ids,
                    true});
      ex.push_back({extract_features(make_item("colleague" + std::to_string(i) + "@work.example",
                                               "project notes",
                                               "here are the notes from the "
                                               "project meeting, see you"))
                        .ids,
                    false});
    }
    return SpamModel::train(ex);
  }();
  return model;
}

Item spammy(const std::string& from = "x@pills.example") {
  return make_item(from, "CHEAP PILLS NOW",
                   "buy cheap pills viagra now, limited offer, click here");
}
Item hammy(const std::string& from = "pat@work.example") {
  return make_item(from, "project notes", "here are the notes from the project meeting, see you");
}

Party known(Relationship r = Relationship::unknown) {
  Party p;
  p.relationship = r;
  p.items_seen = 3;
  p.items_let_in = 3;
  return p;
}

Decision decide(const Item& item, const Party& party, const Policy& policy,
                const std::vector<Lesson>& lessons = {}) {
  return triage::triage({item, party, policy, toy_model(), lessons, 1'700'000'000});
}

bool has_reason(const Decision& d, const std::string& code) {
  for (const auto& r : d.reasons)
    if (r.code == code) return true;
  return false;
}

bool has_effect(const Decision& d, EffectKind k) {
  for (const auto& e : d.effects)
    if (e.kind == k) return true;
  return false;
}

Rule rule(const std::string& name, RuleCondition when, RuleAction then) {
  Rule r;
  r.name = name;
  r.when = std::move(when);
  r.then = std::move(then);
  return r;
}

TEST(Triage, ModelSeparatesTheToyClasses) {
  EXPECT_GT(toy_model().score(extract_features(spammy()).ids), 0.9);
  EXPECT_LT(toy_model().score(extract_features(hammy()).ids), 0.1);
}

TEST(Triage, VipGoesToTheClientWhateverTheWordsSay) {
  Policy policy;
  policy.rules.push_back(
      rule("screen pills", {.words = {"pills"}}, {.disposition = Disposition::screened}));
  Decision d = decide(spammy("boss@pills.example"), known(Relationship::vip), policy);
  EXPECT_EQ(d.disposition, Disposition::to_client);
  EXPECT_EQ(d.reasons.front().code, "relationship.vip");
  EXPECT_FALSE(has_reason(d, "rule"));  // the relationship decided before any rule
  EXPECT_TRUE(has_effect(d, EffectKind::flag));
}

TEST(Triage, BlockedBeatsARuleThatWouldLetItIn) {
  Policy policy;
  policy.rules.push_back(rule("all to client", {.domains = {"work.example"}},
                              {.disposition = Disposition::to_client}));
  Decision d = decide(hammy(), known(Relationship::blocked), policy);
  EXPECT_EQ(d.disposition, Disposition::blocked);
  EXPECT_EQ(d.reasons.front().code, "relationship.blocked");
}

TEST(Triage, ProtectedFromIsKeptAwayAndRecorded) {
  Decision d = decide(hammy(), known(Relationship::protected_from), Policy{});
  EXPECT_EQ(d.disposition, Disposition::protected_);
  EXPECT_TRUE(has_effect(d, EffectKind::record_evidence));
  EXPECT_TRUE(has_effect(d, EffectKind::notify_va));
  EXPECT_FALSE(has_effect(d, EffectKind::flag));  // the client is not told
}

TEST(Triage, FirstMatchingRuleWithADispositionWins) {
  Policy policy;
  policy.rules.push_back(rule("label only", {.words = {"notes"}}, {.labels = {"notes"}}));
  policy.rules.push_back(rule("first", {.domains = {"work.example"}},
                              {.disposition = Disposition::handled, .labels = {"work"}}));
  policy.rules.push_back(
      rule("second", {.words = {"project"}}, {.disposition = Disposition::to_client}));
  Decision d = decide(hammy(), known(), policy);
  EXPECT_EQ(d.disposition, Disposition::handled);
  EXPECT_EQ(d.labels, (std::vector<std::string>{"notes", "work"}));
  int rules_matched = 0;
  for (const auto& r : d.reasons) rules_matched += r.code == "rule";
  EXPECT_EQ(rules_matched, 2);  // "label only" and "first"; "second" never ran
  EXPECT_TRUE(has_effect(d, EffectKind::label));
}

TEST(Triage, RulesSeeTheClassifierVerdict) {
  Policy policy;
  policy.rules.push_back(
      rule("spammy to VA", {.spam_score_min = 0.9}, {.disposition = Disposition::awaiting_va}));
  EXPECT_EQ(decide(spammy(), known(), policy).disposition, Disposition::awaiting_va);
  EXPECT_NE(decide(hammy(), known(), policy).disposition, Disposition::awaiting_va);
}

TEST(Triage, DisabledAndEmptyRulesNeverMatch) {
  Policy policy;
  Rule off = rule("off", {.words = {"project"}}, {.disposition = Disposition::blocked});
  off.enabled = false;
  policy.rules.push_back(off);
  policy.rules.push_back(rule("empty", {}, {.disposition = Disposition::blocked}));
  EXPECT_NE(decide(hammy(), known(), policy).disposition, Disposition::blocked);
}

TEST(Triage, TimeAndHeaderConditions) {
  Policy policy;
  policy.utc_offset_minutes = -5 * 60;  // 1'700'000'000 is 22:13 UTC: 17:13 local
  policy.rules.push_back(
      rule("after five", {.hour_from = 17, .hour_to = 9}, {.disposition = Disposition::handled}));
  EXPECT_EQ(decide(hammy(), known(), policy).disposition, Disposition::handled);
  policy.utc_offset_minutes = -10 * 60;  // 12:13 local
  EXPECT_NE(decide(hammy(), known(), policy).disposition, Disposition::handled);

  Policy h;
  h.rules.push_back(rule("list", {.headers = {{"List-Id", "dev.example"}}},
                         {.disposition = Disposition::handled}));
  Item listed = hammy();
  listed.headers.push_back({"List-Id", "Dev list <dev.example.org>"});
  EXPECT_EQ(decide(listed, known(), h).disposition, Disposition::handled);
  EXPECT_NE(decide(hammy(), known(), h).disposition, Disposition::handled);
}

TEST(Screener, FirstTimeSendersWait) {
  Policy policy;
  Decision d = decide(hammy(), Party{}, policy);
  EXPECT_EQ(d.disposition, Disposition::screened);
  EXPECT_TRUE(has_reason(d, "screener.first_time"));
  EXPECT_EQ(d.effects.front().target, "Sidekick/Screened");

  // Someone who has been let in before goes through.
  EXPECT_NE(decide(hammy(), known(), policy).disposition, Disposition::screened);
  Party let_in;
  let_in.let_in = true;
  EXPECT_NE(decide(hammy(), let_in, policy).disposition, Disposition::screened);
  // A client without the screener.
  policy.screener = false;
  EXPECT_NE(decide(hammy(), Party{}, policy).disposition, Disposition::screened);
}

TEST(Screener, ARuleCanLetAFirstTimeSenderThrough) {
  Policy policy;
  policy.rules.push_back(
      rule("customers' domain", {.domains = {"work.example"}}, {.let_through = true}));
  Decision d = decide(hammy(), Party{}, policy);
  EXPECT_NE(d.disposition, Disposition::screened);
  EXPECT_TRUE(has_reason(d, "rule"));
  // A rule that decides the disposition also beats the screener.
  Policy p2;
  p2.rules.push_back(
      rule("to client", {.words = {"project"}}, {.disposition = Disposition::to_client}));
  EXPECT_EQ(decide(hammy(), Party{}, p2).disposition, Disposition::to_client);
}

TEST(Screener, SpamFromAFirstTimeSenderIsFiledAsSpam) {
  Decision d = decide(spammy(), Party{}, Policy{});
  EXPECT_EQ(d.disposition, Disposition::screened);
  EXPECT_EQ(d.category, Category::spam);
  EXPECT_EQ(d.effects.front().target, "Sidekick/Spam");
}

TEST(Lessons, OneCorrectionFlipsTheNextMessageFromTheSender) {
  Policy policy;
  Item first = spammy("friend@pills.example");
  ASSERT_EQ(decide(first, known(), policy).category, Category::spam);
  std::vector<Lesson> lessons{lesson_from(first, Category::personal)};
  Item next = make_item("friend@pills.example", "more pills", "totally different words here");
  Decision d = decide(next, known(), policy, lessons);
  EXPECT_EQ(d.category, Category::personal);
  EXPECT_TRUE(has_reason(d, "lesson"));
  EXPECT_EQ(d.disposition, Disposition::to_client);  // personal: notify, per delegation
}

TEST(Lessons, SimilarWordsFromAnotherSenderFlipToo) {
  Item first = hammy("a@work.example");
  std::vector<Lesson> lessons{lesson_from(first, Category::newsletter)};
  Item alike = hammy("b@elsewhere.example");
  EXPECT_EQ(decide(alike, known(), Policy{}, lessons).category, Category::newsletter);
  Item different = make_item("c@elsewhere.example", "lunch?", "are you free for lunch on friday");
  EXPECT_NE(decide(different, known(), Policy{}, lessons).category, Category::newsletter);
}

TEST(Lessons, TheLatestLessonWins) {
  Item first = hammy("a@work.example");
  std::vector<Lesson> lessons{lesson_from(first, Category::newsletter),
                              lesson_from(first, Category::team)};
  EXPECT_EQ(decide(hammy("a@work.example"), known(), Policy{}, lessons).category, Category::team);
}

TEST(Lessons, WordsRoundTripThroughText) {
  auto words = word_features(hammy());
  EXPECT_EQ(decode_words(encode_words(words)), words);
}

TEST(Triage, IdenticalInputGivesIdenticalDecisions) {
  Policy policy;
  policy.rules.push_back(rule("notes", {.words = {"notes"}}, {.labels = {"n"}}));
  for (const Item& item : {hammy(), spammy()}) {
    Decision a = decide(item, known(), policy);
    Decision b = decide(item, known(), policy);
    EXPECT_EQ(a.category, b.category);
    EXPECT_EQ(a.disposition, b.disposition);
    EXPECT_EQ(a.confidence, b.confidence);
    EXPECT_EQ(a.spam_score, b.spam_score);
    ASSERT_EQ(a.reasons.size(), b.reasons.size());
    for (std::size_t i = 0; i < a.reasons.size(); ++i)
      EXPECT_EQ(a.reasons[i].text, b.reasons[i].text);
  }
}

TEST(Triage, UnreadableMessagesGoToTheVa) {
  Item item;
  item.parse_status = ParseStatus::unreadable;
  item.defects = {"no header at all"};
  Decision d = decide(item, Party{}, Policy{});
  EXPECT_EQ(d.disposition, Disposition::awaiting_va);
  EXPECT_EQ(d.reasons.front().code, "unreadable");
  EXPECT_NE(d.reasons.front().text.find("no header at all"), std::string::npos);
}

TEST(Triage, SpamReasonsNameTheEvidence) {
  Decision d = decide(spammy(), known(), Policy{});
  ASSERT_EQ(d.category, Category::spam);
  bool named = false;
  for (const auto& r : d.reasons)
    if (r.code == "classifier.spam")
      for (const char* w : {"'pills'", "'viagra'", "'cheap'", "'click'", "'click here'"})
        named = named || r.text.find(w) != std::string::npos;
  EXPECT_TRUE(named) << d.reasons.front().text;
}

TEST(Triage, AuthenticationFailuresCount) {
  Item item = hammy();
  double base = decide(item, known(), Policy{}).spam_score;
  item.headers.push_back({"Authentication-Results", "mx.example; spf=fail; dmarc=fail"});
  Decision d = decide(item, known(), Policy{});
  EXPECT_GT(d.spam_score, base);
  EXPECT_TRUE(has_reason(d, "auth.fail"));
}

TEST(Categories, HeaderEvidence) {
  Party p;
  std::vector<std::string> domains{"acme.example"};
  auto cat = [&](const Item& it) {
    FeatureOptions o;
    o.watch = &category_cues();
    FeatureSet fs = extract_features(it, o);
    return categorize({it, p, domains, fs.phrases}).category;
  };
  Item bulk = make_item("news@shop.example", "Our deals", "Great deals this week",
                        {{"List-Unsubscribe", "<mailto:u@shop.example>"}, {"Precedence", "bulk"}});
  EXPECT_EQ(cat(bulk), Category::newsletter);
  Item invite = make_item("pat@x.example", "Invitation: sync", "see you");
  invite.attachments.push_back({"invite.ics", "text/calendar", 100});
  EXPECT_EQ(cat(invite), Category::scheduling);
  EXPECT_EQ(cat(make_item("ann@acme.example", "hi", "status")), Category::team);
  EXPECT_EQ(cat(make_item("c@x.example", "Invoice 42",
                          "Please find the invoice, amount due "
                          "by Friday; payment by card")),
            Category::billing);
  EXPECT_EQ(cat(make_item("c@x.example", "help", "My order is not working and I want a refund")),
            Category::support);
  EXPECT_EQ(cat(make_item("s@agency.example", "quick question",
                          "I came across your site. Our agency does SEO and lead generation; "
                          "do you have 15 minutes for a quick call?")),
            Category::cold_outreach);
  std::string why;
  EXPECT_TRUE(is_bulk(bulk, &why));
  EXPECT_EQ(why, "Precedence: bulk");
  Item auto_reply =
      make_item("x@y.example", "Out of office", "away", {{"Auto-Submitted", "auto-replied"}});
  EXPECT_TRUE(is_bulk(auto_reply));
  EXPECT_FALSE(is_bulk(make_item("x@y.example", "s", "t", {{"Auto-Submitted", "no"}})));
}

TEST(SpamModel, SerializesExactly) {
  const SpamModel& m = toy_model();
  auto back = SpamModel::deserialize(m.serialize());
  ASSERT_TRUE(back.ok()) << back.error().message;
  auto ids = extract_features(spammy()).ids;
  EXPECT_EQ(back->score(ids), m.score(ids));
  EXPECT_EQ(back->threshold(), m.threshold());
  EXPECT_FALSE(SpamModel::deserialize("garbage").ok());
  std::string truncated = m.serialize();
  truncated.resize(truncated.size() - 3);
  EXPECT_FALSE(SpamModel::deserialize(truncated).ok());
}

TEST(Features, NamesExplainAndIdsAreSorted) {
  FeatureOptions named;
  named.with_names = true;
  FeatureSet fs = extract_features(spammy(), named);
  ASSERT_EQ(fs.ids.size(), fs.names.size());
  auto plain = extract_features(spammy()).ids;
  EXPECT_EQ(fs.ids, plain);
  std::sort(plain.begin(), plain.end());
  EXPECT_EQ(std::adjacent_find(plain.begin(), plain.end()), plain.end());  // unique
  bool pills = false;
  for (const auto& n : fs.names) pills = pills || n == "word 'pills'";
  EXPECT_TRUE(pills);
  PhraseSet watch({phrase_hash("click here"), phrase_hash("not in it")});
  named.watch = &watch;
  fs = extract_features(spammy(), named);
  EXPECT_EQ(fs.phrases, std::vector<std::uint64_t>{phrase_hash("click here")});
}

TEST(Features, ReceivedChainEvidence) {
  Item it = hammy();
  it.headers.push_back({"Received",
                        "from bettyjagessar.com (w142.z064000057.nyc-ny.dsl.cnc.net "
                        "[64.0.57.142]) by lugh.tuatha.org with ESMTP"});
  FeatureOptions named;
  named.with_names = true;
  auto fs = extract_features(it, named);
  auto has = [&](const std::string& n) {
    return std::find(fs.names.begin(), fs.names.end(), n) != fs.names.end();
  };
  EXPECT_TRUE(has("some hop 'home connection'"));
  EXPECT_TRUE(has("some hop 'claims a name that is not its own'"));
}

TEST(RulesToml, ReadsRulesInOrder) {
  auto rules = engine::rules_from_toml(R"(
[[rule]]
name = "VIP domain"
when.domain = "bigcustomer.example"
then.disposition = "to-client"

[[rule]]
name = "Late newsletters"
[rule.when]
header = { "List-Id" = "" }
hours = "22-6"
weekdays = ["sat", "sun"]
category = ["newsletter"]
score_below = 0.5
[rule.then]
disposition = "handled"
label = ["later"]
let_through = true
)",
                                       "rules.toml");
  ASSERT_TRUE(rules.ok()) << rules.error().message;
  ASSERT_EQ(rules->size(), 2u);
  const Rule& r = (*rules)[1];
  EXPECT_EQ(r.name, "Late newsletters");
  EXPECT_EQ(r.when.hour_from, 22);
  EXPECT_EQ(r.when.hour_to, 6);
  EXPECT_EQ(r.when.weekdays, (std::vector<int>{6, 0}));
  EXPECT_EQ(r.when.spam_score_max, 0.5);
  EXPECT_TRUE(r.then.let_through);
  // And through the stored form unchanged.
  auto back = engine::rule_from_json(engine::rule_to_json(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(engine::rule_to_json(*back), engine::rule_to_json(r));
}

TEST(RulesToml, MistakesAreNamed) {
  auto err = [](const std::string& toml) {
    auto r = engine::rules_from_toml(toml, "r.toml");
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error().message;
  };
  EXPECT_NE(err("[[rule]]\nname='a'\nwhen.domain='x'\nthen.disposition='nowhere'\n")
                .find("rule 1 (\"a\"): disposition is one of"),
            std::string::npos);
  EXPECT_NE(err("[[rule]]\nname='a'\nwhen.colour='red'\nthen.disposition='handled'\n")
                .find("unknown condition 'colour'"),
            std::string::npos);
  EXPECT_NE(err("[[rule]]\nname='a'\nthen.disposition='handled'\n").find("needs a [when]"),
            std::string::npos);
  EXPECT_NE(err("[[rule]]\nname = \n").find("r.toml:2:"), std::string::npos);
  EXPECT_NE(err("[[rule]]\nwhen.domain='x'\nthen.disposition='handled'\n").find("needs a name"),
            std::string::npos);
  EXPECT_NE(err("[[rule]]\nname='a'\nwhen.hours='25-3'\nthen.disposition='handled'\n")
                .find("hours must look like"),
            std::string::npos);
}

TEST(PolicyJson, RoundTrips) {
  Policy p;
  p.screener = false;
  p.delegation[static_cast<int>(Category::support)] = Delegation::auto_;
  p.spam_threshold = 0.7;
  auto back = engine::policy_from_json(engine::policy_to_json(p));
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->screener);
  EXPECT_EQ(back->delegation[static_cast<int>(Category::support)], Delegation::auto_);
  EXPECT_EQ(back->spam_threshold, 0.7);
  EXPECT_FALSE(engine::policy_from_json("not json").ok());
}

}  // namespace
