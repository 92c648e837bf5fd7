// Reading RFC 822 / MIME messages into Items with GMime 3. Everything GMime- and
// glib-specific stays in this file so that the public header remains light.
#include "mail/message.hpp"

#include "mail/fast_reader.hpp"
#include "mail/mime_text.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sk::mail {

namespace {

using detail::append_utf8;
using detail::check_transfer_encoding;
using detail::clean;
using detail::dedupe;
using detail::html_meta_charset;
using detail::is_valid_utf8;
using detail::kMaxPartBytes;
using detail::quote;
using detail::Segment;
using detail::SegmentKind;
using detail::to_utf8;
using detail::TransferState;
using detail::trim;
using detail::unfold;
using detail::utf8_sequence;
using detail::windows_1252;
using detail::y2k_year_at;

// Inline images shown with a message: a logo or a photo, not a whole album.
constexpr std::size_t kMaxInlineImageBytes = 2 << 20;
constexpr std::size_t kMaxInlineImagesBytes = 8 << 20;
constexpr std::size_t kPreviewBytes = 4 * 1024;  // what an unreadable message shows
constexpr int kMaxDepth = 64;                    // deeper MIME trees are attacks, not mail

// --- GObject ownership -------------------------------------------------------------------

struct GObjectUnref {
  void operator()(void* p) const {
    if (p) g_object_unref(p);
  }
};
template <class T>
using GPtr = std::unique_ptr<T, GObjectUnref>;

struct OptionsFree {
  void operator()(GMimeParserOptions* p) const {
    if (p) g_mime_parser_options_free(p);
  }
};

struct ReferencesFree {
  void operator()(GMimeReferences* p) const {
    if (p) g_mime_references_free(p);
  }
};

void ensure_gmime() {
  // g_mime_init is not reentrant; a function-local static gives a thread-safe once.
  static const bool initialized = [] {
    g_mime_init();
    return true;
  }();
  (void)initialized;
}

// --- small string helpers ----------------------------------------------------------------

std::string_view sv(const char* s) {
  return s ? std::string_view(s) : std::string_view();
}

std::string clean(const char* s) {
  return clean(sv(s));
}

// A readable, nearly lossless rendering of bytes that are not a message: valid UTF-8 stays,
// other bytes read as windows-1252, control bytes show as their Unicode control pictures.
std::string preview(std::string_view raw) {
  std::string_view head = raw.substr(0, kPreviewBytes);
  std::string out;
  out.reserve(head.size() + head.size() / 4);
  const auto* p = reinterpret_cast<const unsigned char*>(head.data());
  for (std::size_t i = 0, n = head.size(); i < n;) {
    const unsigned char c = p[i];
    if (c == '\n' || c == '\r' || c == '\t') {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20) {
      append_utf8(out, 0x2400 + c);
      ++i;
    } else if (c == 0x7F) {
      append_utf8(out, 0x2421);
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (std::size_t len = utf8_sequence(p + i, n - i); len > 0) {
      out.append(head.data() + i, len);
      i += len;
    } else {
      append_utf8(out, windows_1252(c));
      ++i;
    }
  }
  return out;
}

}  // namespace

// --- charsets ----------------------------------------------------------------------------

namespace detail {
namespace {

struct Converted {
  std::string text;
  std::size_t bad = 0;  // bytes that could not be read in that charset
  bool opened = false;  // iconv knew the charset
};

// iconv descriptors to UTF-8, kept per thread. GMime's cache opens a new descriptor on
// every call here (libc then looks the converter up again), which costs more than most
// conversions. The charset names are GMime's, as g_mime_iconv_open would use them.
class IconvCache {
 public:
  IconvCache() = default;
  IconvCache(const IconvCache&) = delete;
  IconvCache& operator=(const IconvCache&) = delete;
  ~IconvCache() {
    for (Entry& e : entries_)
      if (e.cd != kNone) iconv_close(e.cd);
  }

  // A descriptor from `key` in its initial state, or kNone when iconv knows no such charset.
  iconv_t get(const std::string& key) {
    for (Entry& e : entries_) {
      if (e.key != key) continue;
      if (e.cd != kNone) iconv(e.cd, nullptr, nullptr, nullptr, nullptr);
      return e.cd;
    }
    ensure_gmime();  // the fast reader converts without GMime having parsed anything
    const char* name = g_mime_charset_iconv_name(key.c_str());
    const char* from = g_mime_charset_iconv_name(name ? name : key.c_str());
    if (g_ascii_strcasecmp(from, "x-unknown") == 0) from = g_mime_locale_charset();
    const iconv_t cd = iconv_open(g_mime_charset_iconv_name("UTF-8"), from);
    if (entries_.size() >= kMax) {
      if (entries_.front().cd != kNone) iconv_close(entries_.front().cd);
      entries_.erase(entries_.begin());
    }
    entries_.push_back(Entry{key, cd});
    return cd;
  }

  static inline const iconv_t kNone = reinterpret_cast<iconv_t>(-1);

