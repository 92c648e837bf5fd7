// Knowledge base files (TOML, CSV) and the matcher.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "support.hpp"
#include "support/kb.hpp"
#include "support/matcher.hpp"
#include "support/text.hpp"

namespace sk::support {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

KbFile shop() {
  auto f = kb_from_toml(read(std::string(SK_SOURCE_DIR) + "/examples/support-kb.toml"),
                        "support-kb.toml");
  EXPECT_TRUE(f.ok()) << f.error().message;
  return f.ok() ? *f : KbFile{};
}

void expect_same(const std::vector<Entry>& a, const std::vector<Entry>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].question, b[i].question);
    EXPECT_EQ(a[i].variants, b[i].variants);
    EXPECT_EQ(a[i].answer, b[i].answer);
    EXPECT_EQ(a[i].tags, b[i].tags);
    EXPECT_EQ(a[i].is_private, b[i].is_private);
  }
}

TEST(KbFile, ReadsTheExampleWithSettings) {
  KbFile f = shop();
  ASSERT_EQ(f.entries.size(), 6u);
  EXPECT_EQ(f.entries[0].key, "shipping-time");
  EXPECT_EQ(f.entries[0].variants.size(), 5u);
  EXPECT_TRUE(f.entries[5].is_private);
  EXPECT_FALSE(f.entries[0].is_private);
  ASSERT_TRUE(f.threshold);
  EXPECT_DOUBLE_EQ(*f.threshold, 0.6);
  EXPECT_EQ(*f.tone, "friendly");
  EXPECT_EQ(*f.signature, "Ana Silva\nSilva Ceramics — handmade in Porto");
}

TEST(KbFile, TomlRoundTripKeepsEverything) {
  KbFile f = shop();
  f.entries[1].answer = "Line one\n\"quoted\" \\ back\tslash, ünïcode";
  Settings s{0.75, "Sig \"x\"\nline 2", "formal"};
  auto back = kb_from_toml(kb_to_toml(f.entries, s), "export.toml");
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same(f.entries, back->entries);
  EXPECT_DOUBLE_EQ(*back->threshold, 0.75);
  EXPECT_EQ(*back->signature, s.signature);
  EXPECT_EQ(*back->tone, "formal");
}

TEST(KbFile, CsvRoundTripKeepsEverything) {
  KbFile f = shop();
  f.entries[2].answer = "Commas, \"quotes\"\nand new lines";
  std::string csv = kb_to_csv(f.entries);
  auto back = kb_from_csv(csv, "export.csv");
  ASSERT_TRUE(back.ok()) << back.error().message;
  expect_same(f.entries, back->entries);
}

TEST(KbFile, CsvFromASpreadsheet) {
  // Columns in any order, a byte-order mark, CRLF, optional columns left out.
  std::string csv =
      "\xEF\xBB\xBFQuestion,Key,Answer,Private\r\n"
      "\"Where are you, exactly?\",where,\"Rua das Flores 12, Porto\",no\r\n"
      "\r\n"
      "Opening hours?,hours,\"Mon-Fri 9-18\nSat 10-14\",\r\n";
  auto f = kb_from_csv(csv, "faq.csv");
  ASSERT_TRUE(f.ok()) << f.error().message;
  ASSERT_EQ(f->entries.size(), 2u);
  EXPECT_EQ(f->entries[0].question, "Where are you, exactly?");
  EXPECT_EQ(f->entries[1].answer, "Mon-Fri 9-18\nSat 10-14");
  EXPECT_FALSE(f->entries[1].is_private);
}

void expect_error(const Result<KbFile>& r, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << needle;
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_NE(r.error().message.find(needle), std::string::npos) << r.error().message;
}

TEST(KbFile, TomlMistakesNameTheLine) {
  expect_error(kb_from_toml("[[entry]]\nkey = \"a\"\nquestion = \"q\"\n", "kb.toml"),
               "kb.toml:1: entry 1 (\"a\"): answer is empty");
  expect_error(kb_from_toml("[[entry]]\nkey = \"a\"\nquestion = \"q\"\nanswer = \"x\"\n\n"
                            "[[entry]]\nkey = \"a\"\nquestion = \"q2\"\nanswer = \"y\"\n",
                            "kb.toml"),
               "kb.toml:6: entry 2 (\"a\"): key \"a\" is used twice");
  expect_error(
      kb_from_toml("[[entry]]\nkey = \"a\"\nquestion = \"q\"\nanswer = \"x\"\ncolour = 1\n",
                   "kb.toml"),
      "unknown key 'colour'");
  expect_error(
      kb_from_toml("[[entry]]\nkey = \"a b\"\nquestion = \"q\"\nanswer = \"x\"\n", "kb.toml"),
      "key must be");
  expect_error(kb_from_toml("[settings]\nthreshold = 1.5\n", "kb.toml"),
               "kb.toml:2: settings.threshold must be a number from 0 to 1");
  expect_error(kb_from_toml("[settings]\ntone = \"grumpy\"\n", "kb.toml"),
               "friendly, formal or brief");
  expect_error(
      kb_from_toml("[[entry]]\nkey = \"a\"\nquestion = \"q\"\nanswer = \"x\"\nprivate = \"yes\"\n",
                   "kb.toml"),
      "private must be true or false");
  expect_error(kb_from_toml("[[entry]\nkey = 1\n", "kb.toml"), "kb.toml:1:");
  expect_error(kb_from_toml("faq = 1\n", "kb.toml"), "unknown top-level key 'faq'");
}

