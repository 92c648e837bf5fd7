#include "app/home.hpp"

#include "store/db.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace sk::app {

namespace fs = std::filesystem;

Result<Home> open_home(const std::string& flag) {
  std::string dir = flag;
  if (dir.empty())
    if (const char* env = std::getenv("SIDEKICK_HOME"); env && *env) dir = env;
  if (dir.empty()) {
    const char* h = std::getenv("HOME");
    if (!h || !*h)
      return make_error(Errc::invalid_input, "no home folder: set SIDEKICK_HOME or pass --home");
    dir = std::string(h) + "/.local/share/sidekick";
  }
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "models", ec);
  if (ec) return make_error(Errc::io, "cannot create " + dir + ": " + ec.message());
  Home home{dir, {}};
  if (const char* url = std::getenv("SIDEKICK_DATABASE"); url && *url) {
    if (!store::is_postgres_url(url))
      return make_error(Errc::invalid_input,
                        "SIDEKICK_DATABASE is not a postgresql:// URL (the SQLite store is the "
                        "home folder's own; leave it unset for that)");
    home.database_url = url;
  }
  return home;
}

Result<SecretKey> open_secret_key(const Home& home) {
  std::error_code ec;
  const std::string path = home.secret_key();
  if (!fs::exists(path, ec)) {
    fs::create_directories(fs::path(path).parent_path(), ec);
    fs::permissions(fs::path(path).parent_path(), fs::perms::owner_all, ec);
    SecretKey key = SecretKey::generate();
    // Written under a temporary name with owner-only rights, then renamed: never readable by
    // others, never half-written.
    std::string tmp = path + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) return make_error(Errc::io, "cannot create the key file " + path);
    }
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out << key.bytes();
      if (!out.flush()) return make_error(Errc::io, "cannot write the key file " + path);
    }
    fs::rename(tmp, path, ec);
    if (ec) return make_error(Errc::io, "cannot create the key file " + path + ": " + ec.message());
    return key;
  }
  SK_ASSIGN(auto bytes, read_file(path));
  auto key = SecretKey::from_bytes(bytes);
  if (!key.ok()) return make_error(Errc::io, path + ": " + key.error().message);
  return key;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::invalid_input, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<void> write_file_atomically(const std::string& path, const std::string& bytes) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error(Errc::io, "cannot write " + tmp);
    out << bytes;
    if (!out.flush()) return make_error(Errc::io, "cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return make_error(Errc::io, "cannot replace " + path + ": " + ec.message());
  return ok();
}

}  // namespace sk::app
