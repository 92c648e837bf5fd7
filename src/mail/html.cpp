// HTML to visible text: a single pass over the bytes, no DOM. Mail HTML is often broken,
// so the scanner never backtracks far and treats anything it cannot read as text.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "mail/message.hpp"
#include "mail/mime_text.hpp"

namespace sk::mail {

namespace {

struct Entity {
  std::string_view name;
  char32_t cp;
};

// The entities mail actually uses; rarer ones stay as written, which a reader still
// understands.
constexpr Entity kEntities[] = {
    {"amp", '&'},       {"lt", '<'},        {"gt", '>'},        {"quot", '"'},
    {"apos", '\''},     {"nbsp", ' '},      {"copy", 0xA9},     {"reg", 0xAE},
    {"trade", 0x2122},  {"hellip", 0x2026}, {"mdash", 0x2014},  {"ndash", 0x2013},
    {"lsquo", 0x2018},  {"rsquo", 0x2019},  {"sbquo", 0x201A},  {"ldquo", 0x201C},
    {"rdquo", 0x201D},  {"bdquo", 0x201E},  {"bull", 0x2022},   {"middot", 0xB7},
    {"euro", 0x20AC},   {"pound", 0xA3},    {"yen", 0xA5},      {"cent", 0xA2},
    {"sect", 0xA7},     {"para", 0xB6},     {"deg", 0xB0},      {"plusmn", 0xB1},
    {"times", 0xD7},    {"divide", 0xF7},   {"laquo", 0xAB},    {"raquo", 0xBB},
    {"iexcl", 0xA1},    {"iquest", 0xBF},   {"shy", 0xAD},      {"ensp", ' '},
    {"emsp", ' '},      {"thinsp", ' '},    {"zwnj", 0x200C},   {"zwj", 0x200D},
    {"dagger", 0x2020}, {"Dagger", 0x2021}, {"permil", 0x2030}, {"lsaquo", 0x2039},
    {"rsaquo", 0x203A}, {"frac12", 0xBD},   {"frac14", 0xBC},   {"frac34", 0xBE},
    {"sup1", 0xB9},     {"sup2", 0xB2},     {"sup3", 0xB3},     {"micro", 0xB5},
    {"ordf", 0xAA},     {"ordm", 0xBA},     {"not", 0xAC},      {"macr", 0xAF},
    {"acute", 0xB4},    {"cedil", 0xB8},    {"uml", 0xA8},      {"curren", 0xA4},
    {"brvbar", 0xA6},   {"Agrave", 0xC0},   {"Aacute", 0xC1},   {"Acirc", 0xC2},
    {"Atilde", 0xC3},   {"Auml", 0xC4},     {"Aring", 0xC5},    {"AElig", 0xC6},
    {"Ccedil", 0xC7},   {"Egrave", 0xC8},   {"Eacute", 0xC9},   {"Ecirc", 0xCA},
    {"Euml", 0xCB},     {"Igrave", 0xCC},   {"Iacute", 0xCD},   {"Icirc", 0xCE},
    {"Iuml", 0xCF},     {"ETH", 0xD0},      {"Ntilde", 0xD1},   {"Ograve", 0xD2},
    {"Oacute", 0xD3},   {"Ocirc", 0xD4},    {"Otilde", 0xD5},   {"Ouml", 0xD6},
    {"Oslash", 0xD8},   {"Ugrave", 0xD9},   {"Uacute", 0xDA},   {"Ucirc", 0xDB},
    {"Uuml", 0xDC},     {"Yacute", 0xDD},   {"THORN", 0xDE},    {"szlig", 0xDF},
    {"agrave", 0xE0},   {"aacute", 0xE1},   {"acirc", 0xE2},    {"atilde", 0xE3},
    {"auml", 0xE4},     {"aring", 0xE5},    {"aelig", 0xE6},    {"ccedil", 0xE7},
    {"egrave", 0xE8},   {"eacute", 0xE9},   {"ecirc", 0xEA},    {"euml", 0xEB},
    {"igrave", 0xEC},   {"iacute", 0xED},   {"icirc", 0xEE},    {"iuml", 0xEF},
    {"eth", 0xF0},      {"ntilde", 0xF1},   {"ograve", 0xF2},   {"oacute", 0xF3},
    {"ocirc", 0xF4},    {"otilde", 0xF5},   {"ouml", 0xF6},     {"oslash", 0xF8},
    {"ugrave", 0xF9},   {"uacute", 0xFA},   {"ucirc", 0xFB},    {"uuml", 0xFC},
    {"yacute", 0xFD},   {"thorn", 0xFE},    {"yuml", 0xFF},     {"OElig", 0x152},
    {"oelig", 0x153},   {"Scaron", 0x160},  {"scaron", 0x161},  {"Yuml", 0x178},
    {"fnof", 0x192},    {"circ", 0x2C6},    {"tilde", 0x2DC},   {"larr", 0x2190},
    {"rarr", 0x2192},   {"uarr", 0x2191},   {"darr", 0x2193},   {"hearts", 0x2665},
};

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

enum class Break { none, line, paragraph };

// A tag name of up to eight letters packed into an integer, for cheap comparisons.
constexpr std::uint64_t pack(std::string_view name) {
  std::uint64_t v = 0;
  if (name.size() > 8) return 0;  // matches no entry below
  for (char c : name) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

// Elements whose start or end begins a new line of text. A switch over the packed names:
// every tag of every HTML message asks.
Break block_break(std::string_view tag) {
  if (tag == "blockquote") return Break::paragraph;
  switch (pack(tag)) {
    case pack("p"):
    case pack("h1"):
    case pack("h2"):
    case pack("h3"):
    case pack("h4"):
    case pack("h5"):
    case pack("h6"):
    case pack("table"):
    case pack("ul"):
    case pack("ol"):
    case pack("pre"):
    case pack("hr"):
    case pack("dl"):
    case pack("center"):
    case pack("form"):
      return Break::paragraph;
    case pack("br"):
    case pack("div"):
    case pack("tr"):
    case pack("li"):
    case pack("dt"):
    case pack("dd"):
    case pack("section"):
    case pack("article"):
    case pack("header"):
    case pack("footer"):
    case pack("nav"):
    case pack("aside"):
    case pack("address"):
    case pack("figure"):
    case pack("caption"):
    case pack("tbody"):
    case pack("thead"):
    case pack("tfoot"):
    case pack("main"):
    case pack("fieldset"):
    case pack("legend"):
    case pack("option"):
    case pack("title"):
      return Break::line;
    default:
      return Break::none;
  }
}

// The element names a document uses, in order, each once: the packed ones (up to eight
// letters, nearly all) are checked in a small set rather than by comparing strings.
class TagNames {
 public:
  explicit TagNames(std::vector<std::string>& out) : out_(out) {
    for (const auto& t : out_) seen(t);
  }
  void add(std::string_view name) {
    if (out_.size() >= 64 || seen(name)) return;
    out_.emplace_back(name);
  }

 private:
  // Whether `name` was added before; remembers it.
  bool seen(std::string_view name) {
    const std::uint64_t p = pack(name);
    if (p == 0) return std::find(out_.begin(), out_.end(), name) != out_.end();
    for (std::size_t k = 0; k < packed_count_; ++k)
      if (packed_[k] == p) return true;
    if (packed_count_ < packed_.size()) packed_[packed_count_++] = p;
    return false;
  }

  std::vector<std::string>& out_;
  std::array<std::uint64_t, 64> packed_{};
  std::size_t packed_count_ = 0;
};

// The first byte at or after `i` that is one of `bytes` (n when none is), 16 bytes at a time:
// text runs between tags are most of an HTML part, and a byte at a time was most of turning
// it into text.
template <class... Bytes>
std::size_t find_any(std::string_view s, std::size_t i, Bytes... bytes) {
  const std::size_t n = s.size();
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    __m128i hit = _mm_setzero_si128();
    ((hit = _mm_or_si128(hit, _mm_cmpeq_epi8(v, _mm_set1_epi8(bytes)))), ...);
    const int m = _mm_movemask_epi8(hit);
    if (m != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(m)));
  }
#endif
  while (i < n && ((s[i] != bytes) && ...)) ++i;
  return i;
}

// The first white-space byte (is_space) at or after `i`, or n.
std::size_t find_space(std::string_view s, std::size_t i) {
  const std::size_t n = s.size();
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    // ' ' and \t \n \f \r (9, 10, 12, 13; 11 is not white space here).
    const __m128i controls =
        _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(8)), _mm_cmplt_epi8(v, _mm_set1_epi8(14)));
    const __m128i space =
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')),
                     _mm_andnot_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(11)), controls));
    const int m = _mm_movemask_epi8(space);
    if (m != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(m)));
  }
