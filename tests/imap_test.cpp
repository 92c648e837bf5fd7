// The IMAP client against a real Dovecot (tests/fixtures/mailserver), and the fixture's
// Postfix → Dovecot path that sending tests rely on. A few fake servers on loopback check
// that odd answers become errors, not crashes or hangs.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "mail/imap.hpp"
#include "mailserver.hpp"
#include "support.hpp"

namespace sk::mail {
namespace {

using namespace std::chrono_literals;
using test::MailServer;
using SteadyClock = std::chrono::steady_clock;

ImapConfig config(ImapSecurity security, const std::string& user = "alice") {
  auto& server = MailServer::shared();
  auto u = server.user(user);
  ImapConfig c;
  c.host = "127.0.0.1";
  c.port = security == ImapSecurity::tls ? server.imaps_port() : server.imap_port();
  c.security = security;
  c.user = u.name;
  c.password = u.password;
  c.verify_certificate = false;  // the fixture's certificate is self-signed
  c.timeout_seconds = 10;
  return c;
}

std::unique_ptr<ImapSession> open(const ImapConfig& c) {
  auto s = ImapSession::connect(c);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? std::move(s).value() : nullptr;
}

// A message unique within this process, CRLF line ends as IMAP serves them.
std::string message(const std::string& subject) {
  static int n = 0;
  std::string id = std::to_string(::getpid()) + "." + std::to_string(++n);
  std::string m = "From: Sender <sender@example.com>\r\n";
  m += "To: someone@sidekick.test\r\n";
  m += "Subject: " + subject + " " + id + "\r\n";
  m += "Date: Mon, 16 Jun 2025 10:00:00 +0000\r\n";
  m += "Message-ID: <" + id + "@test.example>\r\n";
  m += "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n";
  // A line that is only a dot, and UTF-8: both must survive the trip unchanged.
  m += "Hello,\r\nline two with caf\xc3\xa9.\r\n.\r\nA line that is a dot, above.\r\n";
  return m;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Delivers one message to `user` and returns (message, its UID in INBOX).
std::pair<std::string, std::uint32_t> deliver_one(ImapSession& s, const std::string& user,
                                                  const std::string& subject) {
  auto before = s.select("INBOX");
  EXPECT_TRUE(before.ok()) << before.error().message;
  std::string raw = message(subject);
  MailServer::shared().deliver(user, raw);
  auto uids = s.uids_from(before.ok() ? before->uidnext : 1);
  EXPECT_TRUE(uids.ok()) << uids.error().message;
  if (!uids.ok() || uids->size() != 1) {
    ADD_FAILURE() << "expected exactly one new message";
    return {raw, 0};
  }
  return {raw, uids->front()};
}

// --- connecting -------------------------------------------------------------------------

TEST(Imap, PlainLoginAndCapabilities) {
  auto s = open(config(ImapSecurity::none));
  ASSERT_TRUE(s);
  auto caps = s->capabilities();
  ASSERT_TRUE(caps.ok()) << caps.error().message;
  EXPECT_TRUE(contains(*caps, "IMAP4rev1"));
  EXPECT_TRUE(contains(*caps, "IDLE"));
  EXPECT_TRUE(contains(*caps, "MOVE"));
  EXPECT_TRUE(contains(*caps, "UIDPLUS"));
}

TEST(Imap, LoginWithAddressAsUser) {
  auto c = config(ImapSecurity::none);
  c.user = MailServer::shared().user("alice").address;
  auto s = open(c);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->select("INBOX").ok());
}

TEST(Imap, BadPasswordIsInvalidInput) {
  auto c = config(ImapSecurity::none);
  c.password = "wrong";
  auto s = ImapSession::connect(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::invalid_input);
  EXPECT_NE(s.error().message.find("login as alice"), std::string::npos) << s.error().message;
}

TEST(Imap, Xoauth2Token) {
  auto c = config(ImapSecurity::tls);
  c.password.clear();
  c.oauth2_token = MailServer::shared().oauth2_token("alice");
  auto s = open(c);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->select("INBOX").ok());

  c.oauth2_token = "expired-token";
  auto bad = ImapSession::connect(c);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_input) << bad.error().message;
}

TEST(Imap, StartTls) {
  auto s = open(config(ImapSecurity::starttls));
  ASSERT_TRUE(s);
  auto caps = s->capabilities();
  ASSERT_TRUE(caps.ok());
  // Capabilities are asked again once encrypted: STARTTLS is no longer on offer.
  EXPECT_FALSE(contains(*caps, "STARTTLS"));
  EXPECT_TRUE(s->select("INBOX").ok());
}

