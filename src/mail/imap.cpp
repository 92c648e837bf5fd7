// IMAP with libetpan. libetpan parses the protocol; the socket, the timeouts, the TLS
// certificate check (GnuTLS: libetpan's TLS checks nothing) and every decision about the
// session's state are ours, so a slow, hostile or odd server yields an error, never a hang
// or a crash.
#include "mail/imap.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libetpan/libetpan.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <thread>

namespace sk::mail {
namespace {

using Clock = std::chrono::steady_clock;

// Where IDLE is missing, how often a NOOP asks for news.
constexpr auto kPollInterval = std::chrono::seconds(2);
// FETCH this many messages per command: bounded command lines and responses.
constexpr size_t kFetchBatch = 100;
// SEARCH and MOVE this many UIDs per command: scattered UIDs make long command lines
// (Dovecot takes 64 kB), and a large MOVE holds the folder's lock for as long as it runs.
constexpr size_t kUidBatch = 1000;

// A write to a socket the server has closed raises SIGPIPE, whose default action ends the
// process. Block it in this thread while libetpan writes and swallow what was raised, rather
// than change the whole process's signal handling from inside a library.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    if (!was_pending_) {
      timespec zero{};
      while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t pipe_{}, old_{};
  bool was_pending_ = false;
};

// Owners for libetpan's C structures.
template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const {
    if (p) F(p);
  }
};
using SetPtr = std::unique_ptr<mailimap_set, Deleter<mailimap_set, mailimap_set_free>>;
using SearchKeyPtr =
    std::unique_ptr<mailimap_search_key, Deleter<mailimap_search_key, mailimap_search_key_free>>;
using FetchTypePtr =
    std::unique_ptr<mailimap_fetch_type, Deleter<mailimap_fetch_type, mailimap_fetch_type_free>>;
using FlagListPtr =
    std::unique_ptr<mailimap_flag_list, Deleter<mailimap_flag_list, mailimap_flag_list_free>>;
using StoreAttPtr =
    std::unique_ptr<mailimap_store_att_flags,
                    Deleter<mailimap_store_att_flags, mailimap_store_att_flags_free>>;
using ClistPtr = std::unique_ptr<clist, void (*)(clist*)>;

void free_search(clist* l) {
  mailimap_search_result_free(l);
}
void free_fetch(clist* l) {
  mailimap_fetch_list_free(l);
}
void free_list(clist* l) {
  mailimap_list_result_free(l);
}

std::string describe(int r) {
  switch (r) {
    case MAILIMAP_ERROR_STREAM:
      return "connection lost";
    case MAILIMAP_ERROR_PARSE:
      return "unreadable answer from the server";
    case MAILIMAP_ERROR_FATAL:
      return "the server closed the session";
    case MAILIMAP_ERROR_PROTOCOL:
      return "protocol error";
    case MAILIMAP_ERROR_MEMORY:
      return "out of memory";
    case MAILIMAP_ERROR_BAD_STATE:
      return "command not allowed in this state";
    case MAILIMAP_ERROR_SSL:
      return "TLS failure";
    case MAILIMAP_ERROR_CONNECTION_REFUSED:
      return "connection refused";
    default:
      return "the server refused (libetpan error " + std::to_string(r) + ")";
  }
}

// Errors after which the byte stream can no longer be trusted to be in step with us.
bool breaks_session(int r) {
  switch (r) {
    case MAILIMAP_ERROR_STREAM:
    case MAILIMAP_ERROR_PARSE:
    case MAILIMAP_ERROR_FATAL:
    case MAILIMAP_ERROR_PROTOCOL:
    case MAILIMAP_ERROR_SSL:
    case MAILIMAP_ERROR_CONNECTION_REFUSED:
    case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
    case MAILIMAP_ERROR_MEMORY:
      return true;
    default:
      return false;
  }
}

// RFC 3501 5.1.3: folder names travel in modified UTF-7.
Result<std::string> to_modified_utf7(const std::string& utf8) {
  static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
  std::string out;
  size_t i = 0;
  const size_t n = utf8.size();
  while (i < n) {
    auto c = static_cast<unsigned char>(utf8[i]);
    if (c >= 0x20 && c <= 0x7e) {
      out += c == '&' ? std::string("&-") : std::string(1, static_cast<char>(c));
      ++i;
      continue;
    }
    std::u16string units;
    while (i < n) {
      c = static_cast<unsigned char>(utf8[i]);
      if (c >= 0x20 && c <= 0x7e) break;
      char32_t cp;
      size_t len;
      if (c < 0x80)
        cp = c, len = 1;
      else if ((c & 0xe0) == 0xc0)
        cp = c & 0x1f, len = 2;
      else if ((c & 0xf0) == 0xe0)
        cp = c & 0x0f, len = 3;
      else if ((c & 0xf8) == 0xf0)
        cp = c & 0x07, len = 4;
      else
        return make_error(Errc::invalid_input, "folder name is not UTF-8: " + utf8);
      if (i + len > n) return make_error(Errc::invalid_input, "folder name is not UTF-8: " + utf8);
      for (size_t k = 1; k < len; ++k) {
        auto cc = static_cast<unsigned char>(utf8[i + k]);
        if ((cc & 0xc0) != 0x80)
          return make_error(Errc::invalid_input, "folder name is not UTF-8: " + utf8);
        cp = (cp << 6) | (cc & 0x3f);
      }
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return make_error(Errc::invalid_input, "folder name is not UTF-8: " + utf8);
      if (cp >= 0x10000) {
        cp -= 0x10000;
        units += static_cast<char16_t>(0xd800 + (cp >> 10));
        units += static_cast<char16_t>(0xdc00 + (cp & 0x3ff));
      } else {
        units += static_cast<char16_t>(cp);
      }
      i += len;
    }
    std::string bytes;
    for (char16_t u : units) {
      bytes += static_cast<char>(u >> 8);
      bytes += static_cast<char>(u & 0xff);
    }
    out += '&';
    size_t k = 0;
    for (; k + 3 <= bytes.size(); k += 3) {
      uint32_t v = (uint32_t(uint8_t(bytes[k])) << 16) | (uint32_t(uint8_t(bytes[k + 1])) << 8) |
                   uint8_t(bytes[k + 2]);
      out += kB64[(v >> 18) & 63];
      out += kB64[(v >> 12) & 63];
      out += kB64[(v >> 6) & 63];
      out += kB64[v & 63];
    }
    if (bytes.size() - k == 1) {
      uint32_t v = uint32_t(uint8_t(bytes[k])) << 16;
      out += kB64[(v >> 18) & 63];
      out += kB64[(v >> 12) & 63];
    } else if (bytes.size() - k == 2) {
      uint32_t v = (uint32_t(uint8_t(bytes[k])) << 16) | (uint32_t(uint8_t(bytes[k + 1])) << 8);
      out += kB64[(v >> 18) & 63];
      out += kB64[(v >> 12) & 63];
      out += kB64[(v >> 6) & 63];
    }
    out += '-';
  }
  return out;
}