#endif
  while (i < n && !is_space(s[i])) ++i;
  return i;
}

// Case-insensitive search for an ASCII needle (given in lower case). Its first byte is found
// in either case 16 bytes at a time: attribute names are looked for in every link's tag, and
// style sheets and scripts are searched for where they end.
std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from) {
  if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
  const char first = needle[0];
  const char other = is_alpha(first) ? static_cast<char>(first - 'a' + 'A') : first;
  for (std::size_t i = find_any(hay, from, first, other); i + needle.size() <= hay.size();
       i = find_any(hay, i + 1, first, other)) {
    std::size_t k = 1;
    while (k < needle.size() && to_lower(hay[i + k]) == needle[k]) ++k;
    if (k == needle.size()) return i;
  }
  return std::string_view::npos;
}

class Writer {
 public:
  explicit Writer(std::size_t reserve) { out_.reserve(reserve); }

  void text(std::string_view s) {
    std::size_t i = 0;
    while (i < s.size()) {
      if (is_space(s[i])) {
        space_ = true;
        ++i;
        continue;
      }
      // Words with one space between them are written as they are, in one piece.
      std::size_t j = find_space(s, i + 1);
      while (j + 1 < s.size() && s[j] == ' ' && !is_space(s[j + 1])) j = find_space(s, j + 2);
      flush();
      out_.append(s.data() + i, j - i);
      i = j;
    }
  }
  void put(char c) {
    flush();
    out_.push_back(c);
  }
  void code_point(char32_t cp) {
    if (cp == ' ') {
      space_ = true;
      return;
    }
    flush();
    detail::append_utf8(out_, cp);
  }
  void space() { space_ = true; }
  void brk(Break b) {
    const int n = b == Break::paragraph ? 2 : b == Break::line ? 1 : 0;
    if (n > newlines_) newlines_ = n;
  }
  std::string take() { return std::move(out_); }