TEST(Imap, ImplicitTls) {
  auto s = open(config(ImapSecurity::tls));
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->select("INBOX").ok());
}

TEST(Imap, CertificateVerificationRefusesSelfSigned) {
  for (auto security : {ImapSecurity::tls, ImapSecurity::starttls}) {
    auto c = config(security);
    c.verify_certificate = true;
    auto s = ImapSession::connect(c);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::io);
    EXPECT_NE(s.error().message.find("certificate"), std::string::npos) << s.error().message;
  }
}

TEST(Imap, TlsToPlainPortFailsCleanly) {
  auto c = config(ImapSecurity::tls);
  c.port = MailServer::shared().imap_port();
  c.timeout_seconds = 5;
  auto start = SteadyClock::now();
  auto s = ImapSession::connect(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
  EXPECT_LT(SteadyClock::now() - start, 6s);
}

int closed_port() {
  const int port = sk::test::free_loopback_port();
  EXPECT_NE(port, 0);
  return port;
}

TEST(Imap, ConnectionRefusedIsIoError) {
  ImapConfig c;
  c.host = "127.0.0.1";
  c.port = closed_port();
  c.security = ImapSecurity::none;
  c.user = "alice";
  c.password = "x";
  auto s = ImapSession::connect(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, Errc::io);
  EXPECT_NE(s.error().message.find("refused"), std::string::npos) << s.error().message;
}

// A one-connection server on loopback that plays a script: for each read it waits for a
// line from the client (unless the step is a greeting), then writes the step's text.
class FakeServer {
 public:
  explicit FakeServer(std::vector<std::string> replies, bool then_hang = false)
      : replies_(std::move(replies)), then_hang_(then_hang) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_fd_, 1), 0);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeServer() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }
  int port() const { return port_; }

 private:
  void serve() {
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) return;
    for (size_t i = 0; i < replies_.size(); ++i) {
      std::string reply = replies_[i];
      if (i > 0) {  // the first reply is the greeting; later ones answer a command
        std::string line;
        char c;
        while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
        // "{tag}" in a reply stands for the tag of the command it answers.
        std::string tag = line.substr(0, line.find(' '));
        for (size_t at; (at = reply.find("{tag}")) != std::string::npos;) reply.replace(at, 5, tag);
      }
      (void)!::write(fd, reply.data(), reply.size());
    }
    while (then_hang_ && !stop_) std::this_thread::sleep_for(20ms);
    ::close(fd);
  }
  std::vector<std::string> replies_;
  bool then_hang_;
  std::atomic<bool> stop_{false};
  int listen_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

ImapConfig fake_config(int port) {
  ImapConfig c;
  c.host = "127.0.0.1";
  c.port = port;
  c.security = ImapSecurity::none;
  c.user = "alice";
  c.password = "secret";
  c.timeout_seconds = 2;
  return c;
}

TEST(Imap, OddServersGiveErrors) {
  {
    FakeServer http({"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"});
    auto s = ImapSession::connect(fake_config(http.port()));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::io) << s.error().message;
  }
  {
    // Greets, then hangs up on the first command.
    FakeServer rude({"* OK [CAPABILITY IMAP4rev1] ready\r\n"});
    auto s = ImapSession::connect(fake_config(rude.port()));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::io) << s.error().message;
  }
  {
    // Answers the login with garbage.
    FakeServer garbage({"* OK [CAPABILITY IMAP4rev1] ready\r\n",
                        "* CAPABILITY IMAP4rev1\r\nA1 OK done\r\n",
                        "\x01\x02 )))((( {99999999999}\r\n"});
    auto s = ImapSession::connect(fake_config(garbage.port()));
    ASSERT_FALSE(s.ok());
  }
  {
    // Greets and then says nothing: the timeout ends the wait.
    FakeServer silent({"* OK ready\r\n"}, /*then_hang=*/true);
    auto start = SteadyClock::now();
    auto s = ImapSession::connect(fake_config(silent.port()));
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, Errc::io) << s.error().message;
    EXPECT_LT(SteadyClock::now() - start, 8s);
  }
  {
    // STARTTLS asked of a server that does not offer it: no fallback to clear text.
    FakeServer plain({"* OK [CAPABILITY IMAP4rev1] ready\r\n"}, true);
    auto c = fake_config(plain.port());
    c.security = ImapSecurity::starttls;
    auto s = ImapSession::connect(c);
    ASSERT_FALSE(s.ok());
    EXPECT_NE(s.error().message.find("STARTTLS"), std::string::npos) << s.error().message;
  }
}

