#include "mailserver.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace sk::test {
namespace {

namespace fs = std::filesystem;

const std::string kScript = std::string(SK_SOURCE_DIR) + "/tests/fixtures/mailserver";

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Run {
  int status = -1;
  std::string output;
};

// Runs a shell command with stdout and stderr captured.
Run run(const std::string& command) {
  Run r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  r.status = ::pclose(p);
  return r;
}

// Three ports the kernel considers free right now. They are held together so that they differ;
// another process may still take one before the servers bind it, which start() retries.
std::array<int, 3> free_ports() {
  std::array<int, 3> fds{-1, -1, -1};
  std::array<int, 3> ports{0, 0, 0};
  for (size_t i = 0; i < fds.size(); ++i) {
    fds[i] = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fds[i] < 0 || ::bind(fds[i], reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fds[i], reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("mailserver: cannot find a free port");
    ports[i] = ntohs(a.sin_port);
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

// Unix socket paths (Dovecot's, Postfix's) must stay under 108 bytes: prefer a short base.
std::string make_temp_dir() {
  std::string base = fs::temp_directory_path().string();
  if (base.size() > 40) base = "/tmp";
  std::string tmpl = base + "/sk-mail-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mailserver: cannot make a temp dir");
  return tmpl;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

MailServer& MailServer::shared() {
  // A failed start is remembered: every test that needs the server fails with the same logs
  // instead of retrying for each one.
  static std::string failure;
  static std::unique_ptr<MailServer> server = [] {
    try {
      return std::unique_ptr<MailServer>(new MailServer());
    } catch (const std::exception& e) {
      failure = e.what();
      return std::unique_ptr<MailServer>();
    }
  }();
  if (!server) throw std::runtime_error(failure);
  return *server;
}

MailServer::MailServer() {
  std::string last_output;
  for (int attempt = 0; attempt < 3; ++attempt) {
    dir_ = make_temp_dir();
    auto ports = free_ports();
    Run r = run(quote(kScript) + " start " + quote(dir_) + " " + std::to_string(ports[0]) + " " +
                std::to_string(ports[1]) + " " + std::to_string(ports[2]) + " " +
                std::to_string(::getpid()));
    if (r.status == 0) {
      imap_port_ = ports[0];
      imaps_port_ = ports[1];
      smtp_port_ = ports[2];
      return;
    }
    last_output = r.output;
    (void)run(quote(kScript) + " stop " + quote(dir_));
    // Only a port taken in the meantime is worth another try.
    if (r.output.find("in use") == std::string::npos) break;
  }
  dir_.clear();
  throw std::runtime_error("the test mail server (Dovecot + Postfix) did not start:\n" +
                           last_output);
}

MailServer::~MailServer() {
  if (!dir_.empty()) (void)run(quote(kScript) + " stop " + quote(dir_));
}

MailUser MailServer::user(const std::string& name) const {
  return MailUser{name, "secret-" + name, name + "@sidekick.test"};
}

void MailServer::deliver(const std::string& user, const std::string& raw) {
  std::string log = dir_ + "/log/deliver-" + std::to_string(::getpid()) + ".out";
  std::string cmd =
      quote(kScript) + " deliver " + quote(dir_) + " " + quote(user) + " >" + quote(log) + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "w");
  if (!p) throw std::runtime_error("mailserver: cannot run " + kScript);
  size_t written = std::fwrite(raw.data(), 1, raw.size(), p);
  int status = ::pclose(p);
  if (written != raw.size() || status != 0)
    throw std::runtime_error("mailserver: delivery to " + user + " failed: " + read_all(log));
}

std::vector<std::string> MailServer::wait_for(const std::string& user, const std::string& needle,
                                              std::size_t want, int seconds) const {
  std::vector<std::string> found;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  do {
    found.clear();
    for (const auto& m : messages(user))
      if (m.find(needle) != std::string::npos) found.push_back(m);
    if (found.size() >= want) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  return found;
}

std::vector<std::string> MailServer::messages(const std::string& user,
                                              const std::string& folder) const {
  // Maildir++: INBOX is the user's root, every other folder a dot-directory with "." where
  // IMAP shows the "/" separator.
  fs::path root = fs::path(dir_) / "mail" / user;
  std::string upper = folder;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  if (upper != "INBOX") {
    std::string name = folder;
    std::replace(name.begin(), name.end(), '/', '.');
    root /= "." + name;
  }
  // Dovecot renames files (new/ to cur/, flag changes) while we read: list again when one
  // vanished between the listing and the read.
  for (int attempt = 0;; ++attempt) {
    std::vector<fs::path> files;
    for (const char* sub : {"new", "cur"}) {
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(root / sub, ec))
        if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    std::vector<std::string> out;
    bool vanished = false;
    for (const auto& f : files) {
      std::ifstream in(f, std::ios::binary);
      if (!in) {
        vanished = true;
        break;
      }
      std::ostringstream ss;
      ss << in.rdbuf();
      out.push_back(ss.str());
    }
    if (!vanished || attempt == 20) return out;
  }
}

std::string MailServer::logs() const {
  if (dir_.empty()) return "";
  return run(quote(kScript) + " logs " + quote(dir_)).output;
}

}  // namespace sk::test
