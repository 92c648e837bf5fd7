#include "support/repo.hpp"

#include <nlohmann/json.hpp>

namespace sk::support {
namespace {

using nlohmann::json;

std::string to_json(const std::vector<std::string>& v) {
  return json(v).dump(-1, ' ', false, json::error_handler_t::replace);
}

std::vector<std::string> strings_from(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& e : j)
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

constexpr const char* kConversationCols =
    "SELECT id, client_id, customer, subject, status, opened_at, first_response_at, solved_at, "
    "last_customer_at, last_reply_at, reopened FROM support_conversations ";

Conversation conversation_from(const store::Row& r) {
  Conversation c;
  c.id = r.str(0);
  c.client = r.str(1);
  c.customer = r.str(2);
  c.subject = r.str(3);
  c.status = status_from(r.str(4)).value_or(Status::open);
  c.opened_at = r.i64(5);
  c.first_response_at = r.i64(6);
  c.solved_at = r.i64(7);
  c.last_customer_at = r.i64(8);
  c.last_reply_at = r.i64(9);
  c.reopened = static_cast<int>(r.i64(10));
  return c;
}

}  // namespace

Result<std::vector<Entry>> load_entries(store::Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT key, question, variants, answer, tags, private FROM "
                                "kb_entries WHERE client_id = ? ORDER BY position",
                                {client}));
  std::vector<Entry> out;
  for (const auto& r : rows)
    out.push_back({r.str(0), r.str(1), strings_from(r.str(2)), r.str(3), strings_from(r.str(4)),
                   r.i64(5) != 0});
  return out;
}

Result<void> replace_entries(store::Db& db, const ClientId& client,
                             const std::vector<Entry>& entries) {
  SK_TRY(validate_entries(entries, "knowledge base"));
  return db.transaction([&]() -> Result<void> {
    SK_TRY(db.exec("DELETE FROM kb_entries WHERE client_id = ?", {client}));
    std::int64_t pos = 0;
    for (const auto& e : entries)
      SK_TRY(
          db.exec("INSERT INTO kb_entries(client_id, position, key, question, variants, "
                  "answer, tags, private) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  {client, pos++, e.key, e.question, to_json(e.variants), e.answer, to_json(e.tags),
                   std::int64_t{e.is_private ? 1 : 0}}));
    return db.exec(
        "INSERT INTO support_settings(client_id, revision) VALUES (?, 1) "
        "ON CONFLICT(client_id) DO UPDATE SET revision = support_settings.revision + 1",
        {client});
  });
}

Result<std::int64_t> kb_revision(store::Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows,
            db.query("SELECT revision FROM support_settings WHERE client_id = ?", {client}));
  return rows.empty() ? std::int64_t{0} : rows[0].i64(0);
}

Result<Settings> load_settings(store::Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT threshold, signature, tone FROM support_settings WHERE "
                                "client_id = ?",
                                {client}));
  Settings s;
  if (!rows.empty()) {
    s.threshold = rows[0].f64(0);
    s.signature = rows[0].str(1);
    s.tone = rows[0].str(2);
  }
  return s;
}

Result<void> save_settings(store::Db& db, const ClientId& client, const Settings& s) {
  if (!(s.threshold >= 0 && s.threshold <= 1))
    return make_error(Errc::invalid_input, "the support threshold is a number from 0 to 1");
  if (!valid_tone(s.tone))
    return make_error(Errc::invalid_input,
                      "tone must be friendly, formal or brief, not '" + s.tone + "'");
  return db.exec(
      "INSERT INTO support_settings(client_id, threshold, signature, tone) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(client_id) DO UPDATE SET threshold = excluded.threshold, "
      "signature = excluded.signature, tone = excluded.tone",
      {client, s.threshold, s.signature, s.tone});
}

Result<std::optional<Conversation>> find_conversation(store::Db& db, const ClientId& client,
                                                      const std::string& customer,
                                                      const std::string& subject,
                                                      const std::vector<std::string>& refs,
                                                      Timestamp now, Timestamp window) {
  // Newest reference first: the message it answers most directly.
  for (auto it = refs.rbegin(); it != refs.rend(); ++it) {
    if (it->empty()) continue;
    SK_ASSIGN(auto rows, db.query("SELECT conversation_id FROM support_messages WHERE "
                                  "client_id = ? AND message_id = ?",
                                  {client, *it}));
    if (!rows.empty()) return get_conversation(db, client, rows[0].str(0));
  }
  std::string key = thread_subject(subject);
  if (key.empty()) return std::optional<Conversation>{};
  SK_ASSIGN(auto rows,
            db.query(std::string(kConversationCols) +
                         "WHERE client_id = ? AND customer = ? AND subject_key = ? AND "
                         "MAX(last_customer_at, last_reply_at) >= ? ORDER BY opened_at DESC, id "
                         "DESC LIMIT 1",
                     {client, lower(customer), key, now - window}));
  if (rows.empty()) return std::optional<Conversation>{};
  return std::optional<Conversation>{conversation_from(rows[0])};
}

