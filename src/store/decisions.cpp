#include <nlohmann/json.hpp>

#include "core/hash.hpp"
#include "store/repos.hpp"
#include "store/users.hpp"

namespace sk::store {
namespace {

using nlohmann::json;

std::string reasons_json(const std::vector<Reason>& reasons) {
  json a = json::array();
  for (const auto& r : reasons) a.push_back({{"code", r.code}, {"text", r.text}});
  return a.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<Reason> reasons_from(const std::string& s) {
  std::vector<Reason> out;
  json a = json::parse(s, nullptr, false);
  if (!a.is_array()) return out;
  for (const auto& r : a) out.push_back({r.value("code", ""), r.value("text", "")});
  return out;
}

constexpr const char* kDecisionCols =
    "d.item_id, d.category, d.disposition, d.confidence, d.spam_score, d.labels, d.reasons, "
    "d.decided_by, d.decided_at";

Decision decision_from(const Row& r, std::size_t o) {
  Decision d;
  d.item = r.str(o);
  d.category = category_from(r.str(o + 1)).value_or(Category::other);
  d.disposition = disposition_from(r.str(o + 2)).value_or(Disposition::awaiting_va);
  d.confidence = r.f64(o + 3);
  d.spam_score = r.f64(o + 4);
  json labels = json::parse(r.str(o + 5), nullptr, false);
  if (labels.is_array())
    for (const auto& l : labels)
      if (l.is_string()) d.labels.push_back(l.get<std::string>());
  d.reasons = reasons_from(r.str(o + 6));
  d.decided_by = r.str(o + 7);
  d.decided_at = r.i64(o + 8);
  return d;
}

std::string evidence_hash(const std::string& prev, const ClientId& client, std::int64_t seq,
                          const ItemId& item, const PartyId& party, Timestamp at,
                          const std::string& payload) {
  // Length-prefixed fields, so no two different entries serialize alike.
  std::string buf;
  for (const std::string& f :
       {prev, client, std::to_string(seq), item, party, std::to_string(at), payload}) {
    buf += std::to_string(f.size());
    buf += ':';
    buf += f;
  }
  return sha256_hex(buf);
}

}  // namespace

Result<std::string> record_decision(Db& db, IdSource& ids, const Clock& clock,
                                    const ClientId& client, const Decision& d,
                                    const std::string& actor, const std::string& audit_reason) {
  std::string decision_id = ids.next("dec");
  Timestamp now = clock.now();
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_ASSIGN(auto owner, db.query("SELECT COALESCE(party_id, '') FROM items WHERE client_id = ? "
                                   "AND id = ?",
                                   {client, d.item}));
    if (owner.empty()) return make_error(Errc::not_found, "no item '" + d.item + "'");
    SK_TRY(
        db.exec("UPDATE decisions SET current = 0 WHERE client_id = ? AND item_id = ? AND "
                "current = 1",
                {client, d.item}));
    // What the replaced decision planned and nobody has started is no longer wanted.
    SK_TRY(
        db.exec("UPDATE effects SET status = 'superseded' WHERE client_id = ? AND item_id = ? "
                "AND status = 'planned'",
                {client, d.item}));
    SK_TRY(
        db.exec("INSERT INTO decisions(id, client_id, item_id, category, disposition, confidence, "
                "spam_score, labels, reasons, decided_by, decided_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {decision_id, client, d.item, std::string(to_string(d.category)),
                 std::string(to_string(d.disposition)), d.confidence, d.spam_score,
                 json(d.labels).dump(-1, ' ', false, json::error_handler_t::replace),
                 reasons_json(d.reasons), actor, d.decided_at ? d.decided_at : now}));
    for (const auto& e : d.effects) {
      std::string key = decision_id + ":" + std::string(to_string(e.kind)) + ":" + e.target;
      SK_TRY(
          db.exec("INSERT INTO effects(id, client_id, decision_id, item_id, kind, target, "
                  "idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                  "ON CONFLICT(idempotency_key) DO NOTHING",
                  {ids.next("eff"), client, decision_id, d.item, std::string(to_string(e.kind)),
                   e.target, key, now}));
    }
    if (d.disposition == Disposition::protected_) {
      json payload{{"decision", decision_id},
                   {"category", to_string(d.category)},
                   {"reasons", json::parse(reasons_json(d.reasons))}};
      SK_TRY(append_evidence(db, client, now, d.item, owner[0].str(0),
                             payload.dump(-1, ' ', false, json::error_handler_t::replace)));
    }
    std::string what = std::string(label(d.category)) + ", " + std::string(label(d.disposition));
    return append_audit(db, client, now, actor, actor == "triage" ? "decided" : "corrected",
                        d.item + ": " + what, audit_reason);
  }));
  return decision_id;
}