bool is_ip_literal(const std::string& host) {
  in6_addr a6;
  in_addr a4;
  return inet_pton(AF_INET, host.c_str(), &a4) == 1 || inet_pton(AF_INET6, host.c_str(), &a6) == 1;
}

// libetpan calls this before the handshake: name the server (SNI) unless it is an address.
void set_server_name(mailstream_ssl_context* ctx, void* data) {
  auto* host = static_cast<std::string*>(data);
  if (!host->empty() && !is_ip_literal(*host)) mailstream_ssl_set_server_name(ctx, host->data());
}

// A TCP connection with a deadline; libetpan's own connect has none.
Result<int> tcp_connect(const std::string& host, int port, int timeout_seconds) {
  std::string where = host + ":" + std::to_string(port);
  if (port <= 0 || port > 65535) return make_error(Errc::invalid_input, "bad port in " + where);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int g = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (g != 0) return make_error(Errc::io, "cannot resolve " + host + ": " + gai_strerror(g));
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(res, freeaddrinfo);
  std::string last = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
    if (fd < 0) {
      last = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int pr;
      do pr = ::poll(&p, 1, timeout_seconds * 1000);
      while (pr < 0 && errno == EINTR);
      if (pr == 0) {
        ::close(fd);
        last = "timed out";
        continue;
      }
      int err = 0;
      socklen_t len = sizeof err;
      if (pr < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
      rc = err == 0 ? 0 : -1;
      errno = err;
    }
    if (rc != 0) {
      last = std::strerror(errno);
      ::close(fd);
      continue;
    }
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
  }
  return make_error(Errc::io, "cannot connect to " + where + ": " + last);
}

// The server's certificate chain against the system's trusted CAs and the host name.
Result<void> verify_certificate(mailstream* stream, const std::string& host) {
  carray* chain = mailstream_get_certificate_chain(stream);
  if (!chain || carray_count(chain) == 0) {
    if (chain) mailstream_certificate_chain_free(chain);
    return make_error(Errc::io, "TLS: " + host + " sent no certificate");
  }
  std::vector<gnutls_x509_crt_t> certs;
  std::string problem;
  for (unsigned i = 0; i < carray_count(chain) && problem.empty(); ++i) {
    auto* der = static_cast<MMAPString*>(carray_get(chain, i));
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) < 0) {
      problem = "out of memory";
      break;
    }
    gnutls_datum_t d{reinterpret_cast<unsigned char*>(der->str), static_cast<unsigned>(der->len)};
    if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) < 0) {
      gnutls_x509_crt_deinit(crt);
      problem = "unreadable certificate";
      break;
    }
    certs.push_back(crt);
  }
  mailstream_certificate_chain_free(chain);

  gnutls_x509_trust_list_t trust = nullptr;
  if (problem.empty()) {
    if (gnutls_x509_trust_list_init(&trust, 0) < 0) {
      trust = nullptr;
      problem = "out of memory";
    } else if (gnutls_x509_trust_list_add_system_trust(trust, 0, 0) <= 0) {
      problem = "no trusted CA certificates on this system";
    }
  }
  if (problem.empty()) {
    gnutls_typed_vdata_st data{};
    data.type = GNUTLS_DT_DNS_HOSTNAME;
    data.data = reinterpret_cast<unsigned char*>(const_cast<char*>(host.c_str()));
    data.size = 0;
    unsigned status = 0;
    int rc = gnutls_x509_trust_list_verify_crt2(
        trust, certs.data(), static_cast<unsigned>(certs.size()), &data, 1, 0, &status, nullptr);
    if (rc < 0) {
      problem = gnutls_strerror(rc);
    } else if (status != 0) {
      gnutls_datum_t out{};
      if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) >= 0) {
        problem = std::string(reinterpret_cast<char*>(out.data), out.size);
        gnutls_free(out.data);
      } else {
        problem = "certificate not trusted";
      }
    }
  }
  if (trust) gnutls_x509_trust_list_deinit(trust, 1);
  for (auto c : certs) gnutls_x509_crt_deinit(c);
  if (!problem.empty())
    return make_error(Errc::io, "TLS: the certificate of " + host + " was refused: " + problem);
  return ok();
}

}  // namespace

struct ImapSession::Impl {
  ImapConfig cfg;
  mailimap* imap = nullptr;
  std::string host;  // stays alive for libetpan's TLS callback
  bool broken = false;
  char delimiter = '/';
  std::string selected;
  std::uint32_t baseline_exists = 0;  // EXISTS as of the last report of changes
  bool pending_change = false;        // an expunge seen during some other command

  ~Impl() {
    if (!imap) return;
    NoSigpipe guard;
    if (!broken && imap->imap_stream && imap->imap_state != MAILIMAP_STATE_DISCONNECTED) {
      // A polite LOGOUT, but never a long wait for a dead server.
      mailstream_low_set_timeout(mailstream_get_low(imap->imap_stream), 2);
      mailimap_logout(imap);  // closes the stream
    }
    // mailimap_free would say LOGOUT on a stream still open, broken or not: close it first.
    if (imap->imap_stream) {
      mailstream_close(imap->imap_stream);
      imap->imap_stream = nullptr;
      imap->imap_state = MAILIMAP_STATE_DISCONNECTED;
    }
    mailimap_free(imap);
  }

  std::string server_text() const {
    if (imap && imap->imap_response && *imap->imap_response)
      return std::string(" (server: ") + imap->imap_response + ")";
    return "";
  }

