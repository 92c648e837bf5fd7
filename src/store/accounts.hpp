#pragma once
// Mail accounts of a client and what Sidekick has seen of each mailbox.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "store/reachability.hpp"

namespace sk::store {

struct AccountRecord {
  std::string id;
  ClientId client;
  std::string address;
  std::string username;
  std::string sealed_secret;  // password or OAuth token, sealed (core/secrets.hpp)
  std::string secret_kind;    // "password" or "xoauth2"
  std::string imap_host;
  int imap_port = 993;
  std::string imap_security = "tls";  // tls, starttls, none
  std::string smtp_host;
  int smtp_port = 587;
  std::string smtp_security = "starttls";
  bool verify_certificate = true;
  int first_pass_days = 14;          // how far back the first pass over INBOX looks
  std::string sent_folder = "Sent";  // where copies of what Sidekick sends are kept
  Timestamp created_at = 0;
};

// The item key of a message taken in from a watched mailbox: account, UIDVALIDITY and UID.
std::string imap_item_key(const std::string& account, std::uint32_t uidvalidity, std::uint32_t uid);
// The account in such a key; empty for an item from anywhere else (an import, a test).
std::string account_of_item_key(const std::string& key);

Result<AccountRecord> add_account(Db& db, IdSource& ids, const Clock& clock, AccountRecord a);
Result<std::vector<AccountRecord>> list_accounts(Db& db, const ClientId& client);
// Operator view: every account of every client (what `sidekick serve` watches).
Result<std::vector<AccountRecord>> all_accounts(Db& db);
// By id or address.
Result<AccountRecord> get_account(Db& db, const ClientId& client, const std::string& id_or_address);

// Whether a watched mailbox can be read: a failure is a round that did not go through. An
// account never polled has all zeros.
struct AccountHealth {
  std::string account;
  ClientId client;
  std::string address;
  Reachability reach;
  static constexpr Reachability::Words kWords{"cannot be read", "read", "not read yet"};
};
Result<void> record_account_ok(Db& db, const AccountRecord& a, Timestamp now);
Result<void> record_account_failure(Db& db, const AccountRecord& a, Timestamp now,
                                    const std::string& error);
// Every account of these clients, by client and address.
Result<std::vector<AccountHealth>> account_health(Db& db, const std::vector<ClientId>& clients);

struct MailboxState {
  std::uint32_t uidvalidity = 0;
  std::uint32_t last_uid = 0;  // the highest UID taken in
};
Result<std::optional<MailboxState>> mailbox_state(Db& db, const std::string& account,
                                                  const std::string& folder);
Result<void> save_mailbox_state(Db& db, const std::string& account, const std::string& folder,
                                const MailboxState& state);

// Where a message of a watched mailbox is now (Sidekick moved it, or the client did).
struct ItemLocation {
  std::string account;
  std::string folder;
  std::uint32_t uid = 0;  // 0: not known (the server did not say where a move put it)
};
Result<std::optional<ItemLocation>> item_location(Db& db, const ClientId& client,
                                                  const ItemId& item);
Result<void> set_item_location(Db& db, const ClientId& client, const ItemId& item,
                               const ItemLocation& where);

}  // namespace sk::store
