// SMTP submission through libcurl. curl speaks the protocol (EHLO, STARTTLS, AUTH, dot
// escaping); this file turns its outcome into errors a VA can act on, quoting the server's
// own words whenever the server said no.
#include "mail/smtp.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sk::mail {
namespace {

void ensure_curl() {
  // curl_global_init is not thread-safe in every curl build; a function-local static runs it
  // once.
  static const bool initialized = [] {
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  }();
  (void)initialized;
}

struct Upload {
  const std::string* bytes;
  const std::function<bool()>* before_end;
  std::size_t pos = 0;
  bool ended = false;
};

std::size_t read_body(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  const std::size_t room = size * count;
  const std::size_t n = std::min(room, up->bytes->size() - up->pos);
  if (n == 0 && !up->ended) {
    up->ended = true;
    // Every byte is handed over; curl sends the end-of-data mark after this returns.
    if (*up->before_end && !(*up->before_end)()) return CURL_READFUNC_ABORT;
  }
  std::memcpy(buffer, up->bytes->data() + up->pos, n);
  up->pos += n;
  return n;
}

// Every line the server answered, as curl hands them to the header callback.
std::size_t collect_reply(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* lines = static_cast<std::vector<std::string>*>(user);
  std::string_view line(buffer, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  // A server that talks without end must not fill memory.
  if (lines->size() < 1000) lines->emplace_back(line.substr(0, 2000));
  return size * count;
}

bool is_code(std::string_view line) {
  return line.size() >= 3 && line[0] >= '1' && line[0] <= '5' && line[1] >= '0' && line[1] <= '9' &&
         line[2] >= '0' && line[2] <= '9' && (line.size() == 3 || line[3] == ' ' || line[3] == '-');
}

struct Reply {
  int code = 0;
  std::string text;  // every line of the reply, joined by spaces
};

// The server's last refusal (a 4xx or 5xx reply, RFC 5321 4.2.1: "550-..." lines continue,
// "550 ..." ends it). curl says QUIT after a failure, so the last reply is usually "221 Bye".
Reply last_refusal(const std::vector<std::string>& lines) {
  Reply r;
  for (std::size_t i = lines.size(); i-- > 0;) {
    const std::string& l = lines[i];
    if (!is_code(l) || (l.size() > 3 && l[3] == '-') || l[0] < '4') continue;
    r.code = std::stoi(l.substr(0, 3));
    std::size_t first = i;
    while (first > 0 && is_code(lines[first - 1]) && lines[first - 1].size() > 3 &&
           lines[first - 1][3] == '-' && lines[first - 1].compare(0, 3, l, 0, 3) == 0)
      --first;
    for (std::size_t k = first; k <= i; ++k) {
      if (!r.text.empty()) r.text += ' ';
      r.text += k == i ? l : l.substr(0, 3) + " " + l.substr(4);
    }
    break;
  }
  return r;
}

// Nothing that could end the address or start another SMTP command: curl writes these into
// MAIL FROM and RCPT TO as they are.
bool valid_address(std::string_view a) {
  if (a.empty() || a.size() > 320 || a.find('@') == std::string_view::npos) return false;
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F || c == '<' || c == '>') return false;
  }
  return true;
}

bool is_loopback(std::string_view host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
}

// What the failed step was, from curl's message ("RCPT failed: 550").
std::string step_of(std::string_view curl_message) {
  if (curl_message.starts_with("RCPT")) return "a recipient (RCPT TO)";
  if (curl_message.starts_with("MAIL")) return "the sender (MAIL FROM)";
  if (curl_message.starts_with("DATA")) return "the message (DATA)";
  return "the message";
}

}  // namespace

