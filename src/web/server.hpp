#pragma once
// The HTTP/1.1 server: one thread per connection (keep-alive), loopback by default. Beast and
// Asio stay inside server.cpp.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "web/http.hpp"

namespace sk::web {

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port (see Server::port)
  std::size_t max_body = 1 << 20;
  int max_connections = 256;  // more wait in the listen queue's place: 503
  int idle_timeout_seconds = 60;
};

class Server {
 public:
  // Binds and starts accepting on a thread of its own; `handler` is called concurrently from
  // connection threads and must be thread-safe.
  static Result<std::unique_ptr<Server>> start(const ServerOptions& options, Handler handler);
  virtual ~Server() = default;
  virtual std::uint16_t port() const = 0;
  // Stops accepting, closes every connection (streams included) and waits for their threads.
  virtual void stop() = 0;
  // True once stop() has begun: long-running streams poll it.
  virtual const std::atomic<bool>& stopping() const = 0;
};

}  // namespace sk::web
