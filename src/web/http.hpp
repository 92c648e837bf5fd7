#pragma once
// HTTP as plain values: what the server hands to the console and what comes back. No Beast
// here; server.cpp translates.
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sk::web {

struct Request {
  std::string method;  // GET, POST, ...
  std::string target;  // as sent: path and query
  std::string path;    // decoded path, no query
  std::map<std::string, std::string> query;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string remote;  // peer address

  // First header with this (lower-case) name, or empty.
  std::string header(std::string_view name) const;
  std::string cookie(std::string_view name) const;
  // Fields of an application/x-www-form-urlencoded body.
  std::map<std::string, std::string> form() const;
};

// Writes one chunk of a streamed body; false once the peer has gone or the server stops.
using StreamWriter = std::function<bool(std::string_view)>;

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the body is streamed (server-sent events): the server sends the headers, then
  // calls this on the connection's thread until it returns; the connection closes after.
  std::function<void(const StreamWriter&)> stream;

  Response& set(std::string name, std::string value);
  static Response text(int status, std::string body);
  static Response json(int status, std::string body);
  static Response html(int status, std::string body);
  static Response redirect(std::string location);  // 303 See Other
};

using Handler = std::function<Response(const Request&)>;

// %XX and (in forms) '+' decoding; invalid escapes stay as written.
std::string url_decode(std::string_view s, bool plus_is_space);
// For a query string: everything but RFC 3986's unreserved characters percent-encoded.
std::string url_encode(const std::string& s);
std::map<std::string, std::string> parse_query(std::string_view q);
std::string html_escape(std::string_view s);

}  // namespace sk::web
