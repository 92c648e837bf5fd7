#pragma once
// Shared by the tests: where the real data is, and small builders.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/domain.hpp"

namespace sk::test {

// A loopback port nothing listens on now, the kernel's pick; 0 when it gives none.
inline int free_loopback_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  if (fd >= 0) ::close(fd);
  return ok ? ntohs(a.sin_port) : 0;
}

// Whether the decision gives a reason with this code ("lesson", "support.sent").
inline bool has_reason(const Decision& d, const std::string& code) {
  for (const auto& r : d.reasons)
    if (r.code == code) return true;
  return false;
}

// The SpamAssassin corpus, unpacked by scripts/setup into .cache/ (never committed).
// A whole file, byte for byte (empty when it cannot be read).
inline std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string corpus_dir() {
  return std::string(SK_SOURCE_DIR) + "/.cache/package/data";
}
// ../shared/data beside the checkout.
inline std::string shared_data() {
  return std::string(SK_SOURCE_DIR) + "/../shared/data";
}

inline bool have_corpus() {
  return std::filesystem::is_directory(corpus_dir() + "/spam-2");
}

// The corpus is part of the test set-up (scripts/test installs it); its absence is a set-up
// failure to report, not a reason to pass.
#define SK_REQUIRE_CORPUS()                                                   \
  ASSERT_TRUE(::sk::test::have_corpus())                                      \
      << "the SpamAssassin corpus is missing at " << ::sk::test::corpus_dir() \
      << "; run scripts/setup (or the README's test command)"

inline Item make_item(const std::string& from, const std::string& subject, const std::string& text,
                      std::vector<Header> headers = {}) {
  Item it;
  it.id = "itm_test";
  it.client = "cli_test";
  it.from_address = lower(from);
  it.subject = subject;
  it.text = text;
  headers.insert(headers.begin(), {{"From", from}, {"Subject", subject}});
  it.headers = std::move(headers);
  return it;
}

// A fresh temporary folder, removed with the object.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("sidekick-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str() const { return path.string(); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

// A child process (argv[0] a path) with its standard output and error in `log` (emptied first
// unless `append`). Returns its pid, or -1.
inline pid_t spawn_logged(std::vector<std::string> args, const std::string& log,
                          bool append = false) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                   O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0600);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Waits for a server just started as `pid` to be ready: asks `ready` every 20 ms, up to `tries`
// times. False when the server ended first or never got ready (it is then stopped).
inline bool wait_until_ready(pid_t pid, const std::function<bool()>& ready, int tries) {
  for (int i = 0; i < tries; ++i) {
    if (ready()) return true;
    if (::waitpid(pid, nullptr, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  return false;
}

// A shell command's output (stdout and stderr) and exit code: the browser tests' node scripts.
inline std::string run_command(const std::string& cmd, int* code) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return "cannot start: " + cmd;
  std::array<char, 4096> buf;
  while (std::fgets(buf.data(), buf.size(), p)) out += buf.data();
  int status = ::pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// One exchange over a real socket with a server on loopback: the request as written, and
// whatever comes back within `read_ms` (or until the server closes).
inline std::string http_exchange(int port, const std::string& request, int read_ms = 3000) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return {};
  }
  timeval tv{0, 100'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(read_ms);
  while (std::chrono::steady_clock::now() < until) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

// Waits up to `seconds` for `ok()`.
template <typename F>
inline bool eventually(F ok, int seconds) {
  for (int i = 0; i < seconds * 5; ++i) {
    if (ok()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return ok();
}

// A `sidekick serve` (or any) process a test started: stopped with SIGTERM, then killed if it
// will not go.
struct Serve {
  pid_t pid = -1;
  ~Serve() { stop(); }
  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100 && ::waitpid(pid, &status, WNOHANG) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (::waitpid(pid, &status, WNOHANG) == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
    }
    pid = -1;
  }
};

}  // namespace sk::test
