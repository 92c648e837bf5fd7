#pragma once
// Private to the mail module, its tests and its benchmarks: the two readers behind
// parse_message. The single-pass reader answers for the plain, well-formed mail that is most
// of what arrives; GMime answers for everything else and stays the reference. The tests run
// both over real corpora and require the same Item whenever the fast one answers.
#include <optional>
#include <string_view>

#include "core/domain.hpp"

namespace sk::mail::detail {

// The Item parse_message gives for `raw`, read in one pass without GMime; nothing when the
// message holds anything this reader is not sure to read exactly as the GMime path does
// (then `declined`, when given, points at a few words saying what).
std::optional<Item> read_fast(std::string_view raw, const char** declined = nullptr);

// The GMime path: parse_message's fallback, and the reference the fast reader is held to.
Item parse_with_gmime(std::string_view raw);

}  // namespace sk::mail::detail
