// Auto-reply safety (RFC 3834) on real mail: bounces, ARF reports, list traffic from the
// SpamAssassin corpus, and ordinary messages from people.
#include "triage/autoreply.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "mail/message.hpp"
#include "support.hpp"

namespace sk {
namespace {

using triage::may_auto_reply;

const std::vector<std::string> kClient = {"client@example.com", "Office@Client-Business.example"};
constexpr Timestamp kNow = 1'750'000'000;
constexpr Timestamp kDay = 86'400;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Item parse(const std::string& path) {
  const std::string raw = read_file(path);
  EXPECT_FALSE(raw.empty()) << "missing test data " << path;
  return mail::parse_message(raw);
}

std::string mime(const std::string& name) {
  return test::shared_data() + "/mime/" + name;
}

triage::AutoReplyCheck check(const Item& item) {
  return may_auto_reply(item, kClient, 0, kNow, kDay);
}

// A message a person wrote, as a mail program would send it.
Item personal(const std::string& from = "Dana Reyes <dana@reyes-design.example>",
              const std::string& extra_headers = "") {
  return mail::parse_message("From: " + from +
                             "\r\nTo: client@example.com\r\nSubject: Lunch next week?\r\n"
                             "Date: Mon, 16 Jun 2025 10:00:00 +0000\r\n"
                             "Message-ID: <lunch-1@reyes-design.example>\r\n" +
                             extra_headers +
                             "\r\nHi, are you free for lunch on Tuesday?\r\nDana\r\n");
}

TEST(AutoReply, RealBounceIsRefusedAsBounce) {
  const Item item = parse(mime("bounce.eml"));
  const auto c = check(item);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.code, "autoreply.bounce");
  EXPECT_NE(c.reason.find("bounce"), std::string::npos) << c.reason;
}

TEST(AutoReply, RealArfReportIsRefusedAsAbuseReport) {
  const Item item = parse(mime("arf.eml"));
  // The sender is an ordinary-looking abuse desk address: only the report format tells.
  EXPECT_EQ(item.from_address, "abusedesk@example.com");
  const auto c = check(item);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.code, "autoreply.abuse_report");
  EXPECT_NE(c.reason.find("abuse"), std::string::npos) << c.reason;
}

TEST(AutoReply, MessageWithoutSenderIsRefused) {
  const Item item = parse(mime("mixed.eml"));  // no From header at all
  const auto c = check(item);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.code, "autoreply.no_sender") << c.reason;
}

TEST(AutoReply, PythonEmailDeliveryReportsAreBounces) {
  // msg_05: multipart/report; msg_16: Return-Path <> (and a list); msg_25: MAILER-DAEMON
  // with Auto-Submitted; msg_43: "MAILER DAEMON <>" with a delivery-status part.
  for (const char* name : {"msg_05.txt", "msg_16.txt", "msg_25.txt", "msg_43.txt"}) {
    const auto c = check(parse(mime(std::string("python-email/") + name)));
    EXPECT_FALSE(c.allowed) << name;
    EXPECT_EQ(c.code, "autoreply.bounce") << name << ": " << c.reason;
  }
}

TEST(AutoReply, PythonEmailListTrafficIsRefused) {
  // msg_32/33: Precedence: bulk via owner-freebsd-isp; msg_02: a Mailman digest sent by
  // ppp-request@ with no List-* header at all.
  for (const char* name : {"msg_02.txt", "msg_32.txt", "msg_33.txt"}) {
    const auto c = check(parse(mime(std::string("python-email/") + name)));
    EXPECT_FALSE(c.allowed) << name;
    EXPECT_EQ(c.code, "autoreply.list") << name << ": " << c.reason;
  }
  const auto bulk = check(parse(mime("python-email/msg_32.txt")));
  EXPECT_NE(bulk.reason.find("Precedence: bulk"), std::string::npos) << bulk.reason;
}

