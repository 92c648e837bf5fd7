// Text helpers shared by the two message readers and the HTML scanner (mime_text.hpp).
#include "mail/mime_text.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sk::mail::detail {

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;  // a lone surrogate is not a character
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0x10FFFF) {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out += "\xEF\xBF\xBD";
  }
}

// windows-1252 is what "iso-8859-1" means in practice (browsers read it so too); the five
// bytes it leaves undefined map to the C1 controls so that nothing is lost.
char32_t windows_1252(unsigned char b) {
  static constexpr char16_t kHigh[32] = {
      0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
      0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
      0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};
  if (b >= 0x80 && b < 0xA0) return kHigh[b - 0x80];
  return b;
}

// Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0.
std::size_t utf8_sequence(const unsigned char* p, std::size_t n) {
  const unsigned char c = p[0];
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t i) { return i < n && (p[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 2) return 0;
    const unsigned char c1 = p[1];
    const bool ok1 = c == 0xE0   ? (c1 >= 0xA0 && c1 <= 0xBF)
                     : c == 0xED ? (c1 >= 0x80 && c1 <= 0x9F)
                                 : (c1 & 0xC0) == 0x80;
    return ok1 && cont(2) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 2) return 0;
    const unsigned char c1 = p[1];
    const bool ok1 = c == 0xF0   ? (c1 >= 0x90 && c1 <= 0xBF)
                     : c == 0xF4 ? (c1 >= 0x80 && c1 <= 0x8F)
                                 : (c1 & 0xC0) == 0x80;
    return ok1 && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

// Length of the leading run of ASCII bytes other than NUL, eight bytes at a time: mail is
// mostly ASCII, and this loop carries every body and header.
std::size_t plain_ascii_prefix(const unsigned char* p, std::size_t n) {
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  std::size_t i = 0;
  while (i + 8 <= n) {
    std::uint64_t v;
    std::memcpy(&v, p + i, 8);
    if (((v | ((v - kOnes) & ~v)) & kHigh) != 0) break;  // a high bit, or a zero byte
    i += 8;
  }
  while (i < n && p[i] < 0x80 && p[i] != 0) ++i;
  return i;
}

// Appends `in`, replacing every byte that is not part of well-formed UTF-8 (and NUL, which
// no reader wants in a text) with U+FFFD.
void append_valid_utf8(std::string& out, std::string_view in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t run = i + plain_ascii_prefix(p + i, n - i);
    if (run > i) {
      out.append(in.data() + i, run - i);
      i = run;
      if (i == n) break;
    }
    const std::size_t len = p[i] == 0 ? 0 : utf8_sequence(p + i, n - i);
    if (len == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(in.data() + i, len);
      i += len;
    }
  }
}

