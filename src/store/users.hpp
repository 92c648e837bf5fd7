#pragma once
// Console users, the clients each may see, sessions, API tokens and failed logins. Secrets are
// never stored: passwords as argon2id strings, session and API tokens as SHA-256 hashes.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"

namespace sk::store {

enum class Role { admin, va, client };
std::string_view to_string(Role r);
std::optional<Role> role_from(std::string_view s);

struct UserRecord {
  std::string id;
  std::string name;
  Role role = Role::va;
  ClientId client;  // the one client a `client` user belongs to
  std::string password_hash;
  Timestamp created_at = 0;
};

// `client` is required for (and only for) the client role. The password is already hashed.
Result<UserRecord> create_user(Db& db, IdSource& ids, const Clock& clock, const std::string& name,
                               Role role, const ClientId& client, const std::string& password_hash);
Result<UserRecord> find_user(Db& db, const std::string& name_or_id);
Result<std::vector<UserRecord>> list_users(Db& db);
Result<void> set_password_hash(Db& db, const std::string& user_id, const std::string& hash);

// A VA works for the clients assigned to them.
Result<void> assign(Db& db, const std::string& user_id, const ClientId& client);
Result<void> unassign(Db& db, const std::string& user_id, const ClientId& client);
// The clients this user may see: all of them for an admin, the assigned ones for a VA, the
// own one for a client user. The one answer to "whose data may this user see".
Result<std::vector<ClientId>> clients_of_user(Db& db, const UserRecord& user);

struct SessionRecord {
  std::string user_id;
  std::string csrf;
  Timestamp expires_at = 0;
};
Result<void> create_session(Db& db, const std::string& token_hash, const std::string& user_id,
                            const std::string& csrf, Timestamp now, Timestamp expires_at);
// Only a session that has not expired.
Result<std::optional<SessionRecord>> find_session(Db& db, const std::string& token_hash,
                                                  Timestamp now);
Result<void> delete_session(Db& db, const std::string& token_hash);
// Signs the user out everywhere; how many sessions ended.
Result<int> end_sessions(Db& db, const std::string& user_id);

struct ApiTokenRecord {
  std::string id;
  std::string user_id;
  std::string name;
  Timestamp created_at = 0;
};
Result<ApiTokenRecord> create_api_token(Db& db, IdSource& ids, const Clock& clock,
                                        const std::string& user_id, const std::string& token_hash,
                                        const std::string& name);
Result<std::optional<ApiTokenRecord>> find_api_token(Db& db, const std::string& token_hash);
// Every token (never their secrets), oldest first.
Result<std::vector<ApiTokenRecord>> list_api_tokens(Db& db);
// False when there is no such token.
Result<bool> revoke_api_token(Db& db, const std::string& id);

// Failed logins, by key (a user name, an address); old ones are forgotten.
Result<void> record_login_failure(Db& db, const std::string& key, Timestamp at);
Result<int> login_failures_since(Db& db, const std::string& key, Timestamp since);
Result<void> clear_login_failures(Db& db, const std::string& key);

// Whether one more action under `key` (an IP, an address) fits: fewer than `max` in the
// `window` seconds before `now`. When it fits it is counted at once, in one transaction, so
// two processes cannot both take the last one.
Result<bool> allow_public_action(Db& db, const std::string& key, Timestamp now, int max,
                                 Timestamp window);

// --- the VA's queue ---
struct QueueRow {
  ClientId client;
  ItemId item;
  std::string from;
  std::string from_name;
  std::string subject;
  Timestamp received_at = 0;
  ParseStatus parse_status = ParseStatus::ok;
  Decision decision;
};
// Items of this client that wait for a person: decided by triage (no person has looked since)
// and awaiting the VA, screened (but not as spam), protected, or decided with confidence below
// `low_confidence`.
Result<std::vector<QueueRow>> queue_rows(Db& db, const ClientId& client, double low_confidence);
// How far these clients' data has changed: grows with every decision, every change to a draft
// and to the client records, whichever process made it. Live views refresh and cached views
// rebuild when it moves.
Result<std::int64_t> revision(Db& db, const std::vector<ClientId>& clients);
// Decided items with every word somewhere in their sender's address or name, subject or text
// (ASCII letters in any case), newest first.
Result<std::vector<QueueRow>> search_items(Db& db, const ClientId& client,
                                           const std::vector<std::string>& words, int limit);
// Decisions of items received in [from, to), newest first.
Result<std::vector<QueueRow>> rows_between(Db& db, const ClientId& client, Timestamp from,
                                           Timestamp to);

}  // namespace sk::store
