#pragma once
// Phone numbers as Sidekick keeps them: E.164 ("+14165550100"), whatever way they were written.
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace sk::phone {

// A number written any usual way ("(416) 555-0100", "+44 20 7946 0958", "0049 30 1234567")
// in E.164. `region` (ISO 3166 "US", "GB") says where a number without a country code is
// dialled from. Fails (invalid_input, with the reason in words) for what is not a number that
// can be dialled.
Result<std::string> to_e164(std::string_view written, std::string_view region);

// Whether `s` is meant as a phone number rather than an email address: no '@', and digits
// with only the separators people write between them.
bool looks_like_number(std::string_view s);

// For people: "+1 416-555-0100", "+44 20 7946 0958". An E.164 number it cannot read is
// returned as it is.
std::string for_display(std::string_view e164);

}  // namespace sk::phone
