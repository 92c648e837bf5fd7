#pragma once
// Text put into HTML or XML: the console's pages and the phone provider's TwiML.
#include <string>
#include <string_view>

namespace sk {

// &, <, >, " and ' as entities: safe in element content and in quoted attribute values.
std::string escape_markup(std::string_view s);

}  // namespace sk