  Error fail(const std::string& what, int r, Errc code = Errc::io) {
    if (breaks_session(r)) broken = true;
    return make_error(code, what + ": " + describe(r) + server_text());
  }

  Result<void> usable() const {
    if (broken || !imap || !imap->imap_stream)
      return make_error(
          Errc::io, "the IMAP connection to " + cfg.host + " is no longer usable; connect again");
    return ok();
  }

  Result<void> need_selected() const {
    SK_TRY(usable());
    if (selected.empty() || imap->imap_state != MAILIMAP_STATE_SELECTED)
      return make_error(Errc::invalid_input, "no folder selected");
    return ok();
  }

  std::uint32_t exists_now() const {
    return imap->imap_selection_info ? imap->imap_selection_info->sel_exists : 0;
  }

  // Untagged EXPUNGE can ride on any command's answer; remember it for wait_for_change.
  void note_unsolicited() {
    if (imap->imap_response_info && imap->imap_response_info->rsp_expunged &&
        !clist_isempty(imap->imap_response_info->rsp_expunged))
      pending_change = true;
  }

  bool has(const char* capability) { return mailimap_has_extension(imap, capability) != 0; }

  // Folder names use "/" for hierarchy here whatever the server uses, and UTF-8.
  Result<std::string> wire_name(const std::string& folder) const {
    if (folder.empty()) return make_error(Errc::invalid_input, "empty folder name");
    std::string name = folder;
    if (delimiter != '/' && delimiter != 0) std::replace(name.begin(), name.end(), '/', delimiter);
    return to_modified_utf7(name);
  }

  Result<void> refresh_capabilities() {
    mailimap_capability_data* caps = nullptr;
    int r = mailimap_capability(imap, &caps);
    if (r != MAILIMAP_NO_ERROR) return fail("CAPABILITY", r);
    mailimap_capability_data_free(caps);
    return ok();
  }

