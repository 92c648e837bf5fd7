#pragma once
// Reading RFC 822 / MIME messages into Items. GMime stays inside message.cpp.
#include <string>
#include <string_view>
#include <vector>

#include "core/domain.hpp"

namespace sk::mail {

// Parses raw message bytes. Never fails and never drops anything: a message GMime cannot
// make sense of comes back with parse_status == unreadable and the defects in words; a
// message read with repairs (bad charset, broken base64, missing boundary...) comes back
// `repaired`. Fills every content field of Item (from, to, cc, subject, text, html_only,
// headers, attachments, message_id, in_reply_to, references, sent_at, parse_status,
// defects, raw_size); leaves id, client, source_key and received_at to the caller.
Item parse_message(std::string_view raw);

// What the markup of an HTML body says beyond its text: where its links and images point
// and which elements it uses. Spam and real mail differ in both.
struct HtmlMarkup {
  std::vector<std::string> link_hosts;  // lower-cased hosts of href/src/action URLs, unique
  std::vector<std::string> tags;        // element names used, unique, in order of appearance
};

// Visible text of an HTML document: no tags, scripts or styles; entities decoded; block
// elements become line breaks. With `markup`, also collects link hosts and element names.
std::string html_to_text(std::string_view html, HtmlMarkup* markup = nullptr);

// The message's HTML body (the first text/html part that is not an attachment) as UTF-8,
// unsanitized; empty when there is none. For showing the message, after sanitizing.
std::string html_part(std::string_view raw);

// The raster images (PNG, JPEG, GIF, WebP, BMP) the message carries with a Content-ID, which
// its HTML shows through `cid:` links, as data: URIs. They travel inside the message, so
// showing them tells the sender nothing; oversized ones are left out.
struct InlineImage {
  std::string content_id;  // lower-case, without the angle brackets
  std::string data_uri;
};
std::vector<InlineImage> inline_images(std::string_view raw);

// The decoded bytes of every iCalendar part (text/calendar, application/ics or a .ics file),
// in message order: invitations and the answers to them.
std::vector<std::string> calendar_parts(std::string_view raw);

}  // namespace sk::mail
