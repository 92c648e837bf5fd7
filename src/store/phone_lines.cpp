#include "store/phone_lines.hpp"

namespace sk::store {
namespace {

constexpr const char* kCols =
    "SELECT id, client_id, number, sealed_token, forward_to, region, greeting, created_at FROM "
    "phone_lines ";

PhoneLine line_from(const Row& r) {
  return PhoneLine{r.str(0), r.str(1), r.str(2), r.str(3), r.str(4), r.str(5), r.str(6), r.i64(7)};
}

}  // namespace

Result<PhoneLine> save_phone_line(Db& db, IdSource& ids, const Clock& clock, PhoneLine line) {
  SK_ASSIGN(auto existing, phone_line_by_number(db, line.number));
  if (existing && existing->client != line.client)
    return make_error(Errc::conflict, line.number + " is another client's line");
  if (existing) {
    line.id = existing->id;
    line.created_at = existing->created_at;
    SK_TRY(db.exec(
        "UPDATE phone_lines SET sealed_token = ?, forward_to = ?, region = ?, greeting = ? WHERE "
        "id = ?",
        {line.sealed_token, line.forward_to, line.region, line.greeting, line.id}));
    return line;
  }
  line.id = ids.next("phl");
  line.created_at = clock.now();
  SK_TRY(
      db.exec("INSERT INTO phone_lines (id, client_id, number, sealed_token, forward_to, region, "
              "greeting, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              {line.id, line.client, line.number, line.sealed_token, line.forward_to, line.region,
               line.greeting, line.created_at}));
  return line;
}

Result<std::optional<PhoneLine>> phone_line_by_number(Db& db, const std::string& number) {
  SK_ASSIGN(auto rows, db.query(std::string(kCols) + "WHERE number = ?", {number}));
  if (rows.empty()) return std::optional<PhoneLine>{};
  return std::optional<PhoneLine>{line_from(rows[0])};
}

Result<std::vector<PhoneLine>> list_phone_lines(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kCols) + "WHERE client_id = ? ORDER BY number", {client}));
  std::vector<PhoneLine> out;
  for (const auto& r : rows) out.push_back(line_from(r));
  return out;
}

Result<bool> delete_phone_line(Db& db, const ClientId& client, const std::string& number) {
  SK_TRY(db.exec("DELETE FROM phone_lines WHERE client_id = ? AND number = ?", {client, number}));
  return db.changes() > 0;
}

Result<void> record_line_ok(Db& db, const PhoneLine& line, Timestamp now) {
  return db.exec(
      "UPDATE phone_lines SET last_ok_at = ?, refused_since = 0, refusals = 0 WHERE id = ? AND "
      "(refusals > 0 OR last_ok_at < ?)",
      {now, line.id, now - 60});
}

Result<void> record_line_refusal(Db& db, const PhoneLine& line, Timestamp now,
                                 const std::string& why) {
  return db.exec(
      "UPDATE phone_lines SET refusals = refusals + 1, refused_since = CASE WHEN refusals = 0 "
      "THEN ? ELSE refused_since END, last_refusal = ? WHERE id = ?",
      {now, why, line.id});
}

Result<std::vector<PhoneLineHealth>> phone_line_health(Db& db,
                                                       const std::vector<ClientId>& clients) {
  std::vector<PhoneLineHealth> out;
  for (const auto& c : clients) {
    SK_ASSIGN(auto rows,
              db.query("SELECT id, client_id, number, sealed_token, forward_to, region, greeting, "
                       "created_at, last_ok_at, refused_since, refusals, last_refusal FROM "
                       "phone_lines WHERE client_id = ? ORDER BY number",
                       {c}));
    for (const auto& r : rows)
      out.push_back(
          {line_from(r), Reachability{r.i64(8), r.i64(9), static_cast<int>(r.i64(10)), r.str(11)}});
  }
  return out;
}

Result<void> record_text_sent(Db& db, IdSource& ids, TextSent t) {
  if (t.id.empty()) t.id = ids.next("txt");
  return db.exec(
      "INSERT INTO texts_sent (id, client_id, item_id, to_number, body, reason, sent_at) VALUES "
      "(?, ?, ?, ?, ?, ?, ?)",
      {t.id, t.client, t.item, t.to, t.body, t.reason, t.sent_at});
}

Result<std::string> text_sent_for(Db& db, const ClientId& client, const ItemId& item) {
  SK_ASSIGN(auto rows, db.query("SELECT body FROM texts_sent WHERE client_id = ? AND item_id = ? "
                                "ORDER BY sent_at LIMIT 1",
                                {client, item}));
  return rows.empty() ? std::string() : rows[0].str(0);
}

Result<Timestamp> last_text_to(Db& db, const ClientId& client, const std::string& number) {
  SK_ASSIGN(auto rows, db.query("SELECT COALESCE(MAX(sent_at), 0) FROM texts_sent WHERE "
                                "client_id = ? AND to_number = ?",
                                {client, number}));
  return rows.at(0).i64(0);
}

}  // namespace sk::store
