#pragma once
// A real CalDAV server for tests: Radicale on a free loopback port, with its configuration,
// htpasswd file and storage in a fresh temporary folder. Started per test process on first
// use; stopped (and its folder removed) at exit, and killed with its parent should the test
// process die. When it cannot start, shared() throws with its log: the test fails.
#include <string>

namespace sk::test {

class Radicale {
 public:
  static Radicale& shared();
  int port() const { return port_; }
  // http://127.0.0.1:PORT/USER/NAME/
  std::string calendar_url(const std::string& user, const std::string& name) const;
  // Users ann and bob, password "secret-NAME".
  std::string password(const std::string& user) const { return "secret-" + user; }
  std::string log() const;
  ~Radicale();
  Radicale(const Radicale&) = delete;
  Radicale& operator=(const Radicale&) = delete;

 private:
  Radicale();
  std::string dir_;
  int port_ = 0;
  int pid_ = -1;
};

}  // namespace sk::test
