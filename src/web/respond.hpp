#pragma once
// What every handler needs to read a call and answer it: the fields it sends, errors as 4xx
// with a reason (an HTML fragment for htmx, JSON for the API). Shared by console.cpp and the
// pages other modules add (support_pages.cpp).
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "web/http.hpp"
#include "web/router.hpp"

namespace sk::web {

std::string dump(const nlohmann::json& j);
Response json_error(int status, const std::string& message);
// 400 for invalid input and parse errors, 404 not found, 409 conflict, else 500.
int status_of(const Error& e);
// The error in the form the caller reads: a fragment for htmx and browsers, else JSON.
Response error_response(const Call& call, const Error& e);
// A change was made: a fragment saying so for htmx (and, with `go`, "reload" or a page to
// go to), else JSON {"ok", "message"} with `extra`'s fields.
Response changed(const Call& call, const std::string& message, const std::string& go,
                 const nlohmann::json& extra);
Response changed(const Call& call, const std::string& message, const std::string& go = "");
// Browsers send textareas with CRLF line breaks; everything stored has LF.
std::string unix_lines(const std::string& s);
// Without white space at either end.
std::string trim(std::string s);
// The non-empty trimmed pieces of what a person typed as a list ("a, b" or one per line),
// cut at any of `separators`.
std::vector<std::string> split(const std::string& text, const std::string& separators);
// The fields a call sends, from a JSON body (strings only) or a form.
std::map<std::string, std::string> fields(const Request& req);
std::string field(const std::map<std::string, std::string>& f, const std::string& k);

// A view model for a route: what the API returns and the page renders.
using ViewModel = std::function<Result<nlohmann::json>(Call&)>;
// The frame every console page renders in (who is signed in, their clients, the CSRF token).
using PageBase = std::function<Result<nlohmann::json>(Call&, const std::string& title)>;
// A console page: the view model under "page", in the frame, through templates/<tmpl>.
RouteHandler page_route(PageBase base, std::string tmpl, std::string title, ViewModel build);
// The same view model as JSON.
RouteHandler api_route(ViewModel build);

}  // namespace sk::web
