#include "web/render.hpp"

#include <kainjow/mustache.hpp>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>

namespace sk::web {
namespace {

namespace mu = kainjow::mustache;

mu::data to_data(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::object: {
      mu::data d{mu::data::type::object};
      for (auto it = j.begin(); it != j.end(); ++it) d.set(it.key(), to_data(it.value()));
      return d;
    }
    case nlohmann::json::value_t::array: {
      mu::data d{mu::data::type::list};
      for (const auto& v : j) d.push_back(to_data(v));
      return d;
    }
    case nlohmann::json::value_t::string:
      return mu::data{j.get<std::string>()};
    case nlohmann::json::value_t::boolean:
      return j.get<bool>() ? mu::data{mu::data::type::bool_true}
                           : mu::data{mu::data::type::bool_false};
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return mu::data{std::to_string(j.get<long long>())};
    case nlohmann::json::value_t::number_float: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f", j.get<double>());
      return mu::data{std::string(buf)};
    }
    default:
      return mu::data{mu::data::type::bool_false};
  }
}

// Templates other templates include ({{> name}}).
void add_partials(mu::data& d) {
  for (const char* name : {"queue_rows"})
    d.set(name, mu::data(mu::partial([name] {
            return std::string(asset(std::string("templates/") + name + ".mustache"));
          })));
}

std::string render_one(std::string_view name, const mu::data& d) {
  std::string_view text = asset(std::string("templates/") + std::string(name) + ".mustache");
  if (text.empty()) return "<p>missing template " + std::string(name) + "</p>";
  mu::mustache tmpl{std::string(text)};
  if (!tmpl.is_valid())
    return "<p>bad template " + std::string(name) + ": " + tmpl.error_message() + "</p>";
  return tmpl.render(d);
}

}  // namespace

std::string render_fragment(std::string_view name, const nlohmann::json& data) {
  mu::data d = to_data(data);
  add_partials(d);
  return render_one(name, d);
}

std::string render_page(std::string_view name, const nlohmann::json& data) {
  mu::data d = to_data(data);
  add_partials(d);
  std::string body = render_one(name, d);
  d.set("body", body);
  return render_one("layout", d);
}

}  // namespace sk::web
