// The single-pass message reader (fast_reader.hpp). It reads what GMime would read and the way
// the GMime path turns that into an Item, for the forms it knows exactly; on anything else
// it declines and parse_message asks GMime. Every rule below that looks stricter than RFC
// 5322 / 2045 is there because GMime reads that case differently, warns about it (which the
// GMime path reports as a defect), or because nobody checked that it does not.
#include "mail/fast_reader.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "mail/message.hpp"
#include "mail/mime_text.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sk::mail::detail {
namespace {

constexpr int kMaxNesting = 16;  // deeper trees are rare and GMime's to judge
constexpr std::size_t kMaxParts = 256;
constexpr std::size_t kMaxParams = 8;

// --- characters --------------------------------------------------------------------------

bool is_lwsp(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_blank(char c) {
  return c == ' ' || c == '\t';
}
char lower_ascii(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}
bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_ascii(a[i]) != lower_ascii(b[i])) return false;
  return true;
}
bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}
bool has_encoded_word_start(std::string_view s) {
  return s.find("=?") != std::string_view::npos;
}

// RFC 5322 atext: what an atom, and so an address or message id, is made of.
constexpr auto kAtext = [] {
  std::array<bool, 256> t{};
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (unsigned char c : std::string_view("!#$%&'*+-/=?^_`{|}~")) t[c] = true;
  return t;
}();
bool is_atext(char c) {
  return kAtext[static_cast<unsigned char>(c)];
}

// RFC 5322 specials: the bytes that end an atom (looked up in a table: the address and id
// readers ask for every byte of every address header).
constexpr auto kSpecial = [] {
  std::array<bool, 256> t{};
  for (unsigned char c : std::string_view("()<>@,;:\\\".[]")) t[c] = true;
  return t;
}();
bool is_special(char c) {
  return kSpecial[static_cast<unsigned char>(c)];
}

// RFC 2045 token characters: the names of types, subtypes and parameters.
constexpr auto kToken = [] {
  std::array<bool, 256> t{};
  for (int c = 33; c < 127; ++c) t[c] = true;
  for (unsigned char c : std::string_view("()<>@,;:\\\"/[]?=")) t[c] = false;
  return t;
}();
bool is_token(char c) {
  return kToken[static_cast<unsigned char>(c)];
}

// atext runs separated by single dots, as in local parts, domains and message ids.
bool is_dot_atom(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;
    } else if (!is_atext(s[i])) {
      return false;
    }
  }
  return true;
}

// local@domain, both dot-atoms. Punycode domains are turned into Unicode by GMime; leave
// those to it.
bool is_plain_addr_spec(std::string_view s) {
  const std::size_t at = s.find('@');
  if (at == std::string_view::npos) return false;
  const std::string_view domain = s.substr(at + 1);
  if (!is_dot_atom(s.substr(0, at)) || !is_dot_atom(domain)) return false;
  for (std::size_t p = domain.find("--"); p != std::string_view::npos; p = domain.find("--", p + 1))
    if (p >= 2 && iequals(domain.substr(p - 2, 2), "xn")) return false;
  return true;
}

// --- lines -------------------------------------------------------------------------------

// The end of a header line: the offset of the first LF in `s` (s.size() when there is none),
// whether a byte before it needs a closer look (8-bit, NUL, or a CR but for one right before
// the LF in the same 16 bytes), and whether it has a '=' (as encoded words do). One pass 16
// bytes at a time: finding the LF, then a CR, then an 8-bit byte, each with a scan of its
// own, was a tenth of reading a message.
struct LineEnd {
  std::size_t lf;
  bool unusual;
  bool equals;
};
LineEnd header_line_end(std::string_view s) {
  const char* p = s.data();
  const std::size_t n = s.size();
  std::size_t i = 0;
  bool unusual = false, equals = false;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const auto lf =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))));
    const __m128i cr_or_nul = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')),
                                           _mm_cmpeq_epi8(v, _mm_setzero_si128()));
    // The high bit of each byte is the 8-bit test.
    auto odd = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(v, cr_or_nul)));
    auto eq = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('='))));
    if (lf != 0) {
      const unsigned k = static_cast<unsigned>(__builtin_ctz(lf));
      odd &= (1u << k) - 1;
      eq &= (1u << k) - 1;
      if (k > 0 && p[i + k - 1] == '\r') odd &= ~(1u << (k - 1));
      return {i + k, unusual || odd != 0, equals || eq != 0};
    }
    unusual |= odd != 0;
    equals |= eq != 0;
  }
#endif
  for (; i < n; ++i) {
    const auto u = static_cast<unsigned char>(p[i]);
    if (u == '\n') return {i, unusual, equals};
    if (u == '=') equals = true;
    if (u == '\r' && i + 1 < n && p[i + 1] == '\n') continue;  // the line's own CR
    if (u == '\r' || u == 0 || u >= 0x80) unusual = true;
  }
  return {n, unusual, equals};
}

// The offset of the first "\n--" at or after `i` (npos when none): where the lines that may be
// boundaries start. 16 bytes at a time; memmem was a tenth of reading multipart mail.
std::size_t find_dashed_line(std::string_view s, std::size_t i) {
  const char* p = s.data();
  const std::size_t n = s.size();
#if defined(__SSE2__)
  for (; i + 18 <= n; i += 16) {
    const auto at = [&](std::size_t k, char c) {
      return _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + k)),
                            _mm_set1_epi8(c));
    };
    const int m =
        _mm_movemask_epi8(_mm_and_si128(at(0, '\n'), _mm_and_si128(at(1, '-'), at(2, '-'))));
    if (m != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(m)));
  }
#endif
  for (; i + 3 <= n; ++i)
    if (p[i] == '\n' && p[i + 1] == '-' && p[i + 2] == '-') return i;
  return std::string_view::npos;
}

// --- header values -----------------------------------------------------------------------

// GMime's unfolding of a raw value: white space trimmed at both ends, line breaks dropped.
std::string_view trim_lwsp(std::string_view raw) {
  std::size_t b = 0, e = raw.size();
  while (b < e && is_lwsp(raw[b])) ++b;
  while (e > b && is_lwsp(raw[e - 1])) --e;
  return raw.substr(b, e - b);
}

bool is_folded(std::string_view trimmed) {
  return std::memchr(trimmed.data(), '\n', trimmed.size()) != nullptr;
}

// A CR only ever comes right before an LF (header_block makes sure).
void unfold_into(std::string_view trimmed, std::string& out) {
  out.clear();
  out.reserve(trimmed.size());
  std::size_t i = 0;
  while (i < trimmed.size()) {
    const void* nl = std::memchr(trimmed.data() + i, '\n', trimmed.size() - i);
    const std::size_t end =
        nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - trimmed.data())
           : trimmed.size();
    std::size_t seg = end;
    if (seg > i && trimmed[seg - 1] == '\r') --seg;
    out.append(trimmed.data() + i, seg - i);
    if (!nl) break;
    i = end + 1;
  }
}

// Header text that is 8-bit but not UTF-8, as GMime reads it: word by word (between white
// space), each in the first of the parser's fallback charsets that converts it whole: UTF-8,
// windows-1252, then iso-8859-1, which converts anything (each byte its own code point).
std::string decode_8bit_words(std::string_view s) {
  std::string out;
  out.reserve(s.size() * 2);
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && !is_lwsp(s[j])) ++j;
    const std::string_view word = s.substr(i, j - i);
    // The bytes windows-1252 leaves undefined are those its table maps to themselves.
    const auto undefined_in_1252 = [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u >= 0x80 && u < 0xA0 && windows_1252(u) == u;
    };
    if (is_valid_utf8(word)) {
      out.append(word);
    } else if (std::none_of(word.begin(), word.end(), undefined_in_1252)) {
      out += from_windows_1252(word);
    } else {
      for (char c : word) append_utf8(out, static_cast<unsigned char>(c));
    }
    while (j < s.size() && is_lwsp(s[j])) out.push_back(s[j++]);
    i = j;
  }
  return out;
}

// A piece of header text: white space, a literal word, or the payload of an encoded word.
struct Word {
  std::string_view text;
  std::string_view charset;  // encoded words only
  char encoding = 0;         // 'B' or 'Q' for encoded words
  bool space = false;
};