TEST(Imap, DroppedConnectionBreaksTheSessionCleanly) {
  // Logs in, answers CAPABILITY and LIST, then hangs up on the next command.
  FakeServer server({"* OK [CAPABILITY IMAP4rev1 IDLE] ready\r\n", "{tag} OK logged in\r\n",
                     "* CAPABILITY IMAP4rev1 IDLE\r\n{tag} OK done\r\n",
                     "* LIST () \".\" \"\"\r\n{tag} OK done\r\n"});
  auto s = ImapSession::connect(fake_config(server.port()));
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto sel = (*s)->select("INBOX");
  ASSERT_FALSE(sel.ok());
  EXPECT_EQ(sel.error().code, Errc::io) << sel.error().message;
  // Every later call says so at once, without touching the dead socket.
  auto start = SteadyClock::now();
  auto again = (*s)->append("INBOX", "x", {});
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("no longer usable"), std::string::npos)
      << again.error().message;
  EXPECT_LT(SteadyClock::now() - start, 100ms);
}

// --- folders and messages -----------------------------------------------------------------

TEST(Imap, SelectGivesUidValidity) {
  auto s = open(config(ImapSecurity::none, "carol"));
  ASSERT_TRUE(s);
  auto st = s->select("INBOX");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_NE(st->uidvalidity, 0u);
  EXPECT_GE(st->uidnext, 1u);
  auto again = s->select("INBOX");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->uidvalidity, st->uidvalidity);

  auto missing = s->select("No/Such/Folder");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found) << missing.error().message;
}

TEST(Imap, CommandsNeedASelectedFolder) {
  auto s = open(config(ImapSecurity::none, "carol"));
  ASSERT_TRUE(s);
  auto r = s->uids_from(1);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input);
}

TEST(Imap, DeliveredMessageFetchedByteForByteWithoutSeen) {
  auto s = open(config(ImapSecurity::none, "alice"));
  ASSERT_TRUE(s);
  auto st = s->select("INBOX");
  ASSERT_TRUE(st.ok());
  std::string raw = message("Exact bytes");
  MailServer::shared().deliver("alice", raw);
  auto on_disk = MailServer::shared().messages("alice");
  EXPECT_TRUE(contains(on_disk, raw)) << "deliver() must store the bytes as given";

  auto uids = s->uids_from(st->uidnext);
  ASSERT_TRUE(uids.ok()) << uids.error().message;
  ASSERT_EQ(uids->size(), 1u);
  EXPECT_GE(uids->front(), st->uidnext);

  for (int round = 0; round < 2; ++round) {
    auto got = s->fetch(*uids);
    ASSERT_TRUE(got.ok()) << got.error().message;
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].uid, uids->front());
    EXPECT_EQ((*got)[0].bytes, raw);
    EXPECT_FALSE(contains((*got)[0].flags, "\\Seen")) << "round " << round;
  }
  // Another session sees it unread too.
  auto other = open(config(ImapSecurity::tls, "alice"));
  ASSERT_TRUE(other);
  ASSERT_TRUE(other->select("INBOX").ok());
  auto again = other->fetch(*uids);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_FALSE(contains((*again)[0].flags, "\\Seen"));

  // UIDs past the end name nothing; uid 0 and duplicates are ignored.
  auto none = s->uids_from(uids->front() + 1000);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  auto mixed = s->fetch({0, uids->front(), uids->front(), uids->front() + 1000});
  ASSERT_TRUE(mixed.ok()) << mixed.error().message;
  ASSERT_EQ(mixed->size(), 1u);
  EXPECT_EQ((*mixed)[0].bytes, raw);
}

TEST(Imap, FetchManyInBatches) {
  auto s = open(config(ImapSecurity::none, "carol"));
  ASSERT_TRUE(s);
  auto st = s->select("INBOX");
  ASSERT_TRUE(st.ok());
  std::vector<std::string> sent;
  for (int i = 0; i < 130; ++i) {
    std::string raw = message("Batch " + std::to_string(i));
    auto uid = s->append("INBOX", raw, {});
    ASSERT_TRUE(uid.ok()) << uid.error().message;
    sent.push_back(raw);
  }
  auto uids = s->uids_from(st->uidnext);
  ASSERT_TRUE(uids.ok());
  ASSERT_EQ(uids->size(), sent.size());
  auto got = s->fetch(*uids);
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_EQ(got->size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ((*got)[i].uid, (*uids)[i]);
    EXPECT_EQ((*got)[i].bytes, sent[i]);
  }
}

