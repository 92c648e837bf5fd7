// The single-pass reader against the GMime path: for every message of the real corpora that
// the fast reader accepts, both must give the same Item, field by field; and it must accept
// most of the SpamAssassin corpus, or it would be speed bought with nothing.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
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
  EXPECT_GE(all.accepted * 100, all.messages * 85) << "the fast reader declines too much";
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
