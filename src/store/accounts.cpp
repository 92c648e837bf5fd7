#include "store/accounts.hpp"

namespace sk::store {
namespace {

constexpr const char* kCols =
    "SELECT id, client_id, address, username, secret, secret_kind, imap_host, imap_port, "
    "imap_security, smtp_host, smtp_port, smtp_security, verify_certificate, first_pass_days, "
    "created_at, sent_folder FROM accounts ";

AccountRecord account_from(const Row& r) {
  AccountRecord a;
  a.id = r.str(0);
  a.client = r.str(1);
  a.address = r.str(2);
  a.username = r.str(3);
  a.sealed_secret = r.str(4);
  a.secret_kind = r.str(5);
  a.imap_host = r.str(6);
  a.imap_port = static_cast<int>(r.i64(7));
  a.imap_security = r.str(8);
  a.smtp_host = r.str(9);
  a.smtp_port = static_cast<int>(r.i64(10));
  a.smtp_security = r.str(11);
  a.verify_certificate = r.i64(12) != 0;
  a.first_pass_days = static_cast<int>(r.i64(13));
  a.created_at = r.i64(14);
  a.sent_folder = r.str(15);
  return a;
}

bool one_of(const std::string& v, std::initializer_list<const char*> options) {
  for (const char* o : options)
    if (v == o) return true;
  return false;
}

}  // namespace

Result<AccountRecord> add_account(Db& db, IdSource& ids, const Clock& clock, AccountRecord a) {
  a.address = lower(a.address);
  if (a.address.find('@') == std::string::npos)
    return make_error(Errc::invalid_input, "'" + a.address + "' is not a mail address");
  if (a.imap_host.empty()) return make_error(Errc::invalid_input, "an IMAP host is needed");
  if (a.imap_port <= 0 || a.imap_port > 65535 || a.smtp_port < 0 || a.smtp_port > 65535)
    return make_error(Errc::invalid_input, "ports are 1-65535");
  if (!one_of(a.imap_security, {"tls", "starttls", "none"}) ||
      !one_of(a.smtp_security, {"tls", "starttls", "none"}))
    return make_error(Errc::invalid_input, "security is tls, starttls or none");
  if (!one_of(a.secret_kind, {"password", "xoauth2"}))
    return make_error(Errc::invalid_input, "the secret is a password or an xoauth2 token");
  if (a.first_pass_days < 0) return make_error(Errc::invalid_input, "first pass days must be >= 0");
  SK_ASSIGN(auto existing, db.query("SELECT id FROM accounts WHERE client_id = ? AND address = ?",
                                    {a.client, a.address}));
  if (!existing.empty())
    return make_error(Errc::conflict, "the client already has an account for " + a.address);
  a.id = ids.next("acc");
  a.created_at = clock.now();
  SK_TRY(db.exec(
      "INSERT INTO accounts(id, client_id, address, username, secret, secret_kind, imap_host, "
      "imap_port, imap_security, smtp_host, smtp_port, smtp_security, verify_certificate, "
      "first_pass_days, created_at, sent_folder) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {a.id, a.client, a.address, a.username, a.sealed_secret, a.secret_kind, a.imap_host,
       std::int64_t{a.imap_port}, a.imap_security, a.smtp_host, std::int64_t{a.smtp_port},
       a.smtp_security, std::int64_t{a.verify_certificate ? 1 : 0}, std::int64_t{a.first_pass_days},
       a.created_at, a.sent_folder.empty() ? std::string("Sent") : a.sent_folder}));
  return a;
}

Result<std::vector<AccountRecord>> list_accounts(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kCols) + "WHERE client_id = ? ORDER BY address", {client}));
  std::vector<AccountRecord> out;
  for (const auto& r : rows) out.push_back(account_from(r));
  return out;
}

Result<std::vector<AccountRecord>> all_accounts(Db& db) {
  SK_ASSIGN(auto rows, db.query(std::string(kCols) + "ORDER BY client_id, address"));
  std::vector<AccountRecord> out;
  for (const auto& r : rows) out.push_back(account_from(r));
  return out;
}

Result<AccountRecord> get_account(Db& db, const ClientId& client,
                                  const std::string& id_or_address) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kCols) + "WHERE client_id = ? AND (id = ? OR address = ?)",
                     {client, id_or_address, lower(id_or_address)}));
  if (rows.empty())
    return make_error(Errc::not_found, "no account '" + id_or_address + "' for this client");
  return account_from(rows[0]);
}

