#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "engine/policy_codec.hpp"
#include "mail/message.hpp"
#include "support.hpp"
#include "triage/categorize.hpp"
#include "triage/features.hpp"
#include "triage/tokens.hpp"
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

// Triage takes the words lessons compare from the features' own pass over the text
// (FeatureOptions::lesson_words); they must be word_features' exactly, and the features the
// same with or without them.
void expect_lesson_words_as_word_features(const Item& it, const std::string& what) {
  SCOPED_TRACE(what);
  FeatureOptions o;
  o.with_names = true;
  o.watch = &category_cues();
  FeatureSet plain = extract_features(it, o);
  o.lesson_words = true;
  FeatureSet fs = extract_features(it, o);
  EXPECT_EQ(fs.words, word_features(it));
  EXPECT_EQ(fs.ids, plain.ids);
  EXPECT_EQ(fs.names, plain.names);
  EXPECT_EQ(fs.phrases, plain.phrases);
  EXPECT_TRUE(plain.words.empty());
}

TEST(Lessons, WordsComeFromTheFeaturesPass) {
  std::string filler;
  while (filler.size() < 17000) filler += "Some FILLER words, don't e-mail 42x ";
  const std::size_t limit = 16 * 1024;
  // Whatever token the 16 KiB limit cuts, or leaves whole, at every offset near it.
  const std::vector<std::string> tokens = {"x",
                                           "ab",
                                           "Limit",
                                           "'quoted'",
                                           "...dots...",
                                           "don't-stop",
                                           std::string(40, 'q'),
                                           std::string(70, 'Z'),
                                           "UP.down"};
  for (const std::string& token : tokens) {
    for (std::size_t at = limit - 75; at <= limit + 3; ++at) {
      std::string text = filler.substr(0, at) + token + " tail words after";
      expect_lesson_words_as_word_features(make_item("a@b.example", "Subject Words", text),
                                           token + " at " + std::to_string(at));
    }
  }
  expect_lesson_words_as_word_features(make_item("a@b.example", "", ""), "empty");
  expect_lesson_words_as_word_features(make_item("a@b.example", "s", filler.substr(0, limit)),
                                       "exactly the limit");
  expect_lesson_words_as_word_features(
      make_item("a@b.example", "s", filler.substr(0, limit - 1) + "ab"), "limit mid-token");
}

TEST(Lessons, WordsComeFromTheFeaturesPassOnRealMail) {
  SK_REQUIRE_CORPUS();
  for (auto [folder, count] : {std::pair{"hard-ham-1", 250}, std::pair{"spam-2", 200}}) {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(sk::test::corpus_dir() + "/" + folder))
      if (e.path().extension() == ".txt") files.push_back(e.path().filename().string());
    std::sort(files.begin(), files.end());
    files.resize(std::min<std::size_t>(files.size(), count));
    for (const auto& f : files) {
      std::string file = std::string(folder) + "/" + f;
      expect_lesson_words_as_word_features(
          mail::parse_message(sk::test::file_text(sk::test::corpus_dir() + "/" + file)), file);
    }
  }
}