 private:
  static constexpr std::size_t kMax = 32;
  struct Entry {
    std::string key;
    iconv_t cd;
  };
  std::vector<Entry> entries_;
};

iconv_t utf8_converter(const std::string& key) {
  thread_local IconvCache cache;
  return cache.get(key);
}

Converted iconv_to_utf8(std::string_view in, const std::string& key) {
  Converted r;
  const iconv_t cd = utf8_converter(key);
  if (cd == IconvCache::kNone) return r;
  r.opened = true;
  std::string& out = r.text;
  out.resize(in.size() + in.size() / 2 + 16);
  char* inp = const_cast<char*>(in.data());
  std::size_t inleft = in.size();
  std::size_t used = 0;
  bool flushed = false;
  while (true) {
    char* outp = out.data() + used;
    std::size_t outleft = out.size() - used;
    const std::size_t rc = inleft > 0 ? iconv(cd, &inp, &inleft, &outp, &outleft)
                                      : iconv(cd, nullptr, nullptr, &outp, &outleft);
    const int err = errno;
    used = static_cast<std::size_t>(outp - out.data());
    if (rc != static_cast<std::size_t>(-1)) {
      if (inleft == 0 && flushed) break;
      if (inleft == 0) flushed = true;
      continue;
    }
    if (err == E2BIG) {
      out.resize(out.size() * 2 + 16);
      continue;
    }
    // A byte this charset does not know, or a sequence cut off at the end: mark and go on.
    if (out.size() - used < 3) out.resize(out.size() + 16);
    std::memcpy(out.data() + used, "\xEF\xBF\xBD", 3);
    used += 3;
    ++r.bad;
    if (err != EILSEQ) {  // EINVAL: a sequence cut off at the end
      inleft = 0;
    } else {
      ++inp;
      --inleft;
    }
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
  out.resize(used);
  return r;
}

bool charset_known(const std::string& key) {
  return utf8_converter(key) != IconvCache::kNone;
}

// Bytes in a charset nobody named or everybody got wrong: UTF-8 when they read as such,
// else windows-1252 (the most common 8-bit mail charset by far).
std::pair<std::string, const char*> guess(std::string_view in) {
  if (is_valid_utf8(in)) return {clean(in), "UTF-8"};
  return {from_windows_1252(in), "windows-1252"};
}

}  // namespace

// Text of one body part in UTF-8. `where` names the part in defects ("part 2").
std::string to_utf8(std::string_view in, std::string_view label, const std::string& where,
                    std::vector<std::string>& defects) {
  const std::string key = charset_key(label);
  const CharsetKind kind = classify(key);
  if (is_ascii(in) && kind != CharsetKind::other) return clean(in);
  switch (kind) {
    case CharsetKind::none: {
      auto [text, as] = guess(in);
      defects.push_back("no charset for the 8-bit text in " + where + "; read as " + as);
      return text;
    }
    case CharsetKind::ascii: {
      auto [text, as] = guess(in);
      defects.push_back("8-bit text in " + where + " labelled us-ascii; read as " + as);
      return text;
    }
    case CharsetKind::utf8: {
      if (is_valid_utf8(in)) return clean(in);
      if (utf8_sequences(in) == 0) {
        defects.push_back(where + " is labelled utf-8 but is not; read as windows-1252");
        return from_windows_1252(in);
      }
      defects.push_back("invalid UTF-8 bytes in " + where + " were replaced");
      return clean(in);
    }
    case CharsetKind::latin1: {
      if (looks_like_utf8(in)) {
        defects.push_back(where + " is labelled " + key + " but is UTF-8; read as UTF-8");
        return clean(in);
      }
      return from_windows_1252(in);
    }
    case CharsetKind::other:
      break;
  }
  if (is_ascii(in) && ascii_compatible(key)) {
    if (!charset_known(key)) {
      defects.push_back("unknown charset '" + quote(key) + "' in " + where + "; read as UTF-8");
    }
    return clean(in);
  }
  Converted c = iconv_to_utf8(in, key);
  if (!c.opened) {
    auto [text, as] = guess(in);
    defects.push_back("unknown charset '" + quote(key) + "' in " + where + "; read as " + as);
    return text;
  }
  if (c.bad > 0) {
    if (looks_like_utf8(in)) {
      defects.push_back(where + " is labelled " + quote(key) + " but is UTF-8; read as UTF-8");
      return clean(in);
    }
    defects.push_back(std::to_string(c.bad) + " bytes in " + where + " are not valid " +
                      quote(key) + " and were replaced");
  }
  // iconv writes valid UTF-8; the pass is cheap and keeps NUL out.
  if (c.text.find('\0') != std::string::npos || !is_valid_utf8(c.text)) return clean(c.text);
  return std::move(c.text);
}

bool convert_exactly(std::string_view in, std::string_view charset, std::string& out) {
  Converted c = iconv_to_utf8(in, std::string(charset));
  if (!c.opened || c.bad > 0 || c.text.find('\0') != std::string::npos) return false;
  out += c.text;
  return true;
}

}  // namespace detail

namespace {

// --- transfer encodings ------------------------------------------------------------------

// The encoded bytes of a part, without copying when GMime kept them in our memory stream.
std::string_view encoded_bytes(GMimeDataWrapper* wrapper, std::string& storage) {
  GMimeStream* s = g_mime_data_wrapper_get_stream(wrapper);
  if (!s) return {};
  if (GMIME_IS_STREAM_MEM(s)) {
    GByteArray* a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
    if (a) {
      const gint64 start = std::max<gint64>(0, s->bound_start);
      const gint64 end =
          s->bound_end < 0 ? static_cast<gint64>(a->len) : std::min<gint64>(s->bound_end, a->len);
      if (start <= end) {
        return {reinterpret_cast<const char*>(a->data) + start,
                static_cast<std::size_t>(end - start)};
      }
      return {};
    }
  }
  g_mime_stream_reset(s);
  char buf[4096];
  ssize_t n;
  while ((n = g_mime_stream_read(s, buf, sizeof buf)) > 0) storage.append(buf, n);
  g_mime_stream_reset(s);
  return storage;
}

// stream that holds it.
struct Decoded {
  GPtr<GMimeStream> stream;
  std::string_view bytes;
};

Decoded decoded_content(GMimeDataWrapper* wrapper) {
  Decoded d{GPtr<GMimeStream>(g_mime_stream_mem_new()), {}};
  g_mime_data_wrapper_write_to_stream(wrapper, d.stream.get());
  GByteArray* a = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(d.stream.get()));
  if (a && a->len > 0) d.bytes = {reinterpret_cast<const char*>(a->data), a->len};
  return d;
}

std::size_t decoded_size(GMimeDataWrapper* wrapper) {
  GPtr<GMimeStream> null(g_mime_stream_null_new());
  g_mime_data_wrapper_write_to_stream(wrapper, null.get());
  return GMIME_STREAM_NULL(null.get())->written;
}

// The charsets GMime tries, in order, for 8-bit text in headers.
const char* kFallbackCharsets[] = {"UTF-8", "windows-1252", "iso-8859-1", nullptr};

// --- parser warnings ---------------------------------------------------------------------

struct Warnings {
  std::string_view message;
  std::vector<std::string> defects;
};

bool has_body_separator(std::string_view m) {
  return m.find("\n\n") != std::string_view::npos || m.find("\n\r\n") != std::string_view::npos;
}

std::string warning_text(GMimeParserWarning code, std::string_view item) {
  const std::string q = quote(item);
  switch (code) {
    case GMIME_WARN_DUPLICATED_HEADER:
      return "header '" + q + "' appears more than once";
    case GMIME_WARN_DUPLICATED_PARAMETER:
      return "parameter '" + q + "' appears more than once";
    case GMIME_WARN_UNENCODED_8BIT_HEADER:
      return "header '" + q + "' has unencoded 8-bit text";
    case GMIME_WARN_INVALID_CONTENT_TYPE:
      return "unreadable Content-Type '" + q + "'";
    case GMIME_WARN_INVALID_RFC2047_HEADER_VALUE:
      return "badly encoded header text '" + q + "'";
    case GMIME_WARN_INVALID_PARAMETER:
      return "unreadable header parameter '" + q + "'";
    case GMIME_WARN_MALFORMED_MULTIPART:
      return "multipart has no parts";
    case GMIME_WARN_TRUNCATED_MESSAGE:
      return "message is cut short";
    case GMIME_WARN_MALFORMED_MESSAGE:
      return "message is malformed";
    case GMIME_CRIT_INVALID_HEADER_NAME:
      return "invalid header name '" + q + "'";
    case GMIME_CRIT_CONFLICTING_HEADER:
      return "conflicting '" + q + "' headers";
    case GMIME_CRIT_CONFLICTING_PARAMETER:
      return "conflicting header parameter '" + q + "'";
    case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
      return "multipart has no boundary";
    case GMIME_WARN_INVALID_ADDRESS_LIST:
      return "unreadable address list '" + q + "'";
    case GMIME_CRIT_NESTING_OVERFLOW:
      return "MIME parts are nested too deeply";
    case GMIME_WARN_PART_WITHOUT_CONTENT:
      return "a MIME part ends right after its header";
    case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
      return "an empty MIME part";
  }
  return "parser warning " + std::to_string(static_cast<int>(code));
}

void on_warning(gint64 /*offset*/, GMimeParserWarning code, const gchar* item, gpointer data) {
  auto* w = static_cast<Warnings*>(data);
  // A message of headers alone needs no blank line (RFC 5322 makes the body optional), yet
  // GMime calls it truncated.
  if (code == GMIME_WARN_TRUNCATED_MESSAGE && !has_body_separator(w->message)) return;
  w->defects.push_back(warning_text(code, sv(item)));
}

// --- the MIME tree -----------------------------------------------------------------------

struct Walker {
  std::string_view raw;
  std::vector<std::string>& defects;
  std::vector<Attachment>& attachments;
  std::vector<Segment> segments;
  HtmlMarkup markup;
  bool top_is_leaf = false;
  int leaves = 0;
  bool cut = false;  // a part was too long to read whole

