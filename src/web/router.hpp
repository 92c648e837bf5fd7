#pragma once
// Routes as data: each says its method, its path pattern, which roles may call it and whether
// it names a client or an item. The list can be enumerated, so tests (the authorization
// matrix) and documentation cover every route, and other modules add their own.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/users.hpp"
#include "web/http.hpp"

namespace sk::engine {
class Engine;
}

namespace sk::web {

// Who may call a route. `anyone`: no login needed (login page, static files, public
// booking page); the others need a session or an API token of one of the roles.
struct Roles {
  bool anyone = false;
  bool admin = false;
  bool va = false;
  bool client = false;
  bool allows(store::Role r) const {
    return r == store::Role::admin ? admin : r == store::Role::va ? va : client;
  }
  static Roles everyone() { return {true, true, true, true}; }
  static Roles signed_in() { return {false, true, true, true}; }
  static Roles staff() { return {false, true, true, false}; }
  static Roles admins() { return {false, true, false, false}; }
};

struct RouteMatch;
struct Call;
using RouteHandler = std::function<Response(Call&)>;

struct Route {
  std::string method;   // GET, POST, ...
  std::string pattern;  // "/api/clients/{client}/items/{item}"
  Roles roles;
  RouteHandler handler;
  std::string summary;  // one line, for the OpenAPI file and route listings
  // A public form (the booking page): its POSTs carry a signed token instead of a session's
  // CSRF token, so the console checks only that they come from this origin.
  bool public_form = false;

  // Pattern parameters that scope the route to one client's data. A route that names
  // `{item}`, `{party}` or another id names `{client}` too, so the client is always checked.
  bool takes_client() const { return pattern.find("{client}") != std::string::npos; }
  bool takes_item() const { return pattern.find("{item}") != std::string::npos; }
};

struct RouteMatch {
  const Route* route = nullptr;
  std::map<std::string, std::string> params;
  const std::string& param(const std::string& name) const;
};

class Router {
 public:
  void add(Route r);
  const std::vector<Route>& routes() const { return routes_; }
  // The route for this method and path; `path_known` tells a 405 from a 404.
  std::optional<RouteMatch> match(const std::string& method, const std::string& path,
                                  bool* path_known = nullptr) const;

 private:
  std::vector<Route> routes_;
};

// Who is calling, as auth.cpp found out from the request: the one place that says which
// clients a caller may see. Handlers read `clients` and nothing else to scope their queries.
struct Access {
  bool signed_in = false;
  bool via_token = false;  // a bearer API token, not a browser session
  store::UserRecord user;
  std::vector<ClientId> clients;
  std::string csrf;
  std::string session_hash;
  bool may_see(const ClientId& c) const;
};

// Everything a handler gets: the request, its route parameters, the caller, and a store and
// engine of its own for the length of the call.
struct Call {
  const Request& request;
  const RouteMatch& match;
  const Access& access;
  store::Db& db;
  IdSource& ids;
  engine::Engine& engine;
  const Clock& clock;
  const std::string& param(const std::string& name) const { return match.param(name); }
  // The `{client}` of the route: already checked against `access` by the console.
  const std::string& client() const { return match.param("client"); }
  bool wants_html() const;  // an htmx request or a browser navigation, not the JSON API
  std::string actor() const { return access.user.name; }
};

// Parameter values are ids and slugs: letters, digits, '-', '_', '.'; anything else is no match.
bool valid_param(const std::string& v);

}  // namespace sk::web
