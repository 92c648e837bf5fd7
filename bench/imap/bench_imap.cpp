// bench/imap: live mailbox numbers on loopback, against the tests' private Dovecot + Postfix.
//  1. New message appended → action applied: a watcher (IDLE) runs; each of N messages from a
//     first-time sender is APPENDed to INBOX and the clock stops when the message file shows
//     up in Sidekick/Screened on disk (the outside world's view). p50 / p99 / max.
//  2. First pass over a 10,000-message INBOX: mbsync (isync) pulling the mailbox into a local
//     Maildir, and Sidekick's first-pass fetch of the same messages (UID SEARCH SINCE + FETCH
//     BODY.PEEK[] in batches), same server, same run, best of two each; then Sidekick's whole
//     first pass (take in, decide, act) once, as a VA would see it.
// Usage: bench_imap CORPUS_DIR [--latency N] [--inbox N]
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "engine/engine.hpp"
#include "engine/mailbox.hpp"
#include "mailserver.hpp"
#include "store/accounts.hpp"
#include "store/repos.hpp"

using namespace sk;
namespace fs = std::filesystem;
using Wall = std::chrono::steady_clock;

namespace {

double ms_since(Wall::time_point t0) {
  return std::chrono::duration<double, std::milli>(Wall::now() - t0).count();
}

std::size_t files_in(const fs::path& maildir) {
  std::size_t n = 0;
  for (const char* sub : {"new", "cur"}) {
    std::error_code ec;
    for (fs::directory_iterator it(maildir / sub, ec), end; !ec && it != end; it.increment(ec)) ++n;
  }
  return n;
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

struct Setup {
  std::unique_ptr<store::Db> db;
  std::unique_ptr<store::DbIds> ids;
  std::unique_ptr<engine::Engine> engine;
  store::AccountRecord account;
};

Setup make_setup(test::MailServer& server, const std::string& user, const fs::path& dbfile,
                 SystemClock& clock) {
  Setup s;
  s.db = std::move(store::open_sqlite(dbfile.string())).value();
  if (!store::migrate(*s.db).ok()) throw std::runtime_error("migrate");
  s.ids = std::make_unique<store::DbIds>(*s.db);
  s.engine = std::make_unique<engine::Engine>(*s.db, clock, *s.ids, triage::SpamModel{});
  auto u = server.user(user);
  auto client = store::create_client(*s.db, *s.ids, clock, user, user, u.address);
  store::AccountRecord a;
  a.client = client->id;
  a.address = u.address;
  a.username = u.name;
  a.sealed_secret = "unused";
  a.secret_kind = "password";
  a.imap_host = "127.0.0.1";
  a.imap_port = server.imap_port();
  a.imap_security = "starttls";
  a.verify_certificate = false;
  a.first_pass_days = 30;
  s.account = *store::add_account(*s.db, *s.ids, clock, a);
  return s;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Latency: one message at a time, appended by "someone else", until it is filed.
int latency(test::MailServer& server, const fs::path& work, int n) {
  SystemClock clock;
  Setup s = make_setup(server, "alice", work / "latency.db", clock);
  engine::MailboxWatcher watcher(*s.engine, *s.db, clock, s.account, server.user("alice").password);
  auto first = watcher.poll_once();
  if (!first.ok()) {
    std::cerr << "first round: " << first.error().message << "\n" << server.logs();
    return 1;
  }
  std::atomic<bool> stop{false};
  std::thread watching([&] { watcher.run(stop, 60); });

  mail::ImapConfig as_sender = engine::imap_config(s.account, server.user("alice").password);
  auto sender = mail::ImapSession::connect(as_sender);
  if (!sender.ok()) return 1;
  const fs::path screened = fs::path(server.dir()) / "mail" / "alice" / ".Sidekick.Screened";
  std::vector<double> samples;
  for (int i = 0; i < n; ++i) {
    std::string raw = "From: Sender " + std::to_string(i) + " <sender" + std::to_string(i) +
                      "@first.example>\r\nTo: alice@sidekick.test\r\nSubject: Hello number " +
                      std::to_string(i) + "\r\nMessage-ID: <lat-" + std::to_string(i) +
                      "@first.example>\r\n\r\nA first message from someone new.\r\n";
    auto t0 = Wall::now();
    auto appended = (*sender)->append("INBOX", raw, {});
    if (!appended.ok()) {
      std::cerr << "APPEND: " << appended.error().message << "\n";
      return 1;
    }
    while (files_in(screened) < static_cast<std::size_t>(i + 1)) {
      if (ms_since(t0) > 30000) {
        std::cerr << "message " << i << " was not filed within 30 s\n";
        for (const auto& e : fs::directory_iterator(fs::path(server.dir()) / "mail" / "alice"))
          if (e.is_directory())
            std::cerr << "  " << e.path().filename().string() << ": " << files_in(e.path())
                      << " messages\n";
        auto rows = s.db->query("SELECT COUNT(*) FROM items");
        std::cerr << "  items taken in: " << rows->at(0).i64(0) << "\n";
        stop = true;
        watching.join();
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    samples.push_back(ms_since(t0));
  }
  stop = true;
  watching.join();
  std::printf("append -> filed (IDLE, %d messages): p50 %.1f ms  p99 %.1f ms  max %.1f ms\n", n,
              percentile(samples, 0.5), percentile(samples, 0.99),
              *std::max_element(samples.begin(), samples.end()));
  return 0;
}

// 10,000 distinct messages straight into carol's Maildir (owned by the mail user, as Dovecot
// wants them), cycling through the corpus.
void fill_inbox(test::MailServer& server, const std::string& corpus, int n) {
  std::vector<fs::path> sources;
  for (const char* group : {"easy-ham-1", "spam-1", "hard-ham-1", "spam-2", "easy-ham-2"})
    for (const auto& e : fs::directory_iterator(fs::path(corpus) / group))
      if (e.path().extension() == ".txt") sources.push_back(e.path());
  std::sort(sources.begin(), sources.end());
  const fs::path box = fs::path(server.dir()) / "mail" / "carol";
  const fs::path cur = box / "cur";
  for (const char* sub : {"cur", "new", "tmp"}) fs::create_directories(box / sub);
  struct passwd* mail_user = ::getpwnam("mail");
  for (int i = 0; i < n; ++i) {
    std::string body = read_file(sources[static_cast<std::size_t>(i) % sources.size()]);
    fs::path file = cur / ("1700000000.bench" + std::to_string(i) + ".sidekick:2,");
    std::ofstream(file, std::ios::binary) << "X-Bench-Seq: " << i << "\n" << body;
    if (mail_user) (void)::chown(file.c_str(), mail_user->pw_uid, mail_user->pw_gid);
  }
  if (mail_user) {
    (void)::chown(box.c_str(), mail_user->pw_uid, mail_user->pw_gid);
    for (const auto& e : fs::recursive_directory_iterator(box))
      (void)::chown(e.path().c_str(), mail_user->pw_uid, mail_user->pw_gid);
  }
}

double run_mbsync(test::MailServer& server, const fs::path& work, int round) {
  const fs::path local = work / ("mbsync-" + std::to_string(round));
  fs::remove_all(local);
  fs::create_directories(local);
  const fs::path conf = work / "mbsyncrc";
  // FSync off: mbsync would otherwise fsync every message it stores, and Sidekick's fetch
  // stores nothing; the comparison is about talking to the server.
  std::ofstream(conf) << "FSync no\n\nIMAPAccount bench\nHost 127.0.0.1\nPort "
                      << server.imap_port() << "\nUser carol\nPass "
                      << server.user("carol").password
                      << "\nSSLType None\nAuthMechs LOGIN\n\n"
                         "IMAPStore remote\nAccount bench\n\n"
                         "MaildirStore local\nPath "
                      << local.string() << "/\nInbox " << local.string()
                      << "/inbox\n\n"
                         "Channel bench\nFar :remote:\nNear :local:\nPatterns INBOX\n"
                         "Sync Pull\nCreate Near\nSyncState *\n";
  auto t0 = Wall::now();
  std::string cmd =
      "mbsync -q -c '" + conf.string() + "' bench >'" + (work / "mbsync.log").string() + "' 2>&1";
  int rc = std::system(cmd.c_str());
  double ms = ms_since(t0);
  if (rc != 0) {
    std::cerr << "mbsync failed:\n" << read_file(work / "mbsync.log");
    return -1;
  }
  std::size_t got = files_in(local / "inbox");
  std::printf("  mbsync round %d: %zu messages in %.0f ms\n", round, got, ms);
  return ms;
}

double sidekick_fetch(test::MailServer& server, const store::AccountRecord& account, int round,
                      std::size_t* bytes) {
  auto t0 = Wall::now();
  auto session =
      mail::ImapSession::connect(engine::imap_config(account, server.user("carol").password));
  auto fail = [](const Error& e) {
    std::cerr << "sidekick fetch: " << e.message << "\n";
    return -1.0;
  };
  if (!session.ok()) return fail(session.error());
  if (auto st = (*session)->select("INBOX"); !st.ok()) return fail(st.error());
  auto uids = (*session)->uids_since(std::time(nullptr) - 30 * 86400);
  if (!uids.ok()) return fail(uids.error());
  std::size_t got = 0;
  *bytes = 0;
  for (std::size_t start = 0; start < uids->size(); start += 100) {
    std::vector<std::uint32_t> batch(
        uids->begin() + static_cast<std::ptrdiff_t>(start),
        uids->begin() + static_cast<std::ptrdiff_t>(std::min(uids->size(), start + 100)));
    auto messages = (*session)->fetch(batch);
    if (!messages.ok()) return fail(messages.error());
    got += messages->size();
    for (const auto& m : *messages) *bytes += m.bytes.size();
  }
  double ms = ms_since(t0);
  std::printf("  sidekick fetch round %d: %zu messages in %.0f ms\n", round, got, ms);
  return ms;
}

int first_pass(test::MailServer& server, const fs::path& work, const std::string& corpus, int n) {
  fill_inbox(server, corpus, n);
  SystemClock clock;
  Setup s = make_setup(server, "carol", work / "first-pass.db", clock);
  {
    // Dovecot builds its index on the first look; neither side should pay for that alone.
    auto warm =
        mail::ImapSession::connect(engine::imap_config(s.account, server.user("carol").password));
    if (!warm.ok()) {
      std::cerr << "connect: " << warm.error().message << "\n";
      return 1;
    }
    if (auto st = (*warm)->select("INBOX"); !st.ok()) {
      std::cerr << "select: " << st.error().message << "\n" << server.logs();
      return 1;
    }
  }
  double best_mbsync = 1e18, best_fetch = 1e18;
  std::size_t bytes = 0;
  for (int round = 1; round <= 2; ++round) {
    double m = run_mbsync(server, work, round);
    double f = sidekick_fetch(server, s.account, round, &bytes);
    if (m < 0 || f < 0) return 1;
    best_mbsync = std::min(best_mbsync, m);
    best_fetch = std::min(best_fetch, f);
  }
  std::printf(
      "first-pass fetch of %d messages (%.1f MB): sidekick %.0f ms, mbsync %.0f ms, "
      "ratio mbsync/sidekick %.2f\n",
      n, static_cast<double>(bytes) / 1e6, best_fetch, best_mbsync, best_mbsync / best_fetch);

  engine::MailboxWatcher watcher(*s.engine, *s.db, clock, s.account, server.user("carol").password);
  auto t0 = Wall::now();
  auto round = watcher.poll_once();
  double ms = ms_since(t0);
  if (!round.ok()) {
    std::cerr << "first pass: " << round.error().message << "\n" << server.logs();
    return 1;
  }
  std::printf(
      "sidekick whole first pass (take in, decide, act): %zu taken in, %zu decided, "
      "%zu effects in %.0f ms (%.0f messages/s)\n",
      round->taken_in, round->decided, round->effects_done, ms,
      1000.0 * static_cast<double>(round->taken_in) / ms);
  std::printf(
      "  phases: take in %.0f ms, decide %.0f ms, act %.0f ms (%zu effects, %zu failed); "
      "%llu IMAP commands in the round\n",
      round->take_in_ms, round->decide_ms, round->act_ms, round->effects_done,
      round->effects_failed, static_cast<unsigned long long>(round->imap_commands));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: bench_imap CORPUS_DIR [--latency N] [--inbox N]\n";
    return 2;
  }
  std::string corpus = argv[1];
  int latency_n = 500, inbox_n = 10000;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--latency") latency_n = std::atoi(argv[i + 1]);
    if (flag == "--inbox") inbox_n = std::atoi(argv[i + 1]);
  }
  try {
    auto& server = test::MailServer::shared();
    fs::path work = fs::path(server.dir()) / "bench";
    fs::create_directories(work);
    if (int rc = latency(server, work, latency_n)) return rc;
    return first_pass(server, work, corpus, inbox_n);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