// The encoded word starting at s[i] ("=?"), cut where GMime's tokenizer cuts it: at the first
// "?=" after "=?charset?X?". 0 when GMime would not take it for one.
std::size_t encoded_word(std::string_view s, std::size_t i, Word& w) {
  std::size_t j = i + 2;
  const std::size_t cs = j;
  while (j < s.size() && s[j] != '?') {
    // Charset names of letters, digits, '-' and '_' only; GMime finds fault with some others.
    const char c = s[j];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return 0;
    ++j;
  }
  if (j == cs || j + 2 >= s.size() || s[j + 2] != '?') return 0;
  const char e = s[j + 1];
  if (e != 'B' && e != 'b' && e != 'Q' && e != 'q') return 0;
  const std::size_t payload = j + 3;
  const std::size_t end = s.find("?=", payload);
  if (end == std::string_view::npos) return 0;
  w = Word{s.substr(payload, end - payload), s.substr(cs, j - cs), e == 'B' || e == 'b' ? 'B' : 'Q',
           false};
  return end + 2 - i;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr auto kBase64 = [] {
  std::array<std::int8_t, 256> t{};
  for (auto& v : t) v = -1;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = static_cast<std::int8_t>(c - 'A');
  for (int c = 'a'; c <= 'z'; ++c) t[c] = static_cast<std::int8_t>(c - 'a' + 26);
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<std::int8_t>(c - '0' + 52);
  t['+'] = 62;
  t['/'] = 63;
  return t;
}();

// Decodes a word's payload, appending to `out`. Only the plainest forms: whole quartets,
// complete escapes, printable ASCII. `last` says no word of the same run follows (GMime
// carries base64 state across the words of a run, which padding inside the run upsets).
bool decode_payload(const Word& w, bool last, std::string& out) {
  const std::string_view p = w.text;
  if (w.encoding == 'Q') {
    for (std::size_t i = 0; i < p.size(); ++i) {
      const char c = p[i];
      if (c == '_') {
        out.push_back(' ');
      } else if (c == '=') {
        if (i + 2 >= p.size()) return false;
        const int hi = hex_value(p[i + 1]), lo = hex_value(p[i + 2]);
        if (hi < 0 || lo < 0) return false;
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
      } else if (c > 32 && c < 127) {
        out.push_back(c);
      } else {
        return false;
      }
    }
    return true;
  }
  if (p.size() % 4 != 0) return false;
  std::size_t pad = 0;
  while (pad < 2 && pad < p.size() && p[p.size() - 1 - pad] == '=') ++pad;
  if (pad > 0 && !last) return false;
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < p.size() - pad; ++i) {
    const int v = kBase64[static_cast<unsigned char>(p[i])];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    if (i % 4 == 3) {
      out.push_back(static_cast<char>(acc >> 16));
      out.push_back(static_cast<char>(acc >> 8));
      out.push_back(static_cast<char>(acc));
      acc = 0;
    }
  }
  if (pad == 2) {
    out.push_back(static_cast<char>(acc >> 4));
  } else if (pad == 1) {
    out.push_back(static_cast<char>(acc >> 10));
    out.push_back(static_cast<char>(acc >> 2));
  }
  return true;
}

// Appends the decoded bytes of a run in UTF-8, when they convert without a single error
// (GMime repairs errors its own way). UTF-8 and ASCII are checked here; other charsets go
// through GMime's iconv, as in GMime.
bool append_converted(std::string_view bytes, std::string_view charset, std::string& out) {
  if (bytes.find('\0') != std::string_view::npos) return false;
  if (iequals(charset, "utf-8")) {
    if (!is_valid_utf8(bytes)) return false;
    out += bytes;
    return true;
  }
  if (iequals(charset, "us-ascii") && is_ascii(bytes)) {
    out += bytes;
    return true;
  }
  if (charset.find('*') != std::string_view::npos) return false;  // RFC 2231 language
  return convert_exactly(bytes, charset, out);
}

// Joins words into text as RFC 2047 and GMime do: white space between two encoded words
// goes; runs of encoded words in one charset and encoding are decoded as one (a character
// may be split between words).
bool emit_words(const std::vector<Word>& words, std::string& out) {
  std::string bytes;
  for (std::size_t k = 0; k < words.size();) {
    const Word& w = words[k];
    if (w.encoding == 0) {
      if (w.space) {
        // Dropped between encoded words.
        const bool after = k > 0 && words[k - 1].encoding != 0;
        const bool before = k + 1 < words.size() && words[k + 1].encoding != 0;
        if (!(after && before)) out += w.text;
      } else {
        out += w.text;
      }
      ++k;
      continue;
    }
    // The run: this word and the encoded words after it (across white space) alike.
    std::size_t end = k + 1;
    std::size_t next = k + 1;
    while (true) {
      std::size_t n = next;
      if (n < words.size() && words[n].space) ++n;
      if (n >= words.size() || words[n].encoding == 0) break;
      if (!iequals(words[n].charset, w.charset)) {
        // GMime compares the charsets' canonical names; only spellings alike are sure.
        if (words[n].encoding == w.encoding) return false;
        break;
      }
      if (words[n].encoding != w.encoding) break;
      end = n + 1;
      next = n + 1;
    }
    bytes.clear();
    for (std::size_t r = k; r < end; ++r) {
      if (words[r].space) continue;
      if (!decode_payload(words[r], r + 1 == end, bytes)) return false;
    }
    if (!append_converted(bytes, w.charset, out)) return false;
    k = end;
  }
  return true;
}

// In a display name GMime warns about encoded words that hold RFC 822 specials.
bool is_phrase_safe(std::string_view word) {
  for (char c : word) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 32 || u >= 127 || is_special(c)) return false;
  }
  return true;
}

// GMime's decoding of unstructured header text (loose RFC 2047: encoded words may sit inside
// a word), or with `phrase` of a display name. Fails on any "=?" that does not start a clean
// encoded word.
bool decode_text(std::string_view s, std::string& out, bool phrase = false) {
  if (!has_encoded_word_start(s)) {
    out.assign(s);
    return true;
  }
  std::vector<Word> words;
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const std::size_t st = i;
    while (i < n && is_lwsp(s[i])) ++i;
    if (i > st) words.push_back(Word{s.substr(st, i - st), {}, 0, true});
    if (i == n) break;
    if (s[i] == '=' && i + 1 < n && s[i + 1] == '?') {
      Word w;
      const std::size_t len = encoded_word(s, i, w);
      if (len == 0 || (phrase && !is_phrase_safe(s.substr(i, len)))) return false;
      words.push_back(w);
      i += len;
    } else {
      const std::size_t ws = i;
      while (i < n && !is_lwsp(s[i]) && !(s[i] == '=' && i + 1 < n && s[i + 1] == '?')) ++i;
      words.push_back(Word{s.substr(ws, i - ws), {}, 0, false});
    }
  }
  out.clear();
  return emit_words(words, out);
}

// --- addresses ---------------------------------------------------------------------------

// A display name as GMime makes it from the raw phrase (or comment): quotes dropped, encoded
// words decoded, white space trimmed at both ends.
bool display_name(std::string_view phrase, std::string& out) {
  std::string unquoted;
  unquoted.reserve(phrase.size());
  for (char c : phrase)
    if (c != '"') unquoted.push_back(c);
  std::string decoded;
  if (!decode_text(unquoted, decoded, true)) return false;
  out.assign(trim(decoded));
  return true;
}

// A strict reader of address lists: mailboxes with or without display names, groups, and the
// old "addr (Name)" form. Quoted local parts, routes, domain literals, escapes and anything
// GMime would warn about or read in its own way make it fail.
class AddressReader {
 public:
  explicit AddressReader(std::string_view s) : s_(s) {}

  // Empty entries between commas are fine after an address, not before the first one
  // (GMime warns about those).
  bool list(std::vector<Mailbox>& out) {
    // Backslash escapes (in quoted strings and comments) are GMime's to read.
    if (s_.find('\\') != std::string_view::npos) return false;
    while (true) {
      if (!skip_cfws()) return false;
      if (eof()) return true;
      if (!address(out, true)) return false;
      if (!skip_commas()) return false;
      if (eof()) return true;
    }
  }

