#pragma once
// A small agency for the console's tests: two clients (acme, globex) with mail, triaged; an
// admin, a VA working only for acme, and one client user for each client; an API token each.
#include <map>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "engine/engine.hpp"
#include "store/db.hpp"
#include "store/users.hpp"
#include "support.hpp"
#include "web/console.hpp"

namespace sk::test {

struct WebWorld {
  TempDir dir;
  std::string db_path;
  FixedClock clock{1'750'000'000};
  std::unique_ptr<store::Db> db;
  std::unique_ptr<store::DbIds> ids;
  std::unique_ptr<engine::Engine> engine;
  store::ClientRecord acme, globex;
  std::map<std::string, std::string> items;      // label -> item id
  std::map<std::string, std::string> drafts;     // client slug -> a draft reply waiting
  std::map<std::string, std::string> passwords;  // user -> password
  std::map<std::string, std::string> tokens;     // user -> bearer token
  std::string link_key = std::string(32, 'w');   // signs the booking page's links
  int trap_port = 0;  // hostile mail points here; 0: a port nothing listens on

  explicit WebWorld(int trap = 0);
  std::unique_ptr<web::Console> console(web::ConsoleOptions options = {}) const;
  std::string add_mail(const store::ClientRecord& c, const std::string& label,
                       const std::string& raw);
};

// A request for `target` (path and query) as the server would hand it to the console.
web::Request request_for(const std::string& method, const std::string& target,
                         const std::string& body);

// A message whose HTML tries every way to run script or reach the network.
std::string hostile_message(int trap_port);

}  // namespace sk::test