  Result<void> start_tls() {
    if (!has("STARTTLS"))
      return make_error(Errc::io, cfg.host + ":" + std::to_string(cfg.port) +
                                      " does not offer STARTTLS; refusing to continue in clear");
    int r = mailimap_starttls(imap);
    if (r != MAILIMAP_NO_ERROR) return fail("STARTTLS", r);
    // Bytes that arrived before the handshake cannot be told from an attacker's (RFC 2595 §3.1).
    if (imap->imap_stream->read_buffer_len != 0) {
      broken = true;
      return make_error(Errc::io, "STARTTLS: the server sent data before the TLS handshake");
    }
    mailstream_low* low = mailstream_get_low(imap->imap_stream);
    int fd = mailstream_low_get_fd(low);
    // libetpan made the socket non-blocking and its handshake loop retries without waiting:
    // on a busy machine that spin starves the server for seconds. Handshake blocking (the
    // handshake has its own timeout); libetpan makes the socket non-blocking again after.
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0) ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    mailstream_low* tls = mailstream_low_tls_open_with_callback_timeout(fd, cfg.timeout_seconds,
                                                                        set_server_name, &host);
    if (!tls) {
      broken = true;
      return make_error(Errc::io, "TLS handshake with " + cfg.host + ":" +
                                      std::to_string(cfg.port) + " failed (after STARTTLS)");
    }
    mailstream_low_free(low);  // frees the plain driver, the socket stays open for TLS
    mailstream_set_low(imap->imap_stream, tls);
    return ok();
  }

  Result<void> open() {
    SK_ASSIGN(int fd, tcp_connect(cfg.host, cfg.port, cfg.timeout_seconds));
    imap = mailimap_new(0, nullptr);
    if (!imap) {
      ::close(fd);
      return make_error(Errc::internal, "out of memory");
    }
    mailimap_set_timeout(imap, cfg.timeout_seconds);
    mailstream* stream = nullptr;
    if (cfg.security == ImapSecurity::tls) {
      stream = mailstream_ssl_open_with_callback_timeout(fd, cfg.timeout_seconds, set_server_name,
                                                         &host);
      if (!stream) {
        ::close(fd);
        return make_error(Errc::io, "TLS handshake with " + cfg.host + ":" +
                                        std::to_string(cfg.port) + " failed");
      }
    } else {
      stream = mailstream_socket_open_timeout(fd, cfg.timeout_seconds);
      if (!stream) {
        ::close(fd);
        return make_error(Errc::internal, "out of memory");
      }
    }
    int r = mailimap_connect(imap, stream);
    if (r != MAILIMAP_NO_ERROR_NON_AUTHENTICATED && r != MAILIMAP_NO_ERROR_AUTHENTICATED)
      return fail("no IMAP greeting from " + cfg.host + ":" + std::to_string(cfg.port), r);
    bool preauth = r == MAILIMAP_NO_ERROR_AUTHENTICATED;

    if (cfg.security == ImapSecurity::starttls) {
      if (!imap->imap_connection_info || !imap->imap_connection_info->imap_capability)
        SK_TRY(refresh_capabilities());
      SK_TRY(start_tls());
    }
    if (cfg.security != ImapSecurity::none && cfg.verify_certificate)
      SK_TRY(verify_certificate(imap->imap_stream, cfg.host));

    if (!preauth) {
      if (!cfg.oauth2_token.empty())
        r = mailimap_oauth2_authenticate(imap, cfg.user.c_str(), cfg.oauth2_token.c_str());
      else
        r = mailimap_login(imap, cfg.user.c_str(), cfg.password.c_str());
      if (r != MAILIMAP_NO_ERROR) {
        if (breaks_session(r)) return fail("login as " + cfg.user, r);
        return make_error(Errc::invalid_input,
                          "login as " + cfg.user + " refused by " + cfg.host + server_text());
      }
    }
    // What a server offers may change with TLS and login: ask again.
    SK_TRY(refresh_capabilities());
    clist* list = nullptr;
    r = mailimap_list(imap, "", "", &list);
    if (r == MAILIMAP_NO_ERROR) {
      ClistPtr owner(list, free_list);
      if (list && !clist_isempty(list)) {
        auto* mb = static_cast<mailimap_mailbox_list*>(clist_content(clist_begin(list)));
        if (mb && mb->mb_delimiter) delimiter = mb->mb_delimiter;
      }
    } else if (breaks_session(r)) {
      return fail("LIST", r);
    }
    return ok();
  }

  Result<std::vector<std::string>> capabilities() {
    SK_TRY(usable());
    std::vector<std::string> out;
    if (!imap->imap_connection_info || !imap->imap_connection_info->imap_capability)
      SK_TRY(refresh_capabilities());
    auto* data = imap->imap_connection_info ? imap->imap_connection_info->imap_capability : nullptr;
    if (!data || !data->cap_list) return out;
    for (clistiter* it = clist_begin(data->cap_list); it; it = clist_next(it)) {
      auto* cap = static_cast<struct mailimap_capability*>(clist_content(it));
      if (!cap) continue;
      if (cap->cap_type == MAILIMAP_CAPABILITY_AUTH_TYPE && cap->cap_data.cap_auth_type)
        out.push_back(std::string("AUTH=") + cap->cap_data.cap_auth_type);
      else if (cap->cap_type == MAILIMAP_CAPABILITY_NAME && cap->cap_data.cap_name)
        out.push_back(cap->cap_data.cap_name);
    }
    return out;
  }

  Result<std::vector<std::uint32_t>> uid_search(mailimap_search_key* raw_key) {
    SearchKeyPtr key(raw_key);
    if (!key) return make_error(Errc::internal, "out of memory");
    clist* result = nullptr;
    int r = mailimap_uid_search(imap, nullptr, key.get(), &result);
    if (r != MAILIMAP_NO_ERROR) return fail("UID SEARCH", r);
    ClistPtr owner(result, free_search);
    note_unsolicited();
    std::vector<std::uint32_t> uids;
    for (clistiter* it = result ? clist_begin(result) : nullptr; it; it = clist_next(it))
      if (auto* uid = static_cast<uint32_t*>(clist_content(it))) uids.push_back(*uid);
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    return uids;
  }

  Result<MailboxStatus> select(const std::string& folder) {
    SK_TRY(usable());
    SK_ASSIGN(std::string name, wire_name(folder));
    selected.clear();
    int r = mailimap_select(imap, name.c_str());
    if (r != MAILIMAP_NO_ERROR)
      return fail("cannot select " + folder, r, breaks_session(r) ? Errc::io : Errc::not_found);
    mailimap_selection_info* info = imap->imap_selection_info;
    if (!info) return make_error(Errc::io, "SELECT " + folder + ": no mailbox data");
    MailboxStatus st{info->sel_uidvalidity, info->sel_uidnext, info->sel_exists};
    selected = folder;
    if (st.uidnext == 0) {
      // Not every server sends UIDNEXT: one past the highest UID is what it would have said.
      SK_ASSIGN(auto last, uid_search(mailimap_search_key_new_uid(mailimap_set_new_single(0))));
      st.uidnext = last.empty() ? 1 : last.back() + 1;
    }
    baseline_exists = info->sel_exists;
    pending_change = false;
    return st;
  }

  // Servers show new mail to a session only when it syncs (NOOP), not on SEARCH.
  Result<void> sync() {
    int r = mailimap_noop(imap);
    if (r != MAILIMAP_NO_ERROR) return fail("NOOP", r);
    note_unsolicited();
    return ok();
  }

  Result<std::vector<std::uint32_t>> uids_since(std::int64_t unix_time) {
    SK_TRY(need_selected());
    SK_TRY(sync());
    time_t t = static_cast<time_t>(std::max<std::int64_t>(unix_time, 0));
    tm day{};
    gmtime_r(&t, &day);
    mailimap_date* date = mailimap_date_new(day.tm_mday, day.tm_mon + 1, day.tm_year + 1900);
    if (!date) return make_error(Errc::internal, "out of memory");
    mailimap_search_key* key = mailimap_search_key_new_since(date);
    if (!key) mailimap_date_free(date);
    return uid_search(key);
  }

  Result<std::vector<std::uint32_t>> uids_from(std::uint32_t first_uid) {
    SK_TRY(need_selected());
    SK_TRY(sync());
    first_uid = std::max<std::uint32_t>(first_uid, 1);
    mailimap_set* set = mailimap_set_new_interval(first_uid, 0);
    if (!set) return make_error(Errc::internal, "out of memory");
    mailimap_search_key* key = mailimap_search_key_new_uid(set);
    if (!key) mailimap_set_free(set);
    SK_ASSIGN(auto uids, uid_search(key));
    // "n:*" names the highest UID even when that is below n.
    uids.erase(
        std::remove_if(uids.begin(), uids.end(), [&](std::uint32_t u) { return u < first_uid; }),
        uids.end());
    return uids;
  }

  Result<void> ensure_selected(const std::string& folder) {
    if (!selected.empty() && selected == folder && imap->imap_state == MAILIMAP_STATE_SELECTED)
      return ok();
    SK_TRY(select(folder));
    return ok();
  }

  Result<bool> has_uid(std::uint32_t uid) {
    SK_TRY(need_selected());
    mailimap_set* set = mailimap_set_new_single(uid);
    if (!set) return make_error(Errc::internal, "out of memory");
    mailimap_search_key* key = mailimap_search_key_new_uid(set);
    if (!key) mailimap_set_free(set);
    SK_ASSIGN(auto uids, uid_search(key));
    return std::find(uids.begin(), uids.end(), uid) != uids.end();
  }

  Result<std::vector<std::uint32_t>> uids_with_header(const std::string& name,
                                                      const std::string& value) {
    SK_TRY(need_selected());
    SK_TRY(sync());
    // The search text goes out as an IMAP string; CR and LF cannot be part of one.
    if (name.find_first_of("\r\n") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      return make_error(Errc::invalid_input, "a header search cannot contain line breaks");
    char* n = strdup(name.c_str());
    char* v = strdup(value.c_str());
    mailimap_search_key* key = n && v ? mailimap_search_key_new_header(n, v) : nullptr;
    if (!key) {
      free(n);
      free(v);
    }
    return uid_search(key);
  }

  static std::string flag_name(const mailimap_flag* f) {
    switch (f->fl_type) {
      case MAILIMAP_FLAG_ANSWERED:
        return "\\Answered";
      case MAILIMAP_FLAG_FLAGGED:
        return "\\Flagged";
      case MAILIMAP_FLAG_DELETED:
        return "\\Deleted";
      case MAILIMAP_FLAG_SEEN:
        return "\\Seen";
      case MAILIMAP_FLAG_DRAFT:
        return "\\Draft";
      case MAILIMAP_FLAG_KEYWORD:
        return f->fl_data.fl_keyword ? f->fl_data.fl_keyword : "";
      case MAILIMAP_FLAG_EXTENSION:
        return f->fl_data.fl_extension ? std::string("\\") + f->fl_data.fl_extension : "";
      default:
        return "";
    }
  }

  Result<std::vector<FetchedMessage>> fetch(const std::vector<std::uint32_t>& wanted) {
    SK_TRY(need_selected());
    const std::vector<std::uint32_t> uids = distinct_uids(wanted);
    std::vector<FetchedMessage> out;
    for (size_t start = 0; start < uids.size(); start += kFetchBatch) {
      SetPtr set(mailimap_set_new_empty());
      if (!set) return make_error(Errc::internal, "out of memory");
      size_t end = std::min(uids.size(), start + kFetchBatch);
      for (size_t i = start; i < end; ++i)
        if (mailimap_set_add_single(set.get(), uids[i]) != MAILIMAP_NO_ERROR)
          return make_error(Errc::internal, "out of memory");
      FetchTypePtr type(mailimap_fetch_type_new_fetch_att_list_empty());
      if (!type) return make_error(Errc::internal, "out of memory");
      mailimap_fetch_att* atts[] = {
          mailimap_fetch_att_new_uid(), mailimap_fetch_att_new_flags(),
          mailimap_fetch_att_new_body_peek_section(mailimap_section_new(nullptr))};
      bool failed = false;
      for (auto* a : atts) {
        if (!a || failed || mailimap_fetch_type_new_fetch_att_list_add(type.get(), a) != 0) {
          if (a) mailimap_fetch_att_free(a);
          failed = true;
        }
      }
      if (failed) return make_error(Errc::internal, "out of memory");
      clist* result = nullptr;
      int r = mailimap_uid_fetch(imap, set.get(), type.get(), &result);
      if (r != MAILIMAP_NO_ERROR) return fail("UID FETCH", r);
      ClistPtr owner(result, free_fetch);
      note_unsolicited();
      for (clistiter* it = result ? clist_begin(result) : nullptr; it; it = clist_next(it)) {
        auto* att = static_cast<mailimap_msg_att*>(clist_content(it));
        if (!att || !att->att_list) continue;
        FetchedMessage m;
        bool has_body = false;
        for (clistiter* j = clist_begin(att->att_list); j; j = clist_next(j)) {
          auto* item = static_cast<mailimap_msg_att_item*>(clist_content(j));
          if (!item) continue;
          if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC && item->att_data.att_dyn &&
              item->att_data.att_dyn->att_list) {
            for (clistiter* k = clist_begin(item->att_data.att_dyn->att_list); k;
                 k = clist_next(k)) {
              auto* ff = static_cast<mailimap_flag_fetch*>(clist_content(k));
              if (!ff) continue;
              if (ff->fl_type == MAILIMAP_FLAG_FETCH_RECENT) {
                m.flags.push_back("\\Recent");
              } else if (ff->fl_flag) {
                std::string f = flag_name(ff->fl_flag);
                if (!f.empty()) m.flags.push_back(std::move(f));
              }
            }
          } else if (item->att_type == MAILIMAP_MSG_ATT_ITEM_STATIC && item->att_data.att_static) {
            auto* st = item->att_data.att_static;
            if (st->att_type == MAILIMAP_MSG_ATT_UID) {
              m.uid = st->att_data.att_uid;
            } else if (st->att_type == MAILIMAP_MSG_ATT_BODY_SECTION &&
                       st->att_data.att_body_section) {
              auto* sec = st->att_data.att_body_section;
              has_body = true;
              if (sec->sec_body_part) m.bytes.assign(sec->sec_body_part, sec->sec_length);
            }
          }
        }
        // Answers without a body are flag news about other messages, not what we asked for.
        if (m.uid != 0 && has_body &&
            std::binary_search(uids.begin() + start, uids.begin() + end, m.uid))
          out.push_back(std::move(m));
        else if (!has_body)
          pending_change = true;
      }
    }
    std::sort(out.begin(), out.end(),
              [](const FetchedMessage& a, const FetchedMessage& b) { return a.uid < b.uid; });
    out.erase(std::unique(
                  out.begin(), out.end(),
                  [](const FetchedMessage& a, const FetchedMessage& b) { return a.uid == b.uid; }),
              out.end());
    return out;
  }

  Result<bool> folder_listed(const std::string& name) {
    clist* list = nullptr;
    int r = mailimap_list(imap, "", name.c_str(), &list);
    if (r != MAILIMAP_NO_ERROR) return fail("LIST " + name, r);
    ClistPtr owner(list, free_list);
    for (clistiter* it = list ? clist_begin(list) : nullptr; it; it = clist_next(it)) {
      auto* mb = static_cast<mailimap_mailbox_list*>(clist_content(it));
      if (mb && mb->mb_name && name == mb->mb_name) return true;
    }
    return false;
  }

  Result<void> create_folder(const std::string& folder) {
    SK_TRY(usable());
    SK_ASSIGN(std::string name, wire_name(folder));
    int r = mailimap_create(imap, name.c_str());
    if (r != MAILIMAP_NO_ERROR) {
      if (breaks_session(r)) return fail("CREATE " + folder, r);
      std::string why = server_text();
      SK_ASSIGN(bool exists, folder_listed(name));
      if (!exists) return make_error(Errc::io, "cannot create folder " + folder + why);
      return ok();
    }
    note_unsolicited();
    // Mail clients show subscribed folders; a folder the client never sees helps nobody.
    r = mailimap_subscribe(imap, name.c_str());
    if (r != MAILIMAP_NO_ERROR && breaks_session(r)) return fail("SUBSCRIBE " + folder, r);
    return ok();
  }

  // Ascending UIDs as a set, runs of consecutive ones as ranges (short command lines).
  static Result<SetPtr> set_of(const std::vector<std::uint32_t>& sorted) {
    SetPtr set(mailimap_set_new_empty());
    if (!set) return make_error(Errc::internal, "out of memory");
    for (size_t i = 0; i < sorted.size();) {
      size_t j = i;
      while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
      int r = i == j ? mailimap_set_add_single(set.get(), sorted[i])
                     : mailimap_set_add_interval(set.get(), sorted[i], sorted[j]);
      if (r != MAILIMAP_NO_ERROR) return make_error(Errc::internal, "out of memory");
      i = j + 1;
    }
    return set;
  }

  // The UIDs a uid-set names, in the order it names them; false when it names "*" or more
  // than `most` (an answer that cannot describe what we asked for).
  static bool expand(const mailimap_set* set, size_t most, std::vector<std::uint32_t>& out) {
    if (!set || !set->set_list) return false;
    for (clistiter* it = clist_begin(set->set_list); it; it = clist_next(it)) {
      auto* item = static_cast<mailimap_set_item*>(clist_content(it));
      if (!item || item->set_first == 0 || item->set_last == 0) return false;
      // "a:b" names the same UIDs as "b:a".
      std::uint64_t lo = std::min(item->set_first, item->set_last);
      std::uint64_t hi = std::max(item->set_first, item->set_last);
      if (out.size() + (hi - lo + 1) > most) return false;
      for (std::uint64_t u = lo; u <= hi; ++u) out.push_back(static_cast<std::uint32_t>(u));
    }
    return true;
  }

  // Old UID → new UID from every COPYUID of the last command (RFC 6851 lets a server answer
  // one MOVE with several), for the UIDs asked about. False when there was none.
  bool copyuids(const std::vector<std::uint32_t>& asked,
                std::map<std::uint32_t, std::uint32_t>& out) const {
    bool any = false;
    auto* info = imap->imap_response_info;
    if (!info || !info->rsp_extension_list) return false;
    for (clistiter* it = clist_begin(info->rsp_extension_list); it; it = clist_next(it)) {
      auto* ext = static_cast<mailimap_extension_data*>(clist_content(it));
      if (!ext || ext->ext_extension != &mailimap_extension_uidplus ||
          ext->ext_type != MAILIMAP_UIDPLUS_RESP_CODE_COPY || !ext->ext_data)
        continue;
      any = true;
      auto* copy = static_cast<mailimap_uidplus_resp_code_copy*>(ext->ext_data);
      std::vector<std::uint32_t> from, to;
      if (!expand(copy->uid_source_set, asked.size(), from) ||
          !expand(copy->uid_dest_set, asked.size(), to) || from.size() != to.size()) {
        // Moved, but where to cannot be read: as a server without UIDPLUS would say.
        for (auto u : asked) out.emplace(u, 0);
        continue;
      }
      for (size_t i = 0; i < from.size(); ++i)
        if (std::binary_search(asked.begin(), asked.end(), from[i])) out[from[i]] = to[i];
    }
    return any;
  }

  Result<void> store_flags(const std::vector<std::uint32_t>& uids, mailimap_flag* flag, bool on) {
    FlagListPtr flags(mailimap_flag_list_new_empty());
    if (!flags || !flag || mailimap_flag_list_add(flags.get(), flag) != MAILIMAP_NO_ERROR) {
      if (flag) mailimap_flag_free(flag);
      return make_error(Errc::internal, "out of memory");
    }
    mailimap_flag_list* raw = flags.release();
    StoreAttPtr att(on ? mailimap_store_att_flags_new_add_flags_silent(raw)
                       : mailimap_store_att_flags_new_remove_flags_silent(raw));
    if (!att) {
      mailimap_flag_list_free(raw);
      return make_error(Errc::internal, "out of memory");
    }
    SK_ASSIGN(SetPtr set, set_of(uids));
    int r = mailimap_uid_store(imap, set.get(), att.get());
    if (r != MAILIMAP_NO_ERROR) return fail("UID STORE", r);
    note_unsolicited();
    return ok();
  }

  // The UIDs of `wanted` that can name a message (not 0), ascending, each once.
  static std::vector<std::uint32_t> distinct_uids(const std::vector<std::uint32_t>& wanted) {
    std::vector<std::uint32_t> uids;
    for (auto u : wanted)
      if (u != 0) uids.push_back(u);
    std::sort(uids.begin(), uids.end());
    uids.erase(std::unique(uids.begin(), uids.end()), uids.end());
    return uids;
  }

  // The UIDs one command takes, from `start`: kUidBatch at most.
  static std::vector<std::uint32_t> batch_at(const std::vector<std::uint32_t>& uids, size_t start) {
    const auto first = uids.begin() + static_cast<std::ptrdiff_t>(start);
    return {first, first + static_cast<std::ptrdiff_t>(std::min(kUidBatch, uids.size() - start))};
  }

  Result<std::vector<std::uint32_t>> present_uids(const std::vector<std::uint32_t>& wanted) {
    SK_TRY(need_selected());
    const std::vector<std::uint32_t> uids = distinct_uids(wanted);
    std::vector<std::uint32_t> present;
    for (size_t start = 0; start < uids.size(); start += kUidBatch) {
      std::vector<std::uint32_t> chunk = batch_at(uids, start);
      SK_ASSIGN(SetPtr set, set_of(chunk));
      mailimap_search_key* key = mailimap_search_key_new_uid(set.get());
      if (key) set.release();  // the key owns it now
      SK_ASSIGN(auto found, uid_search(key));
      // An odd server's extra UIDs are not ours to report.
      for (auto u : found)
        if (std::binary_search(chunk.begin(), chunk.end(), u)) present.push_back(u);
    }
    std::sort(present.begin(), present.end());
    return present;
  }

  Result<std::map<std::uint32_t, std::uint32_t>> move_many(const std::vector<std::uint32_t>& wanted,
                                                           const std::string& folder) {
    SK_TRY(need_selected());
    SK_ASSIGN(std::string name, wire_name(folder));
    const std::vector<std::uint32_t> uids = distinct_uids(wanted);
    std::map<std::uint32_t, std::uint32_t> moved;
    const bool uidplus = has("UIDPLUS");
    const bool move_command = has("MOVE");
    for (size_t start = 0; start < uids.size(); start += kUidBatch) {
      std::vector<std::uint32_t> chunk = batch_at(uids, start);
      // Without COPYUID nothing tells which UIDs were there: ask first.
      if (!uidplus) {
        SK_ASSIGN(chunk, present_uids(chunk));
        if (chunk.empty()) continue;
      }
      SK_ASSIGN(SetPtr set, set_of(chunk));
      int r = move_command ? mailimap_uid_move(imap, set.get(), name.c_str())
                           : mailimap_uid_copy(imap, set.get(), name.c_str());
      if (r != MAILIMAP_NO_ERROR) {
        bool missing = imap->imap_response_info && imap->imap_response_info->rsp_trycreate;
        std::string what = chunk.size() == 1 ? "UID " + std::to_string(chunk[0])
                                             : std::to_string(chunk.size()) + " messages";
        return fail("cannot move " + what + " to " + folder, r,
                    missing ? Errc::not_found : Errc::io);
      }
      note_unsolicited();
      std::map<std::uint32_t, std::uint32_t> these;
      // With UIDPLUS, no COPYUID means none of them was there: nothing was moved.
      if (!copyuids(chunk, these) && !uidplus)
        for (auto u : chunk) these.emplace(u, 0);
      if (!move_command && !these.empty()) {
        std::vector<std::uint32_t> copied;
        for (const auto& [old_uid, new_uid] : these) copied.push_back(old_uid);
        SK_TRY(store_flags(copied, mailimap_flag_new_deleted(), true));
        if (uidplus) {
          SK_ASSIGN(SetPtr done, set_of(copied));
          r = mailimap_uid_expunge(imap, done.get());
          if (r != MAILIMAP_NO_ERROR) return fail("UID EXPUNGE", r);
        } else {
          // A plain EXPUNGE would also remove whatever else is marked \Deleted: only when
          // nothing else is; otherwise they stay, marked \Deleted, for the client.
          // libetpan has no helper for DELETED; like ALL it carries no data.
          mailimap_search_key* key = mailimap_search_key_new_all();
          if (key) key->sk_type = MAILIMAP_SEARCH_KEY_DELETED;
          SK_ASSIGN(auto deleted, uid_search(key));
          bool only_ours = std::all_of(deleted.begin(), deleted.end(), [&](std::uint32_t u) {
            return std::binary_search(copied.begin(), copied.end(), u);
          });
          if (!deleted.empty() && only_ours) {
            r = mailimap_expunge(imap);
            if (r != MAILIMAP_NO_ERROR) return fail("EXPUNGE", r);
          }
        }
        note_unsolicited();
      }
      moved.merge(these);
    }
    return moved;
  }

  Result<std::uint32_t> move(std::uint32_t uid, const std::string& folder) {
    SK_TRY(need_selected());
    if (uid == 0) return make_error(Errc::invalid_input, "UID 0 names no message");
    SK_ASSIGN(auto moved, move_many({uid}, folder));
    auto it = moved.find(uid);
    if (it == moved.end())
      return make_error(Errc::not_found,
                        "no message with UID " + std::to_string(uid) + " in " + selected);
    return it->second;
  }

  static Result<mailimap_flag*> make_flag(const std::string& flag) {
    if (flag.empty() || flag == "\\") return make_error(Errc::invalid_input, "empty flag");
    for (size_t i = 0; i < flag.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(flag[i]);
      bool atom = c > 0x20 && c < 0x7f && !std::strchr("(){%*\"]", c) && (c != '\\' || i == 0);
      if (!atom) return make_error(Errc::invalid_input, "not an IMAP flag: " + flag);
    }
    std::string lower = flag;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    mailimap_flag* f = nullptr;
    if (lower == "\\seen")
      f = mailimap_flag_new_seen();
    else if (lower == "\\flagged")
      f = mailimap_flag_new_flagged();
    else if (lower == "\\answered")
      f = mailimap_flag_new_answered();
    else if (lower == "\\deleted")
      f = mailimap_flag_new_deleted();
    else if (lower == "\\draft")
      f = mailimap_flag_new_draft();
    else if (lower == "\\recent")
      return make_error(Errc::invalid_input, "\\Recent cannot be set by a client");
    else if (flag[0] == '\\') {
      char* s = strdup(flag.c_str() + 1);
      f = s ? mailimap_flag_new_flag_extension(s) : nullptr;
      if (!f) free(s);
    } else {
      char* s = strdup(flag.c_str());
      f = s ? mailimap_flag_new_flag_keyword(s) : nullptr;
      if (!f) free(s);
    }
    if (!f) return make_error(Errc::internal, "out of memory");
    return f;
  }

  Result<void> set_flag(std::uint32_t uid, const std::string& flag, bool on) {
    SK_TRY(need_selected());
    if (uid == 0) return make_error(Errc::invalid_input, "UID 0 names no message");
    SK_ASSIGN(mailimap_flag * f, make_flag(flag));
    return store_flags({uid}, f, on);
  }

  Result<std::uint32_t> append(const std::string& folder, const std::string& bytes,
                               const std::vector<std::string>& flags) {
    SK_TRY(usable());
    SK_ASSIGN(std::string name, wire_name(folder));
    FlagListPtr list;
    if (!flags.empty()) {
      list.reset(mailimap_flag_list_new_empty());
      if (!list) return make_error(Errc::internal, "out of memory");
      for (const auto& fl : flags) {
        SK_ASSIGN(mailimap_flag * f, make_flag(fl));
        if (mailimap_flag_list_add(list.get(), f) != MAILIMAP_NO_ERROR) {
          mailimap_flag_free(f);
          return make_error(Errc::internal, "out of memory");
        }
      }
    }
    std::uint32_t uidvalidity = 0, uid = 0;
    int r = mailimap_uidplus_append(imap, name.c_str(), list.get(), nullptr, bytes.data(),
                                    bytes.size(), &uidvalidity, &uid);
    if (r != MAILIMAP_NO_ERROR) {
      bool missing = imap->imap_response_info && imap->imap_response_info->rsp_trycreate;
      return fail("cannot append to " + folder, r, missing ? Errc::not_found : Errc::io);
    }
    note_unsolicited();
    return uid;
  }

  // What the last answer says changed since `before`.
  bool changed_since(std::uint32_t before) {
    bool changed = exists_now() != before || pending_change;
    if (auto* info = imap->imap_response_info) {
      if (info->rsp_expunged && !clist_isempty(info->rsp_expunged)) changed = true;
      if (info->rsp_fetch_list && !clist_isempty(info->rsp_fetch_list)) changed = true;
    }
    if (imap->imap_selection_info && imap->imap_selection_info->sel_has_exists &&
        imap->imap_selection_info->sel_exists != before)
      changed = true;
    return changed;
  }

  Result<bool> wait_for_change(int seconds) {
    SK_TRY(need_selected());
    if (exists_now() != baseline_exists || pending_change) {
      baseline_exists = exists_now();
      pending_change = false;
      return true;
    }
    const auto deadline = Clock::now() + std::chrono::seconds(std::max(seconds, 0));
    bool changed = false;
    if (cfg.allow_idle && has("IDLE")) {
      do {
        int r = mailimap_idle(imap);
        if (r != MAILIMAP_NO_ERROR) return fail("IDLE", r);
        // An answer may already sit in libetpan's buffer, where poll() cannot see it.
        bool ready = imap->imap_stream->read_buffer_len > 0;
        if (!ready) {
          auto left =
              std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
          pollfd p{mailimap_idle_get_fd(imap), POLLIN, 0};
          int pr;
          do pr = ::poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
          while (pr < 0 && errno == EINTR);
          ready = pr > 0;
        }
        r = mailimap_idle_done(imap);
        if (r != MAILIMAP_NO_ERROR) return fail("IDLE", r);
        changed = changed_since(baseline_exists);
        // A keep-alive ("* OK Still here") wakes us without news: idle on until the deadline.
        if (!ready) break;
      } while (!changed && Clock::now() < deadline);
    } else {
      while (true) {
        int r = mailimap_noop(imap);
        if (r != MAILIMAP_NO_ERROR) return fail("NOOP", r);
        changed = changed_since(baseline_exists);
        auto now = Clock::now();
        if (changed || now >= deadline) break;
        auto step = std::min<Clock::duration>(kPollInterval, deadline - now);
        std::this_thread::sleep_for(step);
      }
    }
    baseline_exists = exists_now();
    pending_change = false;
    return changed;
  }
};

