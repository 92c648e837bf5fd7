#include "web/sanitize.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "web/http.hpp"

namespace sk::web {
namespace {

constexpr std::array<std::string_view, 44> kAllowed{
    "a",      "abbr", "b",   "big",   "blockquote", "br", "caption", "center", "cite",
    "code",   "dd",   "del", "div",   "dl",         "dt", "em",      "font",   "h1",
    "h2",     "h3",   "h4",  "h5",    "h6",         "hr", "i",       "ins",    "kbd",
    "li",     "ol",   "p",   "pre",   "q",          "s",  "small",   "span",   "strike",
    "strong", "sub",  "sup", "table", "tbody",      "td", "tr",      "u"};
constexpr std::array<std::string_view, 6> kAllowedMore{"tfoot", "th", "thead",
                                                       "tt",    "ul", "section"};
// Elements whose whole content goes with them. Void elements (embed, frame, link...) are not
// here: they have no end tag, so they would swallow the rest of the message.
constexpr std::array<std::string_view, 20> kDropWithContent{
    "script", "style",   "iframe",   "object", "applet",   "noscript", "template",
    "svg",    "math",    "head",     "title",  "textarea", "select",   "frameset",
    "xml",    "noembed", "noframes", "audio",  "video",    "canvas"};
constexpr std::array<std::string_view, 2> kVoid{"br", "hr"};

template <std::size_t N>
bool in(const std::array<std::string_view, N>& set, std::string_view s) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

bool allowed(std::string_view t) {
  return in(kAllowed, t) || in(kAllowedMore, t);
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}
int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
char low(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

struct Attr {
  std::string name;
  std::string value;
};

// The start of a URL the way a browser reads its scheme: control characters and spaces inside
// it are ignored by browsers, so they make a link suspect rather than harmless.
std::string url_head(std::string_view v) {
  std::string s;
  for (char c : v) {
    if (static_cast<unsigned char>(c) <= 0x20) continue;
    s += low(c);
    if (s.size() == 8) break;
  }
  return s;
}

// A link target a reader may follow: http, https or mailto.
bool safe_href(std::string_view v) {
  const std::string s = url_head(v);
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0 || s.rfind("mailto:", 0) == 0;
}

// An image a reader may ask to load: http or https, read like a link.
bool remote_image(std::string_view v) {
  const std::string s = url_head(v);
  return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0;
}

bool digits(std::string_view v) {
  return !v.empty() && v.size() < 4 &&
         std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A width or height that only a tracking pixel has.
bool tiny(std::string_view v) {
  return digits(v) && std::stoi(std::string(v)) <= 2;
}

// Decodes the few entities a URL needs to be judged (&amp; and numeric ones); anything odd
// leaves the '&' in place, which then fails the scheme check if it was in the scheme.
std::string decode_attr(std::string_view v) {
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '&') {
      out += v[i];
      continue;
    }
    auto semi = v.find(';', i);
    std::string_view ent = semi == std::string_view::npos ? "" : v.substr(i + 1, semi - i - 1);
    if (ent == "amp") {
      out += '&';
      i = semi;
    } else if (ent.size() > 1 && ent[0] == '#') {
      unsigned long cp = 0;
      bool ok = true;
      bool hex = ent[1] == 'x' || ent[1] == 'X';
      for (std::size_t k = hex ? 2 : 1; k < ent.size() && ok; ++k) {
        char c = ent[k];
        int d = (c >= '0' && c <= '9')          ? c - '0'
                : hex && (c >= 'a' && c <= 'f') ? c - 'a' + 10
                : hex && (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                                : -1;
        if (d < 0) ok = false;
        cp = cp * (hex ? 16 : 10) + static_cast<unsigned long>(d);
        if (cp > 0x10FFFF) ok = false;
      }
      if (ok && cp < 0x80) {
        out += static_cast<char>(cp);
        i = semi;
      } else {
        out += '\x01';  // not ASCII: cannot be part of a scheme we allow
        i = semi;
      }
    } else {
      out += '&';
    }
  }
  return out;
}

class Sanitizer {
 public:
  Sanitizer(std::string_view in, SanitizeReport& rep, const SanitizeOptions& options)
      : in_(in), rep_(rep), options_(options) {}

  std::string run() {
    while (i_ < in_.size()) {
      char c = in_[i_];
      if (c == '<') {
        tag();
      } else if (c == '&') {
        entity();
      } else if (c == '>') {
        out_ += "&gt;";
        ++i_;
      } else if (c == '"') {
        out_ += "&quot;";
        ++i_;
      } else if (c == '\0') {
        ++i_;
      } else {
        out_ += c;
        ++i_;
      }
    }
    while (!open_.empty()) {
      out_ += "</" + open_.back() + ">";
      open_.pop_back();
    }
    return std::move(out_);
  }

 private:
  void entity() {
    std::size_t j = i_ + 1;
    while (j < in_.size() && j - i_ < 12 &&
           (is_alpha(in_[j]) || (in_[j] >= '0' && in_[j] <= '9') || in_[j] == '#'))
      ++j;
    if (j < in_.size() && in_[j] == ';' && j > i_ + 1) {
      out_.append(in_.substr(i_, j - i_ + 1));
      i_ = j + 1;
    } else {
      out_ += "&amp;";
      ++i_;
    }
  }

  // Skips to just past the next '>' (or the end).
  void skip_past_gt() {
    auto gt = in_.find('>', i_);
    i_ = gt == std::string_view::npos ? in_.size() : gt + 1;
  }

  void tag() {
    std::string_view rest = in_.substr(i_);
    if (rest.substr(0, 4) == "<!--") {
      auto end = in_.find("-->", i_ + 4);
      i_ = end == std::string_view::npos ? in_.size() : end + 3;
      return;
    }
    if (rest.size() > 1 && (rest[1] == '!' || rest[1] == '?')) {
      skip_past_gt();
      return;
    }
    bool closing = rest.size() > 1 && rest[1] == '/';
    std::size_t j = i_ + (closing ? 2 : 1);
    if (j >= in_.size() || !is_alpha(in_[j])) {
      out_ += "&lt;";
      ++i_;
      return;
    }
    std::string name;
    while (j < in_.size() && !is_space(in_[j]) && in_[j] != '>' && in_[j] != '/')
      name += low(in_[j++]);
    std::vector<Attr> attrs;
    j = read_attrs(j, attrs);
    i_ = j;
    if (closing) {
      auto it = std::find(open_.rbegin(), open_.rend(), name);
      if (it == open_.rend()) return;
      while (!open_.empty()) {
        std::string top = open_.back();
        open_.pop_back();
        out_ += "</" + top + ">";
        if (top == name) break;
      }
      return;
    }
    if (in(kDropWithContent, name)) {
      ++rep_.dropped_elements;
      drop_content(name);
      return;
    }
    if (name == "img") {
      std::string alt, src, width, height;
      for (const auto& a : attrs) {
        if (a.name == "alt") alt = a.value;
        if (a.name == "src") src = decode_attr(a.value);
        if (a.name == "width") width = a.value;
        if (a.name == "height") height = a.value;
      }
      if (const std::string* uri = inline_image(src)) {
        ++rep_.inline_images;
        out_ +=
            "<img src=\"" + html_escape(*uri) + "\" alt=\"" + html_escape(decode_attr(alt)) + "\"";
        if (digits(width)) out_ += " width=\"" + width + "\"";
        if (digits(height)) out_ += " height=\"" + height + "\"";
        out_ += ">";
        return;
      }
      if (options_.show_images && remote_image(src)) {
        if (tiny(width) || tiny(height)) {
          ++rep_.blocked_trackers;
          return;
        }
        ++rep_.shown_images;
        out_ += "<img src=\"" + html_escape(src) + "\" alt=\"" + html_escape(decode_attr(alt)) +
                "\" referrerpolicy=\"no-referrer\" loading=\"lazy\"";
        if (digits(width)) out_ += " width=\"" + width + "\"";
        if (digits(height)) out_ += " height=\"" + height + "\"";
        out_ += ">";
        return;
      }
      ++rep_.blocked_images;
      out_ += "<span class=\"blocked\">[image blocked" +
              (alt.empty() ? std::string() : ": " + html_escape(decode_attr(alt))) + "]</span>";
      return;
    }
    if (!allowed(name)) {
      ++rep_.dropped_elements;
      return;  // the element goes, its text stays
    }
    out_ += "<" + name;
    if (name == "a") {
      for (const auto& a : attrs) {
        if (a.name != "href") continue;
        std::string v = decode_attr(a.value);
        if (safe_href(v)) {
          out_ += " href=\"" + html_escape(v) + "\" rel=\"noopener noreferrer\" target=\"_blank\"";
        } else {
          ++rep_.dropped_links;
        }
        break;
      }
    } else if (name == "td" || name == "th") {
      for (const auto& a : attrs)
        if ((a.name == "colspan" || a.name == "rowspan") && digits(a.value))
          out_ += " " + a.name + "=\"" + a.value + "\"";
    }
    out_ += ">";
    if (!in(kVoid, name)) open_.push_back(name);
  }

  std::size_t read_attrs(std::size_t j, std::vector<Attr>& attrs) {
    while (j < in_.size()) {
      while (j < in_.size() && (is_space(in_[j]) || in_[j] == '/')) ++j;
      if (j >= in_.size()) break;
      if (in_[j] == '>') return j + 1;
      Attr a;
      while (j < in_.size() && !is_space(in_[j]) && in_[j] != '>' && in_[j] != '=' && in_[j] != '/')
        a.name += low(in_[j++]);
      while (j < in_.size() && is_space(in_[j])) ++j;
      if (j < in_.size() && in_[j] == '=') {
        ++j;
        while (j < in_.size() && is_space(in_[j])) ++j;
        if (j < in_.size() && (in_[j] == '"' || in_[j] == '\'')) {
          char q = in_[j++];
          auto end = in_.find(q, j);
          if (end == std::string_view::npos) end = in_.size();
          a.value = std::string(in_.substr(j, end - j));
          j = end + 1;
        } else {
          while (j < in_.size() && !is_space(in_[j]) && in_[j] != '>') a.value += in_[j++];
        }
      }
      if (a.name.empty()) {
        ++j;
        continue;
      }
      attrs.push_back(std::move(a));
    }
    return in_.size();
  }

  void drop_content(const std::string& name) {
    // Up to the matching end tag, compared without case; an unclosed one swallows the rest.
    std::size_t j = i_;
    while (j < in_.size()) {
      auto lt = in_.find("</", j);
      if (lt == std::string_view::npos) break;
      std::size_t k = lt + 2, n = 0;
      while (n < name.size() && k + n < in_.size() && low(in_[k + n]) == name[n]) ++n;
      if (n == name.size() &&
          (k + n >= in_.size() || is_space(in_[k + n]) || in_[k + n] == '>' || in_[k + n] == '/')) {
        i_ = k + n;
        skip_past_gt();
        return;
      }
      j = lt + 2;
    }
    i_ = in_.size();
  }

  std::string_view in_;
  SanitizeReport& rep_;
  const SanitizeOptions& options_;
  std::size_t i_ = 0;
  // The data: URI of a "cid:" source the message carries, or nullptr. RFC 2392 cids are
  // URL-encoded ("cid:logo%40shop.example").
  const std::string* inline_image(std::string_view src) const {
    if (options_.inline_images.empty() || url_head(src).rfind("cid:", 0) != 0) return nullptr;
    std::string id;
    std::string_view v = src.substr(src.find(':') + 1);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '%' && i + 2 < v.size() && hex(v[i + 1]) >= 0 && hex(v[i + 2]) >= 0) {
        id += static_cast<char>(hex(v[i + 1]) * 16 + hex(v[i + 2]));
        i += 2;
      } else {
        id += v[i];
      }
    }
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
    for (auto& c : id) c = low(c);
    for (const auto& [cid, uri] : options_.inline_images)
      if (cid == id) return &uri;
    return nullptr;
  }

  std::string out_;
  std::vector<std::string> open_;
};

}  // namespace

std::string sanitize_html(std::string_view html, SanitizeReport* report,
                          const SanitizeOptions& options) {
  SanitizeReport local;
  return Sanitizer(html, report ? *report : local, options).run();
}

std::string message_document(std::string_view body, bool remote_images) {
  return std::string(
             "<!doctype html><html><head><meta charset=\"utf-8\">"
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
             "'none'; style-src 'unsafe-inline'; img-src data:") +
         (remote_images ? " http: https:" : "") +
         "; form-action 'none'\">"
         "<meta name=\"referrer\" content=\"no-referrer\">"
         "</head><body>" +
         std::string(body) + "</body></html>";
}

}  // namespace sk::web
