#pragma once
// The support tables (migration 5): knowledge-base entries, settings, conversations with
// their messages, and what was done with each support item. Every call takes the ClientId.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "support/conversation.hpp"
#include "support/kb.hpp"

namespace sk::support {

Result<std::vector<Entry>> load_entries(store::Db& db, const ClientId& client);
// Replaces all of the client's entries (an import is the whole KB) and bumps the revision.
Result<void> replace_entries(store::Db& db, const ClientId& client,
                             const std::vector<Entry>& entries);
// Changes whenever the entries change: matchers built from an older one are stale.
Result<std::int64_t> kb_revision(store::Db& db, const ClientId& client);

Result<Settings> load_settings(store::Db& db, const ClientId& client);
Result<void> save_settings(store::Db& db, const ClientId& client, const Settings& s);

// --- conversations ---
// The conversation a customer's message belongs to: one that holds a message it answers
// (In-Reply-To, References), else the same customer's latest one with the same thread
// subject and activity within `window` seconds.
Result<std::optional<Conversation>> find_conversation(store::Db& db, const ClientId& client,
                                                      const std::string& customer,
                                                      const std::string& subject,
                                                      const std::vector<std::string>& refs,
                                                      Timestamp now, Timestamp window);
Result<std::optional<Conversation>> get_conversation(store::Db& db, const ClientId& client,
                                                     const std::string& id);
// Inserts or updates.
Result<void> save_conversation(store::Db& db, const Conversation& c);
Result<std::vector<Conversation>> list_conversations(store::Db& db, const ClientId& client);

struct ThreadMessage {
  std::string conversation;
  std::string message_id;   // without <>; may be empty
  ItemId item;              // the customer's item, or the item an answer replies to
  std::string outgoing_id;  // our answer (out_N), empty for the customer's messages
  bool from_customer = true;
  Timestamp at = 0;
};
Result<void> add_thread_message(store::Db& db, const ClientId& client, const ThreadMessage& m);
Result<std::vector<ThreadMessage>> thread_messages(store::Db& db, const ClientId& client,
                                                   const std::string& conversation);

// --- what was done with a support item ---
struct SuggestionRecord {
  std::string key;  // the entry
  std::string question;
  double confidence = 0;
};
struct AnswerRecord {
  ItemId item;
  std::string conversation;
  std::string action;  // sent, drafted, suggested, escalated
  std::string code;    // support.ok, support.weak_match, ...
  std::string reason;
  std::string outgoing_id;
  std::vector<SuggestionRecord> suggestions;  // best first, at most three
  Timestamp at = 0;
};
Result<void> save_answer(store::Db& db, const ClientId& client, const AnswerRecord& a);
Result<std::optional<AnswerRecord>> get_answer(store::Db& db, const ClientId& client,
                                               const ItemId& item);

}  // namespace sk::support