TEST(Imap, UidsSince) {
  auto s = open(config(ImapSecurity::none, "bob"));
  ASSERT_TRUE(s);
  auto [raw, uid] = deliver_one(*s, "bob", "Since");
  ASSERT_NE(uid, 0u);
  std::int64_t now = std::time(nullptr);
  auto recent = s->uids_since(now - 2 * 86400);
  ASSERT_TRUE(recent.ok()) << recent.error().message;
  EXPECT_TRUE(std::find(recent->begin(), recent->end(), uid) != recent->end());
  auto future = s->uids_since(now + 3 * 86400);
  ASSERT_TRUE(future.ok());
  EXPECT_TRUE(future->empty());
}

TEST(Imap, CreateFolderTwiceIsFine) {
  auto s = open(config(ImapSecurity::none, "carol"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->create_folder("Sidekick/Screened").ok());
  auto again = s->create_folder("Sidekick/Screened");
  EXPECT_TRUE(again.ok()) << again.error().message;
  auto st = s->select("Sidekick/Screened");
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_NE(st->uidvalidity, 0u);
  // Maildir++ on disk: the "/" hierarchy becomes dots.
  EXPECT_TRUE(
      std::filesystem::is_directory(MailServer::shared().dir() + "/mail/carol/.Sidekick.Screened"));
}

TEST(Imap, NonAsciiFolderNamesTravelAsModifiedUtf7) {
  auto s = open(config(ImapSecurity::none, "carol"));
  ASSERT_TRUE(s);
  const std::string folder = "Sidekick/\u00dcberpr\u00fcft & more";  // UTF-8
  ASSERT_TRUE(s->create_folder(folder).ok());
  EXPECT_TRUE(s->select(folder).ok());
  EXPECT_TRUE(std::filesystem::is_directory(MailServer::shared().dir() +
                                            "/mail/carol/.Sidekick.&ANw-berpr&APw-ft &- more"));
  auto bad = s->create_folder(std::string("bad \xff name"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
}

TEST(Imap, MoveToScreened) {
  auto& server = MailServer::shared();
  auto s = open(config(ImapSecurity::none, "bob"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->create_folder("Sidekick/Screened").ok());
  auto [raw, uid] = deliver_one(*s, "bob", "Move me");
  ASSERT_NE(uid, 0u);
  auto moved = s->move(uid, "Sidekick/Screened");
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_NE(*moved, 0u) << "Dovecot answers MOVE with COPYUID";

  EXPECT_TRUE(contains(server.messages("bob", "Sidekick/Screened"), raw));
  EXPECT_FALSE(contains(server.messages("bob"), raw));
  auto left = s->fetch({uid});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty());

  // Moving it again finds nothing: the caller learns it is already gone.
  auto twice = s->move(uid, "Sidekick/Screened");
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, Errc::not_found) << twice.error().message;

  // The UID COPYUID named is the message in the new folder.
  ASSERT_TRUE(s->select("Sidekick/Screened").ok());
  auto there = s->fetch({*moved});
  ASSERT_TRUE(there.ok());
  ASSERT_EQ(there->size(), 1u);
  EXPECT_EQ((*there)[0].bytes, raw);

  // And back to INBOX (an undo).
  auto back = s->move(*moved, "INBOX");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(contains(server.messages("bob"), raw));
  EXPECT_FALSE(contains(server.messages("bob", "Sidekick/Screened"), raw));
}

// A set with gaps, one UID that was never there and one already moved away: one MOVE, and
// each moved UID paired with the right new one (COPYUID's source "a:c,e,g:h" against its
// destination "x:z" must be expanded and zipped, not read as first UIDs).
TEST(Imap, MoveManyMovesASetAndPairsEachOldUidWithItsNewOne) {
  auto& server = MailServer::shared();
  auto s = open(config(ImapSecurity::none, "bob"));
  ASSERT_TRUE(s);
  const std::string target = "Batch/Target " + std::to_string(::getpid());
  ASSERT_TRUE(s->create_folder(target).ok());
  std::vector<std::string> raws;
  std::vector<std::uint32_t> uids;
  for (int i = 0; i < 10; ++i) {
    auto [raw, uid] = deliver_one(*s, "bob", "Batch " + std::to_string(i));
    ASSERT_NE(uid, 0u);
    raws.push_back(raw);
    uids.push_back(uid);
  }
  // Gone before the batch: moved elsewhere.
  ASSERT_TRUE(s->create_folder(target + " elsewhere").ok());
  ASSERT_TRUE(s->move(uids[8], target + " elsewhere").ok());
  const std::uint32_t never = uids.back() + 1000;
  std::vector<std::uint32_t> batch = {uids[0], uids[1], uids[2], uids[4], uids[6],
                                      uids[7], uids[9], uids[8], never};
  auto present = s->present_uids(batch);
  ASSERT_TRUE(present.ok()) << present.error().message;
  EXPECT_EQ(*present, (std::vector<std::uint32_t>{uids[0], uids[1], uids[2], uids[4], uids[6],
                                                  uids[7], uids[9]}));

  auto before = s->commands_sent();
  auto moved = s->move_many(batch, target);
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(s->commands_sent() - before, 1u) << "one UID MOVE for the whole set";
  EXPECT_EQ(moved->size(), 7u);
  EXPECT_FALSE(moved->count(uids[8]));
  EXPECT_FALSE(moved->count(never));

  // In the target, each new UID is the message that had the old one.
  ASSERT_TRUE(s->select(target).ok());
  for (std::size_t i : {0u, 1u, 2u, 4u, 6u, 7u, 9u}) {
    ASSERT_TRUE(moved->count(uids[i])) << "UID " << uids[i];
    std::uint32_t now_at = moved->at(uids[i]);
    ASSERT_NE(now_at, 0u);
    auto got = s->fetch({now_at});
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].bytes, raws[i]) << "message " << i;
  }
  // The ones left out of the set are still in INBOX; the moved ones are not.
  auto inbox = server.messages("bob");
  for (std::size_t i = 0; i < raws.size(); ++i)
    EXPECT_EQ(contains(inbox, raws[i]), i == 3 || i == 5) << "message " << i;

  // Nothing there to move: an empty answer, not an error.
  ASSERT_TRUE(s->select("INBOX").ok());
  auto again = s->move_many({uids[0], never}, target);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again->empty());
  auto none = s->move_many({}, target);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

