#pragma once
// Where Sidekick keeps its data: $SIDEKICK_HOME, else ~/.local/share/sidekick; --home wins.
// The store is the SQLite file in that folder, or the PostgreSQL database $SIDEKICK_DATABASE
// names (postgresql://user@host:port/name): an agency's processes on several machines share it.
#include <string>

#include "core/result.hpp"
#include "core/secrets.hpp"

namespace sk::app {

struct Home {
  std::string dir;
  std::string database_url = {};  // $SIDEKICK_DATABASE; empty: the SQLite file
  // What store::open_database opens.
  std::string database() const {
    return database_url.empty() ? dir + "/sidekick.db" : database_url;
  }
  std::string spam_model() const { return dir + "/models/spam.model"; }
  std::string text_model() const { return dir + "/models/text.model"; }
  std::string secret_key() const { return dir + "/keys/secret.key"; }
};

// Resolves and creates the home folder (and its models/ folder).
Result<Home> open_home(const std::string& flag);

// The key that seals account secrets: created (readable by its owner only) on first use.
Result<SecretKey> open_secret_key(const Home& home);

Result<std::string> read_file(const std::string& path);
Result<void> write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace sk::app
