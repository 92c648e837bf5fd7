// The `sidekick` command, run in-process: outputs, exit codes and errors a user sees.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/backup.hpp"
#include "app/cli.hpp"
#include "app/home.hpp"
#include "postgres.hpp"
#include "store/db.hpp"
#include "support.hpp"
#include "triage/spam_model.hpp"

using namespace sk;

namespace {

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

struct CliTest : ::testing::Test {
  sk::test::TempDir home;
  FixedClock clock{1'750'000'000};

  CliRun run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", home.str(), "--by", "va:test"});
    std::ostringstream out, err;
    int code = app::run_cli(args, out, err, clock);
    return {code, out.str(), err.str()};
  }
};

TEST_F(CliTest, ClientAddAndList) {
  auto r = run({"client", "add", "acme", "--name", "Acme Co", "--email", "boss@acme.example"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("added client acme"), std::string::npos);
  r = run({"client", "add", "acme"});
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("already exists"), std::string::npos);
  r = run({"client", "add", "Not Valid"});
  EXPECT_EQ(r.code, 2);
  r = run({"client", "list"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Acme Co"), std::string::npos);
}

TEST_F(CliTest, BadInputGetsClearErrorsAndExitCodes) {
  ASSERT_EQ(run({"client", "add", "acme"}).code, 0);
  auto r = run({"import", "--client", "acme", "/no/such/mailbox"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("/no/such/mailbox"), std::string::npos);
  r = run({"triage", "--client", "nobody"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("no client 'nobody'"), std::string::npos);
  r = run({"explain", "itm_999"});
  EXPECT_EQ(r.code, 3);
  r = run({"decisions", "--client", "acme", "--format", "xml"});
  EXPECT_EQ(r.code, 2);
  r = run({"frobnicate"});
  EXPECT_EQ(r.code, 2);
  r = run({"party", "set", "--client", "acme", "x@y.example", "--relationship", "frenemy"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown relationship 'frenemy'"), std::string::npos);
  r = run({"evidence", "verify", "--client", "acme"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("intact: 0 entries"), std::string::npos);
}

// A model trained by an earlier version (its words hashed otherwise) would score every message
// by weights of other words: every command refuses it and says what to do.
TEST_F(CliTest, AModelAnEarlierVersionTrainedIsRefusedWithWhatToDo) {
  ASSERT_EQ(run({"client", "add", "acme"}).code, 0);
  std::filesystem::create_directories(home.str() + "/models");
  std::ofstream(home.str() + "/models/spam.model", std::ios::binary)
      << "SKSPAM01" << std::string(64, '\0');
  auto r = run({"triage", "--client", "acme"});
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("spam.model"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("train it again (`sidekick model train`)"), std::string::npos) << r.err;
  r = run({"model", "info"});
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("train it again"), std::string::npos) << r.err;
}

TEST_F(CliTest, RulesFileMistakesPointAtTheLine) {
  ASSERT_EQ(run({"client", "add", "acme"}).code, 0);
  std::string path = home.str() + "/rules.toml";
  std::ofstream(path) << "[[rule]]\nname = \"x\"\nwhen.domain = \"a.example\"\nthen.disposition "
                         "= \"somewhere\"\n";
  auto r = run({"rules", "import", "--client", "acme", path});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("rule 1 (\"x\")"), std::string::npos) << r.err;
  std::ofstream(path) << "[[rule]]\nname = \"x\"\nwhen.domain = \"a.example\"\nthen.disposition "
                         "= \"handled\"\n";
  r = run({"rules", "import", "--client", "acme", path});
  EXPECT_EQ(r.code, 0) << r.err;
  r = run({"rules", "list", "--client", "acme"});
  EXPECT_NE(r.out.find("1. x"), std::string::npos);
}

// The same commands on either store: the home folder's SQLite file, or the PostgreSQL database
// SIDEKICK_DATABASE names (a fresh one on a real server the test starts).
struct CliEngineTest : CliTest, ::testing::WithParamInterface<std::string> {
  void SetUp() override {
    if (GetParam() == "postgresql")
      ::setenv("SIDEKICK_DATABASE", sk::test::Postgres::shared().fresh_database().c_str(), 1);
  }
  void TearDown() override { ::unsetenv("SIDEKICK_DATABASE"); }
};

INSTANTIATE_TEST_SUITE_P(Engines, CliEngineTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST_P(CliEngineTest, ImportTriageDecisionsExplainTeachAudit) {
  SK_REQUIRE_CORPUS();
  ASSERT_EQ(run({"client", "add", "acme"}).code, 0);
  auto r = run({"model", "train", "--corpus", sk::test::corpus_dir()});
  ASSERT_EQ(r.code, 0) << r.err;
  std::string spam = sk::test::corpus_dir() + "/spam-2/00001.317e78fa8ee2f54cd4890fdc09ba8176.txt";
  std::string ham =
      sk::test::corpus_dir() + "/easy-ham-2/00001.1a31cc283af0060967a233d26548a6ce.txt";
  r = run({"import", "--client", "acme", spam, ham});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2 new"), std::string::npos) << r.out;
  r = run({"import", "--client", "acme", spam, ham});
  EXPECT_NE(r.out.find("0 new, 2 already imported"), std::string::npos) << r.out;
  r = run({"party", "set", "--client", "acme", "bogus@example.invalid", "--relationship", "vip"});
  ASSERT_EQ(r.code, 0);
  r = run({"triage", "--client", "acme"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("decided 2 items"), std::string::npos);

  r = run({"decisions", "--client", "acme", "--format", "json"});
  ASSERT_EQ(r.code, 0);
  auto rows = nlohmann::json::parse(r.out);
  ASSERT_EQ(rows.size(), 2u);
  for (const char* key :
       {"id", "from", "subject", "category", "disposition", "confidence", "reasons"})
    EXPECT_TRUE(rows[0].contains(key)) << key;
  EXPECT_EQ(rows[0]["category"], "spam");
  std::string id = rows[0]["id"];

  r = run({"explain", id});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("because:"), std::string::npos);
  EXPECT_NE(r.out.find("What the spam classifier weighed most"), std::string::npos);

  r = run({"teach", id, "--category", "nonsense"});
  EXPECT_EQ(r.code, 2);
  r = run({"teach", id, "--category", "newsletter", "--why", "client subscribed"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = run({"decisions", "--client", "acme", "--format", "json"});
  EXPECT_EQ(nlohmann::json::parse(r.out)[0]["category"], "newsletter");
  r = run({"decisions", "--client", "acme"});
  EXPECT_NE(r.out.find("2 decisions"), std::string::npos);

  r = run({"audit", "--client", "acme"});
  EXPECT_NE(r.out.find("corrected"), std::string::npos);
  EXPECT_NE(r.out.find("client subscribed"), std::string::npos);
  EXPECT_NE(r.out.find("va:test"), std::string::npos);
}

// The screener after an import of real mail: listed, a domain let in, a sender kept out, and
// a name nobody waits under is an error the shell can see.
TEST_F(CliTest, ScreenedSendersAreListedLetInAndKeptOut) {
  SK_REQUIRE_CORPUS();
  ASSERT_EQ(run({"client", "add", "acme"}).code, 0);
  std::vector<std::string> args{"import", "--client", "acme"};
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(sk::test::corpus_dir() + "/easy-ham-2"))
    if (e.path().extension() == ".txt") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  files.resize(40);
  args.insert(args.end(), files.begin(), files.end());
  ASSERT_EQ(run(args).code, 0);
  ASSERT_EQ(run({"triage", "--client", "acme"}).code, 0);

  // Found by sender and words, every word needed.
  auto r = run({"search", "--client", "acme", "deepeddy.com", "--limit", "5"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("5 found"), std::string::npos) << r.out;
  r = run({"search", "--client", "acme", "deepeddy.com", "no-such-word-anywhere"});
  EXPECT_NE(r.out.find("0 found"), std::string::npos) << r.out;

  r = run({"screened", "list", "--client", "acme", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto held = nlohmann::json::parse(r.out);
  ASSERT_GE(held.size(), 3u);
  // The most waiting first; 8 of these 40 are from one exmh-workers regular.
  EXPECT_EQ(held[0]["address"], "cwg-exmh@deepeddy.com");
  EXPECT_EQ(held[0]["items"].size(), 8u);
  const std::size_t senders = held.size();
  r = run({"screened", "list", "--client", "acme"});
  EXPECT_NE(r.out.find(std::to_string(senders) + " senders wait in the screener"),
            std::string::npos)
      << r.out;

  r = run({"screened", "let-in", "--client", "acme", "deepeddy.com", "--why", "exmh list"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("let in 1 sender (8 messages)"), std::string::npos) << r.out;
  const std::string kept = held[1]["address"];
  r = run({"screened", "keep-out", "--client", "acme", kept, "nobody@nowhere.example"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("nothing waits from nobody@nowhere.example"), std::string::npos);
  r = run({"screened", "keep-out", "--client", "acme", "nobody@nowhere.example"});
  EXPECT_EQ(r.code, 3) << r.out;
  EXPECT_NE(r.err.find("nobody named waits in the screener"), std::string::npos);

  held =
      nlohmann::json::parse(run({"screened", "list", "--client", "acme", "--format", "json"}).out);
  EXPECT_EQ(held.size(), senders - 2);
  r = run({"party", "list", "--client", "acme"});
  EXPECT_NE(r.out.find("blocked"), std::string::npos);
  EXPECT_NE(r.out.find(kept), std::string::npos);
  r = run({"audit", "--client", "acme"});
  EXPECT_NE(r.out.find("let in          cwg-exmh@deepeddy.com  — exmh list"), std::string::npos)
      << r.out;
}

TEST_F(CliTest, TheClientChoosesWhenTheDigestIsMailed) {
  ASSERT_EQ(run({"client", "add", "acme", "--email", "boss@acme.example"}).code, 0);
  auto r = run({"client", "set", "acme", "--digest-at", "25:00"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("HH:MM"), std::string::npos) << r.err;
  r = run({"client", "set", "acme", "--digest-at", "07:30", "--zone", "Europe/Paris"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("digest mailed at 07:30"), std::string::npos) << r.out;
  EXPECT_NE(run({"client", "list"}).out.find("digest mailed at 07:30"), std::string::npos);
  EXPECT_NE(run({"audit", "--client", "acme"}).out.find("digest mailed at 07:30"),
            std::string::npos);
  ASSERT_EQ(run({"client", "set", "acme", "--digest-at", "off"}).code, 0);
  EXPECT_EQ(run({"client", "list"}).out.find("digest mailed"), std::string::npos);
  ASSERT_EQ(run({"client", "add", "quiet"}).code, 0);
  r = run({"client", "set", "quiet", "--digest-at", "08:00"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("no address"), std::string::npos) << r.err;
}

TEST_F(CliTest, RoutinesAreAddedListedAndRemoved) {
  ASSERT_EQ(run({"client", "add", "acme"}).code, 0);
  const std::string body = home.str() + "/checkin.txt";
  std::ofstream(body) << "What are you working on today?\n";
  std::vector<std::string> add{"routine",
                               "add",
                               "--client",
                               "acme",
                               "check-in",
                               "--rrule",
                               "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                               "--at",
                               "09:00",
                               "--to",
                               "team@acme.example",
                               "--subject",
                               "Check-in, {{date}}",
                               "--body-file",
                               body};
  auto r = run(add);
  ASSERT_EQ(r.code, 0) << r.err;
  // The test clock is Sunday 15 June 2025, afternoon, UTC.
  EXPECT_NE(r.out.find("next Mon 16 Jun 2025 09:00"), std::string::npos) << r.out;
  auto with = [&](std::vector<std::string> args, const std::string& option,
                  const std::string& value) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
      if (args[i] == option) args[i + 1] = value;
    return args;
  };
  r = run(with(add, "--rrule", "FREQ=FORTNIGHTLY"));
  EXPECT_EQ(r.code, 2);
  r = run(with(add, "--at", "9am"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("HH:MM"), std::string::npos);
  r = run(with(add, "--to", "the team"));
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("not a mail address"), std::string::npos);
  auto later = add;
  later[4] = "monthly";
  later.insert(later.end(), {"--from", "2025-07-01", "--draft"});
  r = run(later);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("next Tue 1 Jul 2025 09:00"), std::string::npos) << r.out;

  r = run({"routine", "list", "--client", "acme"});
  EXPECT_NE(r.out.find("check-in        sends   team@acme.example"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("monthly         drafts"), std::string::npos) << r.out;
  ASSERT_EQ(run({"routine", "remove", "--client", "acme", "monthly"}).code, 0);
  EXPECT_EQ(run({"routine", "remove", "--client", "acme", "monthly"}).code, 3);
  EXPECT_EQ(run({"routine", "list", "--client", "acme"}).out.find("monthly"), std::string::npos);
  EXPECT_NE(run({"audit", "--client", "acme"}).out.find("routine saved"), std::string::npos);
}

TEST_F(CliTest, AccountSecretsAreSealedAtRest) {
  ASSERT_EQ(run({"client", "add", "acme"}).code, 0);
  std::string pw = home.str() + "/pw";
  std::ofstream(pw) << "correct horse battery\n";
  auto r = run({"account", "add", "--client", "acme", "owner@acme.example", "--imap-host",
                "127.0.0.1", "--password-file", pw});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run({"account", "add", "--client", "acme", "owner@acme.example", "--imap-host", "127.0.0.1",
           "--password-file", pw});
  EXPECT_EQ(r.code, 4);
  r = run({"account", "add", "--client", "acme", "x@acme.example", "--imap-host", "h"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("never on the command line"), std::string::npos);
  r = run({"account", "list", "--client", "acme"});
  EXPECT_NE(r.out.find("owner@acme.example"), std::string::npos);
  // The key file is the owner's alone, and the password is nowhere in the database.
  auto perms = std::filesystem::status(home.str() + "/keys/secret.key").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::ifstream db(home.str() + "/sidekick.db", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), {});
  std::ifstream wal(home.str() + "/sidekick.db-wal", std::ios::binary);
  bytes.append((std::istreambuf_iterator<char>(wal)), {});
  EXPECT_EQ(bytes.find("correct horse"), std::string::npos);
}

TEST_F(CliTest, ClientSetChangesDelegationAndTheAutoReplyPeriodWithAnAuditEntry) {
  ASSERT_EQ(run({"client", "add", "acme", "--email", "boss@acme.example"}).code, 0);
  auto r = run({"client", "set", "acme", "--delegation", "support=auto", "--auto-reply-hours", "0",
                "--screener", "off"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("support=auto"), std::string::npos);
  r = run({"client", "set", "acme", "--delegation", "support=sometimes"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("CATEGORY=LEVEL"), std::string::npos);
  EXPECT_EQ(run({"client", "set", "acme"}).code, 2);
  r = run({"client", "set", "acme", "--zone", "Mars/Olympus"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("Mars/Olympus"), std::string::npos) << r.err;
  r = run({"client", "set", "acme", "--zone", "Europe/London"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(run({"client", "list"}).out.find("Europe/London"), std::string::npos);
  ASSERT_EQ(run({"client", "add", "globex", "--zone", "Asia/Kolkata"}).code, 0);
  EXPECT_NE(run({"client", "list"}).out.find("Asia/Kolkata"), std::string::npos);
  EXPECT_EQ(run({"client", "add", "initech", "--zone", "Nowhere"}).code, 2);
  EXPECT_EQ(run({"client", "list"}).out.find("initech"), std::string::npos);
  r = run({"audit", "--client", "acme"});
  EXPECT_NE(r.out.find("policy changed"), std::string::npos);
  // A first-time sender now goes straight through (the screener is off).
  r = run({"import", "--client", "acme", sk::test::shared_data() + "/mime/mixed.eml"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(run({"triage", "--client", "acme"}).code, 0);
  r = run({"decisions", "--client", "acme"});
  EXPECT_EQ(r.out.find("screened"), std::string::npos) << r.out;
  r = run({"outgoing", "list", "--client", "acme"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("nothing written yet"), std::string::npos);
  r = run({"outgoing", "approve", "--client", "acme", "out_99"});
  EXPECT_EQ(r.code, 3);
}

TEST_F(CliTest, APostgreSQLStoreIsNamedByURLAndBackedUpWithItsOwnTools) {
  ::setenv("SIDEKICK_DATABASE", "/var/lib/other.db", 1);
  auto r = run({"client", "list"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("SIDEKICK_DATABASE is not a postgresql:// URL"), std::string::npos) << r.err;
  ::setenv("SIDEKICK_DATABASE", sk::test::Postgres::shared().fresh_database().c_str(), 1);
  ASSERT_EQ(run({"client", "add", "acme"}).code, 0);
  EXPECT_NE(run({"client", "list"}).out.find("acme"), std::string::npos);
  sk::test::TempDir backups;
  r = run({"backup", "create", backups.str() + "/b"});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("back it up with pg_dump"), std::string::npos) << r.err;
  ::unsetenv("SIDEKICK_DATABASE");
  // The home folder's own SQLite store never saw the client.
  EXPECT_EQ(run({"client", "list"}).out.find("acme"), std::string::npos);
}

TEST_F(CliTest, HelpWorks) {
  auto r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("triage"), std::string::npos);
}

}  // namespace

namespace {

struct CliCalendarTest : ::testing::Test {
  sk::test::TempDir home;
  // Monday 2026-06-01 07:00Z = 08:00 in London
  FixedClock clock{1'780'297'200};

  CliRun run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", home.str(), "--by", "va:test"});
    std::ostringstream out, err;
    int code = app::run_cli(args, out, err, clock);
    return {code, out.str(), err.str()};
  }
  std::string write(const std::string& name, const std::string& text) {
    auto p = home.path / name;
    std::ofstream(p) << text;
    return p.string();
  }
};

TEST_F(CliCalendarTest, AvailabilityImportSlotsAndBookings) {
  ASSERT_EQ(run({"client", "add", "acme", "--email", "ann@acme.example"}).code, 0);
  auto r = run({"slots", "--client", "acme", "--type", "intro"});
  EXPECT_EQ(r.code, 3);
  EXPECT_NE(r.err.find("no availability"), std::string::npos) << r.err;
  r = run(
      {"calendar", "availability", "--client", "acme",
       write(
           "a.json",
           R"({"zone":"Europe/London","weekly":{"mon":["09:00-12:00"],"tue":["09:00-12:00"]}})")});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run({"calendar", "type", "--client", "acme",
           write("t.json", R"({"slug":"intro","name":"Intro call","duration_min":60})")});
  ASSERT_EQ(r.code, 0) << r.err;
  // The booking page's own pages cannot be types.
  r = run({"calendar", "type", "--client", "acme",
           write("m.json", R"({"slug":"manage","name":"Manage","duration_min":30})")});
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("the booking page uses that name"), std::string::npos) << r.err;
  r = run({"calendar", "import", "--client", "acme",
           write("busy.ics",
                 "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\nBEGIN:VEVENT\r\nUID:a@x\r\n"
                 "DTSTART;TZID=Europe/London:20260601T100000\r\n"
                 "DTEND;TZID=Europe/London:20260601T110000\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n"
                 "END:VCALENDAR\r\n")});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 1 events"), std::string::npos);
  r = run(
      {"slots", "--client", "acme", "--type", "intro", "--days", "2", "--zone", "Asia/Kolkata"});
  ASSERT_EQ(r.code, 0) << r.err;
  // Mon and Tue 09:00 and 11:00 London (10:00 is busy every day), shown in Kolkata.
  EXPECT_NE(r.out.find("Mon 1 Jun 2026 13:30 (UTC+05:30)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Mon 1 Jun 2026 15:30 (UTC+05:30)"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("14:30"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("4 free times"), std::string::npos) << r.out;
  r = run({"booking", "create", "--client", "acme", "--type", "intro", "--start",
           "2026-06-02T09:00", "--guest-email", "gus@example.org", "--guest-name", "Gus"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("confirmed 2026-06-02T08:00:00Z"), std::string::npos) << r.out;
  r = run({"booking", "create", "--client", "acme", "--type", "intro", "--start",
           "2026-06-02T09:00", "--guest-email", "other@example.org"});
  EXPECT_EQ(r.code, 4);
  EXPECT_NE(r.err.find("no longer free"), std::string::npos) << r.err;
  r = run({"booking", "reschedule", "--client", "acme", "bkg_1", "--start", "2026-06-02T10:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;  // 11:00 London
  r = run({"booking", "cancel", "--client", "acme", "bkg_1", "--why", "guest asked"});
  ASSERT_EQ(r.code, 0) << r.err;
  r = run({"booking", "list", "--client", "acme"});
  EXPECT_NE(r.out.find("cancelled"), std::string::npos) << r.out;
  r = run({"outgoing", "list", "--client", "acme"});
  EXPECT_NE(r.out.find("Cancelled: Intro call"), std::string::npos) << r.out;
  r = run({"audit", "--client", "acme"});
  EXPECT_NE(r.out.find("booking moved"), std::string::npos) << r.out;
  r = run({"booking", "create", "--client", "acme", "--type", "intro", "--start", "tomorrow",
           "--guest-email", "gus@example.org"});
  EXPECT_EQ(r.code, 2);
}

}  // namespace

namespace {

TEST_F(CliTest, TasksAreAddedListedAndDone) {
  ASSERT_EQ(run({"client", "add", "acme", "--zone", "America/Toronto"}).code, 0);
  // The test clock is Sunday 15 June 2025, 15:06 UTC: 11:06 in Toronto.
  auto call = run({"task", "add", "--client", "acme", "Call Dana back", "--due", "2025-06-15 09:00",
                   "--notes", "the quote"});
  ASSERT_EQ(call.code, 0) << call.err;
  EXPECT_EQ(call.out, "task tsk_1 for acme: Call Dana back, due Sunday 15 June 2025, 09:00\n");
  ASSERT_EQ(run({"task", "add", "--client", "acme", "Renew the domain"}).code, 0);
  auto bad = run({"task", "add", "--client", "acme", "x", "--due", "next week"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("YYYY-MM-DD"), std::string::npos);
  EXPECT_EQ(run({"task", "add", "--client", "acme", "x", "--item", "itm_404"}).code, 3);

  auto list = run({"task", "list", "--client", "acme"});
  EXPECT_NE(list.out.find("tsk_1     DUE Sunday 15 June 2025, 09:00"), std::string::npos)
      << list.out;
  EXPECT_NE(list.out.find("tsk_2     no date"), std::string::npos) << list.out;
  EXPECT_EQ(run({"task", "done", "--client", "acme", "tsk_1"}).out, "done: tsk_1 Call Dana back\n");
  EXPECT_EQ(run({"task", "done", "--client", "acme", "tsk_9"}).code, 3);
  EXPECT_EQ(run({"task", "list", "--client", "acme"}).out.find("tsk_1"), std::string::npos);
  EXPECT_NE(run({"task", "list", "--client", "acme", "--done"}).out.find("tsk_1"),
            std::string::npos);
  auto audit = run({"audit", "--client", "acme"});
  EXPECT_NE(audit.out.find("task added"), std::string::npos);
  EXPECT_NE(audit.out.find("task done"), std::string::npos);
}

// An agency's 3 a.m.: the machine is gone and the backup is all there is. What is restored
// must be everything, and open: the clients and their work, and the sealed phone token with the
// key that opens it (without the key every mailbox password would have to be asked again).
struct BackupTest : CliTest {
  sk::test::TempDir elsewhere;
  std::string backup = elsewhere.str() + "/backup";
  std::string restored = elsewhere.str() + "/restored";

  static std::string model_bytes() { return triage::SpamModel().serialize(); }

  CliRun run_in(const std::string& other_home, std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", other_home, "--by", "va:test"});
    std::ostringstream out, err;
    int code = app::run_cli(args, out, err, clock);
    return {code, out.str(), err.str()};
  }

  void make_a_home() {
    ASSERT_EQ(run({"client", "add", "acme", "--email", "boss@acme.example"}).code, 0);
    ASSERT_EQ(run({"task", "add", "--client", "acme", "Call Dana back"}).code, 0);
    std::ofstream(home.str() + "/token") << "the-provider-token";
    auto phone = run({"phone", "add", "--client", "acme", "+14165550100", "--token-file",
                      home.str() + "/token"});
    ASSERT_EQ(phone.code, 0) << phone.err;
    std::ofstream(home.str() + "/models/spam.model", std::ios::binary) << model_bytes();
  }
};

TEST_F(BackupTest, ABackupIsRestoredWholeIntoAnotherHome) {
  make_a_home();
  auto made = run({"backup", "create", backup});
  ASSERT_EQ(made.code, 0) << made.err;
  for (const char* part : {"sidekick.db", "keys/secret.key", "models/spam.model", "clients: 1"})
    EXPECT_NE(made.out.find(part), std::string::npos) << part << " in " << made.out;
  namespace fs = std::filesystem;
  EXPECT_EQ(fs::status(backup).permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(backup + "/keys/secret.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(run({"backup", "verify", backup}).code, 0);

  auto back = run_in(restored, {"backup", "restore", backup});
  ASSERT_EQ(back.code, 0) << back.err;
  EXPECT_NE(run_in(restored, {"client", "list"}).out.find("boss@acme.example"), std::string::npos);
  EXPECT_NE(run_in(restored, {"task", "list", "--client", "acme"}).out.find("Call Dana back"),
            std::string::npos);
  EXPECT_EQ(sk::test::file_text(restored + "/models/spam.model"), model_bytes());
  EXPECT_EQ(fs::status(restored + "/keys/secret.key").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  // The sealed token opens with the restored key.
  auto key = app::open_secret_key(app::Home{restored});
  ASSERT_TRUE(key.ok()) << key.error().message;
  auto db = store::open_sqlite(restored + "/sidekick.db");
  ASSERT_TRUE(db.ok());
  auto rows = (*db)->query("SELECT sealed_token FROM phone_lines");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  auto token = key->open(rows->at(0).str(0));
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(*token, "the-provider-token");

  // Never over a home that has its own data, never into a folder that has something.
  auto again = run_in(restored, {"backup", "restore", backup});
  EXPECT_EQ(again.code, 4);
  EXPECT_NE(again.err.find("already has a database"), std::string::npos) << again.err;
  auto over = run({"backup", "create", backup});
  EXPECT_EQ(over.code, 4);
  EXPECT_NE(over.err.find("is not empty"), std::string::npos) << over.err;
  auto nothing = run_in(elsewhere.str() + "/empty-home", {"backup", "create", backup + "2"});
  EXPECT_EQ(nothing.code, 3);
  EXPECT_NE(nothing.err.find("nothing to back up"), std::string::npos) << nothing.err;
}

// `serve` goes on writing while the backup is taken: the backup is what was committed when it
// began, and nobody waits.
TEST_F(BackupTest, ABackupIsTakenWhileAnotherConnectionWrites) {
  make_a_home();
  auto writer = store::open_sqlite(home.str() + "/sidekick.db");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->exec("BEGIN IMMEDIATE").ok());
  ASSERT_TRUE((*writer)->exec("UPDATE clients SET name = 'Not yet committed'").ok());
  auto made = run({"backup", "create", backup});
  ASSERT_EQ(made.code, 0) << made.err;
  ASSERT_TRUE((*writer)->exec("COMMIT").ok());
  ASSERT_EQ(run_in(restored, {"backup", "restore", backup}).code, 0);
  auto list = run_in(restored, {"client", "list"});
  EXPECT_EQ(list.out.find("Not yet committed"), std::string::npos) << list.out;
  EXPECT_NE(run({"client", "list"}).out.find("Not yet committed"), std::string::npos);
}

TEST_F(BackupTest, ADamagedOrForeignBackupIsRefusedBeforeAnythingIsRestored) {
  make_a_home();
  ASSERT_EQ(run({"backup", "create", backup}).code, 0);
  const std::string key = sk::test::file_text(backup + "/keys/secret.key");
  std::filesystem::remove(backup + "/keys/secret.key");
  auto missing = run({"backup", "verify", backup});
  EXPECT_EQ(missing.code, 4);
  EXPECT_NE(missing.err.find("keys/secret.key is missing"), std::string::npos) << missing.err;
  std::ofstream(backup + "/keys/secret.key", std::ios::binary) << key;
  EXPECT_EQ(run({"backup", "verify", backup}).code, 0);
  {
    std::fstream db(backup + "/sidekick.db", std::ios::in | std::ios::out | std::ios::binary);
    db.seekp(5000);
    db.put('\x5a');
  }
  auto verify = run({"backup", "verify", backup});
  EXPECT_EQ(verify.code, 4);
  EXPECT_NE(verify.err.find("sidekick.db is not what its manifest says"), std::string::npos)
      << verify.err;
  auto restore = run_in(restored, {"backup", "restore", backup});
  EXPECT_EQ(restore.code, 4);
  EXPECT_FALSE(std::filesystem::exists(restored + "/sidekick.db"));
  EXPECT_FALSE(std::filesystem::exists(restored + "/keys/secret.key"));

  std::filesystem::remove(backup + "/MANIFEST");
  auto foreign = run({"backup", "verify", backup});
  EXPECT_EQ(foreign.code, 2);
  EXPECT_NE(foreign.err.find("is not a Sidekick backup"), std::string::npos) << foreign.err;
}

// A restore that fails part way (here a model cannot be written) takes back what it wrote, so
// that once the cause is gone it simply runs again.
TEST_F(BackupTest, ARestoreThatFailsPartWayLeavesNothingBehind) {
  make_a_home();
  ASSERT_EQ(run({"backup", "create", backup}).code, 0);
  const std::string blocker = restored + "/models/spam.model.restoring/in-the-way";
  std::filesystem::create_directories(blocker);
  auto failed = run_in(restored, {"backup", "restore", backup});
  EXPECT_NE(failed.code, 0);
  EXPECT_NE(failed.err.find("nothing was restored"), std::string::npos) << failed.err;
  for (const char* left : {"/sidekick.db", "/sidekick.db.restoring", "/keys/secret.key",
                           "/keys/secret.key.restoring", "/models/spam.model"})
    EXPECT_FALSE(std::filesystem::exists(restored + left)) << left;
  std::filesystem::remove_all(restored + "/models/spam.model.restoring");
  auto again = run_in(restored, {"backup", "restore", backup});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(run_in(restored, {"client", "list"}).out.find("boss@acme.example"), std::string::npos);
}

// A database from a newer Sidekick (a schema this build does not know) is not backed up by it:
// this build could not restore it.
TEST_F(BackupTest, ABackupFromANewerSidekickIsRefused) {
  make_a_home();
  {
    auto db = store::open_sqlite(home.str() + "/sidekick.db");
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->exec("INSERT INTO schema_migrations VALUES (?, 'later')",
                           {std::int64_t{store::latest_schema_version() + 1}})
                    .ok());
  }
  auto made = run({"backup", "create", backup});
  EXPECT_EQ(made.code, 4);
  EXPECT_NE(made.err.find("made by a newer Sidekick"), std::string::npos) << made.err;
  EXPECT_NE(made.err.find("no backup was kept"), std::string::npos) << made.err;
  EXPECT_FALSE(std::filesystem::exists(backup)) << "half a backup looks like one";
  // Into a folder that was there (and empty), it stays there, empty.
  std::filesystem::create_directories(backup);
  EXPECT_EQ(run({"backup", "create", backup}).code, 4);
  EXPECT_TRUE(std::filesystem::is_empty(backup));
}

// `serve --backup-dir` takes one backup a night at its time, and keeps the newest few; the
// folder is the record, so a restarted serve does not take the day's again.
TEST_F(BackupTest, NightlyBackupsAreTakenOnceADayAndTheNewestKept) {
  make_a_home();
  auto db = store::open_sqlite(home.str() + "/sidekick.db");
  ASSERT_TRUE(db.ok());
  const app::Home here{home.str()};
  const app::BackupSchedule nightly{elsewhere.str() + "/nightly", 16 * 60, 2};  // 16:00 UTC
  std::filesystem::create_directories(nightly.dir + "/notes");  // someone else's: left alone
  std::filesystem::create_directories(nightly.dir + "/sidekick-20250101T000000Z");  // no manifest
  FixedClock at(1'750'000'000);  // Sunday 15 June 2025, 15:06:40 UTC
  auto taken = [&]() -> std::string {
    auto r = app::backup_if_due(here, **db, nightly, at);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() && *r ? std::filesystem::path((*r)->dir).filename().string() : "";
  };
  EXPECT_EQ(taken(), "") << "not 16:00 yet";
  at.set(1'750'000'000 + 3600);
  EXPECT_EQ(taken(), "sidekick-20250615T160640Z");
  at.advance(600);
  EXPECT_EQ(taken(), "") << "once a day";
  at.advance(86400);
  EXPECT_EQ(taken(), "sidekick-20250616T161640Z");
  at.advance(86400 + 3600);
  EXPECT_EQ(taken(), "sidekick-20250617T171640Z");
  EXPECT_EQ(taken(), "");
  auto kept = app::scheduled_backups(nightly.dir);
  ASSERT_EQ(kept.size(), 2u) << "the newest two";
  EXPECT_EQ(std::filesystem::path(kept[0]).filename(), "sidekick-20250617T171640Z");
  EXPECT_EQ(std::filesystem::path(kept[1]).filename(), "sidekick-20250616T161640Z");
  EXPECT_TRUE(std::filesystem::exists(nightly.dir + "/notes"));
  EXPECT_TRUE(std::filesystem::exists(nightly.dir + "/sidekick-20250101T000000Z"));
  EXPECT_TRUE(app::verify_backup(kept[0]).ok());

  auto bad = run({"serve", "--backup-dir", nightly.dir, "--backup-at", "25:00"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--backup-at is HH:MM"), std::string::npos) << bad.err;
  bad = run({"serve", "--backup-dir", nightly.dir, "--backup-keep", "0"});
  EXPECT_EQ(bad.code, 2);
}

}  // namespace
