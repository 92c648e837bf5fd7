#include "web/render.hpp"

#include <kainjow/mustache.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <vector>

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

// Parsed templates, kept for the next render: parsing costs more than rendering. A parsed
// template keeps state while it renders, so each render borrows one of its own.
class Parsed {
 public:
  std::unique_ptr<mu::mustache> take(const std::string& name) {
    {
      std::lock_guard lock(mutex_);
      auto& free = free_[name];
      if (!free.empty()) {
        auto t = std::move(free.back());
        free.pop_back();
        return t;
      }
    }
    std::string_view text = asset("templates/" + name + ".mustache");
    if (text.empty()) return nullptr;
    return std::make_unique<mu::mustache>(std::string(text));
  }
  void give_back(const std::string& name, std::unique_ptr<mu::mustache> t) {
    std::lock_guard lock(mutex_);
    auto& free = free_[name];
    if (free.size() < 16) free.push_back(std::move(t));
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::vector<std::unique_ptr<mu::mustache>>> free_;
};

Parsed& parsed() {
  static Parsed p;  // a cache of compiled-in templates: no state anyone can observe
  return p;
}

std::string render_one(std::string_view name_view, const mu::data& d) {
  const std::string name(name_view);
  auto tmpl = parsed().take(name);
  if (!tmpl) return "<p>missing template " + name + "</p>";
  if (!tmpl->is_valid()) return "<p>bad template " + name + ": " + tmpl->error_message() + "</p>";
  std::string out = tmpl->render(d);
  parsed().give_back(name, std::move(tmpl));
  return out;
}

// Templates other templates include with {{>name}}: a piece of a page that repeats, kept once.
constexpr std::string_view kPartials[] = {"rule_form"};

mu::data with_partials(const nlohmann::json& data) {
  mu::data d = to_data(data);
  if (d.is_object())
    for (std::string_view name : kPartials)
      d.set(std::string(name), mu::partial([name] {
              return std::string(asset("templates/" + std::string(name) + ".mustache"));
            }));
  return d;
}

}  // namespace

std::string render_fragment(std::string_view name, const nlohmann::json& data) {
  mu::data d = with_partials(data);
  return render_one(name, d);
}

std::string render_page(std::string_view name, const nlohmann::json& data) {
  mu::data d = with_partials(data);
  std::string body = render_one(name, d);
  d.set("body", body);
  return render_one("layout", d);
}

}  // namespace sk::web