TEST(KbFile, CsvMistakesNameTheLine) {
  expect_error(kb_from_csv("key,question\na,b\n", "kb.csv"), "kb.csv:1: the header needs");
  expect_error(kb_from_csv("key,question,answer,colour\n", "kb.csv"), "unknown column 'colour'");
  expect_error(kb_from_csv("key,question,answer\na,q,x\nb,q2\n", "kb.csv"),
               "kb.csv:3: 2 fields where the header has 3");
  expect_error(kb_from_csv("key,question,answer\na,q,\"never closed\n\n", "kb.csv"),
               "kb.csv:2: a quoted field is never closed");
  expect_error(
      kb_from_csv("key,question,answer\r\na,q,x\r\n\"b\",\"multi\nline\",y\r\nb,q,z\r\n", "kb.csv"),
      "kb.csv:5: entry 3 (\"b\"): key \"b\" is used twice");
  expect_error(kb_from_csv("key,question,answer,private\na,q,x,maybe\n", "kb.csv"),
               "kb.csv:2: private must be true or false");
  expect_error(kb_from_csv("key,question,answer\na,q,x\"y\n", "kb.csv"), "a quote inside");
  expect_error(kb_from_csv("", "kb.csv"), "empty");
}

TEST(Text, QuestionWithoutQuoteOrSignature) {
  std::string body =
      "Hi, is the blue mug dishwasher safe?\n\nThanks\n-- \nBob Smith\nCEO, Example Inc\n";
  std::string q = question_text("Re: Fwd: mug question", body);
  EXPECT_EQ(q.find("Re:"), std::string::npos);
  EXPECT_NE(q.find("mug question"), std::string::npos);
  EXPECT_NE(q.find("dishwasher"), std::string::npos);
  EXPECT_EQ(q.find("CEO"), std::string::npos);
  std::string reply =
      "Still not here!\n\nOn Mon, 2 Nov 2026, Shop <shop@example.com> wrote:\n> Orders leave our "
      "studio within 2 days\n";
  q = question_text("Re: order", reply);
  EXPECT_NE(q.find("Still not here"), std::string::npos);
  EXPECT_EQ(q.find("wrote:"), std::string::npos);
  EXPECT_EQ(q.find("studio"), std::string::npos);
  EXPECT_EQ(words("Hasn't ARRIVED, 2 weeks!"),
            (std::vector<std::string>{"hasnt", "arrived", "2", "weeks"}));
}

class MatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    entries = shop().entries;
    auto m = Matcher::build(entries);
    ASSERT_TRUE(m.ok()) << m.error().message;
    matcher = *m;
  }
  std::string best(const std::string& q) {
    auto s = matcher.match(q, 3);
    return s.empty() ? std::string() : entries[s[0].entry].key;
  }
  std::vector<Entry> entries;
  Matcher matcher;
};

TEST_F(MatcherTest, FindsTheEntryForNewWordings) {
  EXPECT_EQ(best("hi, when can I expect my parcel to be delivered?"), "shipping-time");
  EXPECT_EQ(best("I'd like a refund on the teapot please"), "returns");
  EXPECT_EQ(best("one of the cups came cracked in the box"), "broken-item");
  EXPECT_EQ(best("is the glaze ok for the dishwasher?"), "dishwasher");
  EXPECT_EQ(best("we run a cafe and would like to order in bulk"), "wholesale");
  // A typo the stemmer cannot fix still shares character n-grams.
  EXPECT_EQ(best("dishwaser safe?"), "dishwasher");
}

TEST_F(MatcherTest, ThreeSuggestionsBestFirstWithConfidence) {
  auto s = matcher.match("Can I return the mug I bought?", 3);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(entries[s[0].entry].key, "returns");
  EXPECT_GE(s[0].score, s[1].score);
  EXPECT_GE(s[1].score, s[2].score);
  EXPECT_GT(s[0].confidence, s[1].confidence);
  double sum = 0;
  for (const auto& e : matcher.match("Can I return the mug I bought?", entries.size()))
    sum += e.confidence;
  EXPECT_LE(sum, 1.0 + 1e-6);
}

TEST_F(MatcherTest, UnrelatedQuestionsAreNotConfident) {
  auto close = matcher.match("How long does shipping take to Spain?", 1);
  ASSERT_FALSE(close.empty());
  auto none = matcher.match("zzzz qqqq", 1);
  ASSERT_FALSE(none.empty());
  EXPECT_EQ(none[0].confidence, 0);
  auto off = matcher.match("What do you think about the election results?", 1);
  ASSERT_FALSE(off.empty());
  EXPECT_LT(off[0].confidence, close[0].confidence);
  EXPECT_LT(off[0].confidence, 0.6);
  auto weather = matcher.match("Is it going to rain in Lisbon tomorrow?", 1);
  ASSERT_FALSE(weather.empty());
  EXPECT_LT(weather[0].confidence, 0.6);
}

TEST(Matcher, EmptyKnowledgeBaseSuggestsNothing) {
  auto m = Matcher::build({});
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->match("anything", 3).empty());
}

TEST(Matcher, EveryMethodRanksTheObviousEntryFirst) {
  auto entries = shop().entries;
  for (Method method : {Method::overlap, Method::bm25, Method::linear, Method::combined}) {
    MatcherOptions o;
    o.method = method;
    auto m = Matcher::build(entries, o);
    ASSERT_TRUE(m.ok());
    auto s = m->match("Do you sell wholesale to shops?", 1);
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(entries[s[0].entry].key, "wholesale") << static_cast<int>(method);
  }
}

}  // namespace
}  // namespace sk::support
