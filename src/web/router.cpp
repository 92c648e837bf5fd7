#include "web/router.hpp"

#include <algorithm>
#include <string_view>

namespace sk::web {
namespace {
std::vector<std::string_view> segments(std::string_view p) {
  std::vector<std::string_view> out;
  while (!p.empty()) {
    if (p.front() == '/') {
      p.remove_prefix(1);
      continue;
    }
    auto slash = p.find('/');
    out.push_back(p.substr(0, slash));
    if (slash == std::string_view::npos) break;
    p.remove_prefix(slash);
  }
  return out;
}
}  // namespace

bool Access::may_see(const ClientId& c) const {
  return signed_in && std::find(clients.begin(), clients.end(), c) != clients.end();
}

bool Call::wants_html() const {
  return !request.header("hx-request").empty() ||
         request.header("accept").find("text/html") != std::string::npos;
}

const std::string& RouteMatch::param(const std::string& name) const {
  static const std::string empty;
  auto it = params.find(name);
  return it == params.end() ? empty : it->second;
}

bool valid_param(const std::string& v) {
  if (v.empty() || v.size() > 128) return false;
  for (char c : v)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return false;
  return v != "." && v != "..";
}

void Router::add(Route r) {
  routes_.push_back(std::move(r));
}

std::optional<RouteMatch> Router::match(const std::string& method, const std::string& path,
                                        bool* path_known) const {
  if (path_known) *path_known = false;
  auto have = segments(path);
  for (const auto& r : routes_) {
    auto want = segments(r.pattern);
    if (want.size() != have.size()) continue;
    RouteMatch m;
    bool ok = true;
    for (std::size_t i = 0; i < want.size() && ok; ++i) {
      if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
        std::string v(have[i]);
        if (!valid_param(v))
          ok = false;
        else
          m.params[std::string(want[i].substr(1, want[i].size() - 2))] = std::move(v);
      } else {
        ok = want[i] == have[i];
      }
    }
    if (!ok) continue;
    if (path_known) *path_known = true;
    if (r.method != method && !(method == "HEAD" && r.method == "GET")) continue;
    m.route = &r;
    return m;
  }
  return std::nullopt;
}

}  // namespace sk::web
