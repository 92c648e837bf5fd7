#include "radicale.hpp"

#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "support.hpp"

namespace sk::test {
namespace {

namespace fs = std::filesystem;

int free_port() {
  const int port = free_loopback_port();
  if (port == 0) throw std::runtime_error("radicale: cannot find a free port");
  return port;
}

bool answers(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

Radicale& Radicale::shared() {
  static Radicale r;
  return r;
}

Radicale::Radicale() {
  std::string tmpl = (fs::temp_directory_path() / "sk-radicale-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("radicale: cannot make a temp dir");
  dir_ = tmpl;
  {
    std::ofstream users(dir_ + "/users");
    users << "ann:secret-ann\nbob:secret-bob\n";
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    {
      std::ofstream cfg(dir_ + "/config");
      cfg << "[server]\nhosts = 127.0.0.1:" << port_
          << "\n[auth]\ntype = htpasswd\nhtpasswd_filename = " << dir_
          << "/users\nhtpasswd_encryption = plain\n[rights]\ntype = owner_only\n"
             "[storage]\nfilesystem_folder = "
          << dir_ << "/collections\n[web]\ntype = none\n[logging]\nlevel = warning\n";
    }
    const std::string log = dir_ + "/radicale.log";
    pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error("radicale: fork failed");
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // never outlive the test process
      FILE* f = std::freopen(log.c_str(), "a", stderr);
      (void)f;
      ::dup2(2, 1);
      const std::string cfg = dir_ + "/config";
      // Debian's launcher, with the system Python that has the module.
      ::execlp("radicale", "radicale", "--config", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (wait_until_ready(
            pid, [&] { return answers(port_); }, 300)) {
      pid_ = pid;
      return;
    }
  }
  const std::string why = log();
  std::error_code ec;
  fs::remove_all(dir_, ec);
  throw std::runtime_error("radicale did not start:\n" + why);
}

std::string Radicale::calendar_url(const std::string& user, const std::string& name) const {
  return "http://127.0.0.1:" + std::to_string(port_) + "/" + user + "/" + name + "/";
}

std::string Radicale::log() const {
  return file_text(dir_ + "/radicale.log");
}

Radicale::~Radicale() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

}  // namespace sk::test
