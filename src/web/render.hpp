#pragma once
// Pages from Mustache templates (embedded at build time) over the same JSON the API returns.
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace sk::web {

// A template or static file compiled into the binary; empty when there is none.
std::string_view asset(std::string_view name);

// Renders templates/<name>.mustache with `data`, inside templates/layout.mustache.
std::string render_page(std::string_view name, const nlohmann::json& data);
// Renders one template alone (an htmx fragment).
std::string render_fragment(std::string_view name, const nlohmann::json& data);

}  // namespace sk::web
