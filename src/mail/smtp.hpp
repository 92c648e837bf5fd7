#pragma once
// Mail submission over SMTP (RFC 6409) with libcurl; curl stays inside smtp.cpp.
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace sk::mail {

enum class SmtpSecurity {
  none,      // plain text; credentials only to a loopback server
  starttls,  // plain connection upgraded with STARTTLS, required (usually port 587)
  tls        // TLS from the first byte (usually port 465)
};

struct SmtpConfig {
  std::string host;
  int port = 587;
  SmtpSecurity security = SmtpSecurity::starttls;
  std::string user, password;
  std::string oauth2_token;  // XOAUTH2 / OAUTHBEARER bearer token, used instead of password
  bool verify_certificate = true;
  int timeout_seconds = 30;  // to connect, and for each answer of the server
};

struct Envelope {
  std::string from;             // MAIL FROM; empty sends the null reverse path <>
  std::vector<std::string> to;  // RCPT TO, one each
};

// How a submitted message was handed over.
struct Handover {
  // False when every byte and the end-of-data mark went out and the connection then failed
  // (timed out, dropped) before the server answered them. The server has then most likely
  // taken the message (RFC 5321 6.1: sending it again is how mail arrives twice), so it is
  // reported as handed over, not as an error.
  bool answered = true;
  std::string silence;  // when not answered: what happened instead
};

// Submits `message_bytes` (RFC 5322, CRLF lines; dots are escaped on the way) to every
// envelope recipient in one transaction; a Handover when the server took it, or may have (see
// Handover::answered). Errors, in words that say what to fix:
// - io: connection refused, name not resolved, timeout, connection lost, a temporary
//   (4xx) rejection — worth another try later;
// - invalid_input: TLS failure (handshake, certificate, STARTTLS not offered), login
//   refused, a permanent (5xx) rejection (with the server's own text), a malformed envelope,
//   a password that would travel unencrypted — trying again changes nothing.
//
// `before_end`, when given, runs once after the last byte of the message is handed to the
// connection and before the end-of-data mark that makes the server take it: the one moment
// a caller can record "sent" so that dying afterwards cannot lead to sending it again.
// Returning false abandons the transaction (the server then discards the message).
Result<Handover> smtp_submit(const SmtpConfig& config, const Envelope& envelope,
                             const std::string& message_bytes,
                             const std::function<bool()>& before_end = {});

// Connects, greets, upgrades to TLS and logs in as smtp_submit would, and sends nothing:
// `sidekick account test` asks this. Errors as for smtp_submit.
Result<void> smtp_check(const SmtpConfig& config);

}  // namespace sk::mail
