#include <nlohmann/json.hpp>

#include "core/hash.hpp"
#include "store/repos.hpp"

namespace sk::store {
namespace {

using nlohmann::json;

// The parts of an item no query filters on live in one JSON column; the text has its own,
// because parsing a long string out of JSON cost more than deciding the item.
std::string body_json(const Item& it) {
  json headers = json::array();
  for (const auto& h : it.headers) headers.push_back({h.name, h.value});
  json attachments = json::array();
  for (const auto& a : it.attachments)
    attachments.push_back({{"filename", a.filename}, {"type", a.content_type}, {"size", a.size}});
  json j{{"to", it.to},
         {"cc", it.cc},
         {"html_only", it.html_only},
         {"link_hosts", it.link_hosts},
         {"html_tags", it.html_tags},
         {"headers", headers},
         {"attachments", attachments},
         {"in_reply_to", it.in_reply_to},
         {"references", it.references},
         {"defects", it.defects},
         {"raw_size", it.raw_size}};
  // Invalid UTF-8 must never make an item unstorable.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void read_body(const std::string& s, Item& it) {
  json j = json::parse(s, nullptr, false);
  if (j.is_discarded()) {
    it.defects.push_back("stored body could not be read");
    return;
  }
  it.to = j.value("to", std::vector<std::string>{});
  it.cc = j.value("cc", std::vector<std::string>{});
  it.html_only = j.value("html_only", false);
  it.link_hosts = j.value("link_hosts", std::vector<std::string>{});
  it.html_tags = j.value("html_tags", std::vector<std::string>{});
  for (const auto& h : j.value("headers", json::array()))
    it.headers.push_back({h.at(0).get<std::string>(), h.at(1).get<std::string>()});
  for (const auto& a : j.value("attachments", json::array()))
    it.attachments.push_back(
        {a.value("filename", ""), a.value("type", ""), a.value("size", std::size_t{0})});
  it.in_reply_to = j.value("in_reply_to", "");
  it.references = j.value("references", std::vector<std::string>{});
  it.defects = j.value("defects", std::vector<std::string>{});
  it.raw_size = j.value("raw_size", std::size_t{0});
}

}  // namespace

Result<bool> insert_item(Db& db, const Item& it, const PartyId& party, const std::string& raw,
                         const std::string& origin) {
  bool inserted = false;
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_TRY(db.exec(
        "INSERT INTO items(id, client_id, channel, source_key, party_id, from_address, "
        "from_name, subject, message_id, sent_at, received_at, parse_status, text, body, origin, "
        "content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(client_id, source_key) DO NOTHING",
        {it.id, it.client, std::string(to_string(it.channel)), it.source_key,
         party.empty() ? Value{} : Value{party}, it.from_address, it.from_name, it.subject,
         it.message_id, it.sent_at, it.received_at, std::string(to_string(it.parse_status)),
         it.text, body_json(it), origin, sha256_hex(raw)}));
    inserted = db.changes() > 0;
    if (!inserted) return ok();
    return db.exec("INSERT INTO raw_messages(item_id, client_id, bytes) VALUES (?, ?, ?)",
                   {it.id, it.client, raw});
  }));
  return inserted;
}

Result<void> set_item_text(Db& db, const ClientId& client, const ItemId& id,
                           const std::string& text) {
  SK_TRY(db.exec("UPDATE items SET text = ? WHERE client_id = ? AND id = ?", {text, client, id}));
  if (db.changes() == 0) return make_error(Errc::not_found, "no item '" + id + "' for this client");
  return ok();
}

Result<StoredItem> get_item(Db& db, const ClientId& client, const ItemId& id) {
  SK_ASSIGN(auto rows,
            db.query("SELECT channel, source_key, COALESCE(party_id, ''), from_address, "
                     "from_name, subject, message_id, sent_at, received_at, parse_status, body, "
                     "origin, text FROM items WHERE client_id = ? AND id = ?",
                     {client, id}));
  if (rows.empty()) return make_error(Errc::not_found, "no item '" + id + "' for this client");
  const auto& r = rows[0];
  StoredItem s;
  Item& it = s.item;
  it.id = id;
  it.client = client;
  it.channel = channel_from(r.str(0)).value_or(Channel::email);
  it.source_key = r.str(1);
  s.party = r.str(2);
  it.from_address = r.str(3);
  it.from_name = r.str(4);
  it.subject = r.str(5);
  it.message_id = r.str(6);
  it.sent_at = r.i64(7);
  it.received_at = r.i64(8);
  it.parse_status = parse_status_from(r.str(9)).value_or(ParseStatus::unreadable);
  read_body(r.str(10), it);
  s.origin = r.str(11);
  it.text = r.str(12);
  return s;
}

Result<ItemId> find_item_by_content(Db& db, const ClientId& client, const std::string& raw,
                                    const std::string& key_prefix) {
  SK_ASSIGN(auto rows, db.query("SELECT id FROM items WHERE client_id = ? AND content_hash = ? "
                                "AND substr(source_key, 1, ?) = ? ORDER BY rowid LIMIT 1",
                                {client, sha256_hex(raw),
                                 static_cast<std::int64_t>(key_prefix.size()), key_prefix}));
  if (rows.empty()) return ItemId{};
  return rows[0].str(0);
}

Result<ItemId> rekey_item(Db& db, const ClientId& client, const std::string& raw,
                          const std::string& key_prefix, const std::string& new_key) {
  SK_ASSIGN(ItemId id, find_item_by_content(db, client, raw, key_prefix));
  if (id.empty()) return id;
  SK_TRY(db.exec("UPDATE items SET source_key = ? WHERE client_id = ? AND id = ?",
                 {new_key, client, id}));
  return id;
}

Result<std::string> raw_message(Db& db, const ClientId& client, const ItemId& id) {
  SK_ASSIGN(auto rows, db.query("SELECT bytes FROM raw_messages WHERE client_id = ? AND "
                                "item_id = ?",
                                {client, id}));
  if (rows.empty()) return make_error(Errc::not_found, "no raw message for item '" + id + "'");
  return rows[0].str(0);
}

Result<std::vector<ItemId>> undecided_items(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT it.id FROM items it WHERE it.client_id = ? AND NOT EXISTS "
                                "(SELECT 1 FROM decisions d WHERE d.item_id = it.id) "
                                "ORDER BY it.received_at, it.rowid",
                                {client}));
  std::vector<ItemId> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(r.str(0));
  return out;
}

Result<ClientId> client_of_item(Db& db, const ItemId& id) {
  SK_ASSIGN(auto rows, db.query("SELECT client_id FROM items WHERE id = ?", {id}));
  if (rows.empty()) return make_error(Errc::not_found, "no item '" + id + "'");
  return rows[0].str(0);
}

Result<std::int64_t> count_items(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT COUNT(*) FROM items WHERE client_id = ?", {client}));
  return rows[0].i64(0);
}

}  // namespace sk::store