 private:
  bool eof() const { return i_ >= s_.size(); }
  void skip_blanks() {
    while (!eof() && is_blank(s_[i_])) ++i_;
  }
  // A comment at i_ ("(" ... ")", nested); false when it does not end.
  bool comment(std::size_t& end) const {
    int depth = 0;
    for (std::size_t p = i_; p < s_.size(); ++p) {
      if (s_[p] == '(') {
        ++depth;
      } else if (s_[p] == ')' && --depth == 0) {
        end = p + 1;
        return true;
      }
    }
    return false;
  }
  bool skip_cfws() {
    while (true) {
      skip_blanks();
      if (eof() || s_[i_] != '(') return true;
      std::size_t end = 0;
      if (!comment(end)) return false;
      i_ = end;
    }
  }
  // What may follow an address: the end, or one or more commas. False on anything else.
  bool skip_commas() {
    bool comma = false;
    while (true) {
      if (!skip_cfws()) return false;
      if (eof() || s_[i_] != ',') return comma || eof();
      comma = true;
      ++i_;
    }
  }
  // GMime's atoms, plus the dots it lets into names unquoted.
  static bool is_word_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x80) return true;
    if (u <= 32 || u == 127) return false;
    return c == '.' || !is_special(c);
  }

  // The phrase before '<', ':' or '@': words (atoms, quoted strings) with the white space and
  // comments between them; [start, end) is the raw phrase up to the end of its last word.
  bool phrase(std::size_t& start, std::size_t& end, int& words, bool& quoted) {
    if (!skip_cfws()) return false;
    start = end = i_;
    words = 0;
    quoted = false;
    while (!eof()) {
      const char c = s_[i_];
      if (c == '"') {
        const std::size_t close = s_.find('"', i_ + 1);
        if (close == std::string_view::npos) return false;
        i_ = close + 1;
        quoted = true;
      } else if (is_word_char(c) && !(c == '.' && words == 0)) {
        // (GMime takes dots only after a word.)
        while (!eof() && is_word_char(s_[i_])) ++i_;
      } else {
        break;
      }
      end = i_;
      ++words;
      if (!skip_cfws()) return false;
    }
    return true;
  }

  // "<Undisclosed Recipients@host>", "<>" and the like, with no ',' after them: GMime's
  // local part ends at the first word (or there is none), no '@' follows, and GMime drops
  // the address, skips to the next ',' and warns about nothing. Only those exact cases: no
  // word, or a word then white space or ':', then a letter, digit or ':'.
  bool dropped_angle_addr() {
    const std::string_view rest = s_.substr(i_);
    if (rest.find(',') != std::string_view::npos) return false;
    std::size_t p = 1;
    while (p < rest.size() && is_blank(rest[p])) ++p;
    if (p < rest.size() && rest[p] == '>') {
      i_ = s_.size();
      return true;
    }
    const std::size_t word = p;
    while (p < rest.size() && static_cast<unsigned char>(rest[p]) > 32 &&
           static_cast<unsigned char>(rest[p]) < 127 && !is_special(rest[p]))
      ++p;
    if (p == word) return false;
    while (p < rest.size() && is_blank(rest[p])) ++p;
    if (p >= rest.size()) return false;
    const char next = rest[p];
    if (!(next == ':' || (next >= 'a' && next <= 'z') || (next >= 'A' && next <= 'Z') ||
          (next >= '0' && next <= '9')))
      return false;
    if (next != ':' && !is_blank(rest[p - 1])) return false;
    i_ = s_.size();
    return true;
  }

  bool addr_spec_until(char close, std::string& addr) {
    skip_blanks();
    const std::size_t st = i_;
    while (!eof() && s_[i_] != close && !is_blank(s_[i_])) ++i_;
    const std::string_view spec = s_.substr(st, i_ - st);
    if (!is_plain_addr_spec(spec)) return false;
    skip_blanks();
    if (eof() || s_[i_] != close) return false;
    ++i_;
    addr.assign(spec);
    return true;
  }

  bool address(std::vector<Mailbox>& out, bool allow_group) {
    std::size_t start = 0, end = 0;
    int words = 0;
    bool quoted = false;
    if (!phrase(start, end, words, quoted)) return false;
    const std::string_view raw = s_.substr(start, end - start);
    for (char ch : raw) {
      const auto u = static_cast<unsigned char>(ch);
      if (ch == '\\' || (u < 32 && ch != '\t')) return false;
    }
    if (eof()) {
      // A word alone at the end: GMime takes it for an address without a domain. (Followed
      // by a comma it would be the start of an unquoted name.)
      if (words != 1 || quoted || !is_dot_atom(raw) || has_encoded_word_start(raw)) return false;
      out.push_back(Mailbox{std::string(raw), std::string()});
      return true;
    }
    const char c = s_[i_];
    if (c == '<') {
      const std::size_t open = i_++;
      Mailbox mb;
      const bool named = display_name(raw, mb.name);  // GMime reads the name first
      if (!addr_spec_until('>', mb.addr)) {
        i_ = open;
        return allow_group && named && dropped_angle_addr();
      }
      if (!named) return false;
      out.push_back(std::move(mb));
      return true;
    }
    if (c == ':' && allow_group && words > 0) {
      ++i_;
      if (!skip_cfws()) return false;
      while (true) {
        if (eof()) return false;
        if (s_[i_] == ';') {
          ++i_;
          return true;
        }
        if (!address(out, false)) return false;
        bool comma = false;
        while (true) {
          if (!skip_cfws()) return false;
          if (eof() || s_[i_] != ',') break;
          comma = true;
          ++i_;
        }
        if (!comma && (eof() || s_[i_] != ';')) return false;
      }
    }
    if (c == '@' && words == 1 && !quoted && i_ == end) {
      // addr-spec, maybe followed by a comment that names its owner.
      ++i_;
      while (!eof() && (is_atext(s_[i_]) || s_[i_] == '.')) ++i_;
      Mailbox mb;
      mb.addr.assign(s_.substr(start, i_ - start));
      if (!is_plain_addr_spec(mb.addr)) return false;
      const std::size_t after = i_;
      skip_blanks();
      std::size_t close = 0;
      if (!eof() && s_[i_] == '(' && comment(close)) {
        const std::string_view text = s_.substr(i_ + 1, close - i_ - 2);
        for (char ch : text) {
          const auto u = static_cast<unsigned char>(ch);
          if (ch == '\\' || (u < 32 && ch != '\t')) return false;
        }
        if (!display_name(text, mb.name)) return false;
        i_ = close;
      } else if (!eof() && s_[i_] == '(') {
        return false;
      } else {
        i_ = after;
      }
      out.push_back(std::move(mb));
      return true;
    }
    return false;
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

// --- message ids and dates ---------------------------------------------------------------

// "1.2.3.4": digit runs separated by single dots.
bool is_dotted_number(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '.') {
      if (s[i + 1] == '.') return false;
    } else if (s[i] < '0' || s[i] > '9') {
      return false;
    }
  }
  return true;
}

// Message ids as GMime reads them in Message-ID, In-Reply-To and References: an addr-spec
// between angle brackets, its words joined by dots (a trailing dot of the domain dropped),
// or failing that the raw text up to '>'. A list goes on over words and quoted strings and
// stops at the first thing that is neither. The callers leave out comments, escapes and
// 8-bit bytes, which this does not read.
class IdReader {
 public:
  explicit IdReader(std::string_view s) : s_(s) {}

  // g_mime_references_parse.
  bool list(std::vector<std::string>& out) {
    while (i_ < s_.size() && !broken_) {
      skip();
      if (i_ < s_.size() && s_[i_] == '<') {
        std::string id;
        if (!msg_id(i_, id)) return false;
        out.push_back(std::move(id));
      } else if (i_ < s_.size()) {
        std::string_view w;
        if (!word(i_, w)) break;
      }
    }
    return !broken_;
  }

  // The Message-ID header.
  bool single(std::string& out) { return msg_id(i_, out) && !broken_; }

 private:
  static bool is_atom(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 32 && u < 127 && !is_special(c);
  }
  // White space and comments. A comment that does not end fails the whole read
  // (`broken_`), as what GMime makes of it is its own business.
  void skip(std::size_t& p) const {
    while (true) {
      while (p < s_.size() && is_lwsp(s_[p])) ++p;
      if (p >= s_.size() || s_[p] != '(') return;
      int depth = 0;
      std::size_t q = p;
      for (; q < s_.size(); ++q) {
        if (s_[q] == '(') {
          ++depth;
        } else if (s_[q] == ')' && --depth == 0) {
          break;
        }
      }
      if (q >= s_.size()) {
        broken_ = true;
        p = s_.size();
        return;
      }
      p = q + 1;
    }
  }
  void skip() { skip(i_); }

  // An atom or a quoted string (quotes kept).
  bool word(std::size_t& p, std::string_view& w) const {
    skip(p);
    const std::size_t st = p;
    if (p < s_.size() && s_[p] == '"') {
      const std::size_t close = s_.find('"', p + 1);
      if (close == std::string_view::npos) {
        broken_ = true;  // GMime takes the rest as the word
        return false;
      }
      p = close + 1;
    } else {
      while (p < s_.size() && is_atom(s_[p])) ++p;
      if (p == st) return false;
    }
    w = s_.substr(st, p - st);
    return true;
  }

