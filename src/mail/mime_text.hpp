#pragma once
// Private to the mail module: the text helpers that both readers of a message share (the
// GMime one in message.cpp and the single-pass one in fast_reader.cpp) and html.cpp uses.
// Sharing them is what keeps the two readers' answers the same. No GMime in here.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/domain.hpp"
#include "mail/message.hpp"

namespace sk::mail::detail {

inline constexpr std::size_t kMaxText = 256 * 1024;         // a VA reads the start; classifiers too
inline constexpr std::size_t kMaxPartBytes = 4 * kMaxText;  // read of one body part, at most

// --- UTF-8 -------------------------------------------------------------------------------

void append_utf8(std::string& out, char32_t cp);
// windows-1252 is what "iso-8859-1" means in practice (browsers read it so too).
char32_t windows_1252(unsigned char b);
// Length of the well-formed UTF-8 sequence at p (at most n bytes), or 0.
std::size_t utf8_sequence(const unsigned char* p, std::size_t n);
// Length of the leading run of ASCII bytes other than NUL.
std::size_t plain_ascii_prefix(const unsigned char* p, std::size_t n);
// Appends `in`, replacing every byte that is not part of well-formed UTF-8 (and NUL) with
// U+FFFD.
void append_valid_utf8(std::string& out, std::string_view in);
// True when `in` needs no repair by append_valid_utf8.
bool is_clean_utf8(std::string_view in);
bool is_ascii(std::string_view s);
bool is_valid_utf8(std::string_view s);
// At least one multi-byte UTF-8 sequence and no broken one.
bool looks_like_utf8(std::string_view s);
// Number of multi-byte sequences that are well-formed UTF-8.
std::size_t utf8_sequences(std::string_view s);
// `s` as valid UTF-8 without NUL.
std::string clean(std::string_view s);
std::string from_windows_1252(std::string_view in);
// Cuts at a character boundary at most `max` bytes in.
void cut_utf8(std::string& s, std::size_t max);
// CRLF and lone CR become LF.
void normalize_newlines(std::string& s);

// --- header text -------------------------------------------------------------------------

std::string_view trim(std::string_view s);
// Header values unfolded as RFC 5322 says: the line breaks go, the white space stays.
std::string unfold(std::string_view v);
// What a defect message quotes: short, on one line, valid UTF-8.
std::string quote(std::string_view s);
// Old mailers wrote the year as 1900 + tm_year ("0102" for 2002). Where the GMime path
// reads such a year in a Date GMime could not read: the first "01xx" word between spaces
// of `date` (trimmed), or npos.
std::size_t y2k_year_at(std::string_view date);

// --- charsets ----------------------------------------------------------------------------

enum class CharsetKind { none, ascii, utf8, latin1, other };
std::string charset_key(std::string_view label);
CharsetKind classify(const std::string& key);
// Charsets in which pure ASCII bytes need no conversion.
bool ascii_compatible(std::string_view key);
// The charset an HTML document declares in a <meta> tag.
std::string html_meta_charset(std::string_view html);
// Text of one body part in UTF-8; what had to be guessed or repaired goes to `defects`.
// `where` names the part ("part 2"). Defined in message.cpp: other charsets go through
// GMime's iconv names and cache.
std::string to_utf8(std::string_view in, std::string_view label, const std::string& where,
                    std::vector<std::string>& defects);

// Appends `in`, in `charset`, as UTF-8 through GMime's iconv names and cache, as GMime
// converts the text of encoded words; false (and nothing appended) unless every byte
// converts. Defined in message.cpp.
bool convert_exactly(std::string_view in, std::string_view charset, std::string& out);

// --- transfer encodings ------------------------------------------------------------------

bool is_digit(char c);
bool is_hex(char c);

// What a part's base64 (`base64`) or quoted-printable content `enc` is, with the defect both
// readers note about it, in the same words (`where`: "the body", "part 2").
enum class TransferState {
  clean,
  damaged,     // decoded all the same, as GMime's decoder reads it
  plain_text,  // a body part marked base64 that plainly holds prose: read as it is
};
TransferState check_transfer_encoding(std::string_view enc, bool base64, bool body,
                                      const std::string& where, std::vector<std::string>& defects);

// --- the text of a message ---------------------------------------------------------------

enum class SegmentKind { plain, html, marker };
struct Segment {
  SegmentKind kind;
  std::string text;
};

// Fills item.text, html_only, link_hosts and html_tags from the body parts read, in order:
// the plain parts when there is one, else the HTML ones (forwarding markers always). `cut`
// says a part was too long to read whole; a cut text adds its defect.
void finish_text(Item& item, std::vector<Segment>& segments, HtmlMarkup&& markup, bool cut);

// Drops repeated defects, keeping the first of each in place: the last step of both readers.
void dedupe(std::vector<std::string>& defects);

}  // namespace sk::mail::detail