 private:
  // Separators are only written once something visible follows, so that runs collapse
  // and the text neither starts nor ends with white space.
  void flush() {
    if (!out_.empty()) {
      if (newlines_ > 0) {
        out_.append(static_cast<std::size_t>(newlines_), '\n');
      } else if (space_) {
        out_.push_back(' ');
      }
    }
    newlines_ = 0;
    space_ = false;
  }

  std::string out_;
  int newlines_ = 0;
  bool space_ = false;
};

// Decodes the entity starting at html[i] == '&'; returns the index after it, or i when it
// is not an entity (the '&' is then plain text).
std::size_t entity(std::string_view html, std::size_t i, Writer& w) {
  std::size_t j = i + 1;
  if (j < html.size() && html[j] == '#') {
    ++j;
    const bool hex = j < html.size() && (html[j] == 'x' || html[j] == 'X');
    if (hex) ++j;
    const std::size_t start = j;
    std::uint32_t cp = 0;
    while (j < html.size() && j - start < 8) {
      const int v = hex ? hex_value(html[j]) : (is_digit(html[j]) ? html[j] - '0' : -1);
      if (v < 0) break;
      cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
      ++j;
    }
    if (j == start) return i;
    if (j < html.size() && html[j] == ';') ++j;
    if (cp >= 0x80 && cp < 0xA0) cp = detail::windows_1252(static_cast<unsigned char>(cp));
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    if (cp == 0xA0) cp = ' ';
    w.code_point(cp);
    return j;
  }
  const std::size_t start = j;
  while (j < html.size() && j - start < 10 && (is_alpha(html[j]) || is_digit(html[j]))) ++j;
  if (j == start) return i;
  const std::string_view name = html.substr(start, j - start);
  const bool semicolon = j < html.size() && html[j] == ';';
  for (const Entity& e : kEntities) {
    if (e.name != name) continue;
    // Without the ';' only the old HTML 4 basics count ("&amp" in a link, "&nbsp").
    if (!semicolon && name != "amp" && name != "lt" && name != "gt" && name != "quot" &&
        name != "nbsp") {
      return i;
    }
    w.code_point(e.cp);
    return semicolon ? j + 1 : j;
  }
  return i;
}

// Index just past the '>' that ends the tag opened at `i`, skipping quoted attribute
// values; a quote that never closes is ignored, as browsers recover. Quotes and the end are
// found 16 bytes at a time: a byte at a time, tags were a sixth of turning HTML into text.
std::size_t tag_end(std::string_view html, std::size_t i) {
  const std::size_t n = html.size();
  for (std::size_t j = find_any(html, i, '"', '\'', '>'); j < n;
       j = find_any(html, j + 1, '"', '\'', '>')) {
    const char c = html[j];
    if (c == '>') return j + 1;
    // A quote opens a value only right after "=" or "= ".
    if (!((j > 0 && html[j - 1] == '=') || (j > 1 && html[j - 1] == ' ' && html[j - 2] == '=')))
      continue;
    const std::size_t close = html.find(c, j + 1);
    if (close == std::string_view::npos) {
      const std::size_t gt = html.find('>', i);
      return gt == std::string_view::npos ? n : gt + 1;
    }
    j = close;
  }
  return n;
}