TEST(Lessons, WordsRoundTripThroughText) {
  auto words = word_features(hammy());
  EXPECT_EQ(decode_words(encode_words(words)), words);
  EXPECT_EQ(decode_words(encode_words({})), std::vector<std::uint32_t>{});
  // Ids written for another tokenizer's hash are not read as this one's.
  EXPECT_EQ(decode_words("17 4242 90001"), std::nullopt);
  EXPECT_EQ(decode_words(""), std::nullopt);
  EXPECT_EQ(decode_words("w2 1 2"), std::nullopt);
  EXPECT_EQ(decode_words("w37 1"), std::nullopt);
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

TEST(Categories, EvidenceInWords) {
  Party p;
  std::vector<std::string> domains{"acme.example"};
  Item it = make_item("ann@acme.example", "Invoice and a meeting",
                      "the invoice for the meeting; payment is past due", {{"Precedence", "bulk"}});
  FeatureOptions o;
  o.watch = &category_cues();
  FeatureSet fs = extract_features(it, o);
  CategoryGuess g = categorize({it, p, domains, fs.phrases});
  EXPECT_EQ(g.category, Category::billing);
  EXPECT_EQ(g.evidence, (std::vector<std::string>{"mentions 'invoice'", "mentions 'past due'",
                                                  "mentions 'payment'"}));
  p.relationship = Relationship::team;
  g = categorize({it, p, domains, fs.phrases});
  EXPECT_EQ(g.category, Category::team);
  EXPECT_EQ(g.evidence, (std::vector<std::string>{
                            "the sender is on the client's team",
                            "the sender writes from the client's own domain acme.example"}));
  it.from_address = "news@list.example";
  p.relationship = Relationship::unknown;
  g = categorize({it, p, domains, fs.phrases});
  EXPECT_EQ(g.category, Category::billing);
  it.text = "see you";
  fs = extract_features(it, o);
  g = categorize({it, p, domains, fs.phrases});
  EXPECT_EQ(g.category, Category::newsletter);
  EXPECT_EQ(g.evidence, (std::vector<std::string>{"Precedence: bulk"}));
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

TEST(SpamModel, TheLowestThresholdAsGoodAsTheBestIsChosen) {
  // From the top, with a ham costing two spams: flagging nothing costs 3 (three spams missed),
  // flagging 0.9 costs 2, down to 0.8 costs 4, to 0.7 costs 3, to 0.6 costs 2 (one ham
  // flagged, no spam missed), lower costs more. 0.55 is as good as 0.85 and catches more spam.
  std::vector<std::pair<double, bool>> scored = {{0.5, false}, {0.9, true},  {0.7, true},
                                                 {0.8, false}, {0.1, false}, {0.6, true}};
  EXPECT_DOUBLE_EQ(SpamModel::threshold_for(scored, 2), 0.55);
  // A ham costing three spams: 0.85 costs 2, 0.55 costs 3, within counting noise (√2) of it.
  EXPECT_DOUBLE_EQ(SpamModel::threshold_for(scored, 3), 0.55);
  // Costing ten: 0.85 costs 2, 0.55 costs 10, well beyond.
  EXPECT_DOUBLE_EQ(SpamModel::threshold_for(scored, 10), 0.85);
  // Many more spams above the hams: the cost falls, and the lowest point is kept.
  std::vector<std::pair<double, bool>> clear;
  for (int i = 0; i < 100; ++i) clear.push_back({0.5 + i * 0.004, true});
  for (int i = 0; i < 100; ++i) clear.push_back({0.1 + i * 0.003, false});
  EXPECT_GT(SpamModel::threshold_for(clear, 2), 0.397);
  EXPECT_LT(SpamModel::threshold_for(clear, 2), 0.5);
}

TEST(SpamModel, AModelAnEarlierVersionTrainedIsToBeTrainedAgain) {
  std::string old = toy_model().serialize();
  ASSERT_EQ(old.substr(0, 8), "SKSPAM04");
  old[7] = '3';  // what the version before the sending side of Received headers wrote
  EXPECT_TRUE(SpamModel::outdated(old));
  auto r = SpamModel::deserialize(old);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::conflict);
  EXPECT_NE(r.error().message.find("train it again"), std::string::npos) << r.error().message;
  EXPECT_FALSE(SpamModel::outdated(toy_model().serialize()));
  EXPECT_FALSE(SpamModel::outdated("garbage"));
  old[7] = '5';  // a later version's is not ours to read either, but not "earlier"
  EXPECT_FALSE(SpamModel::outdated(old));
  EXPECT_EQ(SpamModel::deserialize(old).error().code, Errc::parse);
}

// The tokenizer finds token edges 64 bytes at a time and lower-cases 8 at a time; a reading
// one byte at a time, as the definition says, must see the same tokens and the same capitals.
std::vector<std::string> tokens_one_byte_at_a_time(std::string_view text, tokens::Capitals* caps) {
  auto token_char = [](char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || u >= 0x80 ||
           std::string_view("$'-_.!").find(c) != std::string_view::npos;
  };
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !token_char(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && token_char(text[i])) ++i;
    std::string_view t = text.substr(start, i - start);
    while (!t.empty() && std::string_view(".'-").find(t.back()) != std::string_view::npos)
      t.remove_suffix(1);
    while (!t.empty() && std::string_view(".'-").find(t.front()) != std::string_view::npos)
      t.remove_prefix(1);
    if (t.size() < 2) continue;
    caps->scan(t);
    if (t.size() > 60) {
      out.push_back("<very long>");
    } else if (t.size() > 28) {
      out.push_back("<long>");
    } else {
      std::string lowered(t);
      for (char& c : lowered)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      out.push_back(lowered);
    }
  }
  return out;
}