  std::string where() const {
    return top_is_leaf ? std::string("the body") : "part " + std::to_string(leaves);
  }

  static bool is_type(GMimeContentType* ct, const char* type, const char* subtype) {
    return ct && g_mime_content_type_is_type(ct, type, subtype);
  }

  static std::string mime_type(GMimeContentType* ct) {
    if (!ct) return "application/octet-stream";
    return sk::lower(clean(g_mime_content_type_get_media_type(ct))) + "/" +
           sk::lower(clean(g_mime_content_type_get_media_subtype(ct)));
  }

  static bool disposition_is_attachment(GMimeObject* obj) {
    GMimeContentDisposition* d = g_mime_object_get_content_disposition(obj);
    return d && g_mime_content_disposition_is_attachment(d);
  }

  // What a part holds, to choose among the parts of a multipart/alternative.
  static int text_rank(GMimeObject* obj, int depth) {
    if (depth > kMaxDepth) return 0;
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    if (GMIME_IS_PART(obj)) {
      if (disposition_is_attachment(obj)) return 0;
      if (is_type(ct, "text", "plain")) return 2;
      if (is_type(ct, "text", "html")) return 1;
      return 0;
    }
    if (GMIME_IS_MULTIPART(obj)) {
      int best = 0;
      GMimeMultipart* mp = GMIME_MULTIPART(obj);
      for (int i = 0, n = g_mime_multipart_get_count(mp); i < n; ++i) {
        best = std::max(best, text_rank(g_mime_multipart_get_part(mp, i), depth + 1));
      }
      return best;
    }
    return 0;
  }

