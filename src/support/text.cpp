#include "support/text.hpp"

#include <cctype>
#include <unordered_set>

namespace sk::support {

std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80 || std::isalnum(c)) {
      cur += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
    } else if ((c == '\'' || c == '`') && !cur.empty() && i + 1 < text.size() &&
               std::isalpha(static_cast<unsigned char>(text[i + 1]))) {
      continue;  // "don't" is one word
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

// Words that say nothing about what is asked: sharing only these is sharing nothing.
bool is_stopword(std::string_view w) {
  static const std::unordered_set<std::string_view> kStop = {
      "a",      "about",  "after", "again",  "all",    "am",     "an",    "and",   "any",   "are",
      "as",     "at",     "be",    "been",   "before", "but",    "by",    "can",   "could", "did",
      "do",     "does",   "doing", "for",    "from",   "get",    "go",    "got",   "had",   "has",
      "have",   "having", "he",    "hello",  "her",    "here",   "hi",    "him",   "his",   "how",
      "i",      "id",     "if",    "im",     "in",     "into",   "is",    "it",    "its",   "ive",
      "just",   "know",   "let",   "look",   "ok",     "okay",   "also",  "ask",   "say",   "see",
      "still",  "tell",   "well",  "like",   "may",    "me",     "might", "more",  "most",  "much",
      "must",   "my",     "need",  "no",     "not",    "now",    "of",    "on",    "one",   "or",
      "other",  "our",    "out",   "please", "pleas",  "should", "so",    "some",  "than",  "thank",
      "thanks", "that",   "the",   "their",  "them",   "then",   "there", "these", "they",  "thing",
      "think",  "this",   "those", "to",     "too",    "up",     "us",    "very",  "wa",    "want",
      "was",    "way",    "we",    "were",   "what",   "when",   "where", "which", "while", "who",
      "whi",    "why",    "will",  "with",   "would",  "yes",    "you",   "your",  "yours"};
  return w.size() < 2 || kStop.count(w) > 0;
}

namespace {
bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}
}  // namespace

std::string question_text(std::string_view subject, std::string_view body) {
  std::string s(subject);
  // "Re: Fwd: question" → "question"
  for (bool again = true; again;) {
    again = false;
    std::size_t p = s.find_first_not_of(' ');
    std::string_view rest =
        p == std::string::npos ? std::string_view() : std::string_view(s).substr(p);
    for (std::string_view pre : {"re:", "fwd:", "fw:", "aw:", "sv:"})
      if (starts_with_ci(rest, pre)) {
        s = std::string(rest.substr(pre.size()));
        again = true;
        break;
      }
  }
  std::string out = s;
  std::size_t start = 0;
  std::vector<std::string_view> lines;
  while (start <= body.size()) {
    std::size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line == "-- " || line == "--") break;  // the signature follows
    std::size_t p = line.find_first_not_of(" \t");
    if (p != std::string_view::npos && line[p] == '>') continue;
    // "On Mon, 1 Jan 2026, Bob <b@x> wrote:" introduces the quote that follows.
    if (line.size() > 6 && line.substr(line.size() - 6) == "wrote:") {
      bool quote_follows = false;
      for (std::size_t j = i + 1; j < lines.size(); ++j) {
        if (lines[j].find_first_not_of(" \t") == std::string_view::npos) continue;
        quote_follows = lines[j].find_first_not_of(" \t") != std::string_view::npos &&
                        lines[j][lines[j].find_first_not_of(" \t")] == '>';
        break;
      }
      if (quote_follows) continue;
    }
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace sk::support