// The host of a URL attribute (href, src, action) inside the tag text, lower-cased.
void note_link(std::string_view tag, HtmlMarkup& markup) {
  for (std::string_view attr : {"href", "src", "action"}) {
    std::size_t p = ifind(tag, attr, 0);
    while (p != std::string_view::npos) {
      std::size_t q = p + attr.size();
      while (q < tag.size() && is_space(tag[q])) ++q;
      if (q < tag.size() && tag[q] == '=' && (p == 0 || is_space(tag[p - 1]))) break;
      p = ifind(tag, attr, p + 1);
    }
    if (p == std::string_view::npos) continue;
    std::size_t v = tag.find('=', p) + 1;
    while (v < tag.size() && (is_space(tag[v]) || tag[v] == '"' || tag[v] == '\'')) ++v;
    std::size_t scheme = ifind(tag, "://", v);
    if (scheme == std::string_view::npos || scheme > v + 8) continue;
    std::size_t h = scheme + 3, e = h;
    while (e < tag.size() && !is_space(tag[e]) && tag[e] != '/' && tag[e] != '"' &&
           tag[e] != '\'' && tag[e] != '>' && tag[e] != '?' && tag[e] != '#' && tag[e] != ':')
      ++e;
    std::string host(tag.substr(h, e - h));
    if (auto at = host.rfind('@'); at != std::string::npos) host.erase(0, at + 1);
    for (char& c : host) c = to_lower(c);
    if (host.empty() || host.size() > 100) continue;
    auto& hosts = markup.link_hosts;
    if (hosts.size() < 64 && std::find(hosts.begin(), hosts.end(), host) == hosts.end())
      hosts.push_back(std::move(host));
  }
}

}  // namespace

std::string html_to_text(std::string_view html, HtmlMarkup* markup) {
  Writer w(html.size() / 2);
  std::optional<TagNames> tag_names;
  if (markup) tag_names.emplace(markup->tags);
  std::size_t i = 0;
  const std::size_t n = html.size();
  while (i < n) {
    const char c = html[i];
    if (c == '&') {
      const std::size_t next = entity(html, i, w);
      if (next == i) {
        w.put('&');
        ++i;
      } else {
        i = next;
      }
      continue;
    }
    if (c != '<') {
      // Copy the run up to the next markup in one go.
      const std::size_t j = find_any(html, i, '<', '&');
      w.text(html.substr(i, j - i));
      i = j;
      continue;
    }
    // Markup.
    if (html.substr(i, 4) == "<!--") {
      const std::size_t end = html.find("-->", i + 4);
      i = end == std::string_view::npos ? n : end + 3;
      continue;
    }
    if (i + 1 < n && (html[i + 1] == '!' || html[i + 1] == '?')) {
      const std::size_t end = html.find('>', i);
      i = end == std::string_view::npos ? n : end + 1;
      continue;
    }
    std::size_t j = i + 1;
    const bool closing = j < n && html[j] == '/';
    if (closing) ++j;
    if (j >= n || !is_alpha(html[j])) {
      w.put('<');  // "a < b" in text
      ++i;
      continue;
    }
    std::array<char, 12> buf{};
    std::size_t len = 0;
    while (j < n && (is_alpha(html[j]) || is_digit(html[j]) || html[j] == ':' || html[j] == '-')) {
      if (len < buf.size()) buf[len] = to_lower(html[j]);
      ++len;
      ++j;
    }
    const std::string_view name(buf.data(), len <= buf.size() ? len : 0);
    const std::size_t after = tag_end(html, j);
    const bool self_closed = after >= 2 && html[after - 1] == '>' && html[after - 2] == '/';
    if (markup && !closing && !name.empty()) {
      tag_names->add(name);
      if (name == "a" || name == "img" || name == "form" || name == "area" || name == "iframe")
        note_link(html.substr(j, after - j), *markup);
    }

    if (!closing && !self_closed &&
        (name == "script" || name == "style" || name == "head" || name == "title" ||
         name == "template" || name == "xml")) {
      // Invisible content: skip to its end tag. A <head> that never closes still ends
      // where <body> starts; a script that never closes hides the rest, as in a browser.
      std::string needle = "</";
      needle += name;
      std::size_t end = ifind(html, needle, after);
      if (end == std::string_view::npos && name == "head") end = ifind(html, "<body", after);
      if (end == std::string_view::npos) {
        i = name == "head" ? after : n;
      } else {
        i = html[end + 1] == '/' ? tag_end(html, end + needle.size()) : end;
      }
      w.brk(Break::line);
      continue;
    }
    const Break b = block_break(name);
    if (b != Break::none) {
      w.brk(b);
    } else if (name == "td" || name == "th") {
      w.space();
    }
    i = after;
  }
  std::string text = w.take();
  // Entities give valid UTF-8, but the input itself may not be.
  if (detail::is_clean_utf8(text)) return text;
  std::string out;
  out.reserve(text.size());
  detail::append_valid_utf8(out, text);
  return out;
}

}  // namespace sk::mail
