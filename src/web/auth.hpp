#pragma once
// Sign-in, sessions, API tokens, CSRF and login rate limiting.
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "web/router.hpp"

namespace sk::web {

struct AuthOptions {
  bool secure_cookies = false;  // set when served over TLS (directly or behind a proxy)
  Timestamp session_seconds = 12 * 3600;
  int max_failures = 5;  // per user name and per address, within `failure_window`
  Timestamp failure_window = 15 * 60;
};

// The caller behind a request: a bearer API token, or the session cookie. An anonymous
// request gives an Access with signed_in == false. The clients are from
// store::clients_of_user, so this is the one place a request becomes a set of clients.
Result<Access> authenticate(store::Db& db, const Clock& clock, const Request& req);

struct LoginResult {
  bool ok = false;
  bool throttled = false;
  std::string cookie;  // Set-Cookie value on success
  store::UserRecord user;
};
// Checks the password (argon2id); too many recent failures for the name or the address
// refuse even a right password, so guessing gains nothing.
Result<LoginResult> login(store::Db& db, const Clock& clock, const AuthOptions& options,
                          const std::string& name, const std::string& password,
                          const std::string& remote);
// Ends the session; the Set-Cookie value that clears it.
Result<std::string> logout(store::Db& db, const Access& access, const AuthOptions& options);

// A state-changing call from a browser session carries the session's CSRF token (header
// X-CSRF-Token or form field `csrf`) and, when the browser says where it comes from, the
// same origin. API tokens are not sent by browsers on their own, so they need neither.
bool csrf_ok(const Request& req, const Access& access);
// A post from a page of this origin (Origin and Sec-Fetch-Site, when the browser sends them).
bool same_origin(const Request& req);

// A new random password for the user, to be shown once: every session of theirs ends and
// their failed sign-ins are forgotten (an admin resets a password for someone locked out).
Result<std::string> reset_password(store::Db& db, const store::UserRecord& user);

// A change to a user (added, password reset, token revoked) in the audit log of every client
// they work for; an admin's account concerns no one client and is not logged per client.
Result<void> audit_user_change(store::Db& db, const Clock& clock, const std::string& actor,
                               const store::UserRecord& user, const std::string& action,
                               const std::string& why);

// A new API token for the user: the secret is returned once, only its hash is kept.
Result<std::string> create_api_token(store::Db& db, IdSource& ids, const Clock& clock,
                                     const store::UserRecord& user, const std::string& name);

}  // namespace sk::web