  void walk(GMimeObject* obj, bool want_text, int depth) {
    if (!obj) return;
    if (depth > kMaxDepth) {
      defects.emplace_back("MIME parts are nested too deeply; the deepest were skipped");
      return;
    }
    if (GMIME_IS_MULTIPART(obj)) {
      walk_multipart(GMIME_MULTIPART(obj), want_text, depth);
    } else if (GMIME_IS_MESSAGE_PART(obj)) {
      walk_message_part(GMIME_MESSAGE_PART(obj), want_text, depth);
    } else if (GMIME_IS_PART(obj)) {
      walk_leaf(GMIME_PART(obj), want_text);
    }
  }

  void walk_multipart(GMimeMultipart* mp, bool want_text, int depth) {
    GMimeObject* obj = GMIME_OBJECT(mp);
    const int n = g_mime_multipart_get_count(mp);
    // The parameter, not g_mime_multipart_get_boundary, which invents one when missing.
    if (const char* boundary = g_mime_object_get_content_type_parameter(obj, "boundary");
        boundary && *boundary) {
      std::string closing = "--";
      closing += boundary;
      closing += "--";
      if (raw.find(closing) == std::string_view::npos) {
        defects.push_back("multipart has no closing boundary");
      }
    }
    if (n == 0) {
      // No boundary was found: everything sits in the preamble. Better read it as text
      // than lose it.
      const std::string_view prologue = trim(sv(g_mime_multipart_get_prologue(mp)));
      if (want_text && !prologue.empty()) {
        defects.push_back("multipart has no parts; its body was read as plain text");
        segments.push_back({SegmentKind::plain, to_utf8(prologue, "", "the body", defects)});
      }
      return;
    }
    int preferred = -1;
    if (is_type(g_mime_object_get_content_type(obj), "multipart", "alternative") && n > 0) {
      // RFC 2046 orders alternatives from plainest to richest; a VA wants the plain text,
      // then HTML, then whatever came last.
      int best_rank = -1;
      for (int i = 0; i < n; ++i) {
        const int rank = text_rank(g_mime_multipart_get_part(mp, i), depth + 1);
        if (rank > best_rank) {
          best_rank = rank;
          preferred = i;
        }
      }
      if (best_rank == 0) preferred = n - 1;
    }
    for (int i = 0; i < n; ++i) {
      walk(g_mime_multipart_get_part(mp, i), want_text && (preferred < 0 || i == preferred),
           depth + 1);
    }
  }

  void walk_message_part(GMimeMessagePart* part, bool want_text, int depth) {
    GMimeObject* obj = GMIME_OBJECT(part);
    GMimeMessage* inner = g_mime_message_part_get_message(part);
    if (disposition_is_attachment(obj) || !want_text) {
      Attachment a;
      a.content_type = mime_type(g_mime_object_get_content_type(obj));
      const char* name = g_mime_object_get_content_disposition_parameter(obj, "filename");
      if (!name) name = g_mime_object_get_content_type_parameter(obj, "name");
      if (name) {
        a.filename = clean(name);
      } else if (inner && g_mime_message_get_subject(inner)) {
        a.filename = clean(g_mime_message_get_subject(inner)) + ".eml";
      }
      if (inner) {
        GPtr<GMimeStream> null(g_mime_stream_null_new());
        g_mime_object_write_to_stream(GMIME_OBJECT(inner), nullptr, null.get());
        a.size = GMIME_STREAM_NULL(null.get())->written;
      }
      attachments.push_back(std::move(a));
      return;
    }
    if (!inner) return;
    // A forwarded message shown inline: say where it starts, as mail programs do.
    GMimeObject* io = GMIME_OBJECT(inner);
    std::string marker = "---------- Forwarded message ----------";
    if (const char* from = g_mime_object_get_header(io, "From"))
      marker += "\nFrom: " + unfold(from);
    if (const char* date = g_mime_object_get_header(io, "Date"))
      marker += "\nDate: " + unfold(date);
    if (const char* subj = g_mime_message_get_subject(inner))
      marker += "\nSubject: " + unfold(subj);
    segments.push_back({SegmentKind::marker, std::move(marker)});
    walk(g_mime_message_get_mime_part(inner), want_text, depth + 1);
  }

  // RFC 2045 reads a Content-Type it cannot parse as text/plain; GMime says
  // application/octet-stream. Tell the two apart by what the header said.
  static bool unreadable_type(GMimeObject* obj, GMimeContentType* ct) {
    if (!is_type(ct, "application", "octet-stream")) return false;
    const char* raw_type = g_mime_object_get_header(obj, "Content-Type");
    if (!raw_type) return false;
    const std::string low = sk::lower(trim(sv(raw_type)).substr(0, 24));
    return low.rfind("application/octet-stream", 0) != 0;
  }

