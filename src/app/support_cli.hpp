#pragma once
// `sidekick kb ...` (the client's knowledge base) and `sidekick support ...` (conversations).
#include <iosfwd>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/db.hpp"

namespace CLI {
class App;
}

namespace sk::app {

struct SupportCommands;

struct SupportContext {
  store::Db& db;
  const Clock& clock;
  std::ostream& out;
  std::string actor;
};

std::shared_ptr<SupportCommands> add_support_commands(CLI::App& app);
// Runs whichever of these commands was parsed; false when none was.
Result<bool> run_support_commands(SupportCommands& cmds, const SupportContext& ctx);

}  // namespace sk::app
