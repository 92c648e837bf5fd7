#include "store/outgoing.hpp"

#include <array>
#include <nlohmann/json.hpp>

#include "store/lists.hpp"

namespace sk::store {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 7> kStatusNames{"draft",  "queued",    "sending",     "sent",
                                                       "failed", "discarded", "handing_over"};

constexpr const char* kCols =
    "SELECT id, client_id, item_id, kind, status, to_addrs, cc_addrs, subject, body, parts, "
    "message_id, source_key, raw, reason, created_by, created_at, attempts, next_attempt_at, "
    "last_error, sent_at, filed, account_id FROM outgoing ";

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string parts_json(const std::vector<OutgoingPart>& parts) {
  json a = json::array();
  for (const auto& p : parts)
    a.push_back(
        {{"content_type", p.content_type}, {"filename", p.filename}, {"content", p.content}});
  return dump(a);
}

std::vector<OutgoingPart> parts_from(const std::string& s) {
  std::vector<OutgoingPart> out;
  json a = json::parse(s, nullptr, false);
  if (!a.is_array()) return out;
  for (const auto& v : a)
    out.push_back({v.value("content_type", ""), v.value("filename", ""), v.value("content", "")});
  return out;
}

OutgoingMessage outgoing_from(const Row& r) {
  OutgoingMessage m;
  m.id = r.str(0);
  m.client = r.str(1);
  m.answers = r.str(2);
  m.kind = r.str(3);
  m.status = outgoing_status_from(r.str(4)).value_or(OutgoingStatus::failed);
  m.to = list_from_json(r.str(5));
  m.cc = list_from_json(r.str(6));
  m.subject = r.str(7);
  m.body = r.str(8);
  m.parts = parts_from(r.str(9));
  m.message_id = r.str(10);
  m.source_key = r.str(11);
  m.raw = r.str(12);
  m.reason = r.str(13);
  m.created_by = r.str(14);
  m.created_at = r.i64(15);
  m.attempts = static_cast<int>(r.i64(16));
  m.next_attempt_at = r.i64(17);
  m.last_error = r.str(18);
  m.sent_at = r.is_null(19) ? 0 : r.i64(19);
  m.filed = r.i64(20) != 0;
  m.account = r.str(21);
  return m;
}

Value nullable(const std::string& s) {
  return s.empty() ? Value{} : Value{s};
}

}  // namespace

std::string_view to_string(OutgoingStatus s) {
  return kStatusNames.at(static_cast<std::size_t>(s));
}

std::optional<OutgoingStatus> outgoing_status_from(std::string_view s) {
  for (std::size_t i = 0; i < kStatusNames.size(); ++i)
    if (kStatusNames[i] == s) return static_cast<OutgoingStatus>(i);
  return std::nullopt;
}

Result<OutgoingMessage> insert_outgoing(Db& db, const OutgoingMessage& m) {
  if (m.id.empty() || m.message_id.empty())
    return make_error(Errc::invalid_input, "an outgoing message needs an id and a Message-ID");
  if (!m.source_key.empty()) {
    SK_ASSIGN(auto rows, db.query(std::string(kCols) + "WHERE client_id = ? AND source_key = ?",
                                  {m.client, m.source_key}));
    if (!rows.empty()) return outgoing_from(rows[0]);
  }
  SK_TRY(db.exec(
      "INSERT INTO outgoing(id, client_id, item_id, kind, status, to_addrs, cc_addrs, subject, "
      "body, parts, message_id, source_key, raw, reason, created_by, created_at, attempts, "
      "next_attempt_at, last_error, sent_at, filed, account_id) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {m.id,
       m.client,
       nullable(m.answers),
       m.kind,
       std::string(to_string(m.status)),
       json_list(m.to),
       json_list(m.cc),
       m.subject,
       m.body,
       parts_json(m.parts),
       m.message_id,
       nullable(m.source_key),
       nullable(m.raw),
       m.reason,
       m.created_by,
       m.created_at,
       std::int64_t{m.attempts},
       m.next_attempt_at,
       m.last_error,
       m.sent_at ? Value{m.sent_at} : Value{},
       std::int64_t{m.filed ? 1 : 0},
       m.account}));
  return m;
}

Result<OutgoingMessage> get_outgoing(Db& db, const ClientId& client, const std::string& id) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kCols) + "WHERE client_id = ? AND id = ?", {client, id}));
  if (rows.empty()) return make_error(Errc::not_found, "no outgoing message '" + id + "'");
  return outgoing_from(rows[0]);
}

