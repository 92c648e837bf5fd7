#pragma once
// Repositories: every call that touches a client's data takes the ClientId. The few calls
// that do not (find_client, client_of_item, list_clients) are for operators resolving
// what a command names, and say so.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"

namespace sk::store {

// Ids from a counter in the database: short ("itm_42"), deterministic for the same history,
// and unique across processes sharing the store.
class DbIds final : public IdSource {
 public:
  explicit DbIds(Db& db) : db_(db) {}
  std::string next(const std::string& prefix) override;

 private:
  Db& db_;
};

struct ClientRecord {
  ClientId id;
  std::string slug;
  std::string name;
  std::string email;
  std::string timezone;
  std::string policy_json;  // triage policy, owned by the app layer
  Timestamp created_at = 0;
  std::string digest_at;  // "08:00" on the client's clock: the digest is mailed then; empty: never
};

Result<ClientRecord> create_client(Db& db, IdSource& ids, const Clock& clock,
                                   const std::string& slug, const std::string& name,
                                   const std::string& email);
// Operator lookup by slug or id.
Result<ClientRecord> find_client(Db& db, const std::string& slug_or_id);
Result<std::vector<ClientRecord>> list_clients(Db& db);
Result<void> set_client_policy(Db& db, const ClientId& client, const std::string& policy_json);
// "HH:MM" (checked by the caller), or empty to mail no digest.
Result<void> set_client_digest_at(Db& db, const ClientId& client, const std::string& at);
// The client's IANA zone (checked by the caller): rules' hours and weekdays are read in it.
Result<void> set_client_zone(Db& db, const ClientId& client, const std::string& zone);

// --- parties ---
// The party behind an identity (address or number), with its sender history: the items
// from it that already have a decision.
Result<std::optional<Party>> find_party(Db& db, const ClientId& client,
                                        const std::string& identity);
// Creates the party for `identity` if there is none; returns its id.
Result<PartyId> ensure_party(Db& db, IdSource& ids, const Clock& clock, const ClientId& client,
                             const std::string& identity, const std::string& name);
Result<Party> set_relationship(Db& db, IdSource& ids, const Clock& clock, const ClientId& client,
                               const std::string& identity, Relationship r,
                               const std::string& name = "");
Result<void> set_let_in(Db& db, const ClientId& client, const PartyId& party, bool let_in);
Result<std::vector<Party>> list_parties(Db& db, const ClientId& client);

// --- items ---
struct StoredItem {
  Item item;
  PartyId party;
  std::string origin;  // file path, mailbox, webhook...
};

// Inserts the item and its raw bytes unless the client already has its source_key.
// Returns true when inserted, false for a duplicate (nothing changes). The raw bytes' hash
// is kept, so the same message met under another key can be recognised (rekey_item).
Result<bool> insert_item(Db& db, const Item& item, const PartyId& party, const std::string& raw,
                         const std::string& origin);
Result<StoredItem> get_item(Db& db, const ClientId& client, const ItemId& id);
// A call's item learns what the caller said when the voicemail comes, after the call.
Result<void> set_item_text(Db& db, const ClientId& client, const ItemId& id,
                           const std::string& text);
// When the client has an item with exactly these raw bytes under a key starting with
// `key_prefix`, gives it `new_key` and returns its id (a mailbox renumbered its messages:
// same message, new UID); else returns empty.
// The client's item with exactly these raw bytes under a key starting with `key_prefix`
// (the oldest), or empty.
Result<ItemId> find_item_by_content(Db& db, const ClientId& client, const std::string& raw,
                                    const std::string& key_prefix);
Result<ItemId> rekey_item(Db& db, const ClientId& client, const std::string& raw,
                          const std::string& key_prefix, const std::string& new_key);
Result<std::string> raw_message(Db& db, const ClientId& client, const ItemId& id);
// Items with no decision yet, oldest first.
Result<std::vector<ItemId>> undecided_items(Db& db, const ClientId& client);
// Operator lookup: which client an item belongs to.
Result<ClientId> client_of_item(Db& db, const ItemId& id);
Result<std::int64_t> count_items(Db& db, const ClientId& client);

// --- decisions and effects ---
// Stores the decision as the item's current one, its planned effects, and an audit entry,
// in one transaction; a protected decision also appends to the evidence log. Returns the
// decision id.
Result<std::string> record_decision(Db& db, IdSource& ids, const Clock& clock,
                                    const ClientId& client, const Decision& d,
                                    const std::string& actor, const std::string& audit_reason);
Result<std::optional<Decision>> current_decision(Db& db, const ClientId& client,
                                                 const ItemId& item);
Result<std::vector<Decision>> decision_history(Db& db, const ClientId& client, const ItemId& item);

struct DecisionRow {
  ItemId item;
  std::string from;
  std::string subject;
  ParseStatus parse_status = ParseStatus::ok;
  Decision decision;
};
// One row per decided item, in the order the items arrived.
Result<std::vector<DecisionRow>> list_decisions(Db& db, const ClientId& client);

struct EffectRecord {
  std::string id;
  std::string decision_id;
  ItemId item;
  EffectKind kind;
  std::string target;
  std::string idempotency_key;
  std::string status;  // planned, running, done, failed, superseded
  int attempts = 0;
  std::string result;
};
Result<std::vector<EffectRecord>> effects_for_item(Db& db, const ClientId& client,
                                                   const ItemId& item);
// Effects to carry out now, oldest first: planned ones, failed ones whose retry time has
// come, and running ones (a process died while carrying them out; executors make each
// effect safe to repeat).
Result<std::vector<EffectRecord>> due_effects(Db& db, const ClientId& client, Timestamp now,
                                              int limit);
// Recorded before the outside world is touched.
Result<void> begin_effect(Db& db, const ClientId& client, const std::string& id);
// Recorded after: done, or failed with the time to try again (0: never).
Result<void> finish_effect(Db& db, const ClientId& client, const std::string& id, bool done,
                           const std::string& result, Timestamp now, Timestamp retry_at);

// Failed this many times in a row (about 40 minutes of retries): a person should know. The
// trigger of migration 16 uses the same number.
inline constexpr int kStuckAttempts = 4;
// The client's effects that keep failing, oldest first.
Result<std::vector<EffectRecord>> stuck_effects(Db& db, const ClientId& client);
// Tries them all again at the next round; returns how many.
Result<std::int64_t> retry_stuck_effects(Db& db, const ClientId& client, Timestamp now);

// --- audit ---
struct AuditEntry {
  std::int64_t seq = 0;
  Timestamp at = 0;
  std::string actor;
  std::string action;
  std::string subject;
  std::string reason;
};
Result<void> append_audit(Db& db, const ClientId& client, Timestamp at, const std::string& actor,
                          const std::string& action, const std::string& subject,
                          const std::string& reason);
Result<std::vector<AuditEntry>> list_audit(Db& db, const ClientId& client, int limit = 1000);

// --- evidence: append-only, each entry's hash covers the previous entry's hash ---
struct EvidenceEntry {
  std::int64_t seq = 0;
  ItemId item;
  PartyId party;
  Timestamp at = 0;
  std::string payload;
  std::string prev_hash;
  std::string hash;
};
Result<EvidenceEntry> append_evidence(Db& db, const ClientId& client, Timestamp at,
                                      const ItemId& item, const PartyId& party,
                                      const std::string& payload);
Result<std::vector<EvidenceEntry>> list_evidence(Db& db, const ClientId& client);
struct EvidenceCheck {
  std::int64_t entries = 0;
  bool intact = true;
  std::int64_t first_bad_seq = 0;
  std::string problem;
};
Result<EvidenceCheck> verify_evidence(Db& db, const ClientId& client);

// --- rules (opaque JSON, owned by the app layer), in order ---
Result<void> replace_rules(Db& db, const ClientId& client, const std::vector<std::string>& rules);
Result<std::vector<std::string>> load_rules(Db& db, const ClientId& client);

// --- lessons: corrections the classifier learns from ---
struct LessonRecord {
  ItemId item;
  std::string category;
  std::string sender;
  std::string list_id;
  std::string subject;
  std::string features;  // opaque, owned by triage
  Timestamp created_at = 0;
};
Result<void> add_lesson(Db& db, IdSource& ids, const ClientId& client, const LessonRecord& l);
Result<std::vector<LessonRecord>> load_lessons(Db& db, const ClientId& client);
// Replaces a lesson's features (the lesson as loaded, its features as they were).
Result<void> set_lesson_features(Db& db, const ClientId& client, const LessonRecord& l,
                                 const std::string& features);

}  // namespace sk::store
