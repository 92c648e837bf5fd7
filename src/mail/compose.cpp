// Reply and forward composition, rendered by hand rather than through GMime: the bytes must
// be identical on every run and every GMime version, because the outbox records them before
// sending and a retry must send exactly what was recorded.
#include "mail/compose.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <initializer_list>
#include <string_view>

#include "core/hash.hpp"

namespace sk::mail {
namespace {

constexpr std::size_t kLineLimit = 78;  // RFC 5322 2.1.1: SHOULD stay within 78
// Long threads grow References without end; keep the first (the thread's root) and the
// most recent ones, as RFC 5322 3.6.4 allows and mail programs do.
constexpr std::size_t kMaxReferences = 50;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Length of a well-formed UTF-8 sequence at s[i], or 0.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
  };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const auto c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) return 0;
    return 4;
  }
  return 0;
}

// Well-formed UTF-8 (U+FFFD for what is not) without NUL: a NUL ends a C string in every
// mail program downstream.
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      if (!(n == 1 && s[i] == '\0')) out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

// One header line's worth of text: control characters (CR and LF above all, which would
// start a header of the caller's choosing) become spaces.
std::string header_text(std::string_view s) {
  std::string out = valid_utf8(s);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

// An address as it may appear inside <>: nothing that ends it or the list it is in.
std::string clean_address(std::string_view s) {
  std::string out;
  for (char c : trim(s)) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '<' || c == '>' || c == ',' || c == ';') continue;
    out.push_back(c);
  }
  return out;
}

// A Message-ID without its <>; the same characters are out of place as in an address.
std::string clean_id(std::string_view s) {
  return clean_address(s);
}