namespace {

// No exception leaves this module: whatever escapes (bad_alloc) becomes an error.
template <class F>
auto guarded(F&& f) -> decltype(f()) {
  try {
    NoSigpipe guard;
    return f();
  } catch (const std::exception& e) {
    return make_error(Errc::internal, std::string("IMAP: ") + e.what());
  }
}

}  // namespace

ImapSession::ImapSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ImapSession::~ImapSession() = default;

Result<std::unique_ptr<ImapSession>> ImapSession::connect(const ImapConfig& config) {
  return guarded([&]() -> Result<std::unique_ptr<ImapSession>> {
    if (config.host.empty()) return make_error(Errc::invalid_input, "no IMAP host");
    if (config.timeout_seconds <= 0)
      return make_error(Errc::invalid_input, "timeout_seconds must be positive");
    auto impl = std::make_unique<Impl>();
    impl->cfg = config;
    impl->host = config.host;
    if (auto opened = impl->open(); !opened.ok()) {
      impl->broken = true;  // no LOGOUT on a session that never got going
      return opened.error();
    }
    return std::unique_ptr<ImapSession>(new ImapSession(std::move(impl)));
  });
}

Result<std::vector<std::string>> ImapSession::capabilities() {
  return guarded([&] { return impl_->capabilities(); });
}
Result<MailboxStatus> ImapSession::select(const std::string& folder) {
  return guarded([&] { return impl_->select(folder); });
}
Result<std::vector<std::uint32_t>> ImapSession::uids_since(std::int64_t unix_time) {
  return guarded([&] { return impl_->uids_since(unix_time); });
}
Result<void> ImapSession::ensure_selected(const std::string& folder) {
  return guarded([&] { return impl_->ensure_selected(folder); });
}
Result<bool> ImapSession::has_uid(std::uint32_t uid) {
  return guarded([&] { return impl_->has_uid(uid); });
}
Result<std::vector<std::uint32_t>> ImapSession::uids_with_header(const std::string& name,
                                                                 const std::string& value) {
  return guarded([&] { return impl_->uids_with_header(name, value); });
}
Result<std::vector<std::uint32_t>> ImapSession::uids_from(std::uint32_t first_uid) {
  return guarded([&] { return impl_->uids_from(first_uid); });
}
Result<std::vector<FetchedMessage>> ImapSession::fetch(const std::vector<std::uint32_t>& uids) {
  return guarded([&] { return impl_->fetch(uids); });
}
Result<void> ImapSession::create_folder(const std::string& name) {
  return guarded([&] { return impl_->create_folder(name); });
}
Result<std::uint32_t> ImapSession::move(std::uint32_t uid, const std::string& folder) {
  return guarded([&] { return impl_->move(uid, folder); });
}
Result<std::map<std::uint32_t, std::uint32_t>> ImapSession::move_many(
    const std::vector<std::uint32_t>& uids, const std::string& folder) {
  return guarded([&] { return impl_->move_many(uids, folder); });
}
Result<std::vector<std::uint32_t>> ImapSession::present_uids(
    const std::vector<std::uint32_t>& uids) {
  return guarded([&] { return impl_->present_uids(uids); });
}
std::uint64_t ImapSession::commands_sent() const {
  return impl_->imap ? static_cast<std::uint64_t>(impl_->imap->imap_tag) : 0;
}
Result<void> ImapSession::set_flag(std::uint32_t uid, const std::string& flag, bool on) {
  return guarded([&] { return impl_->set_flag(uid, flag, on); });
}
Result<std::uint32_t> ImapSession::append(const std::string& folder, const std::string& bytes,
                                          const std::vector<std::string>& flags) {
  return guarded([&] { return impl_->append(folder, bytes, flags); });
}
Result<bool> ImapSession::wait_for_change(int seconds) {
  return guarded([&] { return impl_->wait_for_change(seconds); });
}

}  // namespace sk::mail