  bool domain(std::size_t& p, std::string& out) const {
    const std::size_t initial = out.size();
    while (p < s_.size()) {
      skip(p);
      if (p < s_.size() && s_[p] == '[') {
        // Only the plain dotted-number form: GMime reads others its own way.
        const std::size_t close = s_.find(']', p + 1);
        if (close == std::string_view::npos || !is_dotted_number(s_.substr(p + 1, close - p - 1))) {
          broken_ = true;
          return false;
        }
        out += s_.substr(p, close + 1 - p);
        p = close + 1;
      } else {
        std::size_t q = p;
        while (q < s_.size() && is_atom(s_[q])) ++q;
        if (q == p) {
          if (!out.empty() && out.back() == '.') out.pop_back();
          break;
        }
        out += s_.substr(p, q - p);
        p = q;
      }
      const std::size_t save = p;
      skip(p);
      if (p >= s_.size() || s_[p] != '.') {
        p = save;
        break;
      }
      out.push_back('.');
      ++p;
    }
    return out.size() > initial;
  }

  bool addr_spec(std::size_t& pos, std::string& out) const {
    skip(pos);
    std::size_t p = pos;
    std::string_view w;
    if (!word(p, w)) return false;
    out.assign(w);
    skip(p);
    while (p < s_.size() && s_[p] == '.') {
      out.push_back('.');
      ++p;
      if (!word(p, w)) return false;
      out += w;
      skip(p);
    }
    if (p >= s_.size() || s_[p] != '@') return false;
    ++p;
    out.push_back('@');
    if (!domain(p, out)) return false;
    pos = p;
    return true;
  }

  // decode_msgid.
  bool msg_id(std::size_t& pos, std::string& out) const {
    skip(pos);
    if (pos < s_.size() && s_[pos] == '<') ++pos;
    skip(pos);
    std::size_t p = pos;
    if (addr_spec(p, out)) {
      skip(p);
      if (p < s_.size() && s_[p] == '>') ++p;
      pos = p;
      return true;
    }
    if (broken_) return false;
    // The text up to '>' (or the end) as it stands.
    std::size_t close = s_.find('>', pos);
    if (close == std::string_view::npos) close = s_.size();
    out.assign(s_.substr(pos, close - pos));
    pos = close;
    return true;
  }

  std::string_view s_;
  std::size_t i_ = 0;
  mutable bool broken_ = false;
};

// What GMime's id readers are not copied for: escapes, 8-bit bytes, encoded words.
bool plain_id_text(std::string_view s) {
  for (char c : s)
    if (c == '\\' || static_cast<unsigned char>(c) >= 0x80) return false;
  return !has_encoded_word_start(s);
}

bool days_in_month_ok(int y, int m, int d) {
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d >= 1 && d <= kDays[m - 1] + (m == 2 && leap ? 1 : 0);
}

// "[Www,] D Mmm YYYY H:M[:S]" then the zone as GMime finds it; nothing looser.
bool parse_date(std::string_view s, Timestamp& out) {
  static constexpr std::string_view kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  struct Zone {
    std::string_view name;
    int hours;
  };
  static constexpr Zone kZones[] = {{"UT", 0},   {"GMT", 0},  {"EDT", -4}, {"EST", -5},
                                    {"CDT", -5}, {"CST", -6}, {"MDT", -6}, {"MST", -7},
                                    {"PDT", -7}, {"PST", -8}};
  std::size_t i = 0;
  auto blanks = [&] {
    const std::size_t st = i;
    while (i < s.size() && is_blank(s[i])) ++i;
    return i > st;
  };
  auto digits = [&](std::size_t min, std::size_t max, int& v) {
    const std::size_t st = i;
    v = 0;
    while (i < s.size() && i - st < max && s[i] >= '0' && s[i] <= '9') v = v * 10 + (s[i++] - '0');
    return i - st >= min && (i == s.size() || s[i] < '0' || s[i] > '9');
  };
  auto word3 = [&](const std::string_view* names, int count, int& v) {
    if (i + 3 > s.size()) return false;
    if (i + 3 < s.size() && ((s[i + 3] | 0x20) >= 'a' && (s[i + 3] | 0x20) <= 'z')) return false;
    for (int k = 0; k < count; ++k) {
      if (iequals(s.substr(i, 3), names[k])) {
        v = k;
        i += 3;
        return true;
      }
    }
    return false;
  };
  blanks();
  int v = 0;
  if (i < s.size() && !(s[i] >= '0' && s[i] <= '9')) {
    if (!word3(kDays, 7, v)) return false;
    const bool comma = i < s.size() && s[i] == ',';
    if (comma) ++i;
    if (!blanks() && !comma) return false;
  }
  int day = 0, month = 0, year = 0, hour = 0, min = 0, sec = 0;
  if (!digits(1, 2, day) || !blanks()) return false;
  if (!word3(kMonths, 12, month) || !blanks()) return false;
  const std::size_t year_start = i;
  if (!digits(2, 4, year)) return false;
  const std::size_t year_len = i - year_start;
  if (year_len == 3 || !blanks()) return false;
  if (!digits(1, 2, hour) || i >= s.size() || s[i] != ':') return false;
  ++i;
  if (!digits(1, 2, min)) return false;
  if (i < s.size() && s[i] == ':') {
    ++i;
    if (!digits(1, 2, sec)) return false;
  }
  // The zone: GMime looks at the next two tokens (cut at "-/,", white space) for "+HHMM",
  // "-HHMM" or one of RFC 822's names, bare or in parentheses, and takes UTC when neither
  // is one; whatever follows is not read.
  int offset = 0;
  if (i < s.size()) {
    if (!is_blank(s[i])) return false;
    std::size_t start = i + 1;
    for (int token = 0; token < 2; ++token) {
      while (start < s.size() && is_blank(s[start])) ++start;
      if (start >= s.size()) break;
      std::size_t end = start + 1;
      while (end < s.size() &&
             std::string_view("-/,\t\r\n ").find(s[end]) == std::string_view::npos)
        ++end;
      std::string_view t = s.substr(start, end - start);
      start = end + 1;
      if (t.size() >= 6) continue;
      if (t[0] == '+' || t[0] == '-') {
        // No zone name has a sign: "+" in "+-0500" is no zone, nor is "0500" after it.
        if (t.size() != 5) continue;
        int hhmm = 0;
        for (char c : t.substr(1)) {
          if (c < '0' || c > '9') return false;
          hhmm = hhmm * 10 + (c - '0');
        }
        // GLib turns offsets it cannot represent into UTC; leave those to GMime.
        if (hhmm / 100 > 23 || hhmm % 100 > 59) return false;
        offset = (t[0] == '-' ? -1 : 1) * ((hhmm / 100) * 3600 + (hhmm % 100) * 60);
        break;
      }
      if (t[0] == '(') t = t.substr(1, t.size() - (t.back() == ')' && t.size() > 1 ? 2 : 1));
      if (t.size() == 1) return false;  // military zones: not worth being sure about
      bool known = false;
      for (const Zone& z : kZones) {
        if (t == z.name) {
          offset = z.hours * 3600;
          known = true;
        }
      }
      if (known) break;
    }
  }
  if (year_len == 2) year += year < 70 ? 2000 : 1900;
  if (year < 1970 || year > 9999) return false;
  if (!days_in_month_ok(year, month + 1, day) || hour > 23 || min > 59 || sec > 59) return false;
  out = days_from_civil(year, month + 1, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
  return true;
}

// Old mailers wrote the year as 1900 + tm_year ("Wed, 24 Jul 0102 21:48:06 +1200"). GMime
// reads no date there: a year under 1969 is no year to it, strictly or loosely read. The
// GMime path then turns the year into "20xx" and reads again (y2k_date in message.cpp).
// Taken here only when parse_date reads the date so rewritten (then the rewritten word was
// its year, the one thing that made it fail) and GMime's loose second reading finds no year
// either: no number among its tokens but the day and that one. `s` is trimmed.
bool parse_y2k_date(std::string_view s, Timestamp& out) {
  const std::size_t at = y2k_year_at(s);
  if (at == std::string_view::npos) return false;
  std::string d(s);
  d[at] = '2';
  d[at + 1] = '0';
  if (!parse_date(d, out)) return false;
  // GMime's tokens: each runs from its first character (whatever it is) to the next of
  // "-/,", white space or a line break.
  int numbers = 0;
  for (std::size_t i = 0; i < s.size();) {
    while (i < s.size() && is_blank(s[i])) ++i;
    if (i == s.size()) break;
    std::size_t end = i + 1;
    while (end < s.size() && std::string_view("-/,\t\r\n ").find(s[end]) == std::string_view::npos)
      ++end;
    bool number = true;
    for (std::size_t k = i; k < end; ++k) number = number && is_digit(s[k]);
    if (number) ++numbers;
    i = end + 1;
  }
  return numbers == 2;
}

// --- MIME headers ------------------------------------------------------------------------

struct Param {
  std::string_view name, value;
};

struct Params {
  std::array<Param, kMaxParams> items;
  std::size_t count = 0;

  const Param* find(std::string_view name) const {
    for (std::size_t k = 0; k < count; ++k)
      if (iequals(items[k].name, name)) return &items[k];
    return nullptr;
  }
};

// ";" name "=" value, repeated; a trailing ";" is fine. Values: tokens (and the other
// printable characters GMime keeps in an unquoted value) or quoted strings without escapes.
// Encoded words, RFC 2231 and 8-bit bytes are left to GMime. Reads the raw (folded) value:
// line breaks count as white space, and values are views into the message.
// `empty`: where to note a parameter that is empty (";;"), which GMime warns about and skips;
// without it, such a list is not read.
bool parse_params(std::string_view s, std::size_t i, Params& out, bool* empty = nullptr) {
  while (true) {
    while (i < s.size() && is_lwsp(s[i])) ++i;
    if (i == s.size()) return true;
    if (s[i] != ';') return false;
    ++i;
    while (i < s.size() && is_lwsp(s[i])) ++i;
    if (i == s.size()) return true;
    if (s[i] == ';') {  // spam writes "text/html;;;;;;"
      if (!empty) return false;
      *empty = true;
      continue;
    }
    const std::size_t ns = i;
    while (i < s.size() && is_token(s[i])) ++i;
    const std::string_view name = s.substr(ns, i - ns);
    if (name.empty() || name.find('*') != std::string_view::npos) return false;
    while (i < s.size() && is_lwsp(s[i])) ++i;
    if (i == s.size() || s[i] != '=') return false;
    ++i;
    while (i < s.size() && is_lwsp(s[i])) ++i;
    std::string_view value;
    if (i < s.size() && s[i] == '"') {
      const std::size_t close = s.find('"', i + 1);
      if (close == std::string_view::npos) return false;
      value = s.substr(i + 1, close - i - 1);
      i = close + 1;
      if (value.empty() || value.find('\\') != std::string_view::npos) return false;
      for (char c : value)
        if (static_cast<unsigned char>(c) >= 0x80 || static_cast<unsigned char>(c) < 32)
          return false;
    } else {
      const std::size_t vs = i;
      while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c <= 32 || c >= 127 || c == ';' || c == '"' || c == '(' || c == ')' || c == '\\' ||
            c == ',')
          break;
        ++i;
      }
      value = s.substr(vs, i - vs);
      if (value.empty()) return false;
    }
    if (has_encoded_word_start(value)) return false;
    if (out.find(name) || out.count == kMaxParams) return false;
    out.items[out.count++] = Param{name, value};
  }
}

