#include "web/auth.hpp"

#include "core/hash.hpp"
#include "core/secrets.hpp"
#include "store/repos.hpp"

namespace sk::web {
namespace {
constexpr const char* kCookie = "sk_session";

std::string cookie_value(const std::string& token, Timestamp max_age, bool secure) {
  return std::string(kCookie) + "=" + token +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age) +
         (secure ? "; Secure" : "");
}

Result<Access> access_for(store::Db& db, const std::string& user_id) {
  Access a;
  SK_ASSIGN(a.user, store::find_user(db, user_id));
  SK_ASSIGN(a.clients, store::clients_of_user(db, a.user));
  a.signed_in = true;
  return a;
}
}  // namespace

Result<Access> authenticate(store::Db& db, const Clock& clock, const Request& req) {
  std::string auth = req.header("authorization");
  if (auth.rfind("Bearer ", 0) == 0) {
    SK_ASSIGN(auto token, store::find_api_token(db, sha256_hex(auth.substr(7))));
    if (!token) return Access{};
    auto a = access_for(db, token->user_id);
    if (!a.ok()) return Access{};
    a->via_token = true;
    return a;
  }
  std::string cookie = req.cookie(kCookie);
  if (cookie.empty()) return Access{};
  std::string hash = sha256_hex(cookie);
  SK_ASSIGN(auto session, store::find_session(db, hash, clock.now()));
  if (!session) return Access{};
  auto a = access_for(db, session->user_id);
  if (!a.ok()) return Access{};
  a->csrf = session->csrf;
  a->session_hash = hash;
  return a;
}

Result<std::string> reset_password(store::Db& db, const store::UserRecord& user) {
  std::string password = random_token().substr(0, 16);
  SK_ASSIGN(auto hash, hash_password(password));
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_TRY(store::set_password_hash(db, user.id, hash));
    SK_ASSIGN(int ended, store::end_sessions(db, user.id));
    (void)ended;
    return store::clear_login_failures(db, "user:" + user.name);
  }));
  return password;
}

Result<void> audit_user_change(store::Db& db, const Clock& clock, const std::string& actor,
                               const store::UserRecord& user, const std::string& action,
                               const std::string& why) {
  if (user.role == store::Role::admin) return ok();
  SK_ASSIGN(auto clients, store::clients_of_user(db, user));
  for (const auto& c : clients)
    SK_TRY(store::append_audit(db, c, clock.now(), actor, action, user.name, why));
  return ok();
}

Result<LoginResult> login(store::Db& db, const Clock& clock, const AuthOptions& o,
                          const std::string& name, const std::string& password,
                          const std::string& remote) {
  LoginResult r;
  const Timestamp now = clock.now();
  const std::string name_key = "user:" + name, addr_key = "addr:" + remote;
  SK_ASSIGN(int by_name, store::login_failures_since(db, name_key, now - o.failure_window));
  SK_ASSIGN(int by_addr, store::login_failures_since(db, addr_key, now - o.failure_window));
  if (by_name >= o.max_failures || by_addr >= o.max_failures * 4) {
    r.throttled = true;
    return r;
  }
  auto user = store::find_user(db, name);
  // A missing user costs the same argon2id work as a wrong password, so timing says nothing.
  static const std::string dummy = hash_password("not a password").value();
  bool good = user.ok() ? verify_password(user->password_hash, password)
                        : (verify_password(dummy, password), false);
  if (!good) {
    SK_TRY(store::record_login_failure(db, name_key, now));
    SK_TRY(store::record_login_failure(db, addr_key, now));
    return r;
  }
  SK_TRY(store::clear_login_failures(db, name_key));
  std::string token = random_token();
  SK_TRY(store::create_session(db, sha256_hex(token), user->id, random_token(), now,
                               now + o.session_seconds));
  r.ok = true;
  r.user = *user;
  r.cookie = cookie_value(token, o.session_seconds, o.secure_cookies);
  return r;
}

Result<std::string> logout(store::Db& db, const Access& access, const AuthOptions& o) {
  if (!access.session_hash.empty()) SK_TRY(store::delete_session(db, access.session_hash));
  return cookie_value("", 0, o.secure_cookies);
}

bool same_origin(const Request& req) {
  const std::string site = req.header("sec-fetch-site");
  if (!site.empty() && site != "same-origin" && site != "none") return false;
  const std::string origin = req.header("origin");
  if (origin.empty()) return true;  // not a browser's cross-site post: browsers send Origin
  const std::string host = req.header("host");
  return !host.empty() && (origin == "http://" + host || origin == "https://" + host);
}

bool csrf_ok(const Request& req, const Access& access) {
  if (access.via_token) return true;
  if (access.csrf.empty()) return false;
  std::string origin = req.header("origin");
  if (!origin.empty()) {
    std::string host = req.header("host");
    if (origin != "http://" + host && origin != "https://" + host) return false;
  }
  std::string sent = req.header("x-csrf-token");
  if (sent.empty()) {
    auto f = req.form();
    auto it = f.find("csrf");
    if (it != f.end()) sent = it->second;
  }
  return constant_time_equal(sent, access.csrf);
}

Result<std::string> create_api_token(store::Db& db, IdSource& ids, const Clock& clock,
                                     const store::UserRecord& user, const std::string& name) {
  std::string token = "sk_" + random_token();
  SK_TRY(store::create_api_token(db, ids, clock, user.id, sha256_hex(token), name));
  return token;
}

}  // namespace sk::web