TEST(AutoReply, PersonalMessagesFromPeopleAreAllowed) {
  for (const std::string& path :
       {mime("python-email/msg_01.txt"), mime("python-email/msg_07.txt"),
        mime("enmime/mail/mime-mixed.raw"), mime("enmime/mail/non-mime.raw"),
        mime("enmime/mail/qp-utf8-header.raw"), mime("enmime/mail/attachment.raw")}) {
    const auto c = check(parse(path));
    EXPECT_TRUE(c.allowed) << path << ": " << c.code << " " << c.reason;
    EXPECT_EQ(c.code, "autoreply.allowed");
  }
  EXPECT_TRUE(check(personal()).allowed);
}

TEST(AutoReply, CorpusListMailIsRefused) {
  SK_REQUIRE_CORPUS();
  int lists = 0, refused = 0, as_list = 0;
  for (const auto& e : std::filesystem::directory_iterator(test::corpus_dir() + "/easy-ham-1")) {
    if (e.path().extension() != ".txt") continue;
    const Item item = parse(e.path().string());
    const std::string* precedence = item.header("precedence");
    const bool list = item.header("list-id") ||
                      (precedence && (lower(*precedence).find("list") != std::string::npos ||
                                      lower(*precedence).find("bulk") != std::string::npos));
    if (!list) continue;
    ++lists;
    const auto c = check(item);
    if (!c.allowed)
      ++refused;
    else
      ADD_FAILURE() << e.path() << " was allowed: " << c.reason;
    if (c.code == "autoreply.list") ++as_list;
  }
  // The corpus is mostly list traffic (about 1,500 with List-Id).
  EXPECT_GT(lists, 1000);
  EXPECT_EQ(refused, lists);
  // A few are refused for an earlier reason (an automatic sender, a bounce address); the
  // rest say it is list mail.
  EXPECT_GT(as_list, lists * 95 / 100) << as_list << " of " << lists;
}

TEST(AutoReply, ClientsOwnAddressIsRefused) {
  auto c = check(personal("Client <CLIENT@example.com>"));
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.code, "autoreply.own_address") << c.reason;
  // Also when only the reply would go there (the client wrote on someone's behalf).
  c = check(personal("Dana <dana@reyes-design.example>",
                     "Reply-To: The Office <office@client-business.example>\r\n"));
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.code, "autoreply.own_address") << c.reason;
  // A real file, once its sender is the client.
  const Item msg01 = parse(mime("python-email/msg_01.txt"));
  c = may_auto_reply(msg01, {"bbb@ddd.com"}, 0, kNow, kDay);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.code, "autoreply.own_address");
}

TEST(AutoReply, OneAutomaticReplyPerSenderPerPeriod) {
  const Item item = personal();
  EXPECT_TRUE(may_auto_reply(item, kClient, 0, kNow, kDay).allowed) << "never answered";
  auto c = may_auto_reply(item, kClient, kNow - 3 * 3600, kNow, kDay);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.code, "autoreply.recent");
  EXPECT_NE(c.reason.find("3 hours ago"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("once every day"), std::string::npos) << c.reason;
  EXPECT_FALSE(may_auto_reply(item, kClient, kNow - kDay + 1, kNow, kDay).allowed);
  EXPECT_TRUE(may_auto_reply(item, kClient, kNow - kDay, kNow, kDay).allowed) << "period over";
  EXPECT_TRUE(may_auto_reply(item, kClient, kNow - 30 * kDay, kNow, kDay).allowed);
  c = may_auto_reply(item, kClient, kNow - 60, kNow, 7 * kDay);
  EXPECT_FALSE(c.allowed);
  EXPECT_NE(c.reason.find("1 minute ago"), std::string::npos) << c.reason;
  EXPECT_NE(c.reason.find("every 7 days"), std::string::npos) << c.reason;
}