Result<std::vector<OutgoingMessage>> list_outgoing(Db& db, const ClientId& client,
                                                   std::optional<OutgoingStatus> status) {
  std::vector<Row> rows;
  if (status) {
    SK_ASSIGN(rows, db.query(std::string(kCols) +
                                 "WHERE client_id = ? AND status = ? ORDER BY rowid DESC",
                             {client, std::string(to_string(*status))}));
  } else {
    SK_ASSIGN(rows,
              db.query(std::string(kCols) + "WHERE client_id = ? ORDER BY rowid DESC", {client}));
  }
  std::vector<OutgoingMessage> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(outgoing_from(r));
  return out;
}

Result<std::vector<OutgoingMessage>> due_outgoing(Db& db, const ClientId& client, Timestamp now,
                                                  int limit, const std::string& account) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kCols) +
                         "WHERE client_id = ? AND ((status = 'queued' AND "
                         "next_attempt_at <= ?) OR status IN ('sending', 'handing_over') OR "
                         "(status = 'sent' AND filed = 0 AND next_attempt_at <= ?)) "
                         "AND (? = '' OR account_id = '' OR account_id = ?) "
                         "ORDER BY created_at, rowid LIMIT ?",
                     {client, now, now, account, account, std::int64_t{limit}}));
  std::vector<OutgoingMessage> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(outgoing_from(r));
  return out;
}

Result<void> update_outgoing(Db& db, const OutgoingMessage& m) {
  SK_TRY(
      db.exec("UPDATE outgoing SET status = ?, to_addrs = ?, cc_addrs = ?, subject = ?, body = ?, "
              "parts = ?, raw = ?, reason = ?, attempts = ?, next_attempt_at = ?, last_error = ?, "
              "sent_at = ?, filed = ? WHERE client_id = ? AND id = ?",
              {std::string(to_string(m.status)), json_list(m.to), json_list(m.cc), m.subject,
               m.body, parts_json(m.parts), nullable(m.raw), m.reason, std::int64_t{m.attempts},
               m.next_attempt_at, m.last_error, m.sent_at ? Value{m.sent_at} : Value{},
               std::int64_t{m.filed ? 1 : 0}, m.client, m.id}));
  if (db.changes() == 0) return make_error(Errc::not_found, "no outgoing message '" + m.id + "'");
  return ok();
}

Result<Timestamp> last_outgoing_to(Db& db, const ClientId& client, const std::string& kind,
                                   const std::string& address) {
  // to_addrs is a JSON array of lower-case addresses; the quotes make the match exact.
  SK_ASSIGN(auto rows, db.query("SELECT COALESCE(MAX(created_at), 0) FROM outgoing WHERE "
                                "client_id = ? AND kind = ? AND status <> 'discarded' AND "
                                "instr(to_addrs, ?) > 0",
                                {client, kind, dump(json(lower(address)))}));
  return rows.at(0).i64(0);
}

Result<std::optional<Template>> get_template(Db& db, const ClientId& client,
                                             const std::string& name) {
  SK_ASSIGN(auto rows, db.query("SELECT name, subject, body FROM templates WHERE client_id = ? "
                                "AND name = ?",
                                {client, name}));
  if (rows.empty()) return std::optional<Template>{};
  return std::optional<Template>(Template{rows[0].str(0), rows[0].str(1), rows[0].str(2)});
}

Result<void> set_template(Db& db, const ClientId& client, const Template& t) {
  if (t.name.empty() || t.body.empty())
    return make_error(Errc::invalid_input, "a template needs a name and a body");
  return db.exec(
      "INSERT INTO templates(client_id, name, subject, body) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(client_id, name) DO UPDATE SET subject = excluded.subject, body = excluded.body",
      {client, t.name, t.subject, t.body});
}

Result<bool> delete_template(Db& db, const ClientId& client, const std::string& name) {
  SK_ASSIGN(auto rows,
            db.query("SELECT 1 FROM templates WHERE client_id = ? AND name = ?", {client, name}));
  if (rows.empty()) return false;
  SK_TRY(db.exec("DELETE FROM templates WHERE client_id = ? AND name = ?", {client, name}));
  return true;
}

Result<std::vector<Template>> list_templates(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT name, subject, body FROM templates WHERE client_id = ? "
                                "ORDER BY name",
                                {client}));
  std::vector<Template> out;
  for (const auto& r : rows) out.push_back({r.str(0), r.str(1), r.str(2)});
  return out;
}

}  // namespace sk::store
