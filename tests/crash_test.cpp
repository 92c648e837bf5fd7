// The engine killed with SIGKILL at random moments while mail keeps arriving: after it starts
// again, every message is decided exactly once and every reply went out exactly once, counted
// in the recipient's real mailbox (Dovecot + Postfix on loopback, tests/mailserver.hpp).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "app/cli.hpp"
#include "mail/message.hpp"
#include "mailserver.hpp"
#include "store/db.hpp"
#include "support.hpp"

extern char** environ;

using namespace sk;
using namespace std::chrono_literals;

namespace {

constexpr int kMessages = 300;

// `sidekick --home HOME serve` as a child process.
pid_t start_serve(const std::string& home, const std::string& log) {
  return test::spawn_logged({SK_SIDEKICK_BIN, "--home", home, "serve", "--no-console"}, log, true);
}

std::int64_t count(store::Db& db, const std::string& sql) {
  auto rows = db.query(sql);
  return rows.ok() && !rows->empty() ? rows->at(0).i64(0) : -1;
}

std::string question(const std::string& from, int n, const std::string& tag) {
  return "From: Bob <" + from + ">\r\nTo: carol@sidekick.test\r\nSubject: Question " +
         std::to_string(n) + "\r\nMessage-ID: <q-" + std::to_string(n) + "-" + tag +
         "@test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nQuestion number " +
         std::to_string(n) + ", please.\r\n";
}

TEST(CrashTest, KilledAtRandomMomentsItDecidesEachMessageOnceAndRepliesOnce) {
  auto& server = test::MailServer::shared();
  test::TempDir home;
  const std::string log = home.str() + "/serve.log";
  FixedClock setup_clock{1'795'000'000};
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", home.str()});
    std::ostringstream out, err;
    int code = app::run_cli(args, out, err, setup_clock);
    EXPECT_EQ(code, 0) << err.str();
  };
  const auto carol = server.user("carol");
  const auto bob = server.user("bob");
  ::setenv("SK_CRASH_TEST_PASSWORD", carol.password.c_str(), 1);
  cli({"client", "add", "carol", "--name", "Carol Shop", "--email", carol.address});
  cli({"account",
       "add",
       "--client",
       "carol",
       carol.address,
       "--imap-host",
       "127.0.0.1",
       "--imap-port",
       std::to_string(server.imap_port()),
       "--imap-security",
       "starttls",
       "--smtp-host",
       "127.0.0.1",
       "--smtp-port",
       std::to_string(server.smtp_port()),
       "--smtp-security",
       "starttls",
       "--username",
       carol.name,
       "--password-env",
       "SK_CRASH_TEST_PASSWORD",
       "--no-verify"});
  // Every question from Bob gets an acknowledgement (no once-per-period limit), so each of the
  // 300 messages has exactly one reply to count.
  cli({"client", "set", "carol", "--auto-reply-hours", "0"});
  {
    std::ofstream rules(home.str() + "/rules.toml");
    rules << "[[rule]]\nname = \"acknowledge Bob\"\nwhen.from = \"" << bob.address
          << "\"\nthen.reply = \"acknowledge\"\nthen.let_through = true\n";
  }
  cli({"rules", "import", "--client", "carol", home.str() + "/rules.toml"});

  const std::string tag = std::to_string(::getpid());
  std::atomic<int> delivered{0};
  std::thread mail_arrives([&] {
    for (int n = 0; n < kMessages; ++n) {
      server.deliver("carol", question(bob.address, n, tag));
      delivered = n + 1;  // a delivery takes a while by itself (dovecot-lda)
    }
  });

  const unsigned seed = static_cast<unsigned>(::getpid());
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> lifetime_ms(40, 700);
  int kills = 0;
  while (delivered < kMessages || kills < 12) {
    pid_t pid = start_serve(home.str(), log);
    ASSERT_GT(pid, 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(lifetime_ms(random)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ++kills;
  }
  mail_arrives.join();

  // Started once more, it finishes the work.
  pid_t pid = start_serve(home.str(), log);
  ASSERT_GT(pid, 0);
  auto db = std::move(store::open_sqlite(home.str() + "/sidekick.db")).value();
  const auto deadline = std::chrono::steady_clock::now() + 180s;
  while (std::chrono::steady_clock::now() < deadline &&
         count(*db, "SELECT COUNT(*) FROM outgoing WHERE status = 'sent' AND filed = 1") <
             kMessages)
    std::this_thread::sleep_for(200ms);
  std::map<std::string, int> replies;  // In-Reply-To → replies in Bob's mailbox
  while (std::chrono::steady_clock::now() < deadline) {
    replies.clear();
    for (const auto& m : server.messages("bob")) {
      Item reply = mail::parse_message(m);
      if (reply.in_reply_to.find("-" + tag + "@test") != std::string::npos)
        ++replies[reply.in_reply_to];
    }
    if (replies.size() >= static_cast<std::size_t>(kMessages)) break;
    std::this_thread::sleep_for(200ms);
  }
  std::this_thread::sleep_for(1s);  // anything sent twice would be arriving by now
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  replies.clear();
  for (const auto& m : server.messages("bob")) {
    Item reply = mail::parse_message(m);
    if (reply.in_reply_to.find("-" + tag + "@test") != std::string::npos)
      ++replies[reply.in_reply_to];
  }

  SCOPED_TRACE("seed " + std::to_string(seed) + ", " + std::to_string(kills) + " kills");
  EXPECT_GE(kills, 12);
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM items"), kMessages);
  // Exactly one decision per message: none lost, none decided twice.
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM decisions"), kMessages);
  EXPECT_EQ(count(*db, "SELECT COUNT(DISTINCT item_id) FROM decisions"), kMessages);
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM outgoing"), kMessages);
  EXPECT_EQ(count(*db, "SELECT COUNT(DISTINCT item_id) FROM outgoing"), kMessages);
  EXPECT_EQ(count(*db, "SELECT COUNT(*) FROM effects WHERE status NOT IN ('done')"), 0);
  EXPECT_EQ(replies.size(), static_cast<std::size_t>(kMessages)) << server.logs();
  int twice = 0;
  for (const auto& [id, n] : replies) twice += n > 1;
  EXPECT_EQ(twice, 0);
  // One copy of each reply in the client's Sent folder.
  EXPECT_EQ(server.messages("carol", "Sent").size(), static_cast<std::size_t>(kMessages));
}

}  // namespace