bool is_ascii(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

const char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                            (static_cast<unsigned char>(in[i + 1]) << 8) |
                            static_cast<unsigned char>(in[i + 2]);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += kBase64[v & 63];
  }
  if (i + 1 == in.size()) {
    const std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const std::uint32_t v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kBase64[(v >> 18) & 63];
    out += kBase64[(v >> 12) & 63];
    out += kBase64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// RFC 2047 "B" encoded words, space separated. Each word holds whole characters (a reader
// decodes words one at a time) and stays within the 75 characters RFC 2047 allows.
std::string encoded_words(std::string_view utf8) {
  // 39 bytes -> 52 base64 characters + 12 of framing: "Subject: " and one word fit in the
  // 76 characters RFC 2047 allows a line with encoded words.
  constexpr std::size_t kChunk = 39;
  std::string out;
  std::size_t i = 0;
  while (i < utf8.size()) {
    std::size_t end = i;
    while (end < utf8.size()) {
      std::size_t n = utf8_length(utf8, end);
      if (n == 0) n = 1;  // already cleaned; keeps the loop finite regardless
      if (end + n - i > kChunk) break;
      end += n;
    }
    if (!out.empty()) out += ' ';
    out += "=?UTF-8?B?" + base64(utf8.substr(i, end - i)) + "?=";
    i = end;
  }
  return out;
}

// Unstructured header text (Subject, extra headers): as is when it is plain ASCII that no
// reader would mistake for an encoded word, else encoded words.
std::string unstructured(std::string_view raw) {
  const std::string s = header_text(raw);
  bool plain = is_ascii(s) && s.find("=?") == std::string::npos;
  if (plain) {
    // A word too long to fold would break the line limit; encoded words can be split.
    std::size_t run = 0;
    for (char c : s) {
      run = c == ' ' ? 0 : run + 1;
      if (run > kLineLimit - 12) plain = false;
    }
  }
  return plain ? s : encoded_words(s);
}

// A display name: an atom sequence, a quoted string, or encoded words.
std::string phrase(std::string_view raw) {
  const std::string s(trim(header_text(raw)));
  if (s.empty()) return s;
  if (!is_ascii(s) || s.find("=?") != std::string::npos) return encoded_words(s);
  static constexpr std::string_view kSpecials = "()<>[]:;@\\,.\"";
  if (s.find_first_of(kSpecials) == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::string mailbox(std::string_view name, std::string_view address) {
  const std::string p = phrase(name);
  const std::string a = clean_address(address);
  return p.empty() ? a : p + " <" + a + ">";
}

// "Name: value" folded at its spaces so that lines stay within 78 characters where a
// space allows it. Unfolding (removing the CRLF) gives back the value exactly.
std::string header(std::string_view name, std::string_view value) {
  std::string out(name);
  out += ':';
  std::size_t col = out.size();
  std::size_t i = 0;
  bool first = true;
  while (i <= value.size()) {
    std::size_t sp = value.find(' ', i);
    if (sp == std::string_view::npos) sp = value.size();
    const std::string_view word = value.substr(i, sp - i);
    // A folded line must not be only white space, so an empty word never starts one.
    if (!first && !word.empty() && col + 1 + word.size() > kLineLimit) {
      out += "\r\n";
      col = 0;
    }
    out += ' ';
    out += word;
    col += 1 + word.size();
    first = false;
    i = sp + 1;
  }
  out += "\r\n";
  return out;
}

std::string id_list(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) {
    const std::string c = clean_id(id);
    if (c.empty()) continue;
    if (!out.empty()) out += ' ';
    out += "<" + c + ">";
  }
  return out;
}

std::string address_list(const std::vector<std::string>& addresses) {
  std::string out;
  for (const auto& a : addresses) {
    const std::string c = clean_address(a);
    if (c.empty()) continue;
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

// Lines of the text, whatever their endings were.
std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\r' && s[i] != '\n') continue;
    lines.push_back(s.substr(start, i - start));
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') ++i;
    start = i + 1;
  }
  if (start < s.size()) lines.push_back(s.substr(start));
  return lines;
}

struct Body {
  std::string encoding;  // 7bit or quoted-printable
  std::string bytes;     // CRLF lines, ending in CRLF
};

Body encode_text(std::string_view raw) {
  const std::string text = valid_utf8(raw);
  const auto lines = lines_of(text);
  bool seven_bit = true;
  for (auto line : lines) {
    if (line.size() > kLineLimit) seven_bit = false;
    for (char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if (u >= 0x7F || (u < 0x20 && c != '\t')) seven_bit = false;
    }
  }
  Body b;
  if (seven_bit) {
    b.encoding = "7bit";
    for (auto line : lines) {
      b.bytes += line;
      b.bytes += "\r\n";
    }
    return b;
  }
  // Quoted-printable (RFC 2045 6.7): readable where the text is ASCII, and soft line breaks
  // keep every line within 76 characters however long the written line is.
  static constexpr char kHex[] = "0123456789ABCDEF";
  b.encoding = "quoted-printable";
  for (auto line : lines) {
    std::size_t col = 0;
    // "From " at the start of a line is mangled by mbox stores on the way; =46 survives.
    const bool from_line = line.starts_with("From ");
    for (std::size_t i = 0; i < line.size(); ++i) {
      const auto u = static_cast<unsigned char>(line[i]);
      const bool last = i + 1 == line.size();
      const bool encode = u == '=' || u >= 0x7F || (u < 0x20 && u != '\t') ||
                          ((u == ' ' || u == '\t') && last) || (i == 0 && from_line);
      const std::size_t width = encode ? 3 : 1;
      if (col + width > 75) {
        b.bytes += "=\r\n";
        col = 0;
      }
      if (encode) {
        b.bytes += '=';
        b.bytes += kHex[u >> 4];
        b.bytes += kHex[u & 15];
      } else {
        b.bytes += static_cast<char>(u);
      }
      col += width;
    }
    b.bytes += "\r\n";
  }
  return b;
}

// The attached message with CRLF line endings, as RFC 2046 5.2.1 wants it: message/rfc822
// may not be base64-encoded, so it travels as it is.
std::string crlf(std::string_view raw) {
  std::string out;
  out.reserve(raw.size() + raw.size() / 40);
  for (auto line : lines_of(raw)) {
    out += line;
    out += "\r\n";
  }
  return out;
}

bool starts_with_prefix(std::string_view s, std::string_view prefix, std::size_t& len) {
  if (s.size() < prefix.size() || !iequals(s.substr(0, prefix.size()), prefix)) return false;
  std::size_t i = prefix.size();
  // "Re[2]:" and "Re (2):" are reply counters some mail programs add.
  std::size_t k = i;
  while (k < s.size() && s[k] == ' ') ++k;
  if (k < s.size() && (s[k] == '[' || s[k] == '(')) {
    i = k;
    const char close = s[i] == '[' ? ']' : ')';
    std::size_t j = i + 1;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    if (j == i + 1 || j >= s.size() || s[j] != close) return false;
    i = j + 1;
  }
  while (i < s.size() && s[i] == ' ') ++i;
  if (i >= s.size() || s[i] != ':') return false;
  len = i + 1;
  return true;
}

// The subject without any leading "Re:" (and "Re[2]:"), so replies never stack them.
std::string_view strip_prefixes(std::string_view s, std::initializer_list<std::string_view> ps) {
  for (;;) {
    s = trim(s);
    std::size_t len = 0;
    bool stripped = false;
    for (auto p : ps) {
      if (starts_with_prefix(s, p, len)) {
        s.remove_prefix(len);
        stripped = true;
        break;
      }
    }
    if (!stripped) return s;
  }
}

std::vector<std::string> thread_references(const Item& original) {
  std::vector<std::string> refs;
  for (const auto& r : original.references)
    if (!clean_id(r).empty()) refs.push_back(clean_id(r));
  // RFC 5322 3.6.4: without References, a single In-Reply-To stands for the parent.
  if (refs.empty() && !clean_id(original.in_reply_to).empty())
    refs.push_back(clean_id(original.in_reply_to));
  const std::string own = clean_id(original.message_id);
  if (!own.empty() && (refs.empty() || refs.back() != own)) refs.push_back(own);
  if (refs.size() > kMaxReferences) {
    std::vector<std::string> kept{refs.front()};
    kept.insert(kept.end(), refs.end() - (kMaxReferences - 1), refs.end());
    refs = std::move(kept);
  }
  return refs;
}

std::string base64_lines(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t line = 0;
  for (std::size_t i = 0; i < in.size(); i += 3) {
    std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[n & 63] : '=';
    if ((line += 4) == 76) {
      out += "\r\n";
      line = 0;
    }
  }
  if (line) out += "\r\n";
  return out;
}

// A MIME parameter value, quoted; CR, LF and quotes cannot end it early.
std::string param(const std::string& v) {
  std::string out = "\"";
  for (char c : v) out += (c == '"' || c == '\\' || c == '\r' || c == '\n') ? '_' : c;
  return out + "\"";
}

std::string boundary_for(const Outgoing& m, const std::string& attached) {
  // Derived from the content, so rendering stays deterministic; "=_" cannot occur in
  // quoted-printable text, and the loop makes sure it does not occur in the attachment.
  std::string seed = m.message_id;
  for (int n = 0;; ++n) {
    std::string b = "=_sk_" + sha256_hex(seed + std::to_string(n)).substr(0, 24);
    if (attached.find("--" + b) == std::string::npos) return b;
  }
}

}  // namespace

std::string rfc5322_date(Timestamp t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

Outgoing reply_to(const Item& original, const std::string& from_name,
                  const std::string& from_address, const std::string& text,
                  const std::string& message_id, Timestamp date, bool automatic) {
  Outgoing o;
  o.from_name = from_name;
  o.from_address = from_address;
  if (const std::string* rt = original.header("reply-to"))
    for (const auto& a : sk::addresses_in(*rt))
      if (std::string c = clean_address(a); c.find('@') != std::string::npos) o.to.push_back(c);
  if (o.to.empty() && !original.from_address.empty()) o.to.push_back(original.from_address);
  o.subject = "Re: " + std::string(strip_prefixes(original.subject, {"re"}));
  o.text = text;
  o.message_id = message_id;
  o.date = date;
  o.in_reply_to = clean_id(original.message_id);
  o.references = thread_references(original);
  o.automatic = automatic;
  return o;
}

Outgoing forward_of(const Item& original, const std::string& raw_original,
                    const std::string& from_name, const std::string& from_address,
                    const std::vector<std::string>& to, const std::string& text,
                    const std::string& message_id, Timestamp date) {
  Outgoing o;
  o.from_name = from_name;
  o.from_address = from_address;
  o.to = to;
  o.subject = "Fwd: " + std::string(strip_prefixes(original.subject, {"fwd", "fw"}));
  o.message_id = message_id;
  o.date = date;
  if (!clean_id(original.message_id).empty()) o.references = {clean_id(original.message_id)};
  o.text = text;
  if (!raw_original.empty()) {
    o.attached_message = raw_original;
    return o;
  }
  // Nothing to attach: quote what the original said, with who said it and when.
  std::string q = o.text;
  if (!q.empty() && q.back() != '\n') q += '\n';
  q += "\n---------- Forwarded message ----------\n";
  std::string from = original.from_address;
  if (!original.from_name.empty()) from = original.from_name + " <" + from + ">";
  q += "From: " + from + "\n";
  if (original.sent_at) q += "Date: " + rfc5322_date(original.sent_at) + "\n";
  q += "Subject: " + original.subject + "\n";
  if (!original.to.empty()) {
    std::string t;
    for (const auto& a : original.to) t += (t.empty() ? "" : ", ") + a;
    q += "To: " + t + "\n";
  }
  q += "\n" + original.text;
  o.text = std::move(q);
  return o;
}

std::string render(const Outgoing& m) {
  std::string out;
  out += header("Date", rfc5322_date(m.date));
  out += header("From", mailbox(m.from_name, m.from_address));
  if (const std::string to = address_list(m.to); !to.empty()) out += header("To", to);
  if (const std::string cc = address_list(m.cc); !cc.empty()) out += header("Cc", cc);
  out += header("Subject", unstructured(m.subject));
  if (const std::string id = clean_id(m.message_id); !id.empty())
    out += header("Message-ID", "<" + id + ">");
  if (const std::string id = clean_id(m.in_reply_to); !id.empty())
    out += header("In-Reply-To", "<" + id + ">");
  if (const std::string refs = id_list(m.references); !refs.empty())
    out += header("References", refs);
  if (m.automatic) {
    out += header("Auto-Submitted", "auto-replied");
    // Exchange and Outlook would otherwise answer an automatic reply with an out-of-office
    // notice of their own, and two responders can keep each other busy.
    out += header("X-Auto-Response-Suppress", "All");
  }
  for (const auto& h : m.extra_headers) {
    // A field name is printable ASCII without ':' (RFC 5322 2.2); anything else is dropped
    // rather than allowed to break the header.
    bool valid = !h.name.empty();
    for (char c : h.name) {
      const auto u = static_cast<unsigned char>(c);
      valid = valid && u > 0x20 && u < 0x7F && c != ':';
    }
    if (valid) out += header(h.name, unstructured(h.value));
  }
  out += "MIME-Version: 1.0\r\n";

  const Body body = encode_text(m.text);
  const std::string text_headers =
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: " +
      body.encoding + "\r\n";
  if (m.attached_message.empty() && m.attachments.empty()) {
    out += text_headers + "\r\n" + body.bytes;
    return out;
  }
  const std::string attached = crlf(m.attached_message);
  const std::string b = boundary_for(m, attached);
  out += "Content-Type: multipart/mixed; boundary=\"" + b + "\"\r\n\r\n";
  out += "--" + b + "\r\n" + text_headers + "\r\n" + body.bytes;
  if (!attached.empty()) {
    out += "--" + b + "\r\n";
    out += "Content-Type: message/rfc822\r\n";
    out += "Content-Disposition: attachment\r\n";
    out += std::string("Content-Transfer-Encoding: ") + (is_ascii(attached) ? "7bit" : "8bit") +
           "\r\n\r\n";
    out += attached;
  }
  for (const auto& a : m.attachments) {
    std::string type = a.content_type.empty() ? "application/octet-stream" : a.content_type;
    for (char& c : type)
      if (c == '\r' || c == '\n') c = ' ';
    out += "--" + b + "\r\n";
    out += "Content-Type: " + type + "\r\n";
    out += a.filename.empty()
               ? std::string("Content-Disposition: inline\r\n")
               : "Content-Disposition: attachment; filename=" + param(a.filename) + "\r\n";
    out += "Content-Transfer-Encoding: base64\r\n\r\n";
    out += base64_lines(a.content);
  }
  out += "--" + b + "--\r\n";
  return out;
}

}  // namespace sk::mail