TEST(AutoReply, AutoSubmittedNoIsAllowedOthersAreNot) {
  EXPECT_TRUE(
      check(personal("Dana <dana@reyes-design.example>", "Auto-Submitted: no\r\n")).allowed);
  for (const char* v : {"auto-replied", "auto-generated", "auto-notified; owner-email=x@y.example",
                        "Auto-Replied"}) {
    const auto c = check(
        personal("Dana <dana@reyes-design.example>", std::string("Auto-Submitted: ") + v + "\r\n"));
    EXPECT_FALSE(c.allowed) << v;
    EXPECT_EQ(c.code, "autoreply.automatic") << v;
    EXPECT_NE(c.reason.find("Auto-Submitted"), std::string::npos) << c.reason;
  }
  for (const char* h : {"X-Autoreply: yes\r\n", "X-Autorespond: vacation\r\n",
                        "X-Auto-Response-Suppress: All\r\n", "X-Auto-Response-Suppress: OOF\r\n"}) {
    const auto c = check(personal("Dana <dana@reyes-design.example>", h));
    EXPECT_FALSE(c.allowed) << h;
    EXPECT_EQ(c.code, "autoreply.automatic") << h;
  }
  Item ooo = personal();
  ooo.subject = "Automatic reply: Lunch next week?";
  EXPECT_EQ(check(ooo).code, "autoreply.automatic");
  ooo.subject = "Out of Office: Lunch next week?";
  EXPECT_EQ(check(ooo).code, "autoreply.automatic");
  ooo.subject = "Auto reply settings in your product";  // a person asking about them
  EXPECT_TRUE(check(ooo).allowed);
}

TEST(AutoReply, NoReplySendersAreRefused) {
  for (const char* from :
       {"noreply@shop.example", "no-reply@shop.example", "no_reply@shop.example",
        "NoReply@Shop.example", "donotreply@bank.example", "do-not-reply@bank.example",
        "do_not_reply@bank.example", "DoNotReply@bank.example", "notifications-noreply@app.example",
        "bounce@mailer.example", "bounces+1234-abcd@esp.example", "nobody@host.example"}) {
    const auto c = check(personal(std::string("Shop <") + from + ">"));
    EXPECT_FALSE(c.allowed) << from;
    EXPECT_EQ(c.code, "autoreply.noreply") << from << ": " << c.reason;
  }
  for (const char* from :
       {"MAILER-DAEMON@mx.example", "mailer_daemon@mx.example", "postmaster@mx.example"}) {
    const auto c = check(personal(from));
    EXPECT_FALSE(c.allowed) << from;
    EXPECT_EQ(c.code, "autoreply.bounce") << from << ": " << c.reason;
  }
  // A no-reply Reply-To is as bad as a no-reply From.
  auto c = check(personal("Dana <dana@reyes-design.example>",
                          "Reply-To: \"Do not reply\" <do-not-reply@reyes-design.example>\r\n"));
  EXPECT_EQ(c.code, "autoreply.noreply") << c.reason;
  // Names that merely look alike stay allowed.
  for (const char* from : {"noreen@example.org", "reply@example.org", "nobodyhome@example.org"}) {
    EXPECT_TRUE(check(personal(from)).allowed) << from;
  }
}

TEST(AutoReply, ListHeadersOfEveryKindAreRefused) {
  for (const char* h :
       {"List-Id: Team chat <team.lists.example>\r\n", "List-Post: <mailto:team@lists.example>\r\n",
        "List-Unsubscribe: <https://lists.example/u>\r\n", "Precedence: junk\r\n",
        "Precedence: list\r\n", "Sender: owner-team@lists.example\r\n",
        "Sender: team-bounces@lists.example\r\n"}) {
    const auto c = check(personal("Dana <dana@reyes-design.example>", h));
    EXPECT_FALSE(c.allowed) << h;
    EXPECT_EQ(c.code, "autoreply.list") << h << ": " << c.reason;
  }
  EXPECT_EQ(check(personal("team-request@lists.example")).code, "autoreply.list");
}

TEST(AutoReply, UnreadableMessagesWaitForAPerson) {
  Item item = personal();
  item.parse_status = ParseStatus::unreadable;
  EXPECT_EQ(check(item).code, "autoreply.unreadable");
}

}  // namespace
}  // namespace sk