void expect_tokens_as_one_byte_at_a_time(std::string_view text, const std::string& what) {
  SCOPED_TRACE(what);
  tokens::Capitals want_caps, got_caps;
  const auto want = tokens_one_byte_at_a_time(text, &want_caps);
  std::vector<std::string> got;
  std::map<std::string, std::uint64_t> hash_of;
  bool same_hash = true;
  tokens::tokenize(
      text,
      [&](std::string_view t, std::uint64_t h) {
        got.emplace_back(t);
        auto [it, added] = hash_of.emplace(std::string(t), h);
        same_hash = same_hash && it->second == h;
      },
      &got_caps);
  EXPECT_EQ(got, want);
  EXPECT_TRUE(same_hash);
  EXPECT_EQ(got_caps.words, want_caps.words);
  EXPECT_EQ(got_caps.upper, want_caps.upper);
}

TEST(Tokens, AsReadOneByteAtATime) {
  expect_tokens_as_one_byte_at_a_time("", "empty");
  expect_tokens_as_one_byte_at_a_time("a", "one byte");
  expect_tokens_as_one_byte_at_a_time("FREE Money!!! don't e-mail 'quoted' ...x.. Über $9.99",
                                      "the kinds of byte");
  // Tokens across the 64-byte blocks, of every length up to past the long ones, at every offset
  // and ending at the text's end (no byte past it may be read as part of a token).
  std::string word = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_!$AbCdEfGhIjKlMnOpQrStUvWxYz";
  for (std::size_t len = 1; len <= word.size(); ++len)
    for (std::size_t offset = 0; offset < 70; offset += 3) {
      std::string text(offset, ' ');
      text += word.substr(0, len);
      expect_tokens_as_one_byte_at_a_time(
          text, "len " + std::to_string(len) + " at " + std::to_string(offset));
      expect_tokens_as_one_byte_at_a_time(text + " tail", "followed");
    }
  // Every byte value next to letters, in both cases.
  for (int c = 0; c < 256; ++c) {
    std::string text = "ab";
    text += static_cast<char>(c);
    text += "CD";
    text += static_cast<char>(c);
    expect_tokens_as_one_byte_at_a_time(text, "byte " + std::to_string(c));
  }
  // Distinct tokens of up to 8 bytes never share a hash (a bijection of the word).
  std::map<std::uint64_t, std::string> seen;
  for (std::string t : {"ab", "ab\x01", "abc", "ba", "abcdefgh", "abcdefg", "zz", "z9"}) {
    tokens::tokenize(t, [&](std::string_view tok, std::uint64_t h) {
      auto [it, added] = seen.emplace(h, std::string(tok));
      EXPECT_TRUE(added || it->second == tok) << tok << " and " << it->second;
    });
  }
}

TEST(Tokens, AsReadOneByteAtATimeOnRealMail) {
  SK_REQUIRE_CORPUS();
  for (auto [folder, count] : {std::pair{"easy-ham-1", 150}, std::pair{"spam-1", 150}}) {
    std::vector<std::string> files;
    for (const auto& e : std::filesystem::directory_iterator(sk::test::corpus_dir() + "/" + folder))
      if (e.path().extension() == ".txt") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    files.resize(std::min<std::size_t>(files.size(), count));
    for (const auto& f : files) {
      Item item = mail::parse_message(sk::test::file_text(f));
      expect_tokens_as_one_byte_at_a_time(item.text, f);
      expect_tokens_as_one_byte_at_a_time(item.subject, f + " (subject)");
    }
  }
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
  PhraseSet watch({"click here", "not in it"});
  named.watch = &watch;
  fs = extract_features(spammy(), named);
  EXPECT_EQ(fs.phrases, std::vector<std::uint64_t>{phrase_hash("click here")});
}

