#pragma once
// Private to the mail module, its tests and its benchmarks: the two readers behind
// parse_message. The single-pass reader answers for the plain, well-formed mail that is most
// of what arrives; GMime answers for everything else and stays the reference. The tests run
// both over real corpora and require the same Item whenever the fast one answers.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/domain.hpp"

namespace sk::mail::detail {

// The Item parse_message gives for `raw`, read in one pass without GMime; nothing when the
// message holds anything this reader is not sure to read exactly as the GMime path does
// (then `declined`, when given, points at a few words saying what).
std::optional<Item> read_fast(std::string_view raw, const char** declined = nullptr);

// The GMime path: parse_message's fallback, and the reference the fast reader is held to.
Item parse_with_gmime(std::string_view raw);

struct Mailbox {
  std::string addr;  // as written (cleaned), not lower-cased
  std::string name;  // the display name, decoded; empty when there is none
};

// One address header as the GMime path reads it: `raw` is the header after its colon through
// the end of its last line, as GMime keeps it; gives the mailboxes (groups' members included)
// and appends GMime's warnings, worded as the GMime path words them. The fast reader asks
// where its own strict reader gives up (spam's odd lists), rather than leave the whole message
// to GMime for one header.
std::vector<Mailbox> gmime_mailboxes(std::string_view raw, std::vector<std::string>& warnings);

// A part's content decoded by GMime's own decoder (base64 when `base64`, else
// quoted-printable), as the GMime path decodes it: damaged encodings are read its way.
std::string gmime_decoded(std::string_view content, bool base64);

}  // namespace sk::mail::detail
