// The only file that includes Beast: it turns sockets into web::Request/Response.
#include "web/server.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

namespace sk::web {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

class BeastServer final : public Server {
 public:
  BeastServer(ServerOptions o, Handler h) : options_(std::move(o)), handler_(std::move(h)) {}
  ~BeastServer() override { stop(); }

  Result<void> listen() {
    try {
      tcp::endpoint ep(asio::ip::make_address(options_.address), options_.port);
      acceptor_.open(ep.protocol());
      acceptor_.set_option(asio::socket_base::reuse_address(true));
      acceptor_.bind(ep);
      acceptor_.listen(asio::socket_base::max_listen_connections);
      port_ = acceptor_.local_endpoint().port();
    } catch (const std::exception& e) {
      return make_error(Errc::io, "cannot listen on " + options_.address + ":" +
                                      std::to_string(options_.port) + ": " + e.what());
    }
    accept_thread_ = std::thread([this] { accept_loop(); });
    return ok();
  }

  std::uint16_t port() const override { return port_; }
  const std::atomic<bool>& stopping() const override { return stopping_; }

  void stop() override {
    if (stopping_.exchange(true)) {
      if (accept_thread_.joinable()) accept_thread_.join();
      return;
    }
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    {
      std::lock_guard lock(mutex_);
      // Unblocks every connection thread's read or write.
      for (int fd : open_) ::shutdown(fd, SHUT_RDWR);
    }
    if (accept_thread_.joinable()) accept_thread_.join();
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] { return active_ == 0; });
    boost::system::error_code ec;
    acceptor_.close(ec);
  }

 private:
  void accept_loop() {
    while (!stopping_) {
      boost::system::error_code ec;
      tcp::socket socket(io_);
      acceptor_.accept(socket, ec);
      if (ec) {
        if (stopping_) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      std::unique_lock lock(mutex_);
      if (active_ >= options_.max_connections) {
        lock.unlock();
        static constexpr char kBusy[] =
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        asio::write(socket, asio::buffer(kBusy, sizeof kBusy - 1), ec);
        continue;
      }
      ++active_;
      open_.insert(socket.native_handle());
      lock.unlock();
      std::thread([this, s = std::move(socket)]() mutable {
        serve(s);
        std::lock_guard guard(mutex_);
        open_.erase(s.native_handle());
        boost::system::error_code ignored;
        s.close(ignored);
        if (--active_ == 0) idle_.notify_all();
      }).detach();
    }
  }

  static Request to_request(const http::request<http::string_body>& in, const std::string& peer) {
    Request r;
    r.method = std::string(in.method_string());
    r.target = std::string(in.target());
    auto q = r.target.find('?');
    r.path = url_decode(std::string_view(r.target).substr(0, q), false);
    if (q != std::string::npos) r.query = parse_query(std::string_view(r.target).substr(q + 1));
    for (const auto& f : in) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    r.body = in.body();
    r.remote = peer;
    return r;
  }

  void serve(tcp::socket& socket) {
    timeval tv{options_.idle_timeout_seconds, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    boost::system::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    std::string peer;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) peer = ep.address().to_string();
    boost::beast::flat_buffer buffer;
    while (!stopping_) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(options_.max_body);
      parser.header_limit(16 * 1024);
      http::read(socket, buffer, parser, ec);
      if (ec == http::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
        return;
      if (ec) {
        // A request that cannot be read gets a reason, then the connection closes.
        if (ec == http::error::body_limit) {
          send_plain(socket, 413, "request body too large");
        } else if (ec != asio::error::would_block && ec != asio::error::timed_out &&
                   buffer.size() + parser.is_header_done() > 0) {
          send_plain(socket, 400, "bad request: " + ec.message());
        }
        return;
      }
      auto& in = parser.get();
      const bool keep_alive = in.keep_alive();
      Response out;
      try {
        out = handler_(to_request(in, peer));
      } catch (const std::exception& e) {
        out = Response::text(500, std::string("internal error: ") + e.what());
      }
      if (out.stream) {
        stream(socket, out);
        return;
      }
      http::response<http::string_body> res{static_cast<http::status>(out.status), in.version()};
      for (const auto& [k, v] : out.headers) res.set(k, v);
      res.body() = std::move(out.body);
      if (in.method() == http::verb::head) {
        res.content_length(res.body().size());
        res.body().clear();
      } else {
        res.prepare_payload();
      }
      res.keep_alive(keep_alive);
      http::write(socket, res, ec);
      if (ec || !keep_alive) return;
    }
  }

  void send_plain(tcp::socket& socket, int status, const std::string& text) {
    http::response<http::string_body> res{static_cast<http::status>(status), 11};
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.body() = text + "\n";
    res.prepare_payload();
    res.keep_alive(false);
    boost::system::error_code ec;
    http::write(socket, res, ec);
  }

  void stream(tcp::socket& socket, const Response& out) {
    std::string head = "HTTP/1.1 " + std::to_string(out.status) + " OK\r\n";
    for (const auto& [k, v] : out.headers) head += k + ": " + v + "\r\n";
    head += "Connection: close\r\n\r\n";
    boost::system::error_code ec;
    asio::write(socket, asio::buffer(head), ec);
    if (ec) return;
    out.stream([&](std::string_view chunk) {
      if (stopping_) return false;
      boost::system::error_code wec;
      asio::write(socket, asio::buffer(chunk.data(), chunk.size()), wec);
      return !wec;
    });
  }

  ServerOptions options_;
  Handler handler_;
  asio::io_context io_;
  tcp::acceptor acceptor_{io_};
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mutex_;
  std::condition_variable idle_;
  int active_ = 0;
  std::set<int> open_;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::start(const ServerOptions& options, Handler handler) {
  auto s = std::make_unique<BeastServer>(options, std::move(handler));
  SK_TRY(s->listen());
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace sk::web
