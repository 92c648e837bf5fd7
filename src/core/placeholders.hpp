#pragma once
// Client-written texts (templates, knowledge-base answers) with {{name}} placeholders.
#include <string>
#include <utility>
#include <vector>

namespace sk {

// Every {{name}} replaced by its value; unknown placeholders stay as written, and a value
// containing "{{...}}" is not filled again.
std::string fill_placeholders(std::string text,
                              const std::vector<std::pair<std::string, std::string>>& values);

}  // namespace sk