Result<std::optional<Decision>> current_decision(Db& db, const ClientId& client,
                                                 const ItemId& item) {
  SK_ASSIGN(auto rows, db.query(std::string("SELECT ") + kDecisionCols +
                                    " FROM decisions d WHERE d.client_id = ? AND d.item_id = ? "
                                    "AND d.current = 1",
                                {client, item}));
  if (rows.empty()) return std::optional<Decision>{};
  return std::optional<Decision>{decision_from(rows[0], 0)};
}

Result<std::vector<Decision>> decision_history(Db& db, const ClientId& client, const ItemId& item) {
  SK_ASSIGN(auto rows, db.query(std::string("SELECT ") + kDecisionCols +
                                    " FROM decisions d WHERE d.client_id = ? AND d.item_id = ? "
                                    "ORDER BY d.rowid",
                                {client, item}));
  std::vector<Decision> out;
  for (const auto& r : rows) out.push_back(decision_from(r, 0));
  return out;
}

Result<std::vector<DecisionRow>> list_decisions(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query(std::string("SELECT it.id, it.from_address, it.subject, "
                                            "it.parse_status, ") +
                                    kDecisionCols +
                                    " FROM items it JOIN decisions d ON d.item_id = it.id AND "
                                    "d.current = 1 WHERE it.client_id = ? "
                                    "ORDER BY it.received_at, it.rowid",
                                {client}));
  std::vector<DecisionRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows)
    out.push_back({r.str(0), r.str(1), r.str(2),
                   parse_status_from(r.str(3)).value_or(ParseStatus::ok), decision_from(r, 4)});
  return out;
}

namespace {
constexpr const char* kEffectCols =
    "SELECT id, decision_id, item_id, kind, target, idempotency_key, status, attempts, result "
    "FROM effects ";

std::vector<EffectRecord> effects_from(const std::vector<Row>& rows) {
  std::vector<EffectRecord> out;
  for (const auto& r : rows)
    out.push_back({r.str(0), r.str(1), r.str(2),
                   effect_kind_from(r.str(3)).value_or(EffectKind::label), r.str(4), r.str(5),
                   r.str(6), static_cast<int>(r.i64(7)), r.str(8)});
  return out;
}
}  // namespace

Result<std::vector<EffectRecord>> effects_for_item(Db& db, const ClientId& client,
                                                   const ItemId& item) {
  SK_ASSIGN(auto rows, db.query(std::string(kEffectCols) +
                                    "WHERE client_id = ? AND item_id = ? ORDER BY rowid",
                                {client, item}));
  return effects_from(rows);
}

Result<std::vector<EffectRecord>> due_effects(Db& db, const ClientId& client, Timestamp now,
                                              int limit) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kEffectCols) +
                         "WHERE client_id = ? AND (status IN ('planned', 'running') OR "
                         "(status = 'failed' AND next_attempt_at > 0 AND next_attempt_at <= ?)) "
                         "ORDER BY created_at, rowid LIMIT ?",
                     {client, now, std::int64_t{limit}}));
  return effects_from(rows);
}

Result<std::vector<EffectRecord>> stuck_effects(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query(std::string(kEffectCols) +
                                    "WHERE client_id = ? AND status = 'failed' AND attempts >= ? "
                                    "ORDER BY created_at, rowid",
                                {client, std::int64_t{kStuckAttempts}}));
  return effects_from(rows);
}

Result<std::int64_t> retry_stuck_effects(Db& db, const ClientId& client, Timestamp now) {
  SK_TRY(
      db.exec("UPDATE effects SET next_attempt_at = ? WHERE client_id = ? AND status = "
              "'failed' AND attempts >= ?",
              {now, client, std::int64_t{kStuckAttempts}}));
  return db.changes();
}

Result<void> begin_effect(Db& db, const ClientId& client, const std::string& id) {
  return db.exec(
      "UPDATE effects SET status = 'running', attempts = attempts + 1 WHERE "
      "client_id = ? AND id = ?",
      {client, id});
}

Result<void> finish_effect(Db& db, const ClientId& client, const std::string& id, bool done,
                           const std::string& result, Timestamp now, Timestamp retry_at) {
  return db.exec(
      "UPDATE effects SET status = ?, result = ?, done_at = ?, next_attempt_at = ? "
      "WHERE client_id = ? AND id = ?",
      {std::string(done ? "done" : "failed"), result, done ? Value{now} : Value{}, retry_at, client,
       id});
}

