#include "store/lists.hpp"

#include <nlohmann/json.hpp>

namespace sk::store {

using nlohmann::json;

std::string json_list(const std::vector<std::string>& v) {
  return json(v).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> list_from_json(const std::string& s) {
  std::vector<std::string> out;
  json a = json::parse(s, nullptr, false);
  if (!a.is_array()) return out;
  for (const auto& v : a)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

}  // namespace sk::store