// The fixture's Dovecot offers less on other loopback addresses (tests/fixtures/mailserver):
// 127.0.0.2 has no MOVE, 127.0.0.3 no UIDPLUS, 127.0.0.4 neither, as servers without those
// extensions. (Dovecot still answers COPY with COPYUID, so a new UID is known on all three.)
// Connected to `host` as carol, where the server offers MOVE and UIDPLUS as said; null (and
// a failure) when it does not.
std::unique_ptr<ImapSession> open_offering(const std::string& host, bool move, bool uidplus) {
  ImapConfig c = config(ImapSecurity::none, "carol");
  c.host = host;
  auto s = open(c);
  if (!s) return nullptr;
  auto caps = s->capabilities();
  EXPECT_TRUE(caps.ok());
  if (!caps.ok()) return nullptr;
  EXPECT_EQ(contains(*caps, "MOVE"), move) << host;
  EXPECT_EQ(contains(*caps, "UIDPLUS"), uidplus) << host;
  if (contains(*caps, "MOVE") != move || contains(*caps, "UIDPLUS") != uidplus) return nullptr;
  return s;
}

struct Delivered {
  std::vector<std::string> raws;
  std::vector<std::uint32_t> uids;
};

Delivered deliver_some(ImapSession& s, const std::string& user, const std::string& subject, int n) {
  Delivered d;
  for (int i = 0; i < n; ++i) {
    auto [raw, uid] = deliver_one(s, user, subject + " " + std::to_string(i));
    d.raws.push_back(raw);
    d.uids.push_back(uid);
  }
  return d;
}