  void walk_leaf(GMimePart* part, bool want_text) {
    ++leaves;
    GMimeObject* obj = GMIME_OBJECT(part);
    GMimeContentType* ct = g_mime_object_get_content_type(obj);
    const bool attached = disposition_is_attachment(obj);
    const bool misread = !attached && unreadable_type(obj, ct) && !g_mime_part_get_filename(part);
    const bool plain = misread || is_type(ct, "text", "plain");
    const bool html = !misread && is_type(ct, "text", "html");
    const bool body = (plain || html) && !attached;
    if (body && !want_text) return;  // an alternative we did not choose

    GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
    const bool as_is = check_encoding(part, wrapper, body);

    if (!body) {
      Attachment a;
      a.filename = clean(g_mime_part_get_filename(part));
      a.content_type = mime_type(ct);
      a.size = wrapper ? decoded_size(wrapper) : 0;
      attachments.push_back(std::move(a));
      return;
    }
    if (!wrapper) return;
    std::string storage;
    Decoded decoded;
    std::string_view bytes =
        as_is ? encoded_bytes(wrapper, storage) : (decoded = decoded_content(wrapper)).bytes;
    if (bytes.size() > kMaxPartBytes) {
      // Only the start of the text is kept; converting megabytes to drop them is waste.
      const std::size_t nl = bytes.rfind('\n', kMaxPartBytes);
      bytes = bytes.substr(0, nl == std::string_view::npos ? kMaxPartBytes : nl + 1);
      cut = true;
    }
    std::string label =
        std::string(sv(ct ? g_mime_content_type_get_parameter(ct, "charset") : nullptr));
    if (misread) {
      defects.push_back(where() + " has an unreadable Content-Type; read as plain text");
    }
    if (html && trim(label).empty()) label = html_meta_charset(bytes);
    std::string text = to_utf8(bytes, label, where(), defects);
    if (html) {
      segments.push_back({SegmentKind::html, html_to_text(text, &markup)});
    } else {
      segments.push_back({SegmentKind::plain, std::move(text)});
    }
  }

  // Notes what is wrong with a part's transfer encoding. Returns true when a body part
  // marked base64 plainly holds prose, which is then better read as it is.
  bool check_encoding(GMimePart* part, GMimeDataWrapper* wrapper, bool body) {
    GMimeObject* obj = GMIME_OBJECT(part);
    const GMimeContentEncoding enc = g_mime_part_get_content_encoding(part);
    if (enc == GMIME_CONTENT_ENCODING_DEFAULT) {
      if (const char* cte = g_mime_object_get_header(obj, "Content-Transfer-Encoding")) {
        if (!trim(sv(cte)).empty()) {
          defects.push_back("unknown transfer encoding '" + quote(trim(sv(cte))) + "' in " +
                            where() + "; read as is");
        }
      }
      return false;
    }
    if (!wrapper) return false;
    if (enc != GMIME_CONTENT_ENCODING_BASE64 && enc != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
      return false;
    std::string storage;
    return check_transfer_encoding(encoded_bytes(wrapper, storage),
                                   enc == GMIME_CONTENT_ENCODING_BASE64, body, where(),
                                   defects) == TransferState::plain_text;
  }
};

// --- addresses ---------------------------------------------------------------------------

void collect_mailboxes(InternetAddressList* list, std::vector<InternetAddressMailbox*>& out,
                       int depth = 0) {
  if (!list || depth > 4) return;
  for (int i = 0, n = internet_address_list_length(list); i < n; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      out.push_back(INTERNET_ADDRESS_MAILBOX(ia));
    } else if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      collect_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out,
                        depth + 1);
    }
  }
}

std::vector<std::string> addresses(InternetAddressList* list) {
  std::vector<InternetAddressMailbox*> boxes;
  collect_mailboxes(list, boxes);
  std::vector<std::string> out;
  out.reserve(boxes.size());
  for (InternetAddressMailbox* mb : boxes) {
    std::string a = sk::lower(clean(internet_address_mailbox_get_addr(mb)));
    if (!a.empty()) out.push_back(std::move(a));
  }
  return out;
}

// First <id> in a header such as In-Reply-To, without the brackets.
std::string first_message_id(GMimeParserOptions* options, const char* value) {
  if (!value) return {};
  std::unique_ptr<GMimeReferences, ReferencesFree> refs(g_mime_references_parse(options, value));
  if (refs && g_mime_references_length(refs.get()) > 0) {
    return clean(g_mime_references_get_message_id(refs.get(), 0));
  }
  std::string_view v = trim(sv(value));
  if (v.size() >= 2 && v.front() == '<' && v.back() == '>') v = v.substr(1, v.size() - 2);
  if (v.find('@') == std::string_view::npos || v.find(' ') != std::string_view::npos) return {};
  return clean(v);
}

// Old mailers wrote the year as 1900 + tm_year ("0102" for 2002); spam still carries such
// dates. Returns 0 when the header is not of that kind.
Timestamp y2k_date(const char* header) {
  std::string d(trim(sv(header)));
  const std::size_t at = y2k_year_at(d);
  if (at == std::string::npos) return 0;
  d[at] = '2';
  d[at + 1] = '0';
  GDateTime* fixed = g_mime_utils_header_decode_date(d.c_str());
  if (!fixed) return 0;
  const Timestamp t = g_date_time_to_unix(fixed);
  g_date_time_unref(fixed);
  return t;
}

// --- the envelope of the whole message ---------------------------------------------------