// --- audit ---

Result<void> append_audit(Db& db, const ClientId& client, Timestamp at, const std::string& actor,
                          const std::string& action, const std::string& subject,
                          const std::string& reason) {
  return db.exec(
      "INSERT INTO audit(client_id, at, actor, action, subject, reason) VALUES (?, ?, ?, ?, ?, ?)",
      {client, at, actor, action, subject, reason});
}

Result<std::vector<AuditEntry>> list_audit(Db& db, const ClientId& client, int limit) {
  SK_ASSIGN(auto rows, db.query("SELECT seq, at, actor, action, subject, reason FROM audit "
                                "WHERE client_id = ? ORDER BY seq DESC LIMIT ?",
                                {client, std::int64_t{limit}}));
  std::vector<AuditEntry> out;
  for (auto it = rows.rbegin(); it != rows.rend(); ++it)
    out.push_back({it->i64(0), it->i64(1), it->str(2), it->str(3), it->str(4), it->str(5)});
  return out;
}

// --- evidence ---

Result<EvidenceEntry> append_evidence(Db& db, const ClientId& client, Timestamp at,
                                      const ItemId& item, const PartyId& party,
                                      const std::string& payload) {
  EvidenceEntry e;
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_ASSIGN(auto last, db.query("SELECT seq, hash FROM evidence WHERE client_id = ? ORDER BY "
                                  "seq DESC LIMIT 1",
                                  {client}));
    e.seq = last.empty() ? 1 : last[0].i64(0) + 1;
    e.prev_hash = last.empty() ? std::string(64, '0') : last[0].str(1);
    e.item = item;
    e.party = party;
    e.at = at;
    e.payload = payload;
    e.hash = evidence_hash(e.prev_hash, client, e.seq, item, party, at, payload);
    return db.exec(
        "INSERT INTO evidence(client_id, seq, item_id, party_id, at, payload, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {client, e.seq, item, party, at, payload, e.prev_hash, e.hash});
  }));
  return e;
}

Result<std::vector<EvidenceEntry>> list_evidence(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT seq, item_id, party_id, at, payload, prev_hash, hash "
                                "FROM evidence WHERE client_id = ? ORDER BY seq",
                                {client}));
  std::vector<EvidenceEntry> out;
  for (const auto& r : rows)
    out.push_back({r.i64(0), r.str(1), r.str(2), r.i64(3), r.str(4), r.str(5), r.str(6)});
  return out;
}

Result<EvidenceCheck> verify_evidence(Db& db, const ClientId& client) {
  SK_ASSIGN(auto entries, list_evidence(db, client));
  EvidenceCheck check;
  std::string prev(64, '0');
  std::int64_t expected_seq = 1;
  for (const auto& e : entries) {
    ++check.entries;
    std::string problem;
    if (e.seq != expected_seq)
      problem = "entry " + std::to_string(expected_seq) + " is missing";
    else if (e.prev_hash != prev)
      problem = "entry " + std::to_string(e.seq) + " does not follow the entry before it";
    else if (evidence_hash(prev, client, e.seq, e.item, e.party, e.at, e.payload) != e.hash)
      problem = "entry " + std::to_string(e.seq) + " was changed after it was recorded";
    if (!problem.empty() && check.intact) {
      check.intact = false;
      check.first_bad_seq = e.seq;
      check.problem = problem;
    }
    prev = e.hash;
    expected_seq = e.seq + 1;
  }
  return check;
}

// --- rules ---

Result<void> replace_rules(Db& db, const ClientId& client, const std::vector<std::string>& rules) {
  return db.transaction([&]() -> Result<void> {
    SK_TRY(db.exec("DELETE FROM rules WHERE client_id = ?", {client}));
    for (std::size_t i = 0; i < rules.size(); ++i)
      SK_TRY(db.exec("INSERT INTO rules(client_id, position, rule) VALUES (?, ?, ?)",
                     {client, static_cast<std::int64_t>(i), rules[i]}));
    return ok();
  });
}

Result<std::vector<std::string>> load_rules(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows,
            db.query("SELECT rule FROM rules WHERE client_id = ? ORDER BY position", {client}));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.str(0));
  return out;
}

// --- lessons ---

