// `sidekick kb ...` and `sidekick support ...`, run in-process.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "app/cli.hpp"
#include "support.hpp"

using namespace sk;

namespace {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

struct SupportCliTest : ::testing::Test {
  sk::test::TempDir home;
  sk::test::TempDir files;
  FixedClock clock{1'795'000'000};
  const std::string kb = std::string(SK_SOURCE_DIR) + "/examples/support-kb.toml";

  CliRun run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", home.str(), "--by", "va:test"});
    std::ostringstream out, err;
    int code = app::run_cli(args, out, err, clock);
    return {code, out.str(), err.str()};
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = files.str() + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  void SetUp() override {
    ASSERT_EQ(run({"client", "add", "silva", "--email", "shop@silva.example"}).code, 0);
  }
};

TEST_F(SupportCliTest, ImportListAskExportRoundTrip) {
  auto r = run({"kb", "import", "--client", "silva", kb});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 6 entries for silva; threshold 0.60, tone friendly"),
            std::string::npos)
      << r.out;
  r = run({"kb", "list", "--client", "silva"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("account-manager"), std::string::npos);
  EXPECT_NE(r.out.find("private"), std::string::npos);
  EXPECT_NE(r.out.find("(+5 variants)"), std::string::npos);

  r = run({"kb", "ask", "--client", "silva", "is the glaze ok for the dishwasher?"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("1. ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("dishwasher: Are your ceramics dishwasher safe?"), std::string::npos)
      << r.out;
  EXPECT_LT(r.out.find("dishwasher:"), r.out.find("2. ")) << r.out;
  EXPECT_NE(r.out.find("3. "), std::string::npos);
  EXPECT_NE(r.out.find("above the threshold"), std::string::npos) << r.out;
  r = run({"kb", "ask", "--client", "silva", "what will the weather be like tomorrow?"});
  EXPECT_NE(r.out.find("below the threshold"), std::string::npos) << r.out;

  // TOML out, TOML in, the same export again; then CSV the same way.
  auto toml = run({"kb", "export", "--client", "silva"});
  ASSERT_EQ(toml.code, 0);
  ASSERT_EQ(run({"kb", "import", "--client", "silva", write("kb.toml", toml.out)}).code, 0);
  EXPECT_EQ(run({"kb", "export", "--client", "silva"}).out, toml.out);
  auto csv = run({"kb", "export", "--client", "silva", "--format", "csv"});
  ASSERT_EQ(csv.code, 0);
  EXPECT_EQ(csv.out.rfind("key,question,answer,variants,tags,private\r\n", 0), 0u);
  ASSERT_EQ(run({"kb", "import", "--client", "silva", write("kb.csv", csv.out)}).code, 0);
  EXPECT_EQ(run({"kb", "export", "--client", "silva"}).out, toml.out);
}

TEST_F(SupportCliTest, BadFilesAreClearErrorsAndChangeNothing) {
  ASSERT_EQ(run({"kb", "import", "--client", "silva", kb}).code, 0);
  auto before = run({"kb", "export", "--client", "silva"}).out;
  auto r = run({"kb", "import", "--client", "silva",
                write("bad.csv", "key,question,answer\nok,Fine?,Yes\nbroken,No answer\n")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.csv:3: 2 fields where the header has 3"), std::string::npos) << r.err;
  r = run(
      {"kb", "import", "--client", "silva",
       write("bad.toml", "[[entry]]\nkey = \"x\"\nquestion = \"q\"\nanswer = \"Hi {{nmae}}\"\n")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("bad.toml:1: entry 1 (\"x\"): answer uses {{nmae}}"), std::string::npos)
      << r.err;
  r = run({"kb", "import", "--client", "silva", write("kb.txt", "whatever")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("--format"), std::string::npos);
  r = run({"kb", "import", "--client", "nobody", kb});
  EXPECT_EQ(r.code, 3);
  EXPECT_EQ(run({"kb", "export", "--client", "silva"}).out, before);
}

TEST_F(SupportCliTest, SettingsAreValidatedAndAudited) {
  auto r = run({"kb", "settings", "--client", "silva", "--threshold", "0.9", "--tone", "formal",
                "--signature", "Ana\\nSilva Ceramics"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("threshold 0.90, tone formal, signature \"Ana Silva Ceramics\""),
            std::string::npos)
      << r.out;
  EXPECT_NE(
      run({"kb", "export", "--client", "silva"}).out.find("signature = \"Ana\\nSilva Ceramics\""),
      std::string::npos);
  r = run({"kb", "settings", "--client", "silva", "--threshold", "1.5"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("0 to 1"), std::string::npos);
  r = run({"kb", "settings", "--client", "silva", "--tone", "grumpy"});
  EXPECT_EQ(r.code, 2);
  r = run({"audit", "--client", "silva"});
  EXPECT_NE(r.out.find("support settings"), std::string::npos);
}

TEST_F(SupportCliTest, TriageAnswersAndTheConversationIsListed) {
  ASSERT_EQ(run({"kb", "import", "--client", "silva", kb}).code, 0);
  std::string eml = write("q.eml",
                          "From: Bob <bob@kunde.example>\r\nTo: shop@silva.example\r\n"
                          "Subject: Glaze\r\nMessage-ID: <g1@kunde.example>\r\n"
                          "Date: Tue, 17 Nov 2026 10:00:00 +0000\r\n\r\n"
                          "Hi, I have a question about my order: can the mugs go in the "
                          "dishwasher?\r\n");
  ASSERT_EQ(run({"import", "--client", "silva", eml}).code, 0);
  auto r = run({"triage", "--client", "silva"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run({"explain", "itm_1"});
  ASSERT_EQ(r.code, 0) << r.err;
  // The default delegation for support is draft.
  EXPECT_NE(r.out.find("Customer support: drafted (support.ok)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1.  "), std::string::npos);
  EXPECT_NE(r.out.find("dishwasher: Are your ceramics dishwasher safe?"), std::string::npos);
  // Approving the drafted answer settles the item: handled, in the approver's name.
  r = run({"outgoing", "list", "--client", "silva"});
  ASSERT_NE(r.out.find("out_1"), std::string::npos) << r.out;
  r = run({"outgoing", "approve", "--client", "silva", "out_1"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run({"decisions", "--client", "silva", "--format", "json"});
  EXPECT_NE(r.out.find("\"disposition\": \"handled\""), std::string::npos) << r.out;
  r = run({"support", "list", "--client", "silva"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("cnv_1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("open"), std::string::npos);
  EXPECT_NE(r.out.find("bob@kunde.example"), std::string::npos);
  clock.advance(5400);
  r = run({"support", "solve", "--client", "silva", "cnv_1"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run({"support", "list", "--client", "silva", "--format", "json"});
  ASSERT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("\"status\": \"solved\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"resolution_seconds\": 5400"), std::string::npos) << r.out;
  EXPECT_EQ(run({"support", "solve", "--client", "silva", "cnv_9"}).code, 3);
}

}  // namespace
