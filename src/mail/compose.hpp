#pragma once
// Replies and forwards as RFC 5322 bytes. Pure and deterministic: the Message-ID and the
// Date come in as arguments, so the same input always renders the same bytes (the outbox
// stores them before sending and a retry sends exactly what was recorded).
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"

namespace sk::mail {

// A part after the text: an invitation (text/calendar; method=REQUEST), a file.
struct Attachment {
  std::string content_type;
  std::string filename;  // empty: shown inline
  std::string content;
};

struct Outgoing {
  std::string from_name, from_address;
  std::vector<std::string> to, cc;  // bare addresses
  std::string subject;
  std::string text;        // UTF-8; any line endings
  std::string message_id;  // without <>
  Timestamp date = 0;
  std::string in_reply_to;              // without <>
  std::vector<std::string> references;  // without <>, oldest first
  bool automatic = false;               // adds Auto-Submitted: auto-replied (RFC 3834)
  std::vector<Header> extra_headers;
  // Raw RFC 822 bytes attached as message/rfc822 after the text (a forward), or empty.
  std::string attached_message;
  std::vector<Attachment> attachments;  // base64, after the text (and a forwarded message)
};

// A reply to `original`: "Re: " + its subject (never "Re: Re:"), In-Reply-To its
// Message-ID, References its References (or its In-Reply-To) followed by its Message-ID
// (RFC 5322 3.6.4), addressed to its Reply-To, or its From when it has none.
Outgoing reply_to(const Item& original, const std::string& from_name,
                  const std::string& from_address, const std::string& text,
                  const std::string& message_id, Timestamp date, bool automatic);

// A forward of `original` to `to`: "Fwd: " + its subject, `text` first, then the original
// attached as message/rfc822 when `raw_original` is given, or quoted below a
// "Forwarded message" block when it is empty. References name the original so the
// client's own mail program can tie the two together; there is no In-Reply-To, because
// the forward does not answer anyone.
Outgoing forward_of(const Item& original, const std::string& raw_original,
                    const std::string& from_name, const std::string& from_address,
                    const std::vector<std::string>& to, const std::string& text,
                    const std::string& message_id, Timestamp date);

// RFC 5322 bytes with CRLF line endings: MIME-Version, RFC 2047 encoded words for
// non-ASCII header text, the Date in RFC 5322 form (UTC), the Message-ID in <>, UTF-8 text
// as 7bit when it is short-lined ASCII and quoted-printable otherwise. CR and LF inside
// header values are replaced by spaces, so no value can add a header of its own; invalid
// UTF-8 becomes U+FFFD.
std::string render(const Outgoing& message);

// RFC 5322 date-time in UTC: "Tue, 01 Jul 2025 09:05:00 +0000".
std::string rfc5322_date(Timestamp t);

}  // namespace sk::mail
