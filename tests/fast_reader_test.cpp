// The single-pass reader against the GMime path: for every message of the real corpora that
// the fast reader accepts, both must give the same Item, field by field; and it must accept
// most of the SpamAssassin corpus, or it would be speed bought with nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mail/fast_reader.hpp"
#include "mail/message.hpp"
#include "support.hpp"

namespace sk::mail {
namespace {

namespace fs = std::filesystem;
using detail::parse_with_gmime;
using detail::read_fast;

std::string shown(const std::string& s) {
  constexpr std::size_t kMax = 160;
  std::string out = "\"";
  for (char c : s.substr(0, kMax)) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out.push_back(c);
    }
  }
  out += s.size() > kMax ? "\"... (" + std::to_string(s.size()) + " bytes)" : "\"";
  return out;
}

std::string shown(const std::vector<std::string>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + shown(v[i]);
  return out + "]";
}

template <class T>
std::string differ(const char* field, const T& fast, const T& gmime) {
  std::ostringstream s;
  s << field << ": fast " << fast << " / gmime " << gmime;
  return s.str();
}

std::string differ_text(const char* field, const std::string& fast, const std::string& gmime) {
  std::size_t at = 0;
  while (at < fast.size() && at < gmime.size() && fast[at] == gmime[at]) ++at;
  const std::size_t from = at > 40 ? at - 40 : 0;
  return std::string(field) + " (from byte " + std::to_string(at) + "): fast " +
         shown(fast.substr(from)) + " / gmime " + shown(gmime.substr(from));
}

// The first field in which the two Items differ, in words; empty when they are the same.
std::string first_difference(const Item& fast, const Item& gmime) {
  if (fast.parse_status != gmime.parse_status)
    return differ("parse_status", to_string(fast.parse_status), to_string(gmime.parse_status));
  if (fast.defects != gmime.defects)
    return "defects: fast " + shown(fast.defects) + " / gmime " + shown(gmime.defects);
  if (fast.channel != gmime.channel) return "channel";
  if (fast.id != gmime.id || fast.client != gmime.client || fast.source_key != gmime.source_key ||
      fast.received_at != gmime.received_at)
    return "the caller's fields";
  if (fast.raw_size != gmime.raw_size) return differ("raw_size", fast.raw_size, gmime.raw_size);
  if (fast.headers.size() != gmime.headers.size())
    return differ("headers.size()", fast.headers.size(), gmime.headers.size());
  for (std::size_t i = 0; i < fast.headers.size(); ++i) {
    const Header& f = fast.headers[i];
    const Header& g = gmime.headers[i];
    if (f.name != g.name || f.value != g.value) {
      return "headers[" + std::to_string(i) + "]: fast " + shown(f.name) + ": " + shown(f.value) +
             " / gmime " + shown(g.name) + ": " + shown(g.value);
    }
  }
  if (fast.from_address != gmime.from_address)
    return differ("from_address", shown(fast.from_address), shown(gmime.from_address));
  if (fast.from_name != gmime.from_name)
    return differ("from_name", shown(fast.from_name), shown(gmime.from_name));
  if (fast.to != gmime.to) return differ("to", shown(fast.to), shown(gmime.to));
  if (fast.cc != gmime.cc) return differ("cc", shown(fast.cc), shown(gmime.cc));
  if (fast.subject != gmime.subject)
    return differ("subject", shown(fast.subject), shown(gmime.subject));
  if (fast.message_id != gmime.message_id)
    return differ("message_id", shown(fast.message_id), shown(gmime.message_id));
  if (fast.in_reply_to != gmime.in_reply_to)
    return differ("in_reply_to", shown(fast.in_reply_to), shown(gmime.in_reply_to));
  if (fast.references != gmime.references)
    return differ("references", shown(fast.references), shown(gmime.references));
  if (fast.sent_at != gmime.sent_at) return differ("sent_at", fast.sent_at, gmime.sent_at);
  if (fast.html_only != gmime.html_only)
    return differ("html_only", fast.html_only, gmime.html_only);
  if (fast.text != gmime.text) return differ_text("text", fast.text, gmime.text);
  if (fast.link_hosts != gmime.link_hosts)
    return differ("link_hosts", shown(fast.link_hosts), shown(gmime.link_hosts));
  if (fast.html_tags != gmime.html_tags)
    return differ("html_tags", shown(fast.html_tags), shown(gmime.html_tags));
  if (fast.attachments.size() != gmime.attachments.size())
    return differ("attachments.size()", fast.attachments.size(), gmime.attachments.size());
  for (std::size_t i = 0; i < fast.attachments.size(); ++i) {
    const Attachment& f = fast.attachments[i];
    const Attachment& g = gmime.attachments[i];
    if (f.filename != g.filename || f.content_type != g.content_type || f.size != g.size) {
      return "attachments[" + std::to_string(i) + "]: fast " + shown(f.filename) + " " +
             f.content_type + " " + std::to_string(f.size) + " / gmime " + shown(g.filename) + " " +
             g.content_type + " " + std::to_string(g.size);
    }
  }
  return {};
}

struct Tally {
  int messages = 0;
  int accepted = 0;
  int different = 0;
  std::map<std::string, int> declined;  // reason -> messages

  void print(const char* what) const {
    std::printf("[ fast read  ] %s: %d of %d messages accepted (%.1f%%)\n", what, accepted,
                messages, messages ? 100.0 * accepted / messages : 0.0);
    std::vector<std::pair<int, std::string>> reasons;
    for (const auto& [why, n] : declined) reasons.emplace_back(n, why);
    std::sort(reasons.rbegin(), reasons.rend());
    for (const auto& [n, why] : reasons) std::printf("[ declined   ]   %5d  %s\n", n, why.c_str());
  }
};

// Both paths over one message; a difference fails the test with the file and the field.
// SK_FAST_VERBOSE=1 lists every declined file with its reason, for working on the reader.
void compare(const std::string& file, const std::string& raw, Tally& tally) {
  ++tally.messages;
  const char* why = nullptr;
  const std::optional<Item> fast = read_fast(raw, &why);
  if (!fast) {
    ++tally.declined[why ? why : "?"];
    if (std::getenv("SK_FAST_VERBOSE")) std::printf("declined %s: %s\n", file.c_str(), why);
    return;
  }
  ++tally.accepted;
  const Item gmime = parse_with_gmime(raw);
  const std::string diff = first_difference(*fast, gmime);
  if (!diff.empty()) {
    ++tally.different;
    ADD_FAILURE() << file << "\n  " << diff;
  }
}