// A predicate: whether a plain message with this Received header has the named feature.
auto features_with_received(const std::string& received) {
  Item it = hammy();
  it.headers.push_back({"Received", received});
  FeatureOptions named;
  named.with_names = true;
  return [names = extract_features(it, named).names](const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
}

TEST(Features, ReceivedChainEvidence) {
  auto has = features_with_received(
      "from bettyjagessar.com (w142.z064000057.nyc-ny.dsl.cnc.net [64.0.57.142]) by "
      "lugh.tuatha.org with ESMTP");
  EXPECT_TRUE(has("some hop 'home connection'"));
  EXPECT_TRUE(has("some hop 'claims a name that is not its own'"));
}

// What the receiving side writes (its own hosts, the recipient, the time, the local hand-offs,
// the mailbox's flags) is the same for ham and spam: a model trained on someone's corpus learnt
// how it was collected from it (the collector's host alone weighed more than any word).
TEST(Features, TheReceivingSideGivesNoEvidence) {
  auto delivered = [](const std::string& receiver, const std::string& recipient,
                      const std::string& when) {
    Item it = hammy();
    it.headers.push_back({"Received", "from localhost (localhost [127.0.0.1]) by " + receiver +
                                          " (Postfix) with ESMTP id 1A2B3C for <" + recipient +
                                          ">; " + when});
    it.headers.push_back({"Received", "from " + receiver + " [10.0.0.1] by localhost with POP3 " +
                                          "(fetchmail-5.9.0) for " + recipient + "; " + when});
    it.headers.push_back({"Received", "from mx.example.net (mx.example.net [192.0.2.7]) by " +
                                          receiver + " (8.11.6/8.11.6) with ESMTP id g6H80 for <" +
                                          recipient + ">; " + when});
    it.headers.push_back({"Delivered-To", recipient});
    it.headers.push_back({"X-Keywords", "NonJunk"});
    it.headers.push_back({"Status", "RO"});
    return extract_features(it).ids;
  };
  const auto here =
      delivered("phobos.labs.example.org", "jm@localhost", "Thu, 25 Jul 2002 18:00:50 +0100");
  EXPECT_EQ(here, delivered("mail.acme.example", "owner@acme.example",
                            "Mon, 23 Nov 2026 08:00:00 -0500"));

  // The sending side still counts: the hop that handed it over, its name and address.
  auto has = features_with_received(
      "from mx.example.net (mx.example.net [192.0.2.7]) by mail.acme.example with ESMTP; Mon, 23 "
      "Nov 2026 08:00:00 -0500");
  EXPECT_TRUE(has("received 'mx.example.net'"));
  EXPECT_TRUE(has("received '192.0.2.7'"));
  EXPECT_TRUE(has("hop 1 'name matches'"));
  EXPECT_FALSE(has("received 'mail.acme.example'"));
  EXPECT_FALSE(has("received 'nov'"));

  // A relay calling itself localhost from a real address is not the receiving machine.
  auto claims_local = features_with_received(
      "from localhost (dsl-12.example.net [198.51.100.9]) by mail.acme.example with SMTP");
  EXPECT_TRUE(claims_local("hop 1 'local'"));
  EXPECT_TRUE(claims_local("received '198.51.100.9'"));
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

// Real mail, pinned: what extraction and triage made of a few corpus messages before they were
// made faster, so that a speed-up that changes any output fails here. If a change is meant to
// alter the output (new features, a new parser, new wording), run this test with
// SK_PRINT_PINS=1, review the printed pins and paste them over these.
struct Pin {
  const char* file;            // in the corpus folder
  std::size_t ids;             // distinct features
  std::uint64_t sorted_ids;    // checksum of the sorted ids
  std::uint64_t names;         // checksum of the names, in the order of the ids
  std::uint64_t phrases;       // checksum of the watched phrases, in the order found
  std::size_t words;           // word_features: what lessons compare
  std::uint64_t sorted_words;  // checksum of them (sorted)
  double spam_score;
  const char* category;
  const char* disposition;
  double confidence;
  std::vector<std::string> reasons;  // "code: text"
};

std::uint64_t checksum(std::uint64_t h, std::uint64_t v) {
  return (h ^ v) * 1099511628211ull;
}
std::uint64_t checksum(std::uint64_t h, std::string_view s) {
  for (char c : s) h = checksum(h, static_cast<unsigned char>(c));
  return checksum(h, 0x100);  // ends the name
}
template <class T>
std::uint64_t checksum(const std::vector<T>& v) {
  std::uint64_t h = 14695981039346656037ull;
  for (const auto& x : v) h = checksum(h, x);
  return h;
}

Item corpus_item(const std::string& file) {
  return mail::parse_message(sk::test::file_text(sk::test::corpus_dir() + "/" + file));
}

// A model trained on the first messages of the training folders, as reproducible as the
// corpus.
const SpamModel& corpus_subset_model() {
  static const SpamModel model = [] {
    std::vector<LabelledFeatures> ex;
    for (auto [folder, count, spam] :
         {std::tuple{"easy-ham-1", 200, false}, std::tuple{"spam-1", 100, true}}) {
      std::vector<std::string> files;
      for (const auto& e :
           std::filesystem::directory_iterator(sk::test::corpus_dir() + "/" + folder))
        if (e.path().extension() == ".txt") files.push_back(e.path().filename().string());
      std::sort(files.begin(), files.end());
      files.resize(std::min<std::size_t>(files.size(), count));
      for (const auto& f : files)
        ex.push_back({extract_features(corpus_item(std::string(folder) + "/" + f)).ids, spam});
    }
    return SpamModel::train_calibrated(ex);
  }();
  return model;
}

Pin observe(const char* file) {
  const SpamModel& model = corpus_subset_model();
  Item item = corpus_item(file);
  FeatureOptions named;
  named.with_names = true;
  named.watch = &category_cues();
  FeatureSet fs = extract_features(item, named);
  Pin p{file};
  p.ids = fs.ids.size();
  auto sorted = fs.ids;
  std::sort(sorted.begin(), sorted.end());
  p.sorted_ids = checksum(sorted);
  p.names = checksum(fs.names);
  p.phrases = checksum(fs.phrases);
  auto words = word_features(item);
  p.words = words.size();
  p.sorted_words = checksum(words);
  Policy policy;
  policy.screener = false;
  Party party;
  Decision d = triage::triage({item, party, policy, model, {}, 1'700'000'000});
  p.spam_score = d.spam_score;
  p.category = to_string(d.category).data();
  p.disposition = to_string(d.disposition).data();
  p.confidence = d.confidence;
  for (const auto& r : d.reasons) p.reasons.push_back(r.code + ": " + r.text);
  return p;
}

std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Prints a pin as the C++ that pins() holds.
void print_pin(const Pin& p) {
  auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("    {\"%s\", %zu, %lluull, %lluull, %lluull, %zu, %lluull, ", p.file, p.ids,
              u(p.sorted_ids), u(p.names), u(p.phrases), p.words, u(p.sorted_words));
  std::printf("%.17g, \"%s\", \"%s\", %.17g,\n     {", p.spam_score, p.category, p.disposition,
              p.confidence);
  for (std::size_t i = 0; i < p.reasons.size(); ++i)
    std::printf("%s%s", i ? ",\n      " : "", quoted(p.reasons[i]).c_str());
  std::printf("}},\n");
}

const std::vector<Pin>& pins() {
  // clang-format off
  static const std::vector<Pin> all = {
    {"easy-ham-2/00001.1a31cc283af0060967a233d26548a6ce.txt", 1310, 10552936379001137614ull, 5133927307411295747ull, 7870958492012112666ull, 405, 4728801110931895131ull, 0.0010063718681496542, "newsletter", "handled", 0.57894736842105265,
     {"classifier.category: it looks like newsletter / bulk: Precedence: bulk, mentions 'mailing list'",
      "delegation: the client's delegation for newsletter / bulk is silent"}},
    {"easy-ham-2/00106.5c4519d12bf9435ebbc0c648836b21b1.txt", 883, 11629472911614220559ull, 11422755072195256095ull, 92852531077032179ull, 298, 336729993361988387ull, 0.010746541427570628, "support", "awaiting-va", 0.375,
     {"classifier.category: it looks like support: mentions 'doesn't work', mentions 'problem', mentions 'can't'",
      "low_confidence: I am not sure (38%), so a VA should look"}},
    {"easy-ham-2/00300.7c83dd137e4d39f9be3db9eafefdd7e6.txt", 320, 4252800971101226952ull, 11589500723537331308ull, 13744519496585525893ull, 104, 9504624555985480346ull, 0.017848959904760212, "newsletter", "handled", 0.5,
     {"classifier.category: it looks like newsletter / bulk: Precedence: bulk",
      "delegation: the client's delegation for newsletter / bulk is silent"}},
    {"easy-ham-2/00900.a95137fbc6f04e8669849f4319a371bb.txt", 224, 16053341002680520495ull, 16970439647774374391ull, 17998757602310443674ull, 71, 236955146566221897ull, 0.0020501610059815343, "newsletter", "handled", 0.5714285714285714,
     {"classifier.category: it looks like newsletter / bulk: Precedence: bulk",
      "delegation: the client's delegation for newsletter / bulk is silent"}},
    {"hard-ham-1/00130.f1caab154ed658777c7c75bef652fba2.txt", 1236, 17000912280294353981ull, 4876125563408191888ull, 15120861124945716947ull, 441, 2686573270961343653ull, 0.2589481776998489, "spam", "screened", 0.2589481776998489,
     {"classifier.spam: it looks like spam (scores 26%; 17% and up is spam): shape 'HTML only', content-type 'html', html element 'font', html element 'br'"}},
    {"hard-ham-1/00200.a255046d0e3434e840e71179b89f2c6f.txt", 342, 16696461166140712458ull, 1612554643396523833ull, 17801366373956228970ull, 122, 15303200373692776265ull, 0.81396716993128992, "spam", "screened", 0.81396716993128992,
     {"classifier.spam: it looks like spam (scores 81%; 17% and up is spam): word 'wish', word 'click', pair 'wish to', word 'please'"}},
    {"spam-2/00001.317e78fa8ee2f54cd4890fdc09ba8176.txt", 786, 5033817636843609204ull, 926835430806335010ull, 15057846714922768555ull, 251, 7162526270526221371ull, 0.50881714884771834, "spam", "screened", 0.50881714884771834,
     {"classifier.spam: it looks like spam (scores 51%; 17% and up is spam): word 'our', word 'click', word 'please', subject '<mostly capitals>'"}},
    {"spam-2/00400.9360c6d3f34caf75a4c5439852153b71.txt", 520, 7024179390752835819ull, 12602599546196136228ull, 14380966922655123572ull, 174, 16516128846692103626ull, 0.90374224857141638, "spam", "screened", 0.90374224857141638,
     {"classifier.spam: it looks like spam (scores 90%; 17% and up is spam): word 'our', word 'address', word 'money', pair 'you to'"}},
    {"spam-2/01004.f3ce5cdf52dbe7ed22354f1ab95376d6.txt", 219, 14906731596070416531ull, 1023633575246225795ull, 905783356259204629ull, 64, 13928816543689425185ull, 0.99178057907669503, "spam", "screened", 0.99178057907669503,
     {"classifier.spam: it looks like spam (scores 99%; 17% and up is spam): pair 'click here', shape 'HTML only', content-type 'html', html element 'font'"}},
    {"spam-2/01095.520dcad6e0ebb4d30222292f51ee76ab.txt", 2040, 11975488442353280556ull, 17814002629183383793ull, 14176059442104806306ull, 681, 8210803014334837123ull, 0.42754022628456068, "spam", "screened", 0.42754022628456068,
     {"classifier.spam: it looks like spam (scores 43%; 17% and up is spam): word 'our', word 'we', pair 'if you', word 'address'"}},
  };
  // clang-format on
  return all;
}

TEST(Pinned, CorpusMessagesKeepTheirFeaturesAndDecisions) {
  SK_REQUIRE_CORPUS();
  if (std::getenv("SK_PRINT_PINS")) {
    for (const Pin& p : pins()) print_pin(observe(p.file));
    return;
  }
  for (const Pin& want : pins()) {
    SCOPED_TRACE(want.file);
    Pin got = observe(want.file);
    EXPECT_EQ(got.ids, want.ids);
    EXPECT_EQ(got.sorted_ids, want.sorted_ids);
    EXPECT_EQ(got.names, want.names);
    EXPECT_EQ(got.phrases, want.phrases);
    EXPECT_EQ(got.words, want.words);
    EXPECT_EQ(got.sorted_words, want.sorted_words);
    EXPECT_NEAR(got.spam_score, want.spam_score, 1e-12);
    EXPECT_STREQ(got.category, want.category);
    EXPECT_STREQ(got.disposition, want.disposition);
    EXPECT_NEAR(got.confidence, want.confidence, 1e-12);
    EXPECT_EQ(got.reasons, want.reasons);
  }
}

}  // namespace