struct ContentType {
  std::string_view type = "text", subtype = "plain";
  Params params;
};

bool parse_content_type(std::string_view s, ContentType& ct, bool* empty_param = nullptr) {
  std::size_t i = 0;
  while (i < s.size() && is_token(s[i])) ++i;
  if (i == 0 || i == s.size() || s[i] != '/') return false;
  ct.type = s.substr(0, i);
  const std::size_t st = ++i;
  while (i < s.size() && is_token(s[i])) ++i;
  if (i == st) return false;
  ct.subtype = s.substr(st, i - st);
  return parse_params(s, i, ct.params, empty_param);
}

bool parse_disposition(std::string_view s, bool& attached, Params& params) {
  std::size_t i = 0;
  while (i < s.size() && is_token(s[i])) ++i;
  const std::string_view token = s.substr(0, i);
  if (iequals(token, "attachment")) {
    attached = true;
  } else if (iequals(token, "inline")) {
    attached = false;
  } else {
    return false;
  }
  return parse_params(s, i, params);
}

enum class Encoding { identity, base64, quoted_printable };

// --- the reader --------------------------------------------------------------------------

struct Part {
  ContentType ct;
  bool attached = false;
  Params disposition;
  Encoding encoding = Encoding::identity;
  std::string_view content;  // still transfer-encoded
  bool multipart = false;
  std::vector<int> children;
  bool closed = false;  // a multipart that its own closing boundary ended
};

// The header fields the reader looks at, told apart once per header.
enum class Field {
  other,
  from,
  to,
  cc,
  bcc,
  sender,
  reply_to,
  subject,
  date,
  message_id,
  in_reply_to,
  references,
  content_type,
  content_disposition,
  content_transfer_encoding,
  content_other,
};

Field field_of(std::string_view name) {
  if (name.size() < 2) return Field::other;
  switch (lower_ascii(name[0])) {
    case 'f':
      if (iequals(name, "from")) return Field::from;
      break;
    case 't':
      if (iequals(name, "to")) return Field::to;
      break;
    case 'c':
      if (iequals(name, "cc")) return Field::cc;
      if (istarts_with(name, "content-")) {
        if (iequals(name, "content-type")) return Field::content_type;
        if (iequals(name, "content-disposition")) return Field::content_disposition;
        if (iequals(name, "content-transfer-encoding")) return Field::content_transfer_encoding;
        return Field::content_other;
      }
      break;
    case 'b':
      if (iequals(name, "bcc")) return Field::bcc;
      break;
    case 's':
      if (iequals(name, "subject")) return Field::subject;
      if (iequals(name, "sender")) return Field::sender;
      break;
    case 'r':
      if (iequals(name, "reply-to")) return Field::reply_to;
      if (iequals(name, "references")) return Field::references;
      break;
    case 'd':
      if (iequals(name, "date")) return Field::date;
      break;
    case 'm':
      if (iequals(name, "message-id")) return Field::message_id;
      break;
    case 'i':
      if (iequals(name, "in-reply-to")) return Field::in_reply_to;
      break;
    default:
      break;
  }
  return Field::other;
}

bool is_content(Field f) {
  return f >= Field::content_type;
}

struct RawHeader {
  std::string_view name;
  std::string_view raw;  // after the colon, through the end of its last line
  Field field = Field::other;
  bool not_utf8 = false;   // 8-bit bytes that are not UTF-8 (the message's own headers only)
  bool continued = false;  // more than one line: may be folded
  bool equals = false;     // has a '=': may have encoded words
};

class FastReader {
 public:
  explicit FastReader(std::string_view msg) : msg_(msg) {}

  const char* why() const { return why_; }

  bool read(Item& item) {
    std::size_t pos = 0;
    std::vector<RawHeader> headers;
    headers.reserve(32);
    if (!header_block(pos, headers, true)) return false;
    if (!message_headers(headers, item)) return false;

    // The top-level part: its Content-* headers are the message's.
    int top = 0;
    parts_.reserve(8);
    if (!part_from_headers(headers, true, top)) return false;
    if (parts_[top].multipart) {
      Boundary end;
      if (!read_multipart(top, pos, 0, end)) return false;
    } else {
      parts_[top].content = msg_.substr(pos);
    }
    top_is_leaf_ = !parts_[top].multipart;
    if (!walk(top, true, 0, item)) return false;
    // The defects above are this reader's to give; a text cut at 256 KB stays GMime's, as
    // nobody compared where the two paths cut.
    const std::size_t found = item.defects.size();
    finish_text(item, segments_, std::move(markup_), false);
    if (item.defects.size() != found) return no("text cut");
    // GMime's warnings come last in the GMime path, and of those only these get this far, in
    // GMime's order: 8-bit text as it reads the header block; repeats and address lists as it
    // files each header, in header order; the Content-Type's parameters after them all.
    for (std::string_view name : not_utf8_)
      item.defects.push_back("header '" + quote(name) + "' has unencoded 8-bit text");
    for (auto& w : filing_warnings_) item.defects.push_back(std::move(w));
    // Before the multiparts': the message's Content-Type is read before its body.
    if (empty_param_) item.defects.emplace_back("unreadable header parameter ''");
    for (const char* w : warnings_) item.defects.emplace_back(w);
    dedupe(item.defects);
    return true;
  }