// Both readers over messages made by the mutation tests: counts what the fast one takes and
// fails the test (naming the round, at most five times) where it reads otherwise.
struct MutationTally {
  int accepted = 0;
  int different = 0;

  void compare(const std::string& m, int round) {
    const std::optional<Item> fast = read_fast(m);
    if (!fast) return;
    ++accepted;
    const std::string diff = first_difference(*fast, parse_with_gmime(m));
    if (!diff.empty() && ++different <= 5) ADD_FAILURE() << "round " << round << ": " << diff;
  }

  // Prints the tally as "[ tag ] N of ROUNDS WHAT accepted"; none may be read otherwise, and
  // more than 1,000 of them must be taken.
  void expect_same(const char* tag, int rounds, const char* what) const {
    std::printf("[ %-10s ] %d of %d %s accepted, %d read otherwise\n", tag, accepted, rounds, what,
                different);
    EXPECT_EQ(different, 0);
    EXPECT_GT(accepted, 1000);
  }
};

std::vector<fs::path> files_under(const fs::path& dir, std::string_view ext = {}) {
  std::vector<fs::path> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    if (!ext.empty() && e.path().extension() != ext) continue;
    out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// --- edge cases the fast reader reads itself ----------------------------------------------

// The fast reader must take `raw` and give GMime's Item, read with `status`; returns it for
// further checks.
Item read_same(const std::string& raw, ParseStatus status = ParseStatus::ok) {
  const char* why = nullptr;
  std::optional<Item> fast = read_fast(raw, &why);
  EXPECT_TRUE(fast.has_value()) << "declined: " << (why ? why : "?");
  if (!fast) return parse_with_gmime(raw);
  EXPECT_EQ(first_difference(*fast, parse_with_gmime(raw)), "");
  EXPECT_EQ(fast->parse_status, status);
  return *fast;
}

// The fast reader must decline `raw`, and parse_message must then give GMime's answer.
Item declined_same(const std::string& raw) {
  EXPECT_FALSE(read_fast(raw).has_value());
  const Item it = parse_message(raw);
  EXPECT_EQ(first_difference(it, parse_with_gmime(raw)), "");
  return it;
}

TEST(FastReader, EncodedWordsSplitAcrossLines) {
  // "café ✓" in two encoded words on two lines, the é cut between them; the white space
  // between encoded words goes, the one before plain text stays.
  const Item it = read_same(
      "From: a@example.com\n"
      "Subject: =?UTF-8?Q?caf=C3?=\n"
      " =?UTF-8?Q?=A9_=E2=9C=93?= and\n"
      " =?iso-8859-1?B?SOls6G5l?=\n"
      "\n"
      "x\n");
  EXPECT_EQ(it.subject, "café ✓ and Hélène");
  ASSERT_NE(it.header("subject"), nullptr);
  EXPECT_EQ(*it.header("subject"), "café ✓ and Hélène");
}

TEST(FastReader, QuotedDisplayNamesWithCommas) {
  const Item it = read_same(
      "From: \"Doe, John Q.\" <John.Doe@Example.COM>\n"
      "To: \"Smith, Ann\" <ann@example.org>, bob@example.net (Bob B.),\n"
      "  Dr. Who <who@example.org>, friends: c@example.org, \"D, E\" <d@example.org>;\n"
      "Cc: \"=?utf-8?Q?Zo=C3=AB?=, the 2nd\" <zoe@example.org>\n"
      "\n"
      "x\n");
  EXPECT_EQ(it.from_address, "john.doe@example.com");
  EXPECT_EQ(it.from_name, "Doe, John Q.");
  EXPECT_EQ(it.to, (std::vector<std::string>{"ann@example.org", "bob@example.net",
                                             "who@example.org", "c@example.org", "d@example.org"}));
  EXPECT_EQ(it.cc, (std::vector<std::string>{"zoe@example.org"}));
}

TEST(FastReader, AlternativeNestedInMixed) {
  const Item it = read_same(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=\"outer\"\n"
      "\n"
      "preamble\n"
      "--outer\n"
      "Content-Type: multipart/alternative;\n"
      "\tboundary=inner\n"
      "\n"
      "--inner\n"
      "Content-Type: text/html; charset=us-ascii\n"
      "\n"
      "<p>Hello <b>there</b></p>\n"
      "--inner\n"
      "Content-Type: text/plain; charset=us-ascii\n"
      "\n"
      "Hello there\n"
      "--inner--\n"
      "inner epilogue\n"
      "--outer\n"
      "Content-Type: application/pdf; name=\"report.pdf\"\n"
      "Content-Disposition: attachment; filename=\"Q3 report.pdf\"\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQK\n"
      "--outer--\n"
      "epilogue\n");
  EXPECT_EQ(it.text, "Hello there");  // the plain alternative, though it came second
  EXPECT_FALSE(it.html_only);
  ASSERT_EQ(it.attachments.size(), 1u);
  EXPECT_EQ(it.attachments[0].filename, "Q3 report.pdf");
  EXPECT_EQ(it.attachments[0].content_type, "application/pdf");
  EXPECT_EQ(it.attachments[0].size, 9u);
}

TEST(FastReader, QuotedPrintableSoftBreaks) {
  const Item it = read_same(
      "From: a@example.com\n"
      "Content-Type: text/plain; charset=utf-8\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "A long line that goes=\n"
      " on, =C3=A9t=c3=a9 and =3D=\r\n"
      "signs.=\n");
  EXPECT_EQ(it.text, "A long line that goes on, été and =signs.");
}

TEST(FastReader, Base64WithCrlf) {
  // "Hello, world!\nÇa va.\n" in UTF-8, the whole message with CRLF line ends.
  const Item it = read_same(
      "From: a@example.com\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "SGVsbG8sIHdvcmxkIQrDh2Eg\r\n"
      "dmEuCg==\r\n"
      "--b--\r\n");
  EXPECT_EQ(it.text, "Hello, world!\nÇa va.\n");
}

TEST(FastReader, Latin1AndWindows1252Bodies) {
  Item it = read_same(
      "From: a@example.com\n"
      "Content-Type: text/plain; charset=ISO-8859-1\n"
      "Content-Transfer-Encoding: 8bit\n"
      "\n"
      "Caf\xE9 cr\xE8me, 50 \x80\n");
  EXPECT_EQ(it.text, "Café crème, 50 €\n");
  it = read_same(
      "From: a@example.com\n"
      "Content-Type: text/html; charset=\"windows-1252\"\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "<p>=93Quoted=94 =96 dash</p>\n");
  EXPECT_EQ(it.text, "“Quoted” – dash");
  EXPECT_TRUE(it.html_only);
}

TEST(FastReader, EightBitHeaders) {
  // Raw UTF-8 in headers is read as UTF-8 by GMime, without a warning.
  const Item it = read_same(
      "From: J\xC3\xB6rg M\xC3\xBCller <joerg@example.de>\n"
      "Subject: Gr\xC3\xBC\xC3\x9F"
      "e\n"
      "\n"
      "x\n");
  EXPECT_EQ(it.from_name, "Jörg Müller");
  EXPECT_EQ(it.subject, "Grüße");
  // Raw latin-1 is not UTF-8: GMime warns about each such header (its warnings come last,
  // after the body's defects) and reads every word in windows-1252.
  const Item latin1 = read_same(
      "From: a@example.com\n"
      "Subject: Gr\xFC\xDF"
      "e \x93"
      "aus\x94\n"
      "\tK\xF6ln\n"
      "X-Mailer: Mailer \xAE 2.0\n"
      "X-Mailer: Mailer \xAE 2.1\n"
      "\n"
      "caf\xE9\n",
      ParseStatus::repaired);
  EXPECT_EQ(latin1.subject, "Grüße “aus”\tKöln");
  EXPECT_EQ(latin1.defects, (std::vector<std::string>{
                                "no charset for the 8-bit text in the body; read as windows-1252",
                                "header 'Subject' has unencoded 8-bit text",
                                "header 'X-Mailer' has unencoded 8-bit text"}));
  // Every byte windows-1252 defines reads alike.
  for (int b = 0x80; b <= 0xFF; ++b) {
    if (b == 0x81 || b == 0x8D || b == 0x8F || b == 0x90 || b == 0x9D) continue;
    read_same("From: a@example.com\nSubject: [" + std::string(1, static_cast<char>(b)) + "]\n\nx\n",
              ParseStatus::repaired);
  }
  // GMime reads such text word by word: as UTF-8 where a word is, else as windows-1252, else
  // (a byte windows-1252 lacks) as iso-8859-1, every byte its own code point.
  EXPECT_EQ(
      read_same("From: a@example.com\nSubject: caf\xC3\xA9 \xE9t\xE9\n\nx\n", ParseStatus::repaired)
          .subject,
      "café été");
  EXPECT_EQ(read_same("From: a@example.com\nSubject: \x81\xE9\x93 \x93x\x94\t\x9D\n\nx\n",
                      ParseStatus::repaired)
                .subject,
            "\xC2\x81\xC3\xA9\xC2\x93 “x”\t\xC2\x9D");
  // Big5 and GB2312 in a header, folded: words of both kinds.
  read_same(
      "From: a@example.com\nX-Spam: \xC1\xD9\xA6"
      "b\xA5\xCE"
      "20%\xAA\n \xC8\xE7\xB9\xFB ok\n\nx\n",
      ParseStatus::repaired);
  for (const char* raw : {
           // an encoded word beside 8-bit text
           "From: a@example.com\nSubject: =?utf-8?q?caf=C3=A9?= \xE9\n\nx\n",
           // headers read further: dates, MIME
           "From: a@example.com\nDate: Thu, 22 Aug 2002 12:36:23 +0100 (\xE9)\n\nx\n",
           "From: a@example.com\nContent-Type: text/plain; name=\"\xE9.txt\"\n\nx\n",
           // a part's header
           "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
           "Content-Description: caf\xE9\n\nx\n--b--\n",
       }) {
    EXPECT_EQ(declined_same(raw).parse_status, ParseStatus::repaired) << raw;
  }
  // An address header's mailboxes are read by GMime's own address parser, header alone.
  const Item name = read_same("From: J\xF6rg <joerg@example.de>\n\nx\n", ParseStatus::repaired);
  EXPECT_EQ(name.from_name, "Jörg");
  EXPECT_EQ(name.from_address, "joerg@example.de");
}

// Address lists the strict reader gives up on (spam's, mostly) are read header by header by
// GMime's address parser: the same mailboxes and the same warnings, in header order.
TEST(FastReader, OddAddressListsReadByGMimesAddressParser) {
  const Item reply_to = read_same(
      "From: a@example.com\nReply-To: \"Bannedcd\"eowu345@yahoo.com\n\nx\n", ParseStatus::repaired);
  EXPECT_EQ(reply_to.defects,
            std::vector<std::string>{"unreadable address list '\"Bannedcd\"eowu345@yahoo.com '"});
  const Item to = read_same(
      "From: a@example.com\nTo: <jfergie934@netnoir.net>knoshaug.com, b@example.org\n\nx\n",
      ParseStatus::repaired);
  EXPECT_FALSE(to.to.empty());
  // From's warnings before Sender's when From comes first.
  const Item both = read_same(
      "From: zvfjenphuq@[1086695621], [ufa]@netnoteinc.com\n"
      "Sender: zvfjenphuq@[1086695621] [ufa]\n\nx\n",
      ParseStatus::repaired);
  ASSERT_EQ(both.defects.size(), 3u);
  EXPECT_EQ(both.defects[0], "unreadable address list '[ufa]@netnoteinc.com '");
  // No address in From: kept, with GMime's words (a folded one stays GMime's to quote).
  for (const char* raw : {"From: \"\" <>\nTo: b@example.com\n\nx\n",
                          "From: \nTo: b@example.com\n\nx\n", "From: \xA4p\xA7@example.com\n\nx\n"})
    EXPECT_EQ(read_same(raw, ParseStatus::repaired).from_address, "") << raw;
  EXPECT_EQ(read_same("From: \"\" <>\n\nx\n", ParseStatus::repaired).defects,
            std::vector<std::string>{"no address in the From header '\"\" <>'"});
  declined_same("From: \"\"\n <>\n\nx\n");
  // Punycode labels, which GMime turns into Unicode, in any case and any label.
  for (const char* raw :
       {"From: a@xn--bcher-kva.example\n\nx\n", "From: a@mail.XN--bcher-kva.example\n\nx\n",
        "From: a@example.com\nTo: b@shop.Xn--bcher-kva\n\nx\n"})
    read_same(raw);
  EXPECT_EQ(read_same("From: a@xn--bcher-kva.example\n\nx\n").from_address, "a@bücher.example");
  // Beside the other header warnings, in GMime's order: 8-bit text first (found as GMime
  // reads the header block), then repeats and address lists in header order (as it files
  // them), a repeat before that header's own address warnings.
  EXPECT_EQ(read_same("From: a@example.com\nReply-To: \"b\"c@example.com\n"
                      "To: \"q\"w@example.com\nTo: \"p\"w@example.com\nSubject: caf\xE9\n\nx\n",
                      ParseStatus::repaired)
                .defects,
            (std::vector<std::string>{"header 'Subject' has unencoded 8-bit text",
                                      "unreadable address list '\"b\"c@example.com '",
                                      "unreadable address list '\"q\"w@example.com '",
                                      "conflicting 'To' headers",
                                      "unreadable address list '\"p\"w@example.com '"}));
}

// Header lines are scanned 16 bytes at a time for their end and for bytes that need a closer
// look: each such byte, at every place in a line's first three blocks, on a first line and on
// a folded one, must be seen.
TEST(FastReader, UnusualHeaderBytesAtEveryOffset) {
  for (std::size_t k = 0; k < 50; ++k) {
    const std::string pad(k, 'a');
    for (const std::string& line : {"Subject: " + pad, "Subject: s\n\t" + pad}) {
      SCOPED_TRACE(shown(line));
      auto message = [&](const std::string& bytes) {
        return "From: a@example.com\n" + line + bytes + "z\nX-Next: n\n\nx\n";
      };
      EXPECT_FALSE(read_fast(message("\r")).has_value());  // a CR before no LF
      EXPECT_FALSE(read_fast(message(std::string(1, '\0'))).has_value());
      const std::string folded = line.find('\n') == std::string::npos ? "" : "\t";
      const std::string head = line.substr(line.find(':') + 2);
      std::string unfolded = head;
      if (!folded.empty()) unfolded = "s\t" + pad;
      EXPECT_EQ(read_same(message("\xC3\xA9")).subject, unfolded + "\xC3\xA9z");
      EXPECT_EQ(read_same(message("\xE9"), ParseStatus::repaired).subject, unfolded + "\xC3\xA9z");
    }
    // Encoded words start with a '=', which the same pass notes, as it notes a folded line.
    EXPECT_EQ(
        read_same("From: a@example.com\nSubject: " + pad + "=?utf-8?q?caf=C3=A9?=\n\nx\n").subject,
        pad + "caf\xC3\xA9");
    EXPECT_EQ(read_same("From: a@example.com\nSubject: s\n " + pad + "=?utf-8?q?caf=C3=A9?=\n\nx\n")
                  .subject,
              "s " + pad + "caf\xC3\xA9");
    EXPECT_EQ(read_same("From: a@example.com\nSubject: " + pad + "y\n\tz\n\nx\n").subject,
              pad + "y\tz");
    // CRLF line ends, with the CR at every place (and the LF in the next block after it).
    const std::string crlf =
        "From: a@example.com\r\nSubject: " + pad + "\r\nX-Next: n\r\n\r\nx\r\n";
    EXPECT_EQ(read_same(crlf).subject, pad);
  }
}

// Boundary lines are found 16 bytes at a time by their "\n--": lines that start with dashes
// and are not boundaries, and boundaries, at every place in a block.
TEST(FastReader, BoundariesAtEveryOffset) {
  for (std::size_t k = 0; k < 40; ++k) {
    const std::string pad(k, 'p');
    const std::string raw =
        "From: a@example.com\n"
        "Content-Type: multipart/mixed; boundary=b\n"
        "\n" +
        pad + "\n--not the boundary\n-\n--b\n" +
        "Content-Type: text/plain\n"
        "\n" +
        pad + "\n--x\n-- b\nend\n--b--\n";
    SCOPED_TRACE(k);
    EXPECT_EQ(read_same(raw).text, pad + "\n--x\n-- b\nend");
  }
}

TEST(FastReader, DatesAsGMimeReadsThem) {
  // Every form the reader takes gives GMime's time; the others are GMime's to read.
  const std::vector<std::string> days = {"Thu, ", "", "Thu,", "thu, ", "Thursday, "};
  const std::vector<std::string> dates = {"22 Aug 2002", "1 Jan 2000",    "29 Feb 2000",
                                          "29 Feb 2001", "31 Dec 1999",   "22 aug 02",
                                          "22 Aug 69",   "22 August 2002"};
  const std::vector<std::string> times = {"12:36:23", "1:2:3", "12:36", "24:00:00"};
  const std::vector<std::string> zones = {
      "+0100",       "-0500",         "+2359", "+2400", "+0060",    "+100",
      "+-0800",      "GMT",           "UT",    "UTC",   "EDT",      "PST",
      "edt",         "(EDT)",         "GMT+1", "Z",     "PM -0400", "AM",
      "-0400 (EDT)", "+0100 foo bar", "01800", "",      "(EDT",     "Eastern Daylight Time"};
  int accepted = 0, total = 0;
  for (const auto& d : days)
    for (const auto& date : dates)
      for (const auto& t : times)
        for (const auto& z : zones) {
          const std::string raw =
              "From: a@example.com\nDate: " + d + date + " " + t + " " + z + "\n\nx\n";
          ++total;
          const std::optional<Item> fast = read_fast(raw);
          if (!fast) continue;
          ++accepted;
          const Item gmime = parse_with_gmime(raw);
          EXPECT_EQ(fast->sent_at, gmime.sent_at) << raw;
          EXPECT_EQ(gmime.parse_status, ParseStatus::ok) << raw;
        }
  EXPECT_GT(accepted, total / 4);
  // A sign that starts no zone: GMime passes over it and the number after it, and reads UTC.
  const Item signed_zone =
      read_same("From: a@example.com\nDate: Tue, 3 Dec 2002 11:51:12 +-0700\n\nx\n");
  EXPECT_EQ(signed_zone.sent_at, 1038916272);
}

TEST(FastReader, CharsetRepairsOfTheBody) {
  // A message of one part: the defects name it "the body".
  Item it = read_same(
      "From: a@example.com\n"
      "\n"
      "na\xEFve caf\xE9\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.text, "naïve café\n");
  EXPECT_EQ(it.defects, (std::vector<std::string>{
                            "no charset for the 8-bit text in the body; read as windows-1252"}));
  it = read_same(
      "From: a@example.com\n"
      "Content-Type: text/plain; charset=us-ascii\n"
      "\n"
      "na\xC3\xAFve\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.text, "naïve\n");
  EXPECT_EQ(it.defects,
            (std::vector<std::string>{"8-bit text in the body labelled us-ascii; read as UTF-8"}));
  it = read_same(
      "From: a@example.com\n"
      "Content-Type: text/html; charset=\"utf-8\"\n"
      "Content-Transfer-Encoding: quoted-printable\n"
      "\n"
      "<p>=93Quoted=94 =96 dash</p>\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.text, "“Quoted” – dash");
  EXPECT_EQ(
      it.defects,
      (std::vector<std::string>{"the body is labelled utf-8 but is not; read as windows-1252"}));
  // ASCII in a charset iconv does not know.
  it = read_same(
      "From: a@example.com\n"
      "Content-Type: text/plain; charset=X-Unknown-42\n"
      "\n"
      "plain words\n",
      ParseStatus::repaired);
  EXPECT_EQ(
      it.defects,
      (std::vector<std::string>{"unknown charset 'x-unknown-42' in the body; read as UTF-8"}));
}

TEST(FastReader, CharsetRepairsNamePartsAsTheWalkerCountsThem) {
  // Every leaf counts, attachments and the alternative not chosen too; the defects come in
  // the order of the parts.
  const Item it = read_same(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: application/pdf; name=a.pdf\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "JVBERi0xLjQK\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain; charset=iso-8859-8\n"
      "\n"
      "caf\xC3\xA9\n"
      "--inner\n"
      "Content-Type: text/html; charset=us-ascii\n"
      "\n"
      "<p>caf\xE9, never read</p>\n"
      "--inner--\n"
      "--outer\n"
      "Content-Type: text/plain\n"
      "\n"
      "na\xEFve\n"
      "--outer\n"
      "Content-Type: text/plain; charset=x-nothing\n"
      "\n"
      "\xE9t\xE9\n"
      "--outer--\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.defects, (std::vector<std::string>{
                            "part 2 is labelled iso-8859-8 but is UTF-8; read as UTF-8",
                            "no charset for the 8-bit text in part 4; read as windows-1252",
                            "unknown charset 'x-nothing' in part 5; read as windows-1252"}));
  ASSERT_EQ(it.attachments.size(), 1u);
}

TEST(FastReader, YearsWrittenAs1900PlusTmYear) {
  // GMime reads no date; the GMime path reads 0102 as 2002 and says so.
  Item it = read_same(
      "From: a@example.com\n"
      "Date: Wed, 24 Jul 0102 21:48:06 +1200\n"
      "\n"
      "x\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.sent_at, 1027504086);  // 2002-07-24 09:48:06 UTC
  EXPECT_EQ(it.defects,
            (std::vector<std::string>{"unreadable Date header 'Wed, 24 Jul 0102 21:48:06 +1200'; "
                                      "read its year 01xx as 20xx"}));
  // With a repaired body: the Date comes first, as the GMime path reads the header first.
  it = read_same(
      "From: a@example.com\n"
      "Date: 5 Jun 0102 06:15 -0600 (MDT)\n"
      "\n"
      "caf\xE9\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.defects.size(), 2u);
  EXPECT_EQ(it.defects.front().rfind("unreadable Date header", 0), 0u);

  // Any form: the fast reader takes some and must read those as the GMime path does; the
  // others (a number GMime could take for the year, a year between tabs, a cut line...)
  // are GMime's.
  const std::vector<std::string> dates = {"Wed, 24 Jul 0102",  "24 Jul 0102",  "Wed,24 Jul 0102",
                                          "Wed, 24 Jul\t0102", "29 Feb 0100",  "29 Feb 0104",
                                          "31 Dec 0169",       "1 Jan 0170",   "24 Jul 102",
                                          "24 Jul 0099",       "24 Jul 01020", "Wed, 24 0102 Jul"};
  const std::vector<std::string> times = {"21:48:06", "1:2:3", "21:48", "24:00:00", "21-48-06"};
  const std::vector<std::string> zones = {"+1200",        "-0700",    "+-0500", "PDT",
                                          "-0700 (PDT)",  "(EDT)",    "",       "-0700 2002",
                                          "+0100 12",     "GMT 0102", "Z",      "-0700 (12)",
                                          "+0100 foo 11", "-07:00",   "0102",   "+0100\n 7"};
  int accepted = 0, total = 0;
  for (const auto& date : dates)
    for (const auto& t : times)
      for (const auto& z : zones) {
        const std::string raw =
            "From: a@example.com\nDate: " + date + " " + t + " " + z + "\n\nx\n";
        ++total;
        const std::optional<Item> fast = read_fast(raw);
        if (!fast) continue;
        ++accepted;
        EXPECT_EQ(first_difference(*fast, parse_with_gmime(raw)), "") << raw;
      }
  EXPECT_GT(accepted, total / 8);
}

// --- what the fast reader leaves to GMime ------------------------------------------------

// Multiparts whose closing boundary never comes: GMime ends the last part at the end of the
// message (keeping its last line break) and warns that the message is cut short; the GMime
// path's walker adds that the closing boundary is missing.
TEST(FastReader, UnclosedLastPartOfAlternative) {
  const Item it = read_same(
      "From: a@example.com\n"
      "Content-Type: multipart/alternative; boundary=\"alt\"\n"
      "\n"
      "--alt\n"
      "Content-Type: text/plain; charset=us-ascii\n"
      "\n"
      "Plain words\n"
      "--alt\n"
      "Content-Type: text/html; charset=us-ascii\n"
      "\n"
      "<p>Rich <b>words</b></p>\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.text, "Plain words");
  EXPECT_EQ(it.defects, (std::vector<std::string>{"multipart has no closing boundary",
                                                  "message is cut short"}));
  // The HTML alternative, chosen when it is the only text, runs to the end.
  const Item html = read_same(
      "From: a@example.com\n"
      "Content-Type: multipart/alternative; boundary=\"alt\"\n"
      "\n"
      "--alt\n"
      "Content-Type: image/gif\n"
      "\n"
      "GIF89a\n"
      "--alt\n"
      "Content-Type: text/html\n"
      "\n"
      "<p>Rich <b>words</b></p>\n\n\n",
      ParseStatus::repaired);
  EXPECT_TRUE(html.html_only);
  // GMime's warnings in the order it raises them: the header's while reading the header.
  const Item eight_bit = read_same(
      "From: a@example.com\n"
      "Subject: Caf\xe9\n"
      "Content-Type: multipart/alternative; boundary=\"alt\"\n"
      "\n"
      "--alt\n"
      "Content-Type: text/plain\n"
      "\n"
      "Plain words",
      ParseStatus::repaired);
  EXPECT_EQ(eight_bit.defects,
            (std::vector<std::string>{"multipart has no closing boundary",
                                      "header 'Subject' has unencoded 8-bit text",
                                      "message is cut short"}));
}

TEST(FastReader, UnclosedAttachmentOfMixed) {
  const std::string head =
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=mix\n"
      "\n"
      "preamble\n"
      "--mix\n"
      "Content-Type: text/plain\n"
      "\n"
      "See attached.\n"
      "--mix\n"
      "Content-Type: application/octet-stream; name=\"notes.txt\"\n"
      "Content-Disposition: attachment\n"
      "\n"
      "line one\n"
      "line two";
  // The attachment keeps its last line break when the message has one, as GMime keeps every
  // byte up to the end of an unclosed part.
  const Item with_newline = read_same(head + "\n", ParseStatus::repaired);
  ASSERT_EQ(with_newline.attachments.size(), 1u);
  EXPECT_EQ(with_newline.attachments[0].filename, "notes.txt");
  EXPECT_EQ(with_newline.attachments[0].size, 18u);
  const Item without = read_same(head, ParseStatus::repaired);
  ASSERT_EQ(without.attachments.size(), 1u);
  EXPECT_EQ(without.attachments[0].size, 17u);
  EXPECT_EQ(without.text, "See attached.");
  // A last part whose header ends the message is empty.
  const Item empty = read_same(head.substr(0, head.find("line one")), ParseStatus::repaired);
  ASSERT_EQ(empty.attachments.size(), 1u);
  EXPECT_EQ(empty.attachments[0].size, 0u);
  // Base64 and CRLF line ends, the text part last.
  read_same(
      "From: a@example.com\r\n"
      "Content-Type: multipart/mixed; boundary=mix\r\n"
      "\r\n"
      "--mix\r\n"
      "Content-Type: image/png\r\n"
      "Content-Transfer-Encoding: base64\r\n"
      "\r\n"
      "iVBORw0KGgo=\r\n"
      "--mix\r\n"
      "Content-Type: text/plain; charset=iso-8859-1\r\n"
      "\r\n"
      "Caf\xe9\r\n\r\n",
      ParseStatus::repaired);
}

TEST(FastReader, UnclosedNestedMultiparts) {
  // Both the inner and the outer multipart run to the end: one warning, one defect.
  Item it = read_same(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain\n"
      "\n"
      "text\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.defects, (std::vector<std::string>{"multipart has no closing boundary",
                                                  "message is cut short"}));
  // The inner one closed, its epilogue running to the end of the unclosed outer one.
  read_same(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain\n"
      "\n"
      "text\n"
      "--inner--\n"
      "epilogue\n",
      ParseStatus::repaired);
  // An inner part ended by the outer boundary: GMime calls that a malformed multipart.
  it = read_same(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=outer\n"
      "\n"
      "--outer\n"
      "Content-Type: multipart/alternative; boundary=inner\n"
      "\n"
      "--inner\n"
      "Content-Type: text/plain\n"
      "\n"
      "text\n"
      "--outer\n"
      "Content-Type: application/pdf; name=a.pdf\n"
      "\n"
      "%PDF\n"
      "--outer--\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.defects, (std::vector<std::string>{"multipart has no closing boundary",
                                                  "multipart has no parts"}));
  ASSERT_EQ(it.attachments.size(), 1u);
  EXPECT_EQ(it.attachments[0].size, 4u);
}

TEST(FastReader, DeclinesBrokenBoundaries) {
  // The message ends inside a part's header: GMime reads its own way there.
  Item it = declined_same(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "\n"
      "text\n"
      "--b\n"
      "Content-Type: text/plain\n");
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
  // A boundary line that ends the message (GMime then also calls the message malformed).
  it = declined_same(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "--b\n"
      "Content-Type: text/plain\n"
      "\n"
      "text\n"
      "--b\n");
  EXPECT_EQ(it.defects, (std::vector<std::string>{"multipart has no closing boundary",
                                                  "message is cut short", "message is malformed"}));
  // No boundary line at all.
  it = declined_same(
      "From: a@example.com\n"
      "Content-Type: multipart/mixed; boundary=b\n"
      "\n"
      "just text\n");
  EXPECT_EQ(it.parse_status, ParseStatus::repaired);
}

// Damaged transfer encodings are decoded by GMime's decoder and named as the GMime path names
// them.
TEST(FastReader, DamagedEncodingsDecodedAsGMimeDecodesThem) {
  Item it = read_same(
      "From: a@example.com\n"
      "Content-Type: application/octet-stream; name=a.bin\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "SGVsbG8*sIHdvcmxk\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.defects, std::vector<std::string>{"base64 in the body was damaged"});
  // A lone sextet at the end: something was cut.
  it = read_same(
      "From: a@example.com\n"
      "Content-Type: text/plain\n"
      "Content-Transfer-Encoding: base64\n"
      "\n"
      "SGVsbG8sIHdvcmxkI\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.text.substr(0, 12), "Hello, world");
  // Unpadded, not damaged: read as GMime reads it, without a word.
  read_same(
      "From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
      "SGVsbG8\n");
  // Prose marked base64 is read as it is.
  it = read_same(
      "From: a@example.com\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
      "Hello there, this is plain prose, not base64 at all.\n",
      ParseStatus::repaired);
  EXPECT_NE(it.text.find("plain prose"), std::string::npos);
  // Invalid quoted-printable escapes, in a part and in an attachment.
  it = read_same(
      "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n"
      "caf=E9 =ZZ 100=\n--b\n"
      "Content-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: quoted-printable\n\n"
      "%PDF =G1\n--b--\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.defects[0], "quoted-printable in part 1 has invalid escapes");
  ASSERT_EQ(it.attachments.size(), 1u);
}

// Spam writes Cc (and To) many times over; GMime reads them all into one list, in order, and
// warns once per wording: the same value again is a duplicate, another one a conflict.
TEST(FastReader, RepeatedToAndCcAreOneList) {
  const Item it = read_same(
      "From: a@example.com\n"
      "To: one@example.org\n"
      "Cc: c1@example.org\n"
      "CC: c2@example.org, c3@example.org\n"
      "Cc: c1@example.org\n"
      "To: one@example.org\n"
      "\n"
      "x\n",
      ParseStatus::repaired);
  EXPECT_EQ(it.to, (std::vector<std::string>{"one@example.org", "one@example.org"}));
  EXPECT_EQ(it.cc, (std::vector<std::string>{"c1@example.org", "c2@example.org", "c3@example.org",
                                             "c1@example.org"}));
  EXPECT_EQ(it.defects, (std::vector<std::string>{"conflicting 'CC' headers",
                                                  "header 'Cc' appears more than once",
                                                  "header 'To' appears more than once"}));
  // With an 8-bit header too: GMime warns of 8-bit text as it reads the header block, of
  // repeats as it files the headers after.
  EXPECT_EQ(read_same("From: a@example.com\nCc: a@example.org\nCc: b@example.org\n"
                      "Subject: caf\xe9\n\nx\n",
                      ParseStatus::repaired)
                .defects,
            (std::vector<std::string>{"header 'Subject' has unencoded 8-bit text",
                                      "conflicting 'Cc' headers"}));
}

// Empty parameters (spam writes "text/html;;;;;;" by the dozen): GMime skips them and warns
// once, after what the body needed repaired.
TEST(FastReader, EmptyParametersOfTheMessagesContentType) {
  for (const char* type :
       {"text/html;;;;;;", "text/html ; ; ; ;", "text/html;;; charset=us-ascii;;",
        "text/plain;\n\t;charset=\"iso-8859-1\";;", "multipart/alternative;; boundary=b;"}) {
    SCOPED_TRACE(type);
    const std::string body = std::string(type).starts_with("multipart")
                                 ? "--b\nContent-Type: text/html\n\n<p>caf\xE9</p>\n--b--\n"
                                 : "<p>caf\xE9</p>\n";
    const Item it =
        read_same(std::string("From: a@example.com\nContent-Type: ") + type + "\n\n" + body,
                  ParseStatus::repaired);
    EXPECT_EQ(it.defects.back(), "unreadable header parameter ''");
    EXPECT_NE(it.text.find("caf"), std::string::npos);
  }
  // In a part's headers they stay GMime's.
  declined_same(
      "From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
      "Content-Type: text/plain;;\n\nx\n--b--\n");
  // After the other header warnings: GMime reads the Content-Type once the headers are filed.
  EXPECT_EQ(read_same("From: a@example.com\nContent-Type: text/plain;;\nTo: \"b\"c@example.com\n"
                      "Subject: caf\xE9\n\nx\n",
                      ParseStatus::repaired)
                .defects,
            (std::vector<std::string>{"header 'Subject' has unencoded 8-bit text",
                                      "unreadable address list '\"b\"c@example.com '",
                                      "unreadable header parameter ''"}));
}

TEST(FastReader, DeclinesWhatItDoesNotReadExactly) {
  for (const char* raw : {
           // a forwarded message
           "From: a@example.com\nContent-Type: message/rfc822\n\nFrom: b@example.com\n\nx\n",
           // an encoded word it cannot decode the same way
           "From: a@example.com\nSubject: =?utf-8?q?bad=ZZ?=\n\nx\n",
           // RFC 2231 parameters
           "From: a@example.com\nContent-Type: text/plain; name*=utf-8''a%C3%A9.txt\n\nx\n",
           // no From
           "To: a@example.com\n\nx\n",
           // an unknown transfer encoding
           "From: a@example.com\nContent-Transfer-Encoding: x-foo\n\nx\n",
           // a header repeated that GMime wants once
           "From: a@example.com\nSubject: one\nSubject: two\n\nx\n",
           // a year GMime cannot read, folded: the GMime path quotes it as GMime keeps it
           "From: a@example.com\nDate: Wed, 24 Jul 0102\n 21:48:06 +1200\n\nx\n",
       }) {
    declined_same(raw);
  }
  // Two dashes alone are no punycode.
  EXPECT_EQ(read_same("From: a@my--shop.example\n\nx\n").from_address, "a@my--shop.example");
  // A text cut at 256 KB.
  const Item cut = declined_same("From: a@example.com\n\n" + std::string(300 * 1024, 'x') + "\n");
  EXPECT_EQ(cut.defects, (std::vector<std::string>{"text cut at 256 KB"}));
}

TEST(FastReaderDifferential, SpamAssassinCorpus) {
  SK_REQUIRE_CORPUS();
  Tally all;
  for (const char* group : {"easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"}) {
    Tally tally;
    for (const fs::path& f : files_under(fs::path(test::corpus_dir()) / group, ".txt")) {
      compare(f.string(), test::file_text(f.string()), tally);
    }
    tally.print(group);
    all.messages += tally.messages;
    all.accepted += tally.accepted;
    all.different += tally.different;
    for (const auto& [why, n] : tally.declined) all.declined[why] += n;
  }
  all.print("all");
  EXPECT_EQ(all.messages, 6046);
  EXPECT_EQ(all.different, 0);
  // The floor sits a little under what the reader reaches, so that a change that makes it
  // decline much more shows here rather than only as a slower benchmark.
  EXPECT_GE(all.accepted * 100, all.messages * 95) << "the fast reader declines too much";
}

// Corpus messages with small damage where mail is fragile (headers, boundaries, encodings):
// whatever the fast reader still accepts, it must read as GMime does.
TEST(FastReaderDifferential, MutatedCorpusMessages) {
  SK_REQUIRE_CORPUS();
  std::vector<std::string> seeds;
  for (const char* group : {"easy-ham-2", "spam-2"}) {
    const auto files = files_under(fs::path(test::corpus_dir()) / group, ".txt");
    for (std::size_t i = 0; i < files.size(); i += 7) {
      std::string raw = test::file_text(files[i].string());
      if (read_fast(raw)) seeds.push_back(std::move(raw));
    }
  }
  ASSERT_GT(seeds.size(), 100u);
  static const char* const kPieces[] = {"=?",
                                        "?=",
                                        "\"",
                                        "<",
                                        ">",
                                        "(",
                                        ")",
                                        ",",
                                        ";",
                                        ":",
                                        " ",
                                        "\t",
                                        "\n",
                                        "\r\n",
                                        "\r",
                                        "-",
                                        "--",
                                        "=",
                                        "?",
                                        "_",
                                        "\\",
                                        "@",
                                        ".",
                                        "\x80",
                                        "\xc3\xa9",
                                        "\n ",
                                        "\n\n",
                                        "=?utf-8?q?",
                                        "=?iso-8859-1?b?",
                                        "=C3",
                                        "[",
                                        "]",
                                        "+",
                                        "GMT",
                                        "=\n",
                                        "==",
                                        "/",
                                        "'",
                                        "\xff"};
  std::mt19937_64 rng(20021122);
  MutationTally tally;
  for (int round = 0; round < 4000; ++round) {
    std::string m = seeds[rng() % seeds.size()];
    const std::size_t header_end = std::min(m.size(), m.find("\n\n"));
    const std::string boundary = [&] {
      const std::size_t b = m.find("boundary=\"");
      if (b == std::string::npos) return std::string("--x");
      const std::size_t e = m.find('"', b + 10);
      return "--" + m.substr(b + 10, e == std::string::npos ? 0 : e - b - 10);
    }();
    for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n && !m.empty(); ++k) {
      const std::size_t span = rng() % 3 == 0 ? m.size() : header_end + 1;
      const std::size_t pos = rng() % std::min(span, m.size());
      const std::size_t line = m.rfind('\n', pos) == std::string::npos ? 0 : m.rfind('\n', pos) + 1;
      switch (rng() % 8) {
        case 0:
        case 1:
          m.insert(pos, kPieces[rng() % std::size(kPieces)]);
          break;
        case 2:
          m.erase(pos, 1 + rng() % 4);
          break;
        case 3:
          m.insert(line, boundary + (rng() % 2 ? "--" : "") + (rng() % 2 ? "\r\n" : "\n"));
          break;
        case 4:
          m.insert(line, m.substr(line, m.find('\n', line) - line) + "\n");
          break;
        case 5:
          if (const std::size_t nl = m.find('\n', pos); nl != std::string::npos)
            m.replace(nl, 1, rng() % 2 ? "\r\n" : "\n\t");
          break;
        case 6:
          m[pos] = static_cast<char>(rng() & 0xFF);
          break;
        default:
          m.insert(line, "\n");
          break;
      }
    }
    tally.compare(m, round);
  }
  tally.expect_same("mutated", 4000, "mutated messages");
}

// Multipart corpus messages cut short or stripped of closing boundaries, the forms of
// "unclosed" the fast reader reads itself: it must read them as GMime does.
TEST(FastReaderDifferential, UnclosedCorpusMultiparts) {
  SK_REQUIRE_CORPUS();
  std::vector<std::string> seeds;
  for (const char* group : {"easy-ham-1", "spam-1", "spam-2"}) {
    const auto files = files_under(fs::path(test::corpus_dir()) / group, ".txt");
    for (std::size_t i = 0; i < files.size(); i += 3) {
      std::string raw = test::file_text(files[i].string());
      if (raw.find("boundary=") != std::string::npos && read_fast(raw)) seeds.push_back(raw);
    }
  }
  ASSERT_GT(seeds.size(), 50u);
  std::mt19937_64 rng(20240229);
  MutationTally tally;
  for (int round = 0; round < 3000; ++round) {
    std::string m = seeds[rng() % seeds.size()];
    switch (rng() % 4) {
      case 0:  // cut anywhere after the header
      case 1: {
        const std::size_t body = std::min(m.size(), m.find("\n\n"));
        if (body + 2 < m.size()) m.resize(body + 2 + rng() % (m.size() - body - 2));
        break;
      }
      case 2: {  // drop every closing boundary line
        std::size_t at = 0;
        while ((at = m.find("--\n", at)) != std::string::npos) {
          const std::size_t line = m.rfind('\n', at);
          if (line != std::string::npos && m.compare(line + 1, 2, "--") == 0) {
            m.erase(line + 1, at + 3 - line - 1);
            at = line;
          } else {
            at += 3;
          }
        }
        break;
      }
      default:  // drop the last closing boundary line and what follows
        if (const std::size_t at = m.rfind("--\n"); at != std::string::npos) {
          const std::size_t line = m.rfind('\n', at);
          if (line != std::string::npos)
            m.resize(line + rng() % 2);  // with or without its line break
        }
        break;
    }
    tally.compare(m, round);
  }
  tally.expect_same("unclosed", 3000, "cut messages");
}

TEST(FastReaderDifferential, MimeTestData) {
  const fs::path dir = fs::path(test::shared_data()) / "mime";
  ASSERT_TRUE(fs::is_directory(dir)) << "missing " << dir;
  Tally tally;
  const auto files = files_under(dir);
  ASSERT_EQ(files.size(), 149u);
  for (const fs::path& f : files) compare(f.string(), test::file_text(f.string()), tally);
  tally.print("mime data");
  EXPECT_EQ(tally.different, 0);
}

}  // namespace
}  // namespace sk::mail
