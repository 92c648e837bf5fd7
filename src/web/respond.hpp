#pragma once
// What every handler needs to read a call and answer it: the fields it sends, errors as 4xx
// with a reason (an HTML fragment for htmx, JSON for the API). Shared by console.cpp and the
// pages other modules add (support_pages.cpp).
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

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
// The fields a call sends, from a JSON body (strings only) or a form.
std::map<std::string, std::string> fields(const Request& req);
std::string field(const std::map<std::string, std::string>& f, const std::string& k);

}  // namespace sk::web