 private:
  bool no(const char* reason) {
    if (!why_) why_ = reason;
    return false;
  }

  // One header block through the blank line that ends it; `pos` moves past that line.
  // `message`: the message's own header block, whose 8-bit headers message_headers judges.
  bool header_block(std::size_t& pos, std::vector<RawHeader>& out, bool message) {
    const std::string_view m = msg_;
    while (true) {
      if (pos >= m.size()) return no("no blank line after a header");
      const char c = m[pos];
      if (c == '\n') {
        ++pos;
        return true;
      }
      if (c == '\r') {
        if (pos + 1 < m.size() && m[pos + 1] == '\n') {
          pos += 2;
          return true;
        }
        return no("bare CR in a header");
      }
      const LineEnd end = header_line_end(m.substr(pos));
      if (pos + end.lf == m.size()) return no("no blank line after a header");
      const std::size_t eol = pos + end.lf;
      if (is_blank(c)) {
        if (out.empty()) return no("header starts with white space");
        RawHeader& last = out.back();
        last.raw = m.substr(static_cast<std::size_t>(last.raw.data() - m.data()),
                            eol + 1 - static_cast<std::size_t>(last.raw.data() - m.data()));
        last.continued = true;
        last.equals |= end.equals;
      } else {
        // GMime checks header lines for boundaries; a name that starts like one is its to read.
        if (c == '-' && pos + 1 < eol && m[pos + 1] == '-')
          return no("header line like a boundary");
        std::size_t i = pos;
        while (i < eol && m[i] != ':') {
          const auto u = static_cast<unsigned char>(m[i]);
          if (u <= 32 || u >= 127) return no("unusual header name");
          ++i;
        }
        if (i == eol || i == pos) return no("header line without a name");
        const std::string_view name = m.substr(pos, i - pos);
        out.push_back(RawHeader{name, m.substr(i + 1, eol - i), field_of(name)});
        out.back().equals = end.equals;
      }
      pos = eol + 1;
      if (!end.unusual) continue;
      // No NUL, no CR but before the LF, and UTF-8 when 8-bit (else GMime warns; only the
      // message's own headers are read in that case).
      std::string_view line = m.substr(eol - end.lf, end.lf);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (std::memchr(line.data(), '\r', line.size())) return no("bare CR in a header");
      const std::size_t plain =
          plain_ascii_prefix(reinterpret_cast<const unsigned char*>(line.data()), line.size());
      if (plain < line.size()) {
        const std::string_view rest = line.substr(plain);
        if (rest.find('\0') != std::string_view::npos) return no("NUL in a header");
        if (!is_valid_utf8(rest)) {
          if (!message) return no("8-bit header that is not UTF-8");
          out.back().not_utf8 = true;
        }
      }
    }
  }

  // The mailboxes of an address header (`value`: trimmed and unfolded): this reader's own
  // where it is sure to read them as GMime does, else GMime's reading of the header alone,
  // whose warnings come with GMime's other header warnings.
  void addresses_of(const RawHeader& h, std::string_view value, std::vector<Mailbox>& out) {
    out.clear();
    if (!h.not_utf8 && AddressReader(value).list(out)) return;
    out = gmime_mailboxes(h.raw, filing_warnings_);
  }

  bool message_headers(const std::vector<RawHeader>& headers, Item& item) {
    constexpr std::size_t kNone = std::string_view::npos;
    std::string_view date, message_id, in_reply_to, references;
    std::size_t from_header = kNone;  // in item.headers
    bool from_folded = false, have_date = false, have_message_id = false, date_folded = false;
    bool have_in_reply_to = false, have_references = false;
    std::uint32_t seen = 0;  // the fields GMime wants once
    std::size_t subject = kNone;
    item.headers.reserve(headers.size());
    store_.reserve(headers.size());
    std::vector<Mailbox> from, boxes;
    for (std::size_t k = 0; k < headers.size(); ++k) {
      const RawHeader& h = headers[k];
      if (h.field == Field::content_other) {
        for (std::size_t j = 0; j < k; ++j)
          if (headers[j].field == Field::content_other && iequals(headers[j].name, h.name))
            return no("repeated header");
      } else if (h.field != Field::other) {
        const std::uint32_t bit = 1u << static_cast<unsigned>(h.field);
        if (seen & bit) {
          // GMime reads every To and Cc into one list, in order, and warns; the other fields
          // it takes once are GMime's to read.
          if (h.field != Field::to && h.field != Field::cc) return no("repeated header");
          // As GMime words it: the same raw value as the first one is a duplicate, another
          // value a conflict.
          std::size_t first = 0;
          while (headers[first].field != h.field) ++first;
          filing_warnings_.push_back(headers[first].raw != h.raw
                                         ? "conflicting '" + quote(h.name) + "' headers"
                                         : "header '" + quote(h.name) + "' appears more than once");
        }
        seen |= bit;
      }
      std::string_view value = trim_lwsp(h.raw);
      const bool encoded = h.equals && has_encoded_word_start(value);
      const bool folded = h.continued && is_folded(value);
      const bool address = h.field == Field::from || h.field == Field::to || h.field == Field::cc ||
                           h.field == Field::sender || h.field == Field::reply_to ||
                           h.field == Field::bcc;
      if (h.not_utf8) {
        if (!(h.field == Field::other || h.field == Field::subject || address) || encoded)
          return no("8-bit header that is not UTF-8");
        std::string text;
        if (folded) {
          unfold_into(value, text);
        } else {
          text.assign(value);
        }
        item.headers.push_back(Header{std::string(h.name), decode_8bit_words(text)});
        if (h.field == Field::subject) subject = k;
        not_utf8_.push_back(h.name);
        // An address header goes on to have its mailboxes read (by GMime: addresses_of).
        if (!address) continue;
      } else {
        if (folded) {
          if (h.field == Field::other && !encoded) {
            // Nothing else reads it: unfold straight into the Item.
            std::string unfolded;
            unfold_into(value, unfolded);
            item.headers.push_back(Header{std::string(h.name), std::move(unfolded)});
            continue;
          }
          std::string& unfolded = store_.emplace_back();
          unfold_into(value, unfolded);
          value = unfolded;
        }
        if (!encoded) {
          // Valid UTF-8 without NUL or line breaks, already trimmed: unfold() would copy it.
          item.headers.push_back(Header{std::string(h.name), std::string(value)});
        } else {
          std::string decoded;
          if (!decode_text(value, decoded)) return no("encoded word");
          item.headers.push_back(Header{std::string(h.name), unfold(decoded)});
        }
      }
      switch (h.field) {
        case Field::from:
          from_header = item.headers.size() - 1;
          from_folded = h.continued;
          addresses_of(h, value, from);  // in header order, as GMime warns
          break;
        case Field::to:
        case Field::cc: {
          addresses_of(h, value, boxes);
          auto& list = h.field == Field::to ? item.to : item.cc;
          for (Mailbox& box : boxes)
            if (!box.addr.empty()) list.push_back(sk::lower(box.addr));
          break;
        }
        case Field::sender:
        case Field::reply_to:
        case Field::bcc:
          addresses_of(h, value, boxes);  // for GMime's warnings, if any
          break;
        case Field::subject:
          subject = k;
          break;
        case Field::date:
          date = value;
          have_date = true;
          date_folded = folded;
          break;
        case Field::message_id:
          message_id = value;
          have_message_id = true;
          break;
        case Field::in_reply_to:
          in_reply_to = value;
          have_in_reply_to = true;
          break;
        case Field::references:
          references = value;
          have_references = true;
          break;
        default:
          break;
      }
    }
    if (from_header == kNone) return no("no From header");
    if (!from.empty()) {
      item.from_address = sk::lower(from.front().addr);
      item.from_name = unfold(from.front().name);
    }
    if (item.from_address.empty()) {
      // Quoted as GMime keeps the header, which for a folded one nobody compared.
      if (from_folded) return no("no address in a folded From");
      item.defects.push_back("no address in the From header '" +
                             quote(item.headers[from_header].value) + "'");
    }
    if (subject != kNone) item.subject = item.headers[subject].value;
    if (have_message_id) {
      if (!plain_id_text(message_id) || !IdReader(message_id).single(item.message_id))
        return no("Message-ID");
    }
    if (have_in_reply_to) {
      // The GMime path takes the first id, or failing that the whole value when it looks
      // like one.
      std::vector<std::string> ids;
      if (!plain_id_text(in_reply_to) || !IdReader(in_reply_to).list(ids)) return no("In-Reply-To");
      if (!ids.empty()) {
        item.in_reply_to = std::move(ids.front());
      } else {
        std::string_view t = trim(in_reply_to);
        if (t.size() >= 2 && t.front() == '<' && t.back() == '>') t = t.substr(1, t.size() - 2);
        if (t.find('@') != std::string_view::npos && t.find(' ') == std::string_view::npos)
          item.in_reply_to.assign(t);
      }
    }
    if (have_references) {
      if (!plain_id_text(references) || !IdReader(references).list(item.references))
        return no("References");
    }
    if (have_date && !parse_date(date, item.sent_at)) {
      // The GMime path quotes the header's value as GMime keeps it; for a value on one line
      // without encoded words that is the trimmed line.
      if (date_folded || has_encoded_word_start(date) || !parse_y2k_date(date, item.sent_at))
        return no("Date");
      item.defects.push_back("unreadable Date header '" + quote(date) +
                             "'; read its year 01xx as 20xx");
    }
    return true;
  }

