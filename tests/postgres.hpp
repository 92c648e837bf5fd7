#pragma once
// A real PostgreSQL server for tests: Debian's binaries, a cluster made in a fresh temporary
// folder (initdb), listening on a free loopback port. Started per test process on first use,
// stopped and removed at exit, killed with its parent should the test process die. Run as root
// (CI), the server runs as the `postgres` user, which PostgreSQL insists on. When it cannot
// start, shared() throws with its log: the test fails.
#include <memory>
#include <string>

#include "store/db.hpp"

namespace sk::test {

class Postgres {
 public:
  static Postgres& shared();
  // A new, empty database as Sidekick wants one (SQL_ASCII, C collation): its URL.
  std::string fresh_database();
  int port() const { return port_; }
  // Stops the server (a fast shutdown: every connection is cut) and starts it again on the
  // same port, as an administrator's restart would.
  void restart();
  std::string log() const;
  ~Postgres();
  Postgres(const Postgres&) = delete;
  Postgres& operator=(const Postgres&) = delete;

 private:
  Postgres();
  // The URL of database `name` on this server.
  std::string url(const std::string& name) const;
  // Starts the server on port_; whether it came up.
  bool start();
  std::string bin_;
  std::string dir_;
  int port_ = 0;
  int pid_ = -1;
  int databases_ = 0;
};

// Where a test's store is: SQLite (in memory, or the file `sqlite_file` when given), or, with
// SK_TEST_DATABASE=postgresql in the environment, a fresh database on this process's
// PostgreSQL server (a URL). Suites that take their store from here run on either engine.
std::string test_database_location(const std::string& sqlite_file = ":memory:");
// The store there, opened.
std::unique_ptr<store::Db> open_test_database(const std::string& sqlite_file = ":memory:");

}  // namespace sk::test