Result<std::optional<Conversation>> get_conversation(store::Db& db, const ClientId& client,
                                                     const std::string& id) {
  SK_ASSIGN(auto rows, db.query(std::string(kConversationCols) + "WHERE client_id = ? AND id = ?",
                                {client, id}));
  if (rows.empty()) return std::optional<Conversation>{};
  return std::optional<Conversation>{conversation_from(rows[0])};
}

Result<void> save_conversation(store::Db& db, const Conversation& c) {
  return db.exec(
      "INSERT INTO support_conversations(id, client_id, customer, subject, subject_key, status, "
      "opened_at, first_response_at, solved_at, last_customer_at, last_reply_at, reopened) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
      "status = excluded.status, first_response_at = excluded.first_response_at, "
      "solved_at = excluded.solved_at, last_customer_at = excluded.last_customer_at, "
      "last_reply_at = excluded.last_reply_at, reopened = excluded.reopened",
      {c.id, c.client, lower(c.customer), c.subject, thread_subject(c.subject),
       std::string(to_string(c.status)), c.opened_at, c.first_response_at, c.solved_at,
       c.last_customer_at, c.last_reply_at, std::int64_t{c.reopened}});
}

Result<std::vector<Conversation>> list_conversations(store::Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kConversationCols) + "WHERE client_id = ? ORDER BY opened_at, id",
                     {client}));
  std::vector<Conversation> out;
  for (const auto& r : rows) out.push_back(conversation_from(r));
  return out;
}

Result<void> add_thread_message(store::Db& db, const ClientId& client, const ThreadMessage& m) {
  return db.exec(
      "INSERT INTO support_messages(client_id, conversation_id, message_id, item_id, "
      "outgoing_id, from_customer, at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      {client, m.conversation, m.message_id, m.item, m.outgoing_id,
       std::int64_t{m.from_customer ? 1 : 0}, m.at});
}

Result<std::vector<ThreadMessage>> thread_messages(store::Db& db, const ClientId& client,
                                                   const std::string& conversation) {
  SK_ASSIGN(auto rows, db.query("SELECT conversation_id, message_id, item_id, outgoing_id, "
                                "from_customer, at FROM support_messages WHERE client_id = ? "
                                "AND conversation_id = ? ORDER BY at, rowid",
                                {client, conversation}));
  std::vector<ThreadMessage> out;
  for (const auto& r : rows)
    out.push_back({r.str(0), r.str(1), r.str(2), r.str(3), r.i64(4) != 0, r.i64(5)});
  return out;
}

Result<void> save_answer(store::Db& db, const ClientId& client, const AnswerRecord& a) {
  json s = json::array();
  for (const auto& x : a.suggestions)
    s.push_back({{"key", x.key}, {"question", x.question}, {"confidence", x.confidence}});
  return db.exec(
      "INSERT INTO support_answers(client_id, item_id, conversation_id, action, code, reason, "
      "outgoing_id, suggestions, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
      "ON CONFLICT(client_id, item_id) DO UPDATE SET conversation_id = excluded.conversation_id, "
      "action = excluded.action, code = excluded.code, reason = excluded.reason, "
      "outgoing_id = excluded.outgoing_id, suggestions = excluded.suggestions, at = excluded.at",
      {client, a.item, a.conversation, a.action, a.code, a.reason, a.outgoing_id,
       s.dump(-1, ' ', false, json::error_handler_t::replace), a.at});
}

Result<std::optional<AnswerRecord>> get_answer(store::Db& db, const ClientId& client,
                                               const ItemId& item) {
  SK_ASSIGN(auto rows, db.query("SELECT item_id, conversation_id, action, code, reason, "
                                "outgoing_id, suggestions, at FROM support_answers WHERE "
                                "client_id = ? AND item_id = ?",
                                {client, item}));
  if (rows.empty()) return std::optional<AnswerRecord>{};
  const auto& r = rows[0];
  AnswerRecord a{r.str(0), r.str(1), r.str(2), r.str(3), r.str(4), r.str(5), {}, r.i64(7)};
  json s = json::parse(r.str(6), nullptr, false);
  if (s.is_array())
    for (const auto& x : s)
      a.suggestions.push_back(
          {x.value("key", ""), x.value("question", ""), x.value("confidence", 0.0)});
  return std::optional<AnswerRecord>{std::move(a)};
}

}  // namespace sk::support
