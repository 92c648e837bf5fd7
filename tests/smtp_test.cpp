// Replies and forwards: composed, rendered to bytes, read back with the same parser that
// reads incoming mail; then submitted over SMTP to Postfix's smtp-sink on loopback, which
// dumps what arrived so the test can compare it byte for byte.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mail/compose.hpp"
#include "mail/message.hpp"
#include "mail/smtp.hpp"
#include "mailserver.hpp"
#include "support.hpp"

namespace sk {
namespace {

using namespace std::chrono_literals;
using mail::Outgoing;

constexpr Timestamp kDate = 1'750'068'000;  // Mon, 16 Jun 2025 10:00:00 +0000

// The original a client received: a thread of two earlier messages, a Reply-To, and a
// subject that is already a reply.
const char* const kOriginal =
    "From: =?UTF-8?Q?Ren=C3=A9e_Dub=C3=A9?= <renee@atelier-dube.example>\r\n"
    "Reply-To: Atelier Dubé <studio@atelier-dube.example>\r\n"
    "To: Client <client@example.com>\r\n"
    "Subject: RE: Re: =?UTF-8?Q?Caf=C3=A9_fit-out_=E2=80=94_quote?=\r\n"
    "Date: Sun, 15 Jun 2025 18:30:00 +0200\r\n"
    "Message-ID: <m3@atelier-dube.example>\r\n"
    "In-Reply-To: <m2@example.com>\r\n"
    "References: <m1@atelier-dube.example>\r\n <m2@example.com>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Here is the revised quote.\r\n";

std::string normalized(std::string s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') continue;
    out += s[i];
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Every line of the rendered bytes ends in CRLF and stays within RFC 5322's 78 characters.
void expect_well_formed(const std::string& bytes) {
  std::size_t start = 0;
  int line_no = 0;
  while (start < bytes.size()) {
    const std::size_t lf = bytes.find('\n', start);
    ASSERT_NE(lf, std::string::npos) << "the last line has no line ending";
    ASSERT_GT(lf, start) << "bare LF at line " << line_no;
    EXPECT_EQ(bytes[lf - 1], '\r') << "bare LF at line " << line_no;
    const std::string line = bytes.substr(start, lf - 1 - start);
    EXPECT_LE(line.size(), 78u) << "line " << line_no << ": " << line;
    EXPECT_EQ(line.find('\r'), std::string::npos) << "bare CR at line " << line_no;
    start = lf + 1;
    ++line_no;
  }
}

std::vector<std::string> header_values(const Item& item, const std::string& name) {
  std::vector<std::string> out;
  for (const auto& h : item.headers)
    if (iequals(h.name, name)) out.push_back(h.value);
  return out;
}

TEST(Compose, ReplyThreadsAndRoundTrips) {
  const Item original = mail::parse_message(kOriginal);
  ASSERT_EQ(original.parse_status, ParseStatus::ok);
  const std::string text =
      "Bonjour Renée,\n\nThanks — the quote looks right. Über-long line follows: " +
      std::string(120, 'x') + " ünïcödé " + std::string(200, 'y') +
      "\n\n-- \nSam, for the client\n";
  const Outgoing reply = mail::reply_to(original, "Sam Ōkubo (assistant)", "sam@example.com", text,
                                        "r1.sidekick@example.com", kDate, false);
  EXPECT_EQ(reply.subject, "Re: Café fit-out — quote");
  EXPECT_EQ(reply.to, std::vector<std::string>{"studio@atelier-dube.example"}) << "Reply-To wins";
  EXPECT_EQ(reply.in_reply_to, "m3@atelier-dube.example");
  const std::vector<std::string> refs = {"m1@atelier-dube.example", "m2@example.com",
                                         "m3@atelier-dube.example"};
  EXPECT_EQ(reply.references, refs);

  const std::string bytes = mail::render(reply);
  expect_well_formed(bytes);
  EXPECT_NE(bytes.find("MIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(bytes.find("Date: Mon, 16 Jun 2025 10:00:00 +0000\r\n"), std::string::npos) << bytes;
  EXPECT_NE(bytes.find("Message-ID: <r1.sidekick@example.com>\r\n"), std::string::npos);
  EXPECT_NE(bytes.find("In-Reply-To: <m3@atelier-dube.example>\r\n"), std::string::npos);
  EXPECT_NE(bytes.find("charset=utf-8"), std::string::npos);
  EXPECT_EQ(bytes.find("Auto-Submitted"), std::string::npos);
  for (char c : bytes.substr(0, bytes.find("\r\n\r\n")))
    EXPECT_LT(static_cast<unsigned char>(c), 0x80) << "raw 8-bit byte in the header";

  const Item back = mail::parse_message(bytes);
  EXPECT_EQ(back.parse_status, ParseStatus::ok) << back.defects.size();
  EXPECT_EQ(back.subject, "Re: Café fit-out — quote");
  EXPECT_EQ(normalized(back.text), normalized(text));
  EXPECT_EQ(back.message_id, "r1.sidekick@example.com");
  EXPECT_EQ(back.in_reply_to, "m3@atelier-dube.example");
  EXPECT_EQ(back.references, refs);
  EXPECT_EQ(back.from_address, "sam@example.com");
  EXPECT_EQ(back.from_name, "Sam Ōkubo (assistant)");
  EXPECT_EQ(back.to, std::vector<std::string>{"studio@atelier-dube.example"});
  EXPECT_EQ(back.sent_at, kDate);
  EXPECT_EQ(mail::render(reply), bytes) << "rendering is deterministic";

  // A reply to the reply keeps one "Re:" and grows the thread by one.
  const Outgoing again = mail::reply_to(back, "Renée", "renee@atelier-dube.example", "Merci !",
                                        "m5@x.example", kDate + 60, false);
  EXPECT_EQ(again.subject, "Re: Café fit-out — quote");
  EXPECT_EQ(again.references.size(), 4u);
  EXPECT_EQ(again.references.back(), "r1.sidekick@example.com");
  EXPECT_EQ(again.to, std::vector<std::string>{"sam@example.com"}) << "no Reply-To: From";
}

TEST(Compose, SubjectPrefixesAreNotDoubled) {
  Item it = test::make_item("a@example.org", "", "");
  it.message_id = "x@example.org";
  auto subject_of = [&](const std::string& s) {
    it.subject = s;
    return mail::reply_to(it, "", "c@example.com", "", "id@c", kDate, false).subject;
  };
  EXPECT_EQ(subject_of("Hello"), "Re: Hello");
  EXPECT_EQ(subject_of("Re: Hello"), "Re: Hello");
  EXPECT_EQ(subject_of("RE: re: Re[2]: Re (3): Hello"), "Re: Hello");
  EXPECT_EQ(subject_of("Fwd: Hello"), "Re: Fwd: Hello");
  EXPECT_EQ(subject_of("Regarding: Hello"), "Re: Regarding: Hello");
  EXPECT_EQ(subject_of(""), "Re: ");
  it.subject = "Fw: FWD: Hello";
  EXPECT_EQ(
      mail::forward_of(it, "", "", "c@example.com", {"d@example.net"}, "", "f@c", kDate).subject,
      "Fwd: Hello");
}

TEST(Compose, ThreadingWithoutReferencesUsesInReplyTo) {
  Item it = test::make_item("a@example.org", "Question", "");
  it.message_id = "child@example.org";
  it.in_reply_to = "parent@example.com";
  auto r = mail::reply_to(it, "", "c@example.com", "ok", "id@c", kDate, false);
  EXPECT_EQ(r.references, (std::vector<std::string>{"parent@example.com", "child@example.org"}));
  // A message without a Message-ID can only be answered without threading headers.
  it.message_id.clear();
  it.in_reply_to.clear();
  r = mail::reply_to(it, "", "c@example.com", "ok", "id@c", kDate, false);
  EXPECT_TRUE(r.in_reply_to.empty());
  EXPECT_TRUE(r.references.empty());
  const std::string bytes = mail::render(r);
  EXPECT_EQ(bytes.find("In-Reply-To"), std::string::npos);
  EXPECT_EQ(bytes.find("References"), std::string::npos);
}

TEST(Compose, AwkwardTextSurvivesExactly) {
  Outgoing o;
  o.from_address = "sam@example.com";
  o.to = {"bob@example.org"};
  o.subject = std::string(40, 'w') + " " + std::string(60, 'z') + " and a long tail of words " +
              "that goes on well past the seventy-eight characters of one header line";
  o.message_id = "awkward@example.com";
  o.date = kDate;
  o.text =
      "From here on it gets odd.\n"
      ".\n"
      ".leading dot\n"
      "trailing spaces   \n"
      "tab\tinside and at the end\t\n"
      "equals = signs =3D not encoded\n"
      "\n\n"
      "=?UTF-8?B?w6k=?= is not an encoded word in a body\n" +
      std::string(1500, 'L') + "\n" + "ÆØÅ 日本語 😀 " + std::string(100, 'e') + "\n";
  const std::string bytes = mail::render(o);
  expect_well_formed(bytes);
  EXPECT_NE(bytes.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos);
  const Item back = mail::parse_message(bytes);
  EXPECT_EQ(back.subject, o.subject);
  EXPECT_EQ(normalized(back.text), normalized(o.text));

  // Short ASCII lines go as they are.
  o.text = "Short and plain.\nSecond line.\n";
  const std::string plain = mail::render(o);
  EXPECT_NE(plain.find("Content-Transfer-Encoding: 7bit"), std::string::npos);
  EXPECT_NE(plain.find("\r\n\r\nShort and plain.\r\nSecond line.\r\n"), std::string::npos);
}

TEST(Compose, HeaderValuesCannotInjectHeaders) {
  Outgoing o;
  o.from_name = "Eve\r\nBcc: victim@example.net";
  o.from_address = "eve@example.com\r\nX-Evil: 1";
  o.to = {"bob@example.org\r\nBcc: other@example.net"};
  o.subject = "Hello\r\nBcc: third@example.net\r\n\r\nbody";
  o.message_id = "inj@example.com>\r\nX-Evil: 2";
  o.date = kDate;
  o.extra_headers = {{"X-Note", "one\nX-Evil: 3"}, {"Bad Name:", "dropped"}};
  o.text = "hi";
  const std::string bytes = mail::render(o);
  expect_well_formed(bytes);
  const Item back = mail::parse_message(bytes);
  EXPECT_TRUE(header_values(back, "Bcc").empty());
  EXPECT_TRUE(header_values(back, "X-Evil").empty());
  EXPECT_EQ(back.subject.find('\n'), std::string::npos);
  EXPECT_EQ(header_values(back, "X-Note").size(), 1u);
  EXPECT_EQ(bytes.find("Bad Name"), std::string::npos);
  EXPECT_EQ(normalized(back.text), "hi");
}

TEST(Compose, AutomaticRepliesSayWhatTheyAre) {
  const Item original = mail::parse_message(kOriginal);
  const Outgoing r =
      mail::reply_to(original, "Client", "client@example.com",
                     "Thanks, we will get back to you within a day.", "auto1@c", kDate, true);
  const Item back = mail::parse_message(mail::render(r));
  EXPECT_EQ(header_values(back, "Auto-Submitted"), std::vector<std::string>{"auto-replied"});
}

TEST(Compose, ForwardAttachesOrQuotesTheOriginal) {
  const Item original = mail::parse_message(kOriginal);
  Outgoing f =
      mail::forward_of(original, kOriginal, "Sam", "sam@example.com", {"accounts@example.com"},
                       "For the books — see below.", "fwd1@example.com", kDate);
  EXPECT_EQ(f.subject, "Fwd: RE: Re: Café fit-out — quote");
  EXPECT_TRUE(f.in_reply_to.empty());
  std::string bytes = mail::render(f);
  expect_well_formed(bytes);
  Item back = mail::parse_message(bytes);
  EXPECT_EQ(back.parse_status, ParseStatus::ok);
  EXPECT_EQ(back.subject, f.subject);
  EXPECT_EQ(back.to, std::vector<std::string>{"accounts@example.com"});
  EXPECT_NE(back.text.find("For the books — see below."), std::string::npos) << back.text;
  ASSERT_EQ(back.attachments.size(), 1u);
  EXPECT_EQ(back.attachments[0].content_type, "message/rfc822");
  // The attached original is there byte for byte.
  EXPECT_NE(bytes.find(kOriginal), std::string::npos);

  f = mail::forward_of(original, "", "Sam", "sam@example.com", {"accounts@example.com"}, "FYI",
                       "fwd2@example.com", kDate);
  back = mail::parse_message(mail::render(f));
  EXPECT_TRUE(back.attachments.empty());
  EXPECT_NE(back.text.find("FYI"), std::string::npos);
  EXPECT_NE(back.text.find("---------- Forwarded message ----------"), std::string::npos);
  EXPECT_NE(back.text.find("From: Renée Dubé <renee@atelier-dube.example>"), std::string::npos)
      << back.text;
  EXPECT_NE(back.text.find("Here is the revised quote."), std::string::npos);
}

// --- SMTP ----------------------------------------------------------------------------------

constexpr const char* kSmtpSink = "/usr/sbin/smtp-sink";

// A port nothing listens on right now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return 0;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Postfix's smtp-sink on 127.0.0.1, dumping each transaction into its own file; stopped with
// the object.
class SmtpSink {
 public:
  explicit SmtpSink(std::vector<std::string> options = {}) {
    std::filesystem::create_directories(dumps_);
    // smtp-sink refuses to run as root without dropping to another user, who must be able
    // to write the dumps.
    const bool root = ::geteuid() == 0;
    if (root) ::chmod(dumps_.c_str(), 0777);
    for (int attempt = 0; attempt < 5 && pid_ <= 0; ++attempt) {
      port_ = free_port();
      std::vector<std::string> args = {kSmtpSink};
      if (root) args.insert(args.end(), {"-u", "nobody"});
      args.insert(args.end(), {"-d", (dumps_ / "msg.").string(), "-h", "sink.test"});
      args.insert(args.end(), options.begin(), options.end());
      args.insert(args.end(), {"127.0.0.1:" + std::to_string(port_), "16"});
      const pid_t pid = ::fork();
      if (pid == 0) {
        const std::string log = (dir_.path / "sink.log").string();
        FILE* f = std::freopen(log.c_str(), "a", stdout);
        if (f) (void)std::freopen(log.c_str(), "a", stderr);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(kSmtpSink, argv.data());
        ::_exit(127);
      }
      pid_ = pid;
      const auto deadline = std::chrono::steady_clock::now() + 5s;
      while (!accepts(port_) && std::chrono::steady_clock::now() < deadline) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // lost the port race, or broken
          pid_ = -1;
          break;
        }
        std::this_thread::sleep_for(20ms);
      }
    }
  }
  ~SmtpSink() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  SmtpSink(const SmtpSink&) = delete;
  SmtpSink& operator=(const SmtpSink&) = delete;

  bool running() const { return pid_ > 0 && accepts(port_); }
  int port() const { return port_; }
  std::string log() const { return slurp(dir_.path / "sink.log"); }

  // The dumped transactions, waiting a little for the sink to finish writing.
  std::vector<std::string> dumps(std::size_t expected) const {
    std::vector<std::string> out;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    do {
      out.clear();
      for (const auto& e : std::filesystem::directory_iterator(dumps_)) {
        std::string s = slurp(e.path());
        if (s.ends_with("\n\n")) out.push_back(std::move(s));  // complete (see smtp-sink(1))
      }
      if (out.size() >= expected) break;
      std::this_thread::sleep_for(20ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return out;
  }

  mail::SmtpConfig config() const {
    mail::SmtpConfig c;
    c.host = "127.0.0.1";
    c.port = port_;
    c.security = mail::SmtpSecurity::none;
    c.timeout_seconds = 10;
    return c;
  }

 private:
  test::TempDir dir_;
  std::filesystem::path dumps_ = dir_.path / "dumps";
  int port_ = 0;
  pid_t pid_ = -1;
};

#define SK_REQUIRE_SMTP_SINK(sink)                                             \
  ASSERT_TRUE(std::filesystem::exists(kSmtpSink))                              \
      << kSmtpSink << " is missing: install postfix (scripts/setup lists it)"; \
  ASSERT_TRUE((sink).running()) << "smtp-sink did not start: " << (sink).log()

struct Dump {
  std::string mail_from;
  std::vector<std::string> rcpt;
  std::string message;  // as received, LF line endings (smtp-sink writes lines with \n)
};

Dump read_dump(const std::string& s) {
  Dump d;
  std::istringstream in(s);
  std::string line;
  std::size_t consumed = 0;
  int received_lines = 0;
  while (std::getline(in, line)) {
    consumed += line.size() + 1;
    if (line.starts_with("X-Mail-Args: ")) d.mail_from = line.substr(13);
    if (line.starts_with("X-Rcpt-Args: ")) d.rcpt.push_back(line.substr(13));
    if (line.starts_with("Received: "))
      received_lines = 1;
    else if (received_lines > 0 && ++received_lines == 3)
      break;  // its three lines end it
  }
  d.message = s.substr(consumed);
  if (d.message.ends_with("\n\n")) d.message.pop_back();  // the sink's closing empty line
  return d;
}

std::string lf(const std::string& crlf_bytes) {
  std::string out;
  for (std::size_t i = 0; i < crlf_bytes.size(); ++i)
    if (!(crlf_bytes[i] == '\r' && i + 1 < crlf_bytes.size() && crlf_bytes[i + 1] == '\n'))
      out += crlf_bytes[i];
  return out;
}

TEST(Smtp, SubmittedBytesAndEnvelopeArriveExactly) {
  SmtpSink sink;
  SK_REQUIRE_SMTP_SINK(sink);
  const Item original = mail::parse_message(kOriginal);
  Outgoing reply = mail::reply_to(original, "Sam Ōkubo", "sam@example.com",
                                  "Merci Renée — confirmed.\n.\n..two dots\n.one dot\nEnd.\n",
                                  "smtp1@example.com", kDate, false);
  reply.cc = {"client@example.com"};
  const std::string bytes = mail::render(reply);
  const auto r = mail::smtp_submit(
      sink.config(), {"sam@example.com", {"studio@atelier-dube.example", "client@example.com"}},
      bytes);
  ASSERT_TRUE(r.ok()) << r.error().message;

  const auto dumps = sink.dumps(1);
  ASSERT_EQ(dumps.size(), 1u);
  const Dump d = read_dump(dumps[0]);
  EXPECT_EQ(d.mail_from, "<sam@example.com>");
  EXPECT_EQ(d.rcpt,
            (std::vector<std::string>{"<studio@atelier-dube.example>", "<client@example.com>"}));
  // Dots at line starts were escaped on the wire and unescaped by the server.
  EXPECT_EQ(d.message, lf(bytes));
  const Item arrived = mail::parse_message(d.message);
  EXPECT_EQ(arrived.subject, "Re: Café fit-out — quote");
  EXPECT_EQ(arrived.in_reply_to, "m3@atelier-dube.example");
  EXPECT_EQ(arrived.references.size(), 3u);
  EXPECT_EQ(normalized(arrived.text), normalized(reply.text));
}

TEST(Smtp, SevenBitMessageWithDotLinesArrivesExactly) {
  SmtpSink sink;
  SK_REQUIRE_SMTP_SINK(sink);
  Outgoing o;
  o.from_address = "sam@example.com";
  o.to = {"bob@example.org"};
  o.subject = "Dots";
  o.message_id = "dots@example.com";
  o.date = kDate;
  o.text = "first\n.\n.\n..\n. space\nlast";
  const std::string bytes = mail::render(o);
  ASSERT_NE(bytes.find("7bit"), std::string::npos);
  ASSERT_TRUE(mail::smtp_submit(sink.config(), {"", {"bob@example.org"}}, bytes).ok());
  const auto dumps = sink.dumps(1);
  ASSERT_EQ(dumps.size(), 1u);
  const Dump d = read_dump(dumps[0]);
  EXPECT_EQ(d.mail_from, "<>") << "an empty envelope sender is the null reverse path";
  EXPECT_EQ(d.message, lf(bytes));
}

TEST(Smtp, RefusedConnectionIsAClearError) {
  const int port = free_port();
  mail::SmtpConfig c{"127.0.0.1", port, mail::SmtpSecurity::none};
  c.timeout_seconds = 5;
  const auto r =
      mail::smtp_submit(c, {"a@example.com", {"b@example.com"}}, "Subject: x\r\n\r\nx\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::io);
  EXPECT_NE(r.error().message.find("could not connect"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(std::to_string(port)), std::string::npos) << r.error().message;
}

TEST(Smtp, PermanentRejectionCarriesTheServersText) {
  SmtpSink sink({"-f", "RCPT", "-B",
                 "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown"});
  SK_REQUIRE_SMTP_SINK(sink);
  const auto r = mail::smtp_submit(sink.config(), {"sam@example.com", {"nobody@example.org"}},
                                   "Subject: x\r\n\r\nx\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  EXPECT_NE(r.error().message.find(
                "550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("RCPT"), std::string::npos) << r.error().message;
  EXPECT_TRUE(sink.dumps(0).empty());
}

TEST(Smtp, RejectionAfterTheDataIsAnError) {
  SmtpSink sink({"-f", "."});
  SK_REQUIRE_SMTP_SINK(sink);
  const auto r = mail::smtp_submit(sink.config(), {"sam@example.com", {"bob@example.org"}},
                                   "Subject: x\r\n\r\nx\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  EXPECT_NE(r.error().message.find("500 5.3.0 Error: command failed"), std::string::npos)
      << r.error().message;
}

// Silence after the end-of-data mark is not a failure to try again: the server most likely
// has the message (RFC 5321 6.1). Silence before it is.
TEST(Smtp, SilenceAfterTheWholeMessageIsAHandoverWithoutAnswer) {
  const mail::Envelope env{"sam@example.com", {"bob@example.org"}};
  const std::string msg = "Subject: x\r\n\r\nx\r\n";
  {
    SmtpSink sink({"-q", "."});  // hangs up without a word after the end mark
    SK_REQUIRE_SMTP_SINK(sink);
    int marks = 0;
    const auto r = mail::smtp_submit(sink.config(), env, msg, [&] { return ++marks > 0; });
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r->answered);
    EXPECT_EQ(marks, 1);
    EXPECT_NE(r->silence.find("ended"), std::string::npos) << r->silence;
  }
  {
    SmtpSink sink({"-W", ".:4"});  // answers the end mark after the client's patience
    SK_REQUIRE_SMTP_SINK(sink);
    auto c = sink.config();
    c.timeout_seconds = 1;
    const auto r = mail::smtp_submit(c, env, msg, [] { return true; });
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r->answered);
    EXPECT_NE(r->silence.find("did not answer within 1 seconds"), std::string::npos) << r->silence;
  }
  {
    SmtpSink sink;  // answered: the usual
    SK_REQUIRE_SMTP_SINK(sink);
    const auto r = mail::smtp_submit(sink.config(), env, msg);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_TRUE(r->answered);
  }
}

TEST(Smtp, TemporaryRejectionIsWorthRetrying) {
  SmtpSink sink({"-r", "MAIL"});
  SK_REQUIRE_SMTP_SINK(sink);
  auto r = mail::smtp_submit(sink.config(), {"sam@example.com", {"bob@example.org"}},
                             "Subject: x\r\n\r\nx\r\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::io) << r.error().message;
  EXPECT_NE(r.error().message.find("450 4.3.0"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("MAIL FROM"), std::string::npos) << r.error().message;
}

TEST(Smtp, OddServerBehaviourGivesErrorsNotCrashes) {
  const std::string msg = "Subject: x\r\n\r\nx\r\n";
  const mail::Envelope env{"sam@example.com", {"bob@example.org"}};
  {
    SmtpSink sink({"-q", "DATA"});  // hangs up without a word after DATA
    SK_REQUIRE_SMTP_SINK(sink);
    const auto r = mail::smtp_submit(sink.config(), env, msg);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io) << r.error().message;
  }
  {
    SmtpSink sink({"-Q", "RCPT"});  // 421 and hangs up
    SK_REQUIRE_SMTP_SINK(sink);
    const auto r = mail::smtp_submit(sink.config(), env, msg);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io) << r.error().message;
    EXPECT_NE(r.error().message.find("421"), std::string::npos) << r.error().message;
  }
  {
    SmtpSink sink({"-w", "4"});  // slow to answer DATA: nothing sent yet
    SK_REQUIRE_SMTP_SINK(sink);
    auto c = sink.config();
    c.timeout_seconds = 1;
    const auto r = mail::smtp_submit(c, env, msg);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io) << r.error().message;
    EXPECT_NE(r.error().message.find("did not answer"), std::string::npos) << r.error().message;
  }
  // Something that is not an SMTP server at all: a one-shot listener that answers like a
  // web server, or with binary noise, and hangs up.
  for (const std::string& answer :
       {std::string("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"),
        std::string("\x16\x03\x01\x00\xff garbage \x00\x01\x02\r\n", 20), std::string("")}) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::listen(fd, 1);
    std::thread server([fd, answer] {
      const int c = ::accept(fd, nullptr, nullptr);
      if (c < 0) return;
      if (!answer.empty()) (void)!::write(c, answer.data(), answer.size());
      char buf[512];
      (void)!::read(c, buf, sizeof buf);
      ::close(c);
    });
    mail::SmtpConfig c{"127.0.0.1", ntohs(a.sin_port), mail::SmtpSecurity::none};
    c.timeout_seconds = 3;
    const auto r = mail::smtp_submit(c, env, msg);
    server.join();
    ::close(fd);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::io) << r.error().message;
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(Smtp, TlsAndLoginProblemsAreConfigurationErrors) {
  SmtpSink sink({"-f", "AUTH"});  // plain text only, and every login refused
  SK_REQUIRE_SMTP_SINK(sink);
  const mail::Envelope env{"sam@example.com", {"bob@example.org"}};
  const std::string msg = "Subject: x\r\n\r\nx\r\n";

  auto c = sink.config();
  c.security = mail::SmtpSecurity::starttls;
  auto r = mail::smtp_submit(c, env, msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  EXPECT_NE(r.error().message.find("STARTTLS"), std::string::npos) << r.error().message;

  c.security = mail::SmtpSecurity::tls;
  r = mail::smtp_submit(c, env, msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  EXPECT_NE(r.error().message.find("TLS"), std::string::npos) << r.error().message;

  c.security = mail::SmtpSecurity::none;
  c.user = "sam";
  c.password = "wrong";
  r = mail::smtp_submit(c, env, msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  EXPECT_NE(r.error().message.find("refused the login for 'sam'"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("500 5.3.0"), std::string::npos) << r.error().message;
  EXPECT_TRUE(sink.dumps(0).empty());
}

TEST(Smtp, BadInputIsRefusedBeforeConnecting) {
  mail::SmtpConfig c{"smtp.invalid", 587, mail::SmtpSecurity::none};
  c.user = "sam";
  c.password = "secret";
  const std::string msg = "Subject: x\r\n\r\nx\r\n";
  auto r = mail::smtp_submit(c, {"sam@example.com", {"bob@example.org"}}, msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input);
  EXPECT_NE(r.error().message.find("unencrypted"), std::string::npos) << r.error().message;

  c.password.clear();
  for (const mail::Envelope& env :
       {mail::Envelope{"sam@example.com", {}},
        mail::Envelope{"sam@example.com", {"bob@example.org>\r\nRCPT TO:<eve@example.net"}},
        mail::Envelope{"sam@example.com\r\nRSET", {"bob@example.org"}},
        mail::Envelope{"sam@example.com", {"not an address"}}}) {
    r = mail::smtp_submit(c, env, msg);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  }
  r = mail::smtp_submit(c, {"sam@example.com", {"bob@example.org"}}, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input);
}

// --- Through the real Postfix into the real Dovecot (tests/mailserver.hpp) -----------------

mail::SmtpConfig postfix_as(const std::string& name) {
  auto& server = test::MailServer::shared();
  mail::SmtpConfig c;
  c.host = "127.0.0.1";
  c.port = server.smtp_port();
  c.security = mail::SmtpSecurity::starttls;
  c.user = name;
  c.password = server.user(name).password;
  c.verify_certificate = false;  // the fixture's certificate is self-signed
  c.timeout_seconds = 15;
  return c;
}

TEST(SmtpLive, ThreadedReplyArrivesInTheRecipientsMailbox) {
  auto& server = test::MailServer::shared();
  const auto alice = server.user("alice");
  const auto bob = server.user("bob");
  const std::string tag = std::to_string(::getpid());
  // Bob wrote to Alice (the client) in an existing thread; the message sits in her INBOX.
  const std::string original_raw =
      "From: Bob <" + bob.address + ">\r\nTo: Alice <" + alice.address +
      ">\r\nSubject: Re: Plans for Thursday\r\nDate: Sun, 15 Jun 2025 09:00:00 +0000\r\n"
      "Message-ID: <orig-" +
      tag + "@sidekick.test>\r\nIn-Reply-To: <root-" + tag +
      "@sidekick.test>\r\nReferences: <root-" + tag +
      "@sidekick.test>\r\n\r\nDoes 2pm still work?\r\n";
  server.deliver("alice", original_raw);
  const Item original = mail::parse_message(original_raw);

  const mail::Outgoing reply =
      mail::reply_to(original, "Alice Émond", alice.address, "Yes — 2pm works. À jeudi !\n",
                     "reply-" + tag + "@sidekick.test", kDate, false);
  const std::string bytes = mail::render(reply);
  const auto sent = mail::smtp_submit(postfix_as("alice"), {alice.address, reply.to}, bytes);
  ASSERT_TRUE(sent.ok()) << sent.error().message << "\n" << server.logs();

  std::string found;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       found.empty() && std::chrono::steady_clock::now() < deadline;) {
    for (const auto& m : server.messages("bob"))
      if (m.find("<reply-" + tag + "@sidekick.test>") != std::string::npos) found = m;
    if (found.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(found.empty()) << "the reply never reached bob's INBOX\n" << server.logs();
  // What we rendered arrived unchanged below the trace headers the servers added.
  EXPECT_NE(found.find(bytes), std::string::npos);
  const Item arrived = mail::parse_message(found);
  EXPECT_EQ(arrived.subject, "Re: Plans for Thursday");
  EXPECT_EQ(arrived.from_address, alice.address);
  EXPECT_EQ(arrived.from_name, "Alice Émond");
  EXPECT_EQ(arrived.in_reply_to, "orig-" + tag + "@sidekick.test");
  EXPECT_EQ(arrived.references, (std::vector<std::string>{"root-" + tag + "@sidekick.test",
                                                          "orig-" + tag + "@sidekick.test"}));
  EXPECT_EQ(normalized(arrived.text), "Yes — 2pm works. À jeudi !");
}

TEST(SmtpLive, PostfixRefusalsAreClearErrors) {
  auto& server = test::MailServer::shared();
  const auto alice = server.user("alice");
  const std::string msg = "Subject: x\r\n\r\nx\r\n";

  auto c = postfix_as("alice");
  c.password = "wrong";
  auto r = mail::smtp_submit(c, {alice.address, {server.user("bob").address}}, msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  EXPECT_NE(r.error().message.find("refused the login"), std::string::npos) << r.error().message;

  r = mail::smtp_submit(postfix_as("alice"), {alice.address, {"nobody@sidekick.test"}}, msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  EXPECT_NE(r.error().message.find("RCPT"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("nobody@sidekick.test"), std::string::npos)
      << "Postfix's own words name the recipient: " << r.error().message;

  c = postfix_as("alice");
  c.verify_certificate = true;  // a self-signed certificate must not pass
  r = mail::smtp_submit(c, {alice.address, {server.user("bob").address}}, msg);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::invalid_input) << r.error().message;
  EXPECT_NE(r.error().message.find("TLS"), std::string::npos) << r.error().message;
}

TEST(SmtpLive, CheckLogsInWithoutSendingAndRefusesAWrongPassword) {
  auto& server = test::MailServer::shared();
  const auto before = server.messages("bob").size();
  auto good = mail::smtp_check(postfix_as("alice"));
  EXPECT_TRUE(good.ok()) << good.error().message << "\n" << server.logs();
  auto config = postfix_as("alice");
  config.password = "not her password";
  auto bad = mail::smtp_check(config);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, Errc::invalid_input);
  EXPECT_NE(bad.error().message.find("refused the login"), std::string::npos)
      << bad.error().message;
  EXPECT_EQ(server.messages("bob").size(), before);
}

TEST(SmtpLive, TheEndOfDataHookRunsOnceAndCanAbandonTheMessage) {
  auto& server = test::MailServer::shared();
  const auto alice = server.user("alice");
  const auto bob = server.user("bob");
  const std::string tag = std::to_string(::getpid());
  auto message = [&](const std::string& id) {
    return "From: " + alice.address + "\r\nTo: " + bob.address + "\r\nSubject: hook\r\n" +
           "Message-ID: <" + id + "-" + tag + "@sidekick.test>\r\n\r\nbody\r\n";
  };
  int calls = 0;
  auto sent = mail::smtp_submit(postfix_as("alice"), {alice.address, {bob.address}},
                                message("kept"), [&] { return ++calls > 0; });
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  EXPECT_EQ(calls, 1);
  auto abandoned = mail::smtp_submit(postfix_as("alice"), {alice.address, {bob.address}},
                                     message("dropped"), [] { return false; });
  ASSERT_FALSE(abandoned.ok());
  EXPECT_EQ(abandoned.error().code, Errc::io);
  std::string found;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       found.empty() && std::chrono::steady_clock::now() < deadline;) {
    for (const auto& m : server.messages("bob"))
      if (m.find("<kept-" + tag + "@sidekick.test>") != std::string::npos) found = m;
    if (found.empty()) std::this_thread::sleep_for(50ms);
  }
  ASSERT_FALSE(found.empty()) << server.logs();
  std::this_thread::sleep_for(300ms);
  for (const auto& m : server.messages("bob"))
    EXPECT_EQ(m.find("<dropped-" + tag + "@sidekick.test>"), std::string::npos);
}

}  // namespace
}  // namespace sk
