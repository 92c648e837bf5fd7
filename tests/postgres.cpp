#include "postgres.hpp"

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "store/db.hpp"

#include "support.hpp"

namespace sk::test {
namespace {

namespace fs = std::filesystem;

// Debian keeps each major version's server programs apart; the newest installed.
std::string bin_dir() {
  std::string best;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const std::string dir = (e.path() / "bin").string();
    if (fs::exists(dir + "/initdb") && (best.empty() || e.path().string() > best)) best = dir;
  }
  if (best.empty()) throw std::runtime_error("postgres: no /usr/lib/postgresql/*/bin/initdb");
  return best;
}

int free_port() {
  const int port = free_loopback_port();
  if (port == 0) throw std::runtime_error("postgres: cannot find a free port");
  return port;
}

// Runs argv (as `user` when we are root) with output appended to `log`; `wait`: for its end.
int run(const std::vector<std::string>& argv, const std::string& log, const passwd* user, bool wait,
        bool die_with_parent) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("postgres: fork failed");
  if (pid == 0) {
    if (die_with_parent) ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    FILE* f = std::freopen(log.c_str(), "a", stderr);
    (void)f;
    ::dup2(2, 1);
    if (user && (::setgid(user->pw_gid) != 0 || ::setuid(user->pw_uid) != 0)) ::_exit(126);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  if (!wait) return pid;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// As root, the user the server runs as; else nobody (the server runs as us).
const passwd* server_user() {
  return ::geteuid() == 0 ? ::getpwnam("postgres") : nullptr;
}

}  // namespace

Postgres& Postgres::shared() {
  static Postgres p;
  return p;
}

Postgres::Postgres() : bin_(bin_dir()) {
  std::string tmpl = (fs::temp_directory_path() / "sk-postgres-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("postgres: cannot make a temp dir");
  dir_ = tmpl;
  const passwd* user = server_user();
  if (::geteuid() == 0 && !user) throw std::runtime_error("postgres: no postgres user to run as");
  if (user && ::chown(dir_.c_str(), user->pw_uid, user->pw_gid) != 0)
    throw std::runtime_error("postgres: cannot give the temp dir to postgres");
  const std::string log = dir_ + "/postgres.log", data = dir_ + "/data";
  { std::ofstream touch(log); }
  if (user && ::chown(log.c_str(), user->pw_uid, user->pw_gid) != 0)
    throw std::runtime_error("postgres: cannot give the log to postgres");
  if (run({bin_ + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "SQL_ASCII",
           "--locale=C", "--no-sync"},
          log, user, true, true) != 0)
    throw std::runtime_error("postgres: initdb failed:\n" + this->log());
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    if (start()) return;
  }
  const std::string why = this->log();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  throw std::runtime_error("postgres did not start:\n" + why);
}

bool Postgres::start() {
  // Durability is not what these tests check: no fsync keeps them quick.
  const int pid = run({bin_ + "/postgres", "-D", dir_ + "/data", "-p", std::to_string(port_), "-k",
                       dir_, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c",
                       "synchronous_commit=off", "-c", "full_page_writes=off"},
                      dir_ + "/postgres.log", server_user(), false, true);
  if (!wait_until_ready(
          pid, [&] { return store::open_postgres(url("postgres")).ok(); }, 500))
    return false;
  pid_ = pid;
  return true;
}

void Postgres::restart() {
  ::kill(pid_, SIGINT);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
  if (!start()) throw std::runtime_error("postgres did not start again:\n" + log());
}

std::string Postgres::fresh_database() {
  const std::string name = "sk_" + std::to_string(::getpid()) + "_" + std::to_string(++databases_);
  auto admin = store::open_postgres(url("postgres"));
  if (!admin.ok()) throw std::runtime_error("postgres: " + admin.error().message);
  auto made =
      (*admin)->exec("CREATE DATABASE " + name +
                     " TEMPLATE template0 ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'");
  if (!made.ok()) throw std::runtime_error("postgres: " + made.error().message);
  return url(name);
}

std::string Postgres::url(const std::string& name) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

std::string Postgres::log() const {
  return file_text(dir_ + "/postgres.log");
}

Postgres::~Postgres() {
  if (pid_ > 0) {
    ::kill(pid_, SIGINT);  // fast shutdown: open connections are ended
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

std::string test_database_location(const std::string& sqlite_file) {
  const char* engine = std::getenv("SK_TEST_DATABASE");
  if (!engine || std::string(engine) == "sqlite") return sqlite_file;
  if (std::string(engine) != "postgresql")
    throw std::runtime_error("SK_TEST_DATABASE is sqlite or postgresql, not " +
                             std::string(engine));
  return Postgres::shared().fresh_database();
}

std::unique_ptr<store::Db> open_test_database(const std::string& sqlite_file) {
  auto db = store::open_database(test_database_location(sqlite_file));
  if (!db.ok()) throw std::runtime_error("test database: " + db.error().message);
  return std::move(db).value();
}

}  // namespace sk::test
