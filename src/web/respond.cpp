#include "web/respond.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "web/render.hpp"

namespace sk::web {

using nlohmann::json;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Response json_error(int status, const std::string& message) {
  return Response::json(status, dump(json{{"error", message}}));
}

int status_of(const Error& e) {
  switch (e.code) {
    case Errc::invalid_input:
    case Errc::parse:
      return 400;
    case Errc::not_found:
      return 404;
    case Errc::conflict:
      return 409;
    default:
      return 500;
  }
}

Response error_response(const Call& call, const Error& e) {
  int status = status_of(e);
  if (call.wants_html())
    return Response::html(status, "<p class=\"error\">" + html_escape(e.message) + "</p>");
  return json_error(status, e.message);
}

std::string trim(std::string s) {
  auto space = [](unsigned char c) { return std::isspace(c) != 0; };
  while (!s.empty() && space(s.back())) s.pop_back();
  std::size_t i = 0;
  while (i < s.size() && space(s[i])) ++i;
  return s.substr(i);
}

std::vector<std::string> split(const std::string& text, const std::string& separators) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::string t = trim(cur);
    if (!t.empty()) out.push_back(t);
    cur.clear();
  };
  for (char c : text) {
    if (separators.find(c) != std::string::npos)
      flush();
    else
      cur += c;
  }
  flush();
  return out;
}

std::map<std::string, std::string> fields(const Request& req) {
  std::map<std::string, std::string> out;
  if (req.header("content-type").find("application/json") != std::string::npos) {
    json j = json::parse(req.body, nullptr, false);
    if (j.is_object())
      for (auto it = j.begin(); it != j.end(); ++it)
        if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
    return out;
  }
  return req.form();
}

std::string field(const std::map<std::string, std::string>& f, const std::string& k) {
  auto it = f.find(k);
  return it == f.end() ? std::string() : it->second;
}

RouteHandler page_route(PageBase base, std::string tmpl, std::string title, ViewModel build) {
  return [base = std::move(base), tmpl = std::move(tmpl), title = std::move(title),
          build = std::move(build)](Call& call) -> Response {
    auto data = build(call);
    if (!data.ok()) return error_response(call, data.error());
    auto frame = base(call, title);
    if (!frame.ok()) return error_response(call, frame.error());
    json d = *frame;
    d["page"] = *data;
    return Response::html(200, render_page(tmpl, d));
  };
}

RouteHandler api_route(ViewModel build) {
  return [build = std::move(build)](Call& call) -> Response {
    auto data = build(call);
    if (!data.ok()) return error_response(call, data.error());
    return Response::json(200, dump(*data));
  };
}

std::string unix_lines(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (!(s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n')) out += s[i];
  return out;
}

Response changed(const Call& call, const std::string& message, const std::string& go,
                 const nlohmann::json& extra) {
  if (!call.request.header("hx-request").empty()) {
    Response r = Response::html(200, "<p class=\"done\">" + html_escape(message) + "</p>");
    if (go == "reload")
      r.set("HX-Refresh", "true");
    else if (!go.empty())
      r.set("HX-Redirect", go);
    return r;
  }
  nlohmann::json out = extra.is_object() ? extra : nlohmann::json::object();
  out["ok"] = true;
  out["message"] = message;
  return Response::json(200, dump(out));
}

Response changed(const Call& call, const std::string& message, const std::string& go) {
  return changed(call, message, go, nlohmann::json::object());
}

}  // namespace sk::web
