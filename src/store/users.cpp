#include "store/users.hpp"

#include <array>
#include <utility>

namespace sk::store {
namespace {

constexpr std::array<std::pair<Role, std::string_view>, 3> kRoles{
    {{Role::admin, "admin"}, {Role::va, "va"}, {Role::client, "client"}}};

constexpr const char* kUserCols =
    "SELECT id, name, role, COALESCE(client_id, ''), password_hash, created_at FROM users ";

UserRecord user_from(const Row& r) {
  return UserRecord{r.str(0), r.str(1), role_from(r.str(2)).value_or(Role::client),
                    r.str(3), r.str(4), r.i64(5)};
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.' || c == '@'))
      return false;
  return true;
}

}  // namespace

std::string_view to_string(Role r) {
  for (const auto& [k, v] : kRoles)
    if (k == r) return v;
  return "client";
}

std::optional<Role> role_from(std::string_view s) {
  for (const auto& [k, v] : kRoles)
    if (v == s) return k;
  return std::nullopt;
}

Result<UserRecord> create_user(Db& db, IdSource& ids, const Clock& clock, const std::string& name,
                               Role role, const ClientId& client,
                               const std::string& password_hash) {
  if (!valid_name(name))
    return make_error(Errc::invalid_input,
                      "user name '" + name + "': 1-64 of a-z, A-Z, 0-9, '-', '_', '.', '@'");
  if (role == Role::client && client.empty())
    return make_error(Errc::invalid_input, "a client user belongs to one client: give --client");
  if (role != Role::client && !client.empty())
    return make_error(Errc::invalid_input,
                      "only client users belong to a client; assign a VA with `sidekick user "
                      "assign`");
  SK_ASSIGN(auto existing, db.query("SELECT 1 FROM users WHERE name = ?", {name}));
  if (!existing.empty()) return make_error(Errc::conflict, "user '" + name + "' already exists");
  UserRecord u{ids.next("usr"), name, role, client, password_hash, clock.now()};
  Value client_value = client.empty() ? Value{} : Value{client};
  SK_TRY(db.exec(
      "INSERT INTO users (id, name, role, client_id, password_hash, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {u.id, u.name, std::string(to_string(role)), client_value, password_hash, u.created_at}));
  return u;
}

Result<UserRecord> find_user(Db& db, const std::string& name_or_id) {
  SK_ASSIGN(auto rows, db.query(std::string(kUserCols) + "WHERE name = ? OR id = ?",
                                {name_or_id, name_or_id}));
  if (rows.empty()) return make_error(Errc::not_found, "no user '" + name_or_id + "'");
  return user_from(rows[0]);
}

Result<std::vector<UserRecord>> list_users(Db& db) {
  SK_ASSIGN(auto rows, db.query(std::string(kUserCols) + "ORDER BY name"));
  std::vector<UserRecord> out;
  for (const auto& r : rows) out.push_back(user_from(r));
  return out;
}

Result<void> set_password_hash(Db& db, const std::string& user_id, const std::string& hash) {
  return db.exec("UPDATE users SET password_hash = ? WHERE id = ?", {hash, user_id});
}

Result<void> assign(Db& db, const std::string& user_id, const ClientId& client) {
  return db.exec(
      "INSERT INTO assignments (user_id, client_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
      {user_id, client});
}

Result<void> unassign(Db& db, const std::string& user_id, const ClientId& client) {
  return db.exec("DELETE FROM assignments WHERE user_id = ? AND client_id = ?", {user_id, client});
}

Result<std::vector<ClientId>> clients_of_user(Db& db, const UserRecord& user) {
  std::vector<ClientId> out;
  switch (user.role) {
    case Role::admin: {
      SK_ASSIGN(auto rows, db.query("SELECT id FROM clients ORDER BY slug"));
      for (const auto& r : rows) out.push_back(r.str(0));
      break;
    }
    case Role::va: {
      SK_ASSIGN(auto rows, db.query("SELECT a.client_id FROM assignments a JOIN clients c ON "
                                    "c.id = a.client_id WHERE a.user_id = ? ORDER BY c.slug",
                                    {user.id}));
      for (const auto& r : rows) out.push_back(r.str(0));
      break;
    }
    case Role::client:
      if (!user.client.empty()) out.push_back(user.client);
      break;
  }
  return out;
}

Result<void> create_session(Db& db, const std::string& token_hash, const std::string& user_id,
                            const std::string& csrf, Timestamp now, Timestamp expires_at) {
  // Expired sessions go as new ones come, so the table does not grow without end.
  SK_TRY(db.exec("DELETE FROM sessions WHERE expires_at < ?", {now}));
  return db.exec(
      "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?, ?, ?, "
      "?, ?)",
      {token_hash, user_id, csrf, now, expires_at});
}

Result<std::optional<SessionRecord>> find_session(Db& db, const std::string& token_hash,
                                                  Timestamp now) {
  SK_ASSIGN(auto rows, db.query("SELECT user_id, csrf, expires_at FROM sessions WHERE "
                                "token_hash = ? AND expires_at > ?",
                                {token_hash, now}));
  if (rows.empty()) return std::optional<SessionRecord>{};
  return std::optional<SessionRecord>{
      SessionRecord{rows[0].str(0), rows[0].str(1), rows[0].i64(2)}};
}

Result<void> delete_session(Db& db, const std::string& token_hash) {
  return db.exec("DELETE FROM sessions WHERE token_hash = ?", {token_hash});
}

Result<int> end_sessions(Db& db, const std::string& user_id) {
  SK_ASSIGN(auto rows, db.query("SELECT COUNT(*) FROM sessions WHERE user_id = ?", {user_id}));
  SK_TRY(db.exec("DELETE FROM sessions WHERE user_id = ?", {user_id}));
  return static_cast<int>(rows.at(0).i64(0));
}

Result<ApiTokenRecord> create_api_token(Db& db, IdSource& ids, const Clock& clock,
                                        const std::string& user_id, const std::string& token_hash,
                                        const std::string& name) {
  ApiTokenRecord t{ids.next("tok"), user_id, name, clock.now()};
  SK_TRY(db.exec(
      "INSERT INTO api_tokens (id, token_hash, user_id, name, created_at) VALUES (?, ?, ?, ?, ?)",
      {t.id, token_hash, user_id, name, t.created_at}));
  return t;
}

Result<std::optional<ApiTokenRecord>> find_api_token(Db& db, const std::string& token_hash) {
  SK_ASSIGN(auto rows, db.query("SELECT id, user_id, name, created_at FROM api_tokens WHERE "
                                "token_hash = ?",
                                {token_hash}));
  if (rows.empty()) return std::optional<ApiTokenRecord>{};
  return std::optional<ApiTokenRecord>{
      ApiTokenRecord{rows[0].str(0), rows[0].str(1), rows[0].str(2), rows[0].i64(3)}};
}

Result<std::vector<ApiTokenRecord>> list_api_tokens(Db& db) {
  SK_ASSIGN(auto rows, db.query("SELECT id, user_id, name, created_at FROM api_tokens ORDER BY "
                                "created_at, rowid"));
  std::vector<ApiTokenRecord> out;
  for (const auto& r : rows) out.push_back({r.str(0), r.str(1), r.str(2), r.i64(3)});
  return out;
}

Result<bool> revoke_api_token(Db& db, const std::string& id) {
  SK_ASSIGN(auto rows, db.query("SELECT 1 FROM api_tokens WHERE id = ?", {id}));
  if (rows.empty()) return false;
  SK_TRY(db.exec("DELETE FROM api_tokens WHERE id = ?", {id}));
  return true;
}

Result<void> record_login_failure(Db& db, const std::string& key, Timestamp at) {
  SK_TRY(db.exec("DELETE FROM login_failures WHERE at < ?", {at - 86400}));
  return db.exec("INSERT INTO login_failures (key, at) VALUES (?, ?)", {key, at});
}

Result<int> login_failures_since(Db& db, const std::string& key, Timestamp since) {
  SK_ASSIGN(auto rows, db.query("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at >= ?",
                                {key, since}));
  return static_cast<int>(rows.at(0).i64(0));
}

Result<bool> allow_public_action(Db& db, const std::string& key, Timestamp now, int max,
                                 Timestamp window) {
  bool allowed = false;
  SK_TRY(db.transaction([&]() -> Result<void> {
    // Nothing counts for more than two days: older actions are forgotten by whoever comes.
    SK_TRY(db.exec("DELETE FROM public_actions WHERE at <= ?", {now - 2 * 86400}));
    SK_ASSIGN(auto rows, db.query("SELECT COUNT(*) FROM public_actions WHERE key = ? AND at > ?",
                                  {key, now - window}));
    if (rows.at(0).i64(0) >= max) return ok();
    allowed = true;
    return db.exec("INSERT INTO public_actions (key, at) VALUES (?, ?)", {key, now});
  }));
  return allowed;
}

Result<void> clear_login_failures(Db& db, const std::string& key) {
  return db.exec("DELETE FROM login_failures WHERE key = ?", {key});
}

}  // namespace sk::store