Result<void> record_account_ok(Db& db, const AccountRecord& a, Timestamp now) {
  return db.exec(
      "INSERT INTO account_health(account_id, client_id, last_ok_at) VALUES (?, ?, ?) "
      "ON CONFLICT(account_id) DO UPDATE SET last_ok_at = excluded.last_ok_at, "
      "failing_since = 0, failures = 0, last_error = ''",
      {a.id, a.client, now});
}

Result<void> record_account_failure(Db& db, const AccountRecord& a, Timestamp now,
                                    const std::string& error) {
  return db.exec(
      "INSERT INTO account_health(account_id, client_id, failing_since, failures, last_error) "
      "VALUES (?, ?, ?, 1, ?) ON CONFLICT(account_id) DO UPDATE SET failing_since = CASE WHEN "
      "account_health.failures = 0 THEN excluded.failing_since ELSE account_health.failing_since "
      "END, failures = account_health.failures + 1, last_error = excluded.last_error",
      {a.id, a.client, now, error});
}

Result<std::vector<AccountHealth>> account_health(Db& db, const std::vector<ClientId>& clients) {
  std::vector<AccountHealth> out;
  for (const auto& client : clients) {
    SK_ASSIGN(auto rows, db.query("SELECT a.id, a.client_id, a.address, "
                                  "COALESCE(h.last_ok_at, 0), COALESCE(h.failing_since, 0), "
                                  "COALESCE(h.failures, 0), COALESCE(h.last_error, '') "
                                  "FROM accounts a LEFT JOIN account_health h ON h.account_id = "
                                  "a.id WHERE a.client_id = ? ORDER BY a.address",
                                  {client}));
    for (const auto& r : rows)
      out.push_back({r.str(0), r.str(1), r.str(2),
                     Reachability{r.i64(3), r.i64(4), static_cast<int>(r.i64(5)), r.str(6)}});
  }
  return out;
}

Result<std::optional<MailboxState>> mailbox_state(Db& db, const std::string& account,
                                                  const std::string& folder) {
  SK_ASSIGN(auto rows, db.query("SELECT uidvalidity, last_uid FROM mailbox_state WHERE "
                                "account_id = ? AND folder = ?",
                                {account, folder}));
  if (rows.empty()) return std::optional<MailboxState>{};
  return std::optional<MailboxState>{MailboxState{static_cast<std::uint32_t>(rows[0].i64(0)),
                                                  static_cast<std::uint32_t>(rows[0].i64(1))}};
}

Result<void> save_mailbox_state(Db& db, const std::string& account, const std::string& folder,
                                const MailboxState& s) {
  return db.exec(
      "INSERT INTO mailbox_state(account_id, folder, uidvalidity, last_uid) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(account_id, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity, "
      "last_uid = excluded.last_uid",
      {account, folder, std::int64_t{s.uidvalidity}, std::int64_t{s.last_uid}});
}

Result<std::optional<ItemLocation>> item_location(Db& db, const ClientId& client,
                                                  const ItemId& item) {
  SK_ASSIGN(auto rows, db.query("SELECT account_id, folder, uid FROM item_locations WHERE "
                                "client_id = ? AND item_id = ?",
                                {client, item}));
  if (rows.empty()) return std::optional<ItemLocation>{};
  return std::optional<ItemLocation>{
      ItemLocation{rows[0].str(0), rows[0].str(1), static_cast<std::uint32_t>(rows[0].i64(2))}};
}

Result<void> set_item_location(Db& db, const ClientId& client, const ItemId& item,
                               const ItemLocation& w) {
  return db.exec(
      "INSERT INTO item_locations(item_id, client_id, account_id, folder, uid) VALUES "
      "(?, ?, ?, ?, ?) ON CONFLICT(item_id) DO UPDATE SET folder = excluded.folder, "
      "uid = excluded.uid",
      {item, client, w.account, w.folder, std::int64_t{w.uid}});
}

std::string imap_item_key(const std::string& account, std::uint32_t uidvalidity,
                          std::uint32_t uid) {
  return "imap:" + account + ":" + std::to_string(uidvalidity) + ":" + std::to_string(uid);
}

std::string account_of_item_key(const std::string& key) {
  if (key.rfind("imap:", 0) != 0) return "";
  auto end = key.find(':', 5);
  return end == std::string::npos ? "" : key.substr(5, end - 5);
}

}  // namespace sk::store