namespace {

// Whether the server refused the message after its data: a 4xx or 5xx after the "354" that
// invited the data.
bool refused_after_data(const std::vector<std::string>& lines) {
  bool data_sent = false;
  for (const auto& l : lines) {
    if (!is_code(l)) continue;
    if (l.starts_with("354"))
      data_sent = true;
    else if (data_sent && l[0] >= '4')
      return true;
  }
  return false;
}

Result<Handover> transact(const SmtpConfig& config, const Envelope& envelope,
                          const std::string& message_bytes, const std::function<bool()>& before_end,
                          bool check_only) {
  const bool credentials = !config.password.empty() || !config.oauth2_token.empty();
  if (credentials && config.security == SmtpSecurity::none && !is_loopback(config.host))
    return make_error(Errc::invalid_input, "refusing to send the SMTP password to " + config.host +
                                               " unencrypted; use STARTTLS or TLS");

  ensure_curl();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return make_error(Errc::internal, "could not start libcurl");
  CURL* h = curl.get();

  const std::string where = config.host + ":" + std::to_string(config.port);
  std::string host = config.host;
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  const std::string url = std::string(config.security == SmtpSecurity::tls ? "smtps" : "smtp") +
                          "://" + host + ":" + std::to_string(config.port);

  struct SlistFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };
  std::unique_ptr<curl_slist, SlistFree> rcpt;
  for (const auto& r : envelope.to) {
    curl_slist* next = curl_slist_append(rcpt.get(), ("<" + r + ">").c_str());
    if (!next) return make_error(Errc::internal, "out of memory");
    (void)rcpt.release();
    rcpt.reset(next);
  }
  const std::string from = "<" + envelope.from + ">";
  Upload upload{&message_bytes, &before_end};
  std::vector<std::string> replies;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const long timeout = config.timeout_seconds > 0 ? config.timeout_seconds : 30;

  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_USE_SSL,
                   config.security == SmtpSecurity::none ? static_cast<long>(CURLUSESSL_NONE)
                                                         : static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, config.verify_certificate ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, config.verify_certificate ? 2L : 0L);
  if (!config.user.empty()) curl_easy_setopt(h, CURLOPT_USERNAME, config.user.c_str());
  if (!config.oauth2_token.empty()) {
    curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, config.oauth2_token.c_str());
  } else if (!config.password.empty()) {
    curl_easy_setopt(h, CURLOPT_PASSWORD, config.password.c_str());
  }
  if (check_only) {
    // Greeting, EHLO, STARTTLS and login are curl's connect phase: it stops right there.
    curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_body);
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    // No size is given on purpose: with one, curl stops reading at the last byte and never
    // asks again, so the end of the message (where before_end runs) would go unnoticed.
  }
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect_reply);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &replies);
  // A limit per answer rather than for the whole transfer: a large attachment on a slow line
  // is fine as long as bytes keep moving.
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, timeout);
  curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, timeout);

  const CURLcode rc = curl_easy_perform(h);
  if (rc == CURLE_OK) return Handover{};

  const std::string detail = errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc);
  if (upload.ended && rc != CURLE_ABORTED_BY_CALLBACK && !refused_after_data(replies))
    return Handover{false,
                    rc == CURLE_OPERATION_TIMEDOUT
                        ? "the SMTP server " + where + " did not answer within " +
                              std::to_string(timeout) + " seconds"
                        : "the connection to the SMTP server " + where + " ended: " + detail};
  const Reply reply = last_refusal(replies);
  const bool tls_failure = rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_PEER_FAILED_VERIFICATION ||
                           rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CIPHER ||
                           rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_ISSUER_ERROR ||
                           rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH ||
                           rc == CURLE_SSL_INVALIDCERTSTATUS || rc == CURLE_SSL_ENGINE_INITFAILED;
  if (rc == CURLE_ABORTED_BY_CALLBACK)
    return make_error(Errc::io, "sending was abandoned before the server took the message");
  if (rc == CURLE_LOGIN_DENIED)
    return make_error(Errc::invalid_input, "the SMTP server " + where + " refused the login for '" +
                                               config.user + "'" +
                                               (reply.code >= 400 ? ": " + reply.text : ""));
  if (rc == CURLE_AUTH_ERROR)
    return make_error(
        Errc::invalid_input,
        "the SMTP server " + where + " offers no login method Sidekick can use: " + detail);
  if (rc == CURLE_USE_SSL_FAILED)
    return make_error(Errc::invalid_input,
                      "the SMTP server " + where +
                          " does not offer STARTTLS; choose TLS (usually port 465) or check the "
                          "port" +
                          (reply.code >= 400 ? " (" + reply.text + ")" : ""));
  if (tls_failure)
    return make_error(Errc::invalid_input,
                      "TLS with the SMTP server " + where + " failed: " + detail +
                          (config.security == SmtpSecurity::tls
                               ? " (is it a TLS port? 465 is; 587 and 25 take STARTTLS)"
                               : ""));
  if (reply.code >= 400 && rc != CURLE_OPERATION_TIMEDOUT) {
    // The server said no: its words tell the VA why (unknown user, policy, size, spam).
    const std::string what =
        "the SMTP server " + where + " rejected " + step_of(detail) + ": " + reply.text;
    return make_error(reply.code >= 500 ? Errc::invalid_input : Errc::io,
                      reply.code >= 500 ? what : what + " (a temporary refusal; try later)");
  }
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
      return make_error(Errc::io, "could not connect to the SMTP server " + where + ": " + detail);
    case CURLE_COULDNT_RESOLVE_HOST:
      return make_error(Errc::io,
                        "could not find the SMTP server '" + config.host + "' (name not resolved)");
    case CURLE_OPERATION_TIMEDOUT:
      return make_error(Errc::io, "the SMTP server " + where + " did not answer within " +
                                      std::to_string(timeout) + " seconds: " + detail);
    case CURLE_UNSUPPORTED_PROTOCOL:
      return make_error(Errc::internal, "this libcurl cannot speak SMTP: " + detail);
    default:
      return make_error(Errc::io, "sending through the SMTP server " + where + " failed: " +
                                      detail + (reply.code ? " (" + reply.text + ")" : ""));
  }
}

}  // namespace

Result<Handover> smtp_submit(const SmtpConfig& config, const Envelope& envelope,
                             const std::string& message_bytes,
                             const std::function<bool()>& before_end) {
  if (config.host.empty()) return make_error(Errc::invalid_input, "no SMTP server host is set");
  if (config.port <= 0 || config.port > 65535)
    return make_error(Errc::invalid_input,
                      "the SMTP port " + std::to_string(config.port) + " is not a port number");
  if (!envelope.from.empty() && !valid_address(envelope.from))
    return make_error(Errc::invalid_input,
                      "the sender address '" + envelope.from + "' is not a valid mail address");
  if (envelope.to.empty()) return make_error(Errc::invalid_input, "the message has no recipient");
  for (const auto& r : envelope.to) {
    if (!valid_address(r))
      return make_error(Errc::invalid_input,
                        "the recipient address '" + r + "' is not a valid mail address");
  }
  if (message_bytes.empty()) return make_error(Errc::invalid_input, "the message is empty");
  return transact(config, envelope, message_bytes, before_end, false);
}

Result<void> smtp_check(const SmtpConfig& config) {
  if (config.host.empty()) return make_error(Errc::invalid_input, "no SMTP server host is set");
  if (config.port <= 0 || config.port > 65535)
    return make_error(Errc::invalid_input,
                      "the SMTP port " + std::to_string(config.port) + " is not a port number");
  SK_TRY(transact(config, {}, std::string(), {}, true));
  return ok();
}

}  // namespace sk::mail