TEST(Imap, WithoutMoveTheSetIsCopiedMarkedAndOnlyItIsExpunged) {
  auto& server = MailServer::shared();
  auto s = open_offering("127.0.0.2", /*move=*/false, /*uidplus=*/true);
  ASSERT_TRUE(s);
  const std::string target = "No MOVE " + std::to_string(::getpid());
  ASSERT_TRUE(s->create_folder(target).ok());
  Delivered d = deliver_some(*s, "carol", "Copied", 4);
  // The client's own mail program has marked one for deletion: it is not ours to expunge.
  ASSERT_TRUE(s->set_flag(d.uids[3], "\\Deleted", true).ok());

  const std::uint32_t never = d.uids.back() + 1000;
  auto moved = s->move_many({d.uids[0], d.uids[1], never}, target);
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->size(), 2u);
  auto inbox = server.messages("carol");
  EXPECT_FALSE(contains(inbox, d.raws[0]));
  EXPECT_FALSE(contains(inbox, d.raws[1]));
  EXPECT_TRUE(contains(inbox, d.raws[2]));
  EXPECT_TRUE(contains(inbox, d.raws[3])) << "UID EXPUNGE took only the moved ones";
  auto there = server.messages("carol", target);
  EXPECT_TRUE(contains(there, d.raws[0]));
  EXPECT_TRUE(contains(there, d.raws[1]));
  ASSERT_TRUE(s->select(target).ok());
  for (int i : {0, 1}) {
    auto got = s->fetch({moved->at(d.uids[i])});
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->size(), 1u);
    EXPECT_EQ((*got)[0].bytes, d.raws[i]);
  }
  ASSERT_TRUE(s->select("INBOX").ok());
  auto single = s->move(d.uids[2], target);
  ASSERT_TRUE(single.ok()) << single.error().message;
  EXPECT_FALSE(contains(server.messages("carol"), d.raws[2]));
  auto gone = s->move(d.uids[0], target);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, Errc::not_found);
}

TEST(Imap, WithoutUidplusWhatIsThereIsAskedFirstThenMoved) {
  auto& server = MailServer::shared();
  auto s = open_offering("127.0.0.3", /*move=*/true, /*uidplus=*/false);
  ASSERT_TRUE(s);
  const std::string target = "No UIDPLUS " + std::to_string(::getpid());
  ASSERT_TRUE(s->create_folder(target).ok());
  Delivered d = deliver_some(*s, "carol", "Asked", 3);
  const std::uint32_t never = d.uids.back() + 1000;

  auto before = s->commands_sent();
  auto moved = s->move_many({d.uids[0], d.uids[2], never}, target);
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(s->commands_sent() - before, 2u) << "one UID SEARCH, one UID MOVE";
  EXPECT_EQ(moved->size(), 2u);
  EXPECT_FALSE(moved->count(never));
  auto inbox = server.messages("carol");
  EXPECT_FALSE(contains(inbox, d.raws[0]));
  EXPECT_TRUE(contains(inbox, d.raws[1]));
  EXPECT_FALSE(contains(inbox, d.raws[2]));
  EXPECT_TRUE(contains(server.messages("carol", target), d.raws[2]));

  // Nothing of the set there: no MOVE at all, and an empty answer.
  before = s->commands_sent();
  auto none = s->move_many({d.uids[0], never}, target);
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_TRUE(none->empty());
  EXPECT_EQ(s->commands_sent() - before, 1u) << "the UID SEARCH alone";
  auto gone = s->move(d.uids[0], target);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, Errc::not_found);
}

// With neither extension a plain EXPUNGE removes every message marked \Deleted: it is sent only
// when nothing but the moved messages is marked; otherwise the originals stay, marked, for
// the client's mail program to expunge with its own.
TEST(Imap, WithNeitherExtensionOthersMarkedForDeletionAreNeverExpunged) {
  auto& server = MailServer::shared();
  auto s = open_offering("127.0.0.4", /*move=*/false, /*uidplus=*/false);
  ASSERT_TRUE(s);
  const std::string target = "Old server " + std::to_string(::getpid());
  ASSERT_TRUE(s->create_folder(target).ok());
  ASSERT_TRUE(s->select("INBOX").ok());
  // Nothing else of carol's may be marked from the tests before.
  auto left = s->uids_from(1);
  ASSERT_TRUE(left.ok());
  for (auto u : *left) ASSERT_TRUE(s->set_flag(u, "\\Deleted", false).ok());
  Delivered d = deliver_some(*s, "carol", "Old", 3);

  auto moved = s->move_many({d.uids[0]}, target);
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->size(), 1u);
  EXPECT_FALSE(contains(server.messages("carol"), d.raws[0])) << "only ours was marked";
  EXPECT_TRUE(contains(server.messages("carol", target), d.raws[0]));

  ASSERT_TRUE(s->set_flag(d.uids[2], "\\Deleted", true).ok());  // the client's own
  moved = s->move_many({d.uids[1]}, target);
  ASSERT_TRUE(moved.ok()) << moved.error().message;
  EXPECT_EQ(moved->size(), 1u);
  EXPECT_TRUE(contains(server.messages("carol", target), d.raws[1]));
  auto inbox = server.messages("carol");
  EXPECT_TRUE(contains(inbox, d.raws[2])) << "the client's marked message was not expunged";
  EXPECT_TRUE(contains(inbox, d.raws[1])) << "ours stays too, marked, rather than take theirs";
  auto ours = s->fetch({d.uids[1]});
  ASSERT_TRUE(ours.ok());
  ASSERT_EQ(ours->size(), 1u);
  EXPECT_TRUE(contains((*ours)[0].flags, "\\Deleted"));
}

