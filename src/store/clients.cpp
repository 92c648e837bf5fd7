#include "store/repos.hpp"

namespace sk::store {

std::string DbIds::next(const std::string& prefix) {
  // A counter per prefix; RETURNING keeps it one statement on both engines (the column named
  // with its table: PostgreSQL also sees the proposed row's n).
  auto rows = db_.query(
      "INSERT INTO counters(name, n) VALUES (?, 1) "
      "ON CONFLICT(name) DO UPDATE SET n = counters.n + 1 RETURNING n",
      {prefix});
  if (!rows.ok() || rows->empty()) return RandomIds().next(prefix);
  return prefix + "_" + std::to_string(rows->at(0).i64(0));
}

namespace {
constexpr const char* kClientCols =
    "SELECT id, slug, name, email, timezone, policy, created_at, digest_at FROM clients ";

ClientRecord client_from(const Row& r) {
  return ClientRecord{r.str(0), r.str(1), r.str(2), r.str(3),
                      r.str(4), r.str(5), r.i64(6), r.str(7)};
}

bool valid_slug(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  return true;
}
}  // namespace

Result<ClientRecord> create_client(Db& db, IdSource& ids, const Clock& clock,
                                   const std::string& slug, const std::string& name,
                                   const std::string& email) {
  if (!valid_slug(slug))
    return make_error(Errc::invalid_input,
                      "client name '" + slug + "' must be 1-64 characters of a-z, 0-9, '-' or '_'");
  SK_ASSIGN(auto existing, db.query("SELECT id FROM clients WHERE slug = ?", {slug}));
  if (!existing.empty())
    return make_error(Errc::conflict, "a client named '" + slug + "' already exists");
  ClientRecord c{ids.next("cli"), slug, name.empty() ? slug : name, lower(email), "UTC", "{}",
                 clock.now(),     ""};
  SK_TRY(
      db.exec("INSERT INTO clients(id, slug, name, email, timezone, policy, created_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)",
              {c.id, c.slug, c.name, c.email, c.timezone, c.policy_json, c.created_at}));
  return c;
}

Result<ClientRecord> find_client(Db& db, const std::string& slug_or_id) {
  SK_ASSIGN(auto rows, db.query(std::string(kClientCols) + "WHERE slug = ? OR id = ?",
                                {slug_or_id, slug_or_id}));
  if (rows.empty()) return make_error(Errc::not_found, "no client '" + slug_or_id + "'");
  return client_from(rows[0]);
}

Result<std::vector<ClientRecord>> list_clients(Db& db) {
  SK_ASSIGN(auto rows, db.query(std::string(kClientCols) + "ORDER BY slug"));
  std::vector<ClientRecord> out;
  for (const auto& r : rows) out.push_back(client_from(r));
  return out;
}

Result<void> set_client_policy(Db& db, const ClientId& client, const std::string& policy_json) {
  return db.exec("UPDATE clients SET policy = ? WHERE id = ?", {policy_json, client});
}

Result<void> set_client_digest_at(Db& db, const ClientId& client, const std::string& at) {
  return db.exec("UPDATE clients SET digest_at = ? WHERE id = ?", {at, client});
}

Result<void> set_client_zone(Db& db, const ClientId& client, const std::string& zone) {
  return db.exec("UPDATE clients SET timezone = ? WHERE id = ?", {zone, client});
}

// --- parties ---

Result<std::optional<Party>> find_party(Db& db, const ClientId& client,
                                        const std::string& identity) {
  SK_ASSIGN(auto rows, db.query("SELECT p.id, p.name, p.relationship, p.let_in FROM identities i "
                                "JOIN parties p ON p.id = i.party_id "
                                "WHERE i.client_id = ? AND i.identity = ?",
                                {client, lower(identity)}));
  if (rows.empty()) return std::optional<Party>{};
  Party p;
  p.id = rows[0].str(0);
  p.client = client;
  p.name = rows[0].str(1);
  p.relationship = relationship_from(rows[0].str(2)).value_or(Relationship::unknown);
  p.let_in = rows[0].i64(3) != 0;
  SK_ASSIGN(auto idents, db.query("SELECT identity FROM identities WHERE client_id = ? AND "
                                  "party_id = ? ORDER BY identity",
                                  {client, p.id}));
  for (const auto& r : idents) p.identities.push_back(r.str(0));
  // History is what was already decided: triage goes oldest first, so that is "before".
  SK_ASSIGN(auto hist, db.query("SELECT COUNT(*), COALESCE(SUM(CASE WHEN d.disposition IN "
                                "('to-client','handled') THEN 1 ELSE 0 END), 0) FROM items it "
                                "JOIN decisions d ON d.item_id = it.id AND d.current = 1 "
                                "WHERE it.client_id = ? AND it.party_id = ?",
                                {client, p.id}));
  p.items_seen = static_cast<int>(hist[0].i64(0));
  p.items_let_in = static_cast<int>(hist[0].i64(1));
  return std::optional<Party>{std::move(p)};
}

Result<PartyId> ensure_party(Db& db, IdSource& ids, const Clock& clock, const ClientId& client,
                             const std::string& identity, const std::string& name) {
  std::string key = lower(identity);
  SK_ASSIGN(auto rows, db.query("SELECT party_id FROM identities WHERE client_id = ? AND "
                                "identity = ?",
                                {client, key}));
  if (!rows.empty()) return rows[0].str(0);
  PartyId id = ids.next("pty");
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_TRY(db.exec("INSERT INTO parties(id, client_id, name, created_at) VALUES (?, ?, ?, ?)",
                   {id, client, name, clock.now()}));
    return db.exec("INSERT INTO identities(client_id, identity, party_id) VALUES (?, ?, ?)",
                   {client, key, id});
  }));
  return id;
}

Result<Party> set_relationship(Db& db, IdSource& ids, const Clock& clock, const ClientId& client,
                               const std::string& identity, Relationship r,
                               const std::string& name) {
  if (identity.empty()) return make_error(Errc::invalid_input, "an address or number is needed");
  SK_ASSIGN(PartyId id, ensure_party(db, ids, clock, client, identity, name));
  SK_TRY(db.exec("UPDATE parties SET relationship = ? WHERE id = ? AND client_id = ?",
                 {std::string(to_string(r)), id, client}));
  if (!name.empty())
    SK_TRY(
        db.exec("UPDATE parties SET name = ? WHERE id = ? AND client_id = ?", {name, id, client}));
  SK_ASSIGN(auto p, find_party(db, client, identity));
  if (!p) return make_error(Errc::internal, "party for " + identity + " vanished");
  return Party(std::move(*p));
}

Result<void> set_let_in(Db& db, const ClientId& client, const PartyId& party, bool let_in) {
  return db.exec("UPDATE parties SET let_in = ? WHERE id = ? AND client_id = ?",
                 {std::int64_t{let_in ? 1 : 0}, party, client});
}

Result<std::vector<Party>> list_parties(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT i.identity FROM identities i JOIN parties p ON p.id = "
                                "i.party_id WHERE i.client_id = ? AND p.relationship <> "
                                "'unknown' ORDER BY p.relationship, i.identity",
                                {client}));
  std::vector<Party> out;
  for (const auto& r : rows) {
    SK_ASSIGN(auto p, find_party(db, client, r.str(0)));
    if (p && (out.empty() || out.back().id != p->id)) out.push_back(std::move(*p));
  }
  return out;
}

}  // namespace sk::store
