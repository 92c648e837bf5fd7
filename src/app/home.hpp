#pragma once
// Where Sidekick keeps its data: $SIDEKICK_HOME, else ~/.local/share/sidekick; --home wins.
#include <string>

#include "core/result.hpp"

namespace sk::app {

struct Home {
  std::string dir;
  std::string database() const { return dir + "/sidekick.db"; }
  std::string spam_model() const { return dir + "/models/spam.model"; }
};

// Resolves and creates the home folder (and its models/ folder).
Result<Home> open_home(const std::string& flag);

Result<std::string> read_file(const std::string& path);
Result<void> write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace sk::app