TEST(Imap, MoveToMissingFolderIsNotFound) {
  auto s = open(config(ImapSecurity::none, "bob"));
  ASSERT_TRUE(s);
  auto [raw, uid] = deliver_one(*s, "bob", "Nowhere");
  ASSERT_NE(uid, 0u);
  auto r = s->move(uid, "Does/Not/Exist");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::not_found) << r.error().message;
  EXPECT_TRUE(contains(MailServer::shared().messages("bob"), raw));
}

TEST(Imap, SetAndClearFlags) {
  auto s = open(config(ImapSecurity::none, "alice"));
  ASSERT_TRUE(s);
  auto [raw, uid] = deliver_one(*s, "alice", "Flag me");
  ASSERT_NE(uid, 0u);
  ASSERT_TRUE(s->set_flag(uid, "\\Flagged", true).ok());
  ASSERT_TRUE(s->set_flag(uid, "$SidekickHandled", true).ok());
  auto got = s->fetch({uid});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_TRUE(contains((*got)[0].flags, "\\Flagged"));
  EXPECT_TRUE(contains((*got)[0].flags, "$SidekickHandled"));
  EXPECT_FALSE(contains((*got)[0].flags, "\\Seen"));

  ASSERT_TRUE(s->set_flag(uid, "\\Flagged", false).ok());
  got = s->fetch({uid});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_FALSE(contains((*got)[0].flags, "\\Flagged"));
  EXPECT_TRUE(contains((*got)[0].flags, "$SidekickHandled"));

  // Maildir keeps \Flagged as "F" in the file name: check the disk, not just the server.
  ASSERT_TRUE(s->set_flag(uid, "\\Flagged", true).ok());
  bool flagged_on_disk = false;
  for (const auto& e :
       std::filesystem::directory_iterator(MailServer::shared().dir() + "/mail/alice/cur")) {
    std::string name = e.path().filename().string();
    auto info = name.find(":2,");
    if (info != std::string::npos && name.find('F', info) != std::string::npos) {
      std::FILE* f = std::fopen(e.path().c_str(), "rb");
      std::string content;
      char buf[4096];
      size_t n;
      while (f && (n = std::fread(buf, 1, sizeof buf, f)) > 0) content.append(buf, n);
      if (f) std::fclose(f);
      if (content == raw) flagged_on_disk = true;
    }
  }
  EXPECT_TRUE(flagged_on_disk);

  auto bad = s->set_flag(uid, "not a flag", true);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
}

TEST(Imap, AppendWithFlags) {
  auto& server = MailServer::shared();
  auto s = open(config(ImapSecurity::tls, "alice"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->create_folder("Sent").ok());
  std::string raw = message("Sent copy");
  auto uid = s->append("Sent", raw, {"\\Seen", "$Sidekick"});
  ASSERT_TRUE(uid.ok()) << uid.error().message;
  EXPECT_NE(*uid, 0u) << "Dovecot answers APPEND with APPENDUID";
  EXPECT_TRUE(contains(server.messages("alice", "Sent"), raw));

  ASSERT_TRUE(s->select("Sent").ok());
  auto got = s->fetch({*uid});
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].bytes, raw);
  EXPECT_TRUE(contains((*got)[0].flags, "\\Seen"));
  EXPECT_TRUE(contains((*got)[0].flags, "$Sidekick"));

  auto missing = s->append("No/Such/Folder", raw, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::not_found) << missing.error().message;
}

// --- waiting for news -------------------------------------------------------------------