  // A part from its header block: type, disposition, transfer encoding.
  bool part_from_headers(const std::vector<RawHeader>& headers, bool top, int& index) {
    if (parts_.size() >= kMaxParts) return no("too many parts");
    Part p;
    for (std::size_t k = 0; k < headers.size(); ++k) {
      const RawHeader& h = headers[k];
      if (!top) {
        for (std::size_t j = 0; j < k; ++j)
          if (iequals(headers[j].name, h.name)) return no("repeated header in a part");
        if (h.raw.find("=?") != std::string_view::npos) return no("encoded word in a part header");
      }
      if (!is_content(h.field)) continue;
      const std::string_view v = trim(h.raw);
      if (h.field == Field::content_type) {
        // Empty parameters only in the message's own Content-Type: where GMime's warning about
        // them falls among the others is known there.
        if (has_encoded_word_start(v) ||
            !parse_content_type(v, p.ct, top ? &empty_param_ : nullptr))
          return no("Content-Type");
      } else if (h.field == Field::content_disposition) {
        if (has_encoded_word_start(v) || !parse_disposition(v, p.attached, p.disposition))
          return no("Content-Disposition");
      } else if (h.field == Field::content_transfer_encoding) {
        const std::string_view e = trim(v);
        if (iequals(e, "7bit") || iequals(e, "8bit") || iequals(e, "binary")) {
          p.encoding = Encoding::identity;
        } else if (iequals(e, "base64")) {
          p.encoding = Encoding::base64;
        } else if (iequals(e, "quoted-printable")) {
          p.encoding = Encoding::quoted_printable;
        } else {
          return no("Content-Transfer-Encoding");
        }
      }
    }
    if (iequals(p.ct.type, "message")) return no("message/* part");
    if (iequals(p.ct.type, "multipart")) {
      const Param* b = p.ct.params.find("boundary");
      if (!b) return no("multipart without boundary");
      if (iequals(p.ct.subtype, "digest")) return no("multipart/digest");
      p.multipart = true;
    }
    index = static_cast<int>(parts_.size());
    parts_.push_back(std::move(p));
    return true;
  }

  // What ends a stretch of content: the next line that is a boundary of an enclosing
  // multipart, as GMime checks them (innermost first, the closing form before the other).
  struct Boundary {
    std::size_t line = 0;  // where the boundary line starts (msg_.size() at the end)
    std::size_t next = 0;  // where the line after it starts
    int level = -1;        // index into bounds_, -1 at the end of the message
    bool closing = false;
    bool crlf = false;        // the boundary line ends in CRLF
    bool terminated = false;  // the boundary line ends in LF (it is not the last bytes)
  };

  static bool rest_is_lwsp(std::string_view s) {
    for (char c : s)
      if (!is_lwsp(c)) return false;
    return true;
  }