bool is_header_line(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size()) {
    const unsigned char c = line[i];
    if (c == ':') break;
    if (c <= 32 || c >= 127) break;
    ++i;
  }
  if (i == 0) return false;
  std::size_t j = i;
  while (j < line.size() && (line[j] == ' ' || line[j] == '\t')) ++j;  // "Name :" (RFC 822)
  return j < line.size() && line[j] == ':';
}

void finish_unreadable(Item& item, std::string_view raw, std::string why) {
  item.parse_status = ParseStatus::unreadable;
  item.defects.push_back(std::move(why));
  item.text = preview(raw);
  if (raw.size() > kPreviewBytes) {
    item.defects.push_back("kept raw; the text shows only the first 4 KB of " +
                           std::to_string(raw.size()) + " bytes");
  }
}

}  // namespace

namespace {

Item read_with_gmime(std::string_view raw) {
  Item item;
  item.channel = Channel::email;
  item.raw_size = raw.size();
  if (raw.empty()) {
    item.parse_status = ParseStatus::unreadable;
    item.defects.emplace_back("empty message");
    return item;
  }

  // An mbox envelope line ("From user@host date") is storage, not message.
  std::string_view msg = raw;
  if (msg.substr(0, 5) == "From ") {
    const std::size_t nl = msg.find('\n');
    msg = nl == std::string_view::npos ? std::string_view() : msg.substr(nl + 1);
  }
  std::size_t blank = 0;
  while (blank < msg.size() && (msg[blank] == '\n' || msg[blank] == '\r')) ++blank;
  if (blank > 0 && blank < msg.size()) {
    const std::size_t eol = msg.find('\n', blank);
    if (is_header_line(msg.substr(blank, eol == std::string_view::npos ? eol : eol - blank))) {
      item.defects.emplace_back("blank lines before the header were skipped");
      msg.remove_prefix(blank);
    }
  }
  if (!msg.empty() && (msg[0] == ' ' || msg[0] == '\t')) {
    std::size_t ws = 0;
    while (ws < msg.size() && (msg[ws] == ' ' || msg[ws] == '\t')) ++ws;
    const std::size_t nl = msg.find('\n', ws);
    if (is_header_line(msg.substr(ws, nl == std::string_view::npos ? nl : nl - ws))) {
      item.defects.emplace_back("white space before the first header was skipped");
      msg.remove_prefix(ws);
    }
  }
  const std::size_t eol = msg.find('\n');
  const std::string_view first_line = msg.substr(0, eol);
  // NUL has no place in a header; in a body (binary transfer encoding) it may.
  std::size_t header_end = std::min<std::size_t>(msg.size(), 8192);
  header_end = std::min(header_end, msg.find("\n\n"));
  header_end = std::min(header_end, msg.find("\n\r\n"));
  if (msg.substr(0, header_end).find('\0') != std::string_view::npos) {
    finish_unreadable(item, raw, "binary data, not a mail message");
    return item;
  }
  if (!is_header_line(first_line)) {
    finish_unreadable(item, raw, "no header: the data does not start with header lines");
    return item;
  }

  ensure_gmime();
  Warnings warnings{msg, {}};
  std::unique_ptr<GMimeParserOptions, OptionsFree> options(g_mime_parser_options_new());
  g_mime_parser_options_set_fallback_charsets(options.get(), kFallbackCharsets);
  g_mime_parser_options_set_warning_callback(options.get(), on_warning, &warnings);

  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(msg.data(), msg.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
  GPtr<GMimeMessage> message(g_mime_parser_construct_message(parser.get(), options.get()));
  if (!message) {
    finish_unreadable(item, raw, "the MIME parser could not read it");
    return item;
  }
  GMimeObject* mobj = GMIME_OBJECT(message.get());
  GMimeHeaderList* hl = g_mime_object_get_header_list(mobj);
  const int header_count = hl ? g_mime_header_list_get_count(hl) : 0;

  // GMime files the Content-* headers under the top-level part, not the message; put them
  // back where they arrived.
  {
    std::vector<GMimeHeader*> all;
    all.reserve(header_count + 4);
    for (int i = 0; i < header_count; ++i) all.push_back(g_mime_header_list_get_header_at(hl, i));
    if (GMimeObject* part = g_mime_message_get_mime_part(message.get())) {
      if (GMimeHeaderList* phl = g_mime_object_get_header_list(part)) {
        for (int i = 0, n = g_mime_header_list_get_count(phl); i < n; ++i) {
          GMimeHeader* h = g_mime_header_list_get_header_at(phl, i);
          bool dup = false;
          for (GMimeHeader* o : all)
            dup = dup || g_mime_header_get_offset(o) == g_mime_header_get_offset(h);
          if (!dup) all.push_back(h);
        }
      }
    }
    std::stable_sort(all.begin(), all.end(), [](GMimeHeader* a, GMimeHeader* b) {
      return g_mime_header_get_offset(a) < g_mime_header_get_offset(b);
    });
    item.headers.reserve(all.size());
    for (GMimeHeader* h : all) {
      if (!h) continue;
      item.headers.push_back(
          Header{clean(g_mime_header_get_name(h)), unfold(sv(g_mime_header_get_value(h)))});
    }
  }
  if (item.headers.empty()) {
    finish_unreadable(item, raw, "no header could be read");
    return item;
  }

  std::vector<InternetAddressMailbox*> from;
  collect_mailboxes(g_mime_message_get_from(message.get()), from);
  const char* from_header = g_mime_object_get_header(mobj, "From");
  if (!from.empty()) {
    item.from_address = sk::lower(clean(internet_address_mailbox_get_addr(from.front())));
    item.from_name = unfold(sv(internet_address_get_name(INTERNET_ADDRESS(from.front()))));
  }
  if (!from_header) {
    item.defects.emplace_back("no From header");
  } else if (item.from_address.empty()) {
    item.defects.push_back("no address in the From header '" + quote(sv(from_header)) + "'");
  }
  item.to = addresses(g_mime_message_get_addresses(message.get(), GMIME_ADDRESS_TYPE_TO));
  item.cc = addresses(g_mime_message_get_addresses(message.get(), GMIME_ADDRESS_TYPE_CC));
  item.subject = unfold(sv(g_mime_message_get_subject(message.get())));
  item.message_id = clean(g_mime_message_get_message_id(message.get()));
  item.in_reply_to = first_message_id(options.get(), g_mime_object_get_header(mobj, "In-Reply-To"));
  if (const char* refs = g_mime_object_get_header(mobj, "References")) {
    std::unique_ptr<GMimeReferences, ReferencesFree> list(
        g_mime_references_parse(options.get(), refs));
    for (int i = 0, n = list ? g_mime_references_length(list.get()) : 0; i < n; ++i) {
      item.references.push_back(clean(g_mime_references_get_message_id(list.get(), i)));
    }
  }
  if (GDateTime* date = g_mime_message_get_date(message.get())) {
    item.sent_at = g_date_time_to_unix(date);
  } else if (const char* d = g_mime_object_get_header(mobj, "Date")) {
    item.sent_at = y2k_date(d);
    item.defects.push_back("unreadable Date header '" + quote(trim(sv(d))) + "'" +
                           (item.sent_at ? "; read its year 01xx as 20xx" : ""));
  }

  Walker walker{msg, item.defects, item.attachments, {}, {}, false, 0};
  GMimeObject* body = g_mime_message_get_mime_part(message.get());
  walker.top_is_leaf = body && GMIME_IS_PART(body);
  walker.walk(body, true, 0);

  detail::finish_text(item, walker.segments, std::move(walker.markup), walker.cut);

  // Parser warnings come last: the defects found while reading the parts are the more
  // specific ones.
  for (auto& w : warnings.defects) item.defects.push_back(std::move(w));
  dedupe(item.defects);
  item.parse_status = item.defects.empty() ? ParseStatus::ok : ParseStatus::repaired;
  return item;
}

}  // namespace

Item detail::parse_with_gmime(std::string_view raw) {
  return read_with_gmime(raw);
}

std::string detail::gmime_decoded(std::string_view content, bool base64) {
  ensure_gmime();
  GPtr<GMimeStream> in(g_mime_stream_mem_new_with_buffer(content.data(), content.size()));
  GPtr<GMimeDataWrapper> wrapper(g_mime_data_wrapper_new_with_stream(
      in.get(), base64 ? GMIME_CONTENT_ENCODING_BASE64 : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE));
  return std::string(decoded_content(wrapper.get()).bytes);
}

std::vector<detail::Mailbox> detail::gmime_mailboxes(std::string_view raw,
                                                     std::vector<std::string>& warnings) {
  ensure_gmime();
  // The options read_with_gmime gives the parser, which reads each address header with them.
  Warnings found{raw, {}};
  std::unique_ptr<GMimeParserOptions, OptionsFree> options(g_mime_parser_options_new());
  g_mime_parser_options_set_fallback_charsets(options.get(), kFallbackCharsets);
  g_mime_parser_options_set_warning_callback(options.get(), on_warning, &found);
  const std::string value(raw);
  GPtr<InternetAddressList> list(internet_address_list_parse(options.get(), value.c_str()));
  std::vector<InternetAddressMailbox*> boxes;
  collect_mailboxes(list.get(), boxes);
  std::vector<Mailbox> out;
  out.reserve(boxes.size());
  for (InternetAddressMailbox* mb : boxes) {
    const char* name = internet_address_get_name(INTERNET_ADDRESS(mb));
    out.push_back({clean(internet_address_mailbox_get_addr(mb)), name ? name : ""});
  }
  for (auto& w : found.defects) warnings.push_back(std::move(w));
  return out;
}

Item parse_message(std::string_view raw) {
  // The single-pass reader answers when it is sure to answer as GMime would (the tests hold
  // it to that); GMime reads everything else.
  if (std::optional<Item> fast = detail::read_fast(raw)) return std::move(*fast);
  return read_with_gmime(raw);
}

namespace {
// The first text/html part that is not an attachment, depth-first.
// A message parsed only to reach its parts (showing it, reading invitations): no Item, no
// defects. The parser objects live as long as the message that borrows from them.
struct ParsedForParts {
  explicit ParsedForParts(std::string_view raw) {
    ensure_gmime();
    std::string_view msg = raw;
    if (msg.substr(0, 5) == "From ") {
      const std::size_t nl = msg.find('\n');
      msg = nl == std::string_view::npos ? std::string_view() : msg.substr(nl + 1);
    }
    if (msg.empty()) return;
    options.reset(g_mime_parser_options_new());
    stream.reset(g_mime_stream_mem_new_with_buffer(msg.data(), msg.size()));
    parser.reset(g_mime_parser_new_with_stream(stream.get()));
    g_mime_parser_set_format(parser.get(), GMIME_FORMAT_MESSAGE);
    message.reset(g_mime_parser_construct_message(parser.get(), options.get()));
  }
  std::unique_ptr<GMimeParserOptions, OptionsFree> options;
  GPtr<GMimeStream> stream;
  GPtr<GMimeParser> parser;
  GPtr<GMimeMessage> message;
};

// Raster images only: an SVG is a document of its own.
bool inline_image_type(GMimeContentType* ct) {
  if (!ct || !g_mime_content_type_is_type(ct, "image", "*")) return false;
  for (const char* sub : {"png", "jpeg", "jpg", "gif", "webp", "bmp"})
    if (g_mime_content_type_is_type(ct, "image", sub)) return true;
  return false;
}

// Every leaf part in message order, down to kMaxDepth: what showing a message looks through.
void leaf_parts(GMimeObject* obj, int depth, std::vector<GMimePart*>& out) {
  if (!obj || depth > kMaxDepth) return;
  if (GMIME_IS_MULTIPART(obj)) {
    GMimeMultipart* mp = GMIME_MULTIPART(obj);
    for (int i = 0, n = g_mime_multipart_get_count(mp); i < n; ++i)
      leaf_parts(g_mime_multipart_get_part(mp, i), depth + 1, out);
    return;
  }
  if (GMIME_IS_PART(obj)) out.push_back(GMIME_PART(obj));
}

std::vector<GMimePart*> leaf_parts(const ParsedForParts& parsed) {
  std::vector<GMimePart*> out;
  if (parsed.message) leaf_parts(g_mime_message_get_mime_part(parsed.message.get()), 0, out);
  return out;
}

bool is_inline_image(GMimePart* part) {
  return g_mime_object_get_content_id(GMIME_OBJECT(part)) &&
         inline_image_type(g_mime_object_get_content_type(GMIME_OBJECT(part)));
}

bool is_html_body(GMimePart* part) {
  GMimeContentType* ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
  GMimeContentDisposition* d = g_mime_object_get_content_disposition(GMIME_OBJECT(part));
  return ct && g_mime_content_type_is_type(ct, "text", "html") &&
         !(d && g_mime_content_disposition_is_attachment(d));
}

bool is_calendar(GMimePart* part) {
  GMimeContentType* ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
  const char* name = g_mime_part_get_filename(part);
  std::string file = name ? name : "";
  for (auto& ch : file) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return (ct && g_mime_content_type_is_type(ct, "text", "calendar")) ||
         (ct && g_mime_content_type_is_type(ct, "application", "ics")) || file.ends_with(".ics");
}
}  // namespace

std::vector<std::string> calendar_parts(std::string_view raw) {
  std::vector<std::string> out;
  ParsedForParts parsed(raw);
  if (!parsed.message) return out;
  for (GMimePart* part : leaf_parts(parsed)) {
    if (!is_calendar(part)) continue;
    GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
    if (!wrapper) continue;
    Decoded decoded = decoded_content(wrapper);
    out.emplace_back(decoded.bytes.substr(0, kMaxPartBytes));
  }
  return out;
}

std::string html_part(std::string_view raw) {
  ParsedForParts parsed(raw);
  if (!parsed.message) return {};
  const auto parts = leaf_parts(parsed);
  auto html = std::find_if(parts.begin(), parts.end(), is_html_body);
  if (html == parts.end()) return {};
  GMimePart* part = *html;
  GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
  if (!wrapper) return {};
  Decoded decoded = decoded_content(wrapper);
  std::string_view bytes = decoded.bytes.substr(0, kMaxPartBytes);
  GMimeContentType* ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
  std::string label =
      std::string(sv(ct ? g_mime_content_type_get_parameter(ct, "charset") : nullptr));
  if (trim(label).empty()) label = html_meta_charset(bytes);
  std::vector<std::string> defects;
  return to_utf8(bytes, label, "the HTML part", defects);
}

std::vector<InlineImage> inline_images(std::string_view raw) {
  std::vector<InlineImage> out;
  ParsedForParts parsed(raw);
  if (!parsed.message) return out;
  std::size_t total = 0;
  for (GMimePart* part : leaf_parts(parsed)) {
    if (!is_inline_image(part)) continue;
    GMimeDataWrapper* wrapper = g_mime_part_get_content(part);
    if (!wrapper) continue;
    Decoded decoded = decoded_content(wrapper);
    if (decoded.bytes.empty() || decoded.bytes.size() > kMaxInlineImageBytes ||
        total + decoded.bytes.size() > kMaxInlineImagesBytes)
      continue;
    total += decoded.bytes.size();
    GMimeContentType* ct = g_mime_object_get_content_type(GMIME_OBJECT(part));
    std::string type = "image/" + lower(sv(g_mime_content_type_get_media_subtype(ct)));
    if (type == "image/jpg") type = "image/jpeg";
    std::unique_ptr<gchar, decltype(&g_free)> b64(
        g_base64_encode(reinterpret_cast<const guchar*>(decoded.bytes.data()),
                        decoded.bytes.size()),
        &g_free);
    std::string id = lower(trim(sv(g_mime_object_get_content_id(GMIME_OBJECT(part)))));
    if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
    out.push_back({std::move(id), "data:" + type + ";base64," + b64.get()});
  }
  return out;
}

}  // namespace sk::mail