void check_wait_for_change(bool allow_idle) {
  auto c = config(ImapSecurity::none, "carol");
  c.allow_idle = allow_idle;
  auto s = open(c);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->select("INBOX").ok());

  auto start = SteadyClock::now();
  auto quiet = s->wait_for_change(1);
  ASSERT_TRUE(quiet.ok()) << quiet.error().message;
  EXPECT_FALSE(*quiet);
  EXPECT_GE(SteadyClock::now() - start, 900ms);

  std::string raw = message("Wake up");
  std::thread other([&] {
    std::this_thread::sleep_for(300ms);
    MailServer::shared().deliver("carol", raw);
  });
  start = SteadyClock::now();
  auto woke = s->wait_for_change(20);
  other.join();
  ASSERT_TRUE(woke.ok()) << woke.error().message;
  EXPECT_TRUE(*woke);
  // IDLE hears of it at once; a poll within its 2 s interval.
  EXPECT_LT(SteadyClock::now() - start, allow_idle ? 3s : 5s);

  // A change reported during another command is not lost: append (seen by this session as
  // EXISTS in the APPEND answer), then wait.
  ASSERT_TRUE(s->append("INBOX", message("Self"), {}).ok());
  start = SteadyClock::now();
  auto seen = s->wait_for_change(5);
  ASSERT_TRUE(seen.ok());
  EXPECT_TRUE(*seen);
  EXPECT_LT(SteadyClock::now() - start, 1s);

  // Flag changes by another session count as changes too.
  auto uids = s->uids_from(1);
  ASSERT_TRUE(uids.ok());
  ASSERT_FALSE(uids->empty());
  auto other_session = open(config(ImapSecurity::none, "carol"));
  ASSERT_TRUE(other_session);
  ASSERT_TRUE(other_session->select("INBOX").ok());
  std::thread flagger([&] {
    std::this_thread::sleep_for(300ms);
    EXPECT_TRUE(other_session->set_flag(uids->back(), "\\Flagged", true).ok());
  });
  auto flagged = s->wait_for_change(20);
  flagger.join();
  ASSERT_TRUE(flagged.ok());
  EXPECT_TRUE(*flagged);
}

TEST(Imap, WaitForChangeWithIdle) {
  check_wait_for_change(true);
}
TEST(Imap, WaitForChangeByPolling) {
  check_wait_for_change(false);
}

// --- the fixture's SMTP path -------------------------------------------------------------

int run(const std::string& command) {
  int status = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(MailServerFixture, SmtpDeliversIntoDovecot) {
  auto& server = MailServer::shared();
  auto bob = server.user("bob");
  std::string subject = "Through Postfix " + std::to_string(::getpid());
  std::string cmd = "swaks --server 127.0.0.1:" + std::to_string(server.smtp_port()) +
                    " --tls --auth PLAIN --auth-user bob --auth-password " + bob.password +
                    " --from bob@sidekick.test --to " + bob.address +
                    " --header 'Subject: " + subject + "' --body 'Hello from the test.'";
  ASSERT_EQ(run(cmd), 0) << cmd << "\n" << server.logs();

  std::string found;
  for (auto deadline = SteadyClock::now() + 15s; found.empty() && SteadyClock::now() < deadline;) {
    for (const auto& m : server.messages("bob"))
      if (m.find(subject) != std::string::npos) found = m;
    if (found.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(found.empty()) << "the message never reached bob's INBOX\n" << server.logs();
  EXPECT_NE(found.find("Hello from the test."), std::string::npos);
  EXPECT_NE(found.find("Delivered-To: bob@sidekick.test"), std::string::npos);

  // And IMAP sees it.
  auto s = open(config(ImapSecurity::none, "bob"));
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->select("INBOX").ok());
  auto uids = s->uids_from(1);
  ASSERT_TRUE(uids.ok());
  auto all = s->fetch(*uids);
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(std::any_of(all->begin(), all->end(),
                          [&](const FetchedMessage& m) { return m.bytes == found; }));
}

TEST(MailServerFixture, NothingLeavesTheMachine) {
  auto& server = MailServer::shared();
  std::string base = "swaks --server 127.0.0.1:" + std::to_string(server.smtp_port()) +
                     " --auth PLAIN --auth-user bob --auth-password secret-bob"
                     " --from bob@sidekick.test";
  EXPECT_NE(run(base + " --to someone@example.com"), 0) << "an outside recipient was accepted";
  EXPECT_NE(run(base + " --to nobody@sidekick.test"), 0) << "an unknown user was accepted";
  EXPECT_NE(run("swaks --server 127.0.0.1:" + std::to_string(server.smtp_port()) +
                " --auth PLAIN --auth-user bob --auth-password wrong --to bob@sidekick.test"),
            0)
      << "a wrong SMTP password was accepted";
}

}  // namespace
}  // namespace sk::mail