  Boundary next_boundary(std::size_t pos) const {
    const std::string_view m = msg_;
    std::size_t line = pos;
    while (line < m.size()) {
      if (m.size() - line >= 2 && m[line] == '-' && m[line + 1] == '-') {
        const void* nl = std::memchr(m.data() + line, '\n', m.size() - line);
        const std::size_t eol =
            nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - m.data()) : m.size();
        std::string_view text = m.substr(line, eol - line);
        const bool cr = !text.empty() && text.back() == '\r';
        if (cr) text.remove_suffix(1);
        const std::size_t next = nl ? eol + 1 : m.size();
        for (int level = static_cast<int>(bounds_.size()) - 1; level >= 0; --level) {
          const std::string& b = bounds_[static_cast<std::size_t>(level)];  // "--boundary--"
          const std::string_view open(b.data(), b.size() - 2);
          if (text.size() >= b.size() && text.compare(0, b.size(), b) == 0 &&
              rest_is_lwsp(text.substr(b.size()))) {
            return Boundary{line, next, level, true, nl && cr, nl != nullptr};
          }
          if (text.size() >= open.size() && text.compare(0, open.size(), open) == 0 &&
              rest_is_lwsp(text.substr(open.size()))) {
            return Boundary{line, next, level, false, nl && cr, nl != nullptr};
          }
        }
      }
      // On to the next line that starts with "--".
      const std::size_t hit = find_dashed_line(m, line);
      if (hit == std::string_view::npos) break;
      line = hit + 1;
    }
    return Boundary{m.size(), m.size(), -1, false, false, false};
  }

  // The content from `pos` up to a boundary, without the line break that belongs to the
  // boundary line. GMime takes two bytes when the boundary line ends in CRLF and one
  // otherwise, whatever the content's own last line ends with; so do we.
  bool content_before(std::size_t pos, const Boundary& b, std::string_view& out) {
    std::string_view c = msg_.substr(pos, b.line - pos);
    if (b.level >= 0 && !c.empty()) {
      const std::size_t drop = b.crlf ? 2 : 1;
      if (c.size() < drop) return no("one byte before a CRLF boundary");
      c.remove_suffix(drop);
    }
    out = c;
    return true;
  }

  // The parts of multipart `index` whose headers ended at `pos`. `end` is where the parent's
  // content goes on: the boundary line (or the end of the message) after this multipart's
  // epilogue, or, when a boundary of an enclosing multipart or the end of the message came
  // before this one's closing boundary, that place itself. GMime ends an unclosed multipart
  // there (its last part keeps every byte up to the end of the message, or loses the line
  // break before a parent's boundary as it would before its own) and warns: "truncated" at
  // the end of the message, "malformed multipart" at a parent's boundary.
  bool read_multipart(int index, std::size_t pos, int depth, Boundary& end) {
    if (depth >= kMaxNesting) return no("nested too deeply");
    const std::string_view boundary = parts_[index].ct.params.find("boundary")->value;
    bounds_.push_back("--" + std::string(boundary) + "--");
    const int level = static_cast<int>(bounds_.size()) - 1;
    Boundary b = next_boundary(pos);  // the end of the prologue
    if (b.level != level || b.closing) return no("multipart without parts");
    while (true) {
      // b is an opening boundary of this multipart: a part follows.
      if (!b.terminated) return no("boundary at the end");
      std::size_t p = b.next;
      std::vector<RawHeader> headers;
      if (!header_block(p, headers, false)) return false;
      int child = 0;
      if (!part_from_headers(headers, false, child)) return false;
      parts_[index].children.push_back(child);
      if (parts_[child].multipart) {
        if (!read_multipart(child, p, depth + 1, b)) return false;
      } else {
        b = next_boundary(p);
        if (!content_before(p, b, parts_[child].content)) return false;
      }
      if (b.level != level || b.closing) break;
    }
    bounds_.pop_back();
    if (b.level != level) {
      warnings_.push_back(b.level < 0 ? "message is cut short" : "multipart has no parts");
      end = b;
      return true;
    }
    parts_[index].closed = true;
    // The epilogue runs to the parent's next boundary (or the end).
    pos = b.next;
    end = bounds_.empty() ? Boundary{msg_.size(), msg_.size(), -1, false, false, false}
                          : next_boundary(pos);
    return true;
  }

  // --- the walk: the GMime path's Walker over our tree ------------------------------------

  int text_rank(int index, int depth) const {
    const Part& p = parts_[static_cast<std::size_t>(index)];
    if (p.multipart) {
      int best = 0;
      for (int c : p.children) best = std::max(best, text_rank(c, depth + 1));
      return best;
    }
    if (p.attached) return 0;
    if (iequals(p.ct.type, "text") && iequals(p.ct.subtype, "plain")) return 2;
    if (iequals(p.ct.type, "text") && iequals(p.ct.subtype, "html")) return 1;
    return 0;
  }

  bool walk(int index, bool want_text, int depth, Item& item) {
    const Part& p = parts_[static_cast<std::size_t>(index)];
    if (!p.multipart) return leaf(p, want_text, item);
    // The GMime path's walker looks for the closing boundary anywhere in the message.
    if (!p.closed) {
      const std::string_view boundary = p.ct.params.find("boundary")->value;
      if (!boundary.empty() &&
          msg_.find("--" + std::string(boundary) + "--") == std::string_view::npos)
        item.defects.emplace_back("multipart has no closing boundary");
    }
    const int n = static_cast<int>(p.children.size());
    int preferred = -1;
    if (iequals(p.ct.subtype, "alternative") && n > 0) {
      int best_rank = -1;
      for (int i = 0; i < n; ++i) {
        const int rank = text_rank(p.children[static_cast<std::size_t>(i)], depth + 1);
        if (rank > best_rank) {
          best_rank = rank;
          preferred = i;
        }
      }
      if (best_rank == 0) preferred = n - 1;
    }
    for (int i = 0; i < n; ++i) {
      if (!walk(p.children[static_cast<std::size_t>(i)],
                want_text && (preferred < 0 || i == preferred), depth + 1, item))
        return false;
    }
    return true;
  }

  // Of undamaged base64, what the GMime decoder and ours read alike: whole quartets, padding
  // only at the end.
  static bool padded_base64(std::string_view enc, std::size_t& decoded_size) {
    std::size_t sig = 0, pad = 0;
    for (char c : enc) {
      if (c == '=') {
        ++pad;
      } else if (kBase64[static_cast<unsigned char>(c)] >= 0) {
        ++sig;
      }
    }
    if (pad > 2 || (sig + pad) % 4 != 0) return false;
    decoded_size = (sig + pad) / 4 * 3 - pad;
    return true;
  }

  static void decode_base64(std::string_view enc, std::string& out) {
    out.reserve(enc.size() / 4 * 3);
    std::uint32_t acc = 0;
    int n = 0;
    for (char c : enc) {
      const int v = kBase64[static_cast<unsigned char>(c)];
      if (v < 0) continue;
      acc = (acc << 6) | static_cast<std::uint32_t>(v);
      if (++n == 4) {
        out.push_back(static_cast<char>(acc >> 16));
        out.push_back(static_cast<char>(acc >> 8));
        out.push_back(static_cast<char>(acc));
        acc = 0;
        n = 0;
      }
    }
    if (n == 2) {
      out.push_back(static_cast<char>(acc >> 4));
    } else if (n == 3) {
      out.push_back(static_cast<char>(acc >> 10));
      out.push_back(static_cast<char>(acc >> 2));
    }
  }

  // Quoted-printable as GMime decodes it, for the forms where that is unambiguous: =XX
  // escapes (either case), soft breaks "=\n" and "=\r\n", a lone "=" at the very end.
  static bool decode_quoted_printable(std::string_view enc, std::string* out, std::size_t& size) {
    size = 0;
    std::size_t i = 0;
    const std::size_t n = enc.size();
    while (i < n) {
      const void* eq = std::memchr(enc.data() + i, '=', n - i);
      const std::size_t e =
          eq ? static_cast<std::size_t>(static_cast<const char*>(eq) - enc.data()) : n;
      if (out) out->append(enc.data() + i, e - i);
      size += e - i;
      if (e == n) break;
      if (e + 1 == n) break;  // dropped
      const char a = enc[e + 1];
      if (a == '\n') {
        i = e + 2;
        continue;
      }
      if (a == '\r' && e + 2 < n && enc[e + 2] == '\n') {
        i = e + 3;
        continue;
      }
      if (e + 2 < n) {
        const int hi = hex_value(a), lo = hex_value(enc[e + 2]);
        if (hi >= 0 && lo >= 0) {
          if (out) out->push_back(static_cast<char>(hi * 16 + lo));
          ++size;
          i = e + 3;
          continue;
        }
      }
      return false;
    }
    return true;
  }

  // How the GMime path's Walker names a part in defects: "the body" for a message of one
  // part, else "part N", counting every leaf so far (attachments and alternatives not
  // chosen too).
  std::string where() const {
    return top_is_leaf_ ? std::string("the body") : "part " + std::to_string(leaves_);
  }

  bool leaf(const Part& p, bool want_text, Item& item) {
    ++leaves_;
    const bool plain = iequals(p.ct.type, "text") && iequals(p.ct.subtype, "plain");
    const bool html = iequals(p.ct.type, "text") && iequals(p.ct.subtype, "html");
    const bool body = (plain || html) && !p.attached;
    if (body && !want_text) return true;  // an alternative not chosen

    std::string decoded;
    std::string_view bytes = p.content;
    std::size_t size = p.content.size();
    // Damaged encodings are decoded by GMime's decoder, which reads them its own way, and
    // named as the GMime path names them.
    if (p.encoding == Encoding::base64 || p.encoding == Encoding::quoted_printable) {
      const bool base64 = p.encoding == Encoding::base64;
      const TransferState state =
          check_transfer_encoding(p.content, base64, body, where(), item.defects);
      if (state == TransferState::plain_text) {
        // read as it is
      } else if (state == TransferState::clean &&
                 (base64 ? padded_base64(p.content, size)
                         : decode_quoted_printable(p.content, body ? &decoded : nullptr, size))) {
        if (base64 && body) decode_base64(p.content, decoded);
        if (body) bytes = decoded;
      } else {  // damaged, or unpadded, or quoted-printable GMime may read otherwise
        decoded = gmime_decoded(p.content, base64);
        bytes = decoded;
        size = decoded.size();
      }
    }

    if (!body) {
      Attachment a;
      const Param* name = p.disposition.find("filename");
      if (!name) name = p.ct.params.find("name");
      if (name) a.filename = clean(name->value);
      a.content_type = sk::lower(p.ct.type) + "/" + sk::lower(p.ct.subtype);
      a.size = size;
      item.attachments.push_back(std::move(a));
      return true;
    }
    if (bytes.size() > kMaxPartBytes) return no("part too long to read whole");
    const Param* charset = p.ct.params.find("charset");
    std::string label = charset ? std::string(charset->value) : std::string();
    if (html && trim(label).empty()) label = html_meta_charset(bytes);
    // What the charset made us guess or repair is the GMime path's defect word for word:
    // the same to_utf8 over the same bytes, in the same walk order.
    std::string text = to_utf8(bytes, label, where(), item.defects);
    if (html) {
      segments_.push_back({SegmentKind::html, html_to_text(text, &markup_)});
    } else {
      segments_.push_back({SegmentKind::plain, std::move(text)});
    }
    return true;
  }

  std::string_view msg_;
  const char* why_ = nullptr;
  // Unfolded values of folded headers that are read further. Reserved for every header of
  // the message, so that the strings never move and views into them stay good.
  std::vector<std::string> store_;
  std::vector<Part> parts_;
  std::vector<std::string> bounds_;
  std::vector<Segment> segments_;
  HtmlMarkup markup_;
  bool top_is_leaf_ = false;
  int leaves_ = 0;
  std::vector<std::string_view> not_utf8_;  // names of the headers GMime warns about
  // GMime's warnings as it files the headers: a To or Cc again (before that header's own
  // address warnings), and gmime_mailboxes'.
  std::vector<std::string> filing_warnings_;
  std::vector<const char*> warnings_;  // GMime's warnings about multiparts, in its order
  bool empty_param_ = false;           // the message's Content-Type has an empty parameter
};

}  // namespace

std::optional<Item> read_fast(std::string_view raw, const char** declined) {
  auto decline = [&](const char* why) -> std::optional<Item> {
    if (declined) *declined = why;
    return std::nullopt;
  };
  if (raw.empty()) return decline("empty");
  std::string_view msg = raw;
  if (msg.substr(0, 5) == "From ") {  // an mbox envelope line, as parse_message skips it
    const std::size_t nl = msg.find('\n');
    if (nl == std::string_view::npos) return decline("envelope line only");
    msg.remove_prefix(nl + 1);
  }
  if (msg.empty() || is_lwsp(msg.front())) return decline("no header at the start");
  Item item;
  item.channel = Channel::email;
  item.raw_size = raw.size();
  FastReader reader(msg);
  if (!reader.read(item)) return decline(reader.why() ? reader.why() : "unknown");
  item.parse_status = item.defects.empty() ? ParseStatus::ok : ParseStatus::repaired;
  return item;
}

}  // namespace sk::mail::detail