// True when `in` needs no repair by append_valid_utf8.
bool is_clean_utf8(std::string_view in) {
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    i += plain_ascii_prefix(p + i, n - i);
    if (i == n) break;
    const std::size_t len = p[i] == 0 ? 0 : utf8_sequence(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool is_ascii(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  std::uint64_t any = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, p + i, 8);
    any |= v;
  }
  for (; i < n; ++i) any |= p[i];
  return (any & 0x8080808080808080ull) == 0;
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (std::size_t i = 0, n = s.size(); i < n;) {
    if (i + 8 <= n) {
      std::uint64_t v;
      std::memcpy(&v, p + i, 8);
      if ((v & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence(p + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

// True when the bytes hold at least one multi-byte UTF-8 sequence and no broken one: text in
// a legacy 8-bit charset practically never looks like that.
bool looks_like_utf8(std::string_view s) {
  return !is_ascii(s) && is_valid_utf8(s);
}

// Number of multi-byte sequences that are well-formed UTF-8.
std::size_t utf8_sequences(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t count = 0;
  for (std::size_t i = 0, n = s.size(); i < n;) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    const std::size_t len = utf8_sequence(p + i, n - i);
    if (len > 1) {
      ++count;
      i += len;
    } else {
      ++i;
    }
  }
  return count;
}

std::string clean(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_valid_utf8(out, s);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Header values are unfolded as RFC 5322 says: the line breaks go, the white space that
// followed them stays (GMime has mostly done this already).
std::string unfold(std::string_view v) {
  v = trim(v);
  std::string out;
  out.reserve(v.size());
  while (!v.empty()) {
    std::size_t nl = 0;
    while (nl < v.size() && v[nl] != '\r' && v[nl] != '\n') ++nl;
    append_valid_utf8(out, v.substr(0, nl));
    while (nl < v.size() && (v[nl] == '\r' || v[nl] == '\n')) ++nl;
    v.remove_prefix(nl);
  }
  return out;
}

// What a defect message quotes: short, on one line, valid UTF-8.
std::string quote(std::string_view s) {
  constexpr std::size_t kMax = 60;
  std::size_t cut = std::min(s.size(), kMax);
  while (cut < s.size() && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  std::string flat;
  for (char c : s.substr(0, cut)) flat.push_back(c == '\r' || c == '\n' || c == '\t' ? ' ' : c);
  std::string out = clean(flat);
  if (cut < s.size()) out += "...";
  return out;
}

std::size_t y2k_year_at(std::string_view d) {
  for (std::size_t i = 0; i + 4 <= d.size(); ++i) {
    const bool word_start = i == 0 || d[i - 1] == ' ';
    const bool word_end = i + 4 == d.size() || d[i + 4] == ' ';
    if (word_start && word_end && d[i] == '0' && d[i + 1] == '1' && is_digit(d[i + 2]) &&
        is_digit(d[i + 3])) {
      return i;
    }
  }
  return std::string_view::npos;
}

std::string from_windows_1252(std::string_view in) {
  std::string out;
  out.reserve(in.size() + in.size() / 8);
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  std::size_t i = 0;
  while (i < n) {
    const std::size_t run = plain_ascii_prefix(p + i, n - i);
    out.append(in.data() + i, run);
    i += run;
    if (i == n) break;
    if (p[i] == 0) {
      out += "\xEF\xBF\xBD";
    } else {
      append_utf8(out, windows_1252(p[i]));
    }
    ++i;
  }
  return out;
}

// Cuts at a character boundary at most `max` bytes in.
void cut_utf8(std::string& s, std::size_t max) {
  if (s.size() <= max) return;
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
}

// CRLF and lone CR become LF so that every consumer sees one kind of line end.
void normalize_newlines(std::string& s) {
  if (s.find('\r') == std::string::npos) return;
  std::size_t w = 0;
  for (std::size_t r = 0; r < s.size(); ++r) {
    if (s[r] == '\r') {
      s[w++] = '\n';
      if (r + 1 < s.size() && s[r + 1] == '\n') ++r;
    } else {
      s[w++] = s[r];
    }
  }
  s.resize(w);
}

// --- charsets ----------------------------------------------------------------------------

// --- charsets ----------------------------------------------------------------------------

std::string charset_key(std::string_view label) {
  label = trim(label);
  while (!label.empty() && (label.front() == '"' || label.front() == '\'')) label.remove_prefix(1);
  while (!label.empty() && (label.back() == '"' || label.back() == '\'')) label.remove_suffix(1);
  return sk::lower(trim(label));
}

CharsetKind classify(const std::string& key) {
  if (key.empty()) return CharsetKind::none;
  if (key == "us-ascii" || key == "ascii" || key == "ansi_x3.4-1968" || key == "iso646-us" ||
      key == "us" || key == "7bit") {
    return CharsetKind::ascii;
  }
  if (key == "utf-8" || key == "utf8" || key == "unicode-1-1-utf-8" || key == "x-unicode20utf8") {
    return CharsetKind::utf8;
  }
  if (key == "iso-8859-1" || key == "iso8859-1" || key == "iso_8859-1" || key == "latin1" ||
      key == "latin-1" || key == "l1" || key == "iso-ir-100" || key == "cp819" ||
      key == "windows-1252" || key == "cp1252" || key == "x-cp1252" || key == "iso_8859-1:1987") {
    return CharsetKind::latin1;
  }
  return CharsetKind::other;
}

// Charsets in which pure ASCII bytes need no conversion.
bool ascii_compatible(std::string_view key) {
  for (std::string_view p : {"utf-16", "utf16", "utf-32", "utf32", "ucs", "utf-7", "utf7",
                             "iso-2022", "hz", "unicode"}) {
    if (key.substr(0, p.size()) == p) return false;
  }
  return true;
}

// The charset an HTML document declares in a <meta> tag, for parts whose MIME header
// names none.
std::string html_meta_charset(std::string_view html) {
  std::string_view head = html.substr(0, 2048);
  const std::string low = sk::lower(head);
  const std::size_t at = low.find("charset=");
  if (at == std::string::npos) return {};
  std::size_t i = at + 8;
  while (i < low.size() && (low[i] == '"' || low[i] == '\'' || low[i] == ' ')) ++i;
  std::size_t end = i;
  while (end < low.size() &&
         (std::isalnum(static_cast<unsigned char>(low[end])) || low[end] == '-' ||
          low[end] == '_' || low[end] == '.' || low[end] == ':')) {
    ++end;
  }
  return low.substr(i, end - i);
}

// --- transfer encodings ------------------------------------------------------------------

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_hex(char c) {
  return std::isxdigit(static_cast<unsigned char>(c)) != 0;
}

namespace {

bool base64_damaged(std::string_view enc) {
  static constexpr auto kAlphabet = [] {
    std::array<bool, 256> t{};
    for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    t['+'] = t['/'] = true;
    return t;
  }();
  std::size_t sig = 0;
  bool padded = false;
  for (unsigned char c : enc) {
    if (kAlphabet[c]) {
      if (padded) return true;  // data after the end
      ++sig;
    } else if (c == '=') {
      padded = true;
    } else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
      return true;
    }
  }
  return sig % 4 == 1;  // one lone sextet cannot hold a byte: something was cut
}

// Base64 lines never hold spaces; words do.
bool looks_like_prose(std::string_view enc) {
  std::size_t spaces = 0;
  for (char c : enc.substr(0, 4096)) spaces += c == ' ';
  return spaces * 20 > std::min<std::size_t>(enc.size(), 4096);
}

bool quoted_printable_damaged(std::string_view enc) {
  for (std::size_t i = enc.find('='); i != std::string_view::npos; i = enc.find('=', i + 1)) {
    if (i + 2 < enc.size() && is_hex(enc[i + 1]) && is_hex(enc[i + 2])) continue;
    // A soft line break: '=' then optional white space then the line end (or the end).
    std::size_t j = i + 1;
    while (j < enc.size() && (enc[j] == ' ' || enc[j] == '\t')) ++j;
    if (j == enc.size() || enc[j] == '\r' || enc[j] == '\n') continue;
    return true;
  }
  return false;
}

}  // namespace

TransferState check_transfer_encoding(std::string_view enc, bool base64, bool body,
                                      const std::string& where, std::vector<std::string>& defects) {
  if (base64 ? !base64_damaged(enc) : !quoted_printable_damaged(enc)) return TransferState::clean;
  if (base64 && body && looks_like_prose(enc)) {
    defects.push_back(where + " is marked base64 but holds plain text; read as is");
    return TransferState::plain_text;
  }
  defects.push_back(base64 ? "base64 in " + where + " was damaged"
                           : "quoted-printable in " + where + " has invalid escapes");
  return TransferState::damaged;
}

// The decoded (transfer-encoding removed) content of a leaf part, viewed in the memory

// --- the text of a message ---------------------------------------------------------------

void dedupe(std::vector<std::string>& defects) {
  std::vector<std::string> out;
  out.reserve(defects.size());
  for (auto& s : defects) {
    bool seen = false;
    for (const auto& o : out) {
      if (o == s) {
        seen = true;
        break;
      }
    }
    if (!seen) out.push_back(std::move(s));
  }
  defects = std::move(out);
}

void finish_text(Item& item, std::vector<Segment>& segments, HtmlMarkup&& markup, bool cut) {
  bool has_plain = false, has_html = false;
  for (const Segment& s : segments) {
    has_plain = has_plain || s.kind == SegmentKind::plain;
    has_html = has_html || s.kind == SegmentKind::html;
  }
  const SegmentKind wanted = has_plain ? SegmentKind::plain : SegmentKind::html;
  item.html_only = !has_plain && has_html;
  item.link_hosts = std::move(markup.link_hosts);
  item.html_tags = std::move(markup.tags);
  std::string text;
  for (Segment& s : segments) {
    if (s.kind != wanted && s.kind != SegmentKind::marker) continue;
    if (text.empty()) {
      text = std::move(s.text);
    } else {
      text += "\n\n";
      text += s.text;
    }
    if (text.size() > kMaxText * 2) break;  // the rest is cut anyway
  }
  normalize_newlines(text);
  if (text.size() > kMaxText || cut) {
    cut_utf8(text, kMaxText);
    item.defects.emplace_back("text cut at 256 KB");
  }
  item.text = std::move(text);
}

}  // namespace sk::mail::detail