Result<void> add_lesson(Db& db, IdSource& ids, const ClientId& client, const LessonRecord& l) {
  return db.exec(
      "INSERT INTO lessons(id, client_id, item_id, category, sender, list_id, subject, "
      "features, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {ids.next("lsn"), client, l.item, l.category, l.sender, l.list_id, l.subject, l.features,
       l.created_at});
}

Result<void> set_lesson_features(Db& db, const ClientId& client, const LessonRecord& l,
                                 const std::string& features) {
  return db.exec(
      "UPDATE lessons SET features = ? WHERE client_id = ? AND item_id = ? AND features = ?",
      {features, client, l.item, l.features});
}

Result<std::vector<LessonRecord>> load_lessons(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT item_id, category, sender, list_id, subject, features, "
                                "created_at FROM lessons WHERE client_id = ? ORDER BY rowid",
                                {client}));
  std::vector<LessonRecord> out;
  for (const auto& r : rows)
    out.push_back({r.str(0), r.str(1), r.str(2), r.str(3), r.str(4), r.str(5), r.i64(6)});
  return out;
}

}  // namespace sk::store

namespace sk::store {
namespace {
std::vector<QueueRow> queue_from(const std::vector<Row>& rows) {
  std::vector<QueueRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows)
    out.push_back({r.str(0), r.str(1), r.str(2), r.str(3), r.str(4), r.i64(5),
                   parse_status_from(r.str(6)).value_or(ParseStatus::ok), decision_from(r, 7)});
  return out;
}
constexpr const char* kQueueCols =
    "SELECT it.client_id, it.id, it.from_address, it.from_name, it.subject, it.received_at, "
    "it.parse_status, ";
}  // namespace

Result<std::vector<QueueRow>> queue_rows(Db& db, const ClientId& client, double low_confidence) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kQueueCols) + kDecisionCols +
                         " FROM items it JOIN decisions d ON d.item_id = it.id AND d.current = 1 "
                         "WHERE it.client_id = ? AND d.decided_by = 'triage' AND "
                         "(d.disposition IN ('awaiting-va', 'protected') OR "
                         "(d.disposition = 'screened' AND d.category <> 'spam') OR "
                         "d.confidence < ?) ORDER BY it.received_at, it.rowid",
                     {client, low_confidence}));
  return queue_from(rows);
}

Result<std::vector<QueueRow>> rows_between(Db& db, const ClientId& client, Timestamp from,
                                           Timestamp to) {
  SK_ASSIGN(auto rows, db.query(std::string(kQueueCols) + kDecisionCols +
                                    " FROM items it JOIN decisions d ON d.item_id = it.id AND "
                                    "d.current = 1 WHERE it.client_id = ? AND it.received_at >= ? "
                                    "AND it.received_at < ? "
                                    "ORDER BY it.received_at DESC, it.rowid DESC",
                                {client, from, to}));
  return queue_from(rows);
}

Result<std::vector<QueueRow>> search_items(Db& db, const ClientId& client,
                                           const std::vector<std::string>& words, int limit) {
  std::string sql = std::string(kQueueCols) + kDecisionCols +
                    " FROM items it JOIN decisions d ON d.item_id = it.id AND d.current = 1 "
                    "WHERE it.client_id = ?";
  Params params{client};
  for (const auto& w : words) {
    // The word as itself: LIKE's wildcards in it are escaped.
    std::string pattern = "%";
    for (char c : w) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    pattern += '%';
    sql += " AND (";
    const char* fields[] = {"it.from_address", "it.from_name", "it.subject", "it.text"};
    for (const char* f : fields) {
      sql += std::string(f == fields[0] ? "" : " OR ") + f + " LIKE ? ESCAPE '\\'";
      params.push_back(pattern);
    }
    sql += ")";
  }
  sql += " ORDER BY it.received_at DESC, it.rowid DESC LIMIT ?";
  params.push_back(std::int64_t{limit});
  SK_ASSIGN(auto rows, db.query(sql, params));
  return queue_from(rows);
}

Result<std::int64_t> revision(Db& db, const std::vector<ClientId>& clients) {
  if (clients.empty()) return std::int64_t{0};
  std::string sql = "SELECT COALESCE(SUM(n), 0) FROM client_revisions WHERE client_id IN (?";
  for (std::size_t i = 1; i < clients.size(); ++i) sql += ", ?";
  sql += ")";
  std::vector<Value> args(clients.begin(), clients.end());
  SK_ASSIGN(auto rows, db.query(sql, args));
  return rows.at(0).i64(0);
}

}  // namespace sk::store
