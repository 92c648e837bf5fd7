#pragma once
// The engine's one path: intake (items into the store), triage (decide what is undecided),
// corrections (teach) and explanations. Commands and the web console both call this.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "engine/scheduling.hpp"
#include "store/db.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "triage/triage.hpp"

namespace sk::engine {

class SupportDesk;

struct ImportReport {
  std::size_t found = 0;       // messages found at the paths
  std::size_t added = 0;       // new items
  std::size_t duplicates = 0;  // already imported before
  std::size_t unreadable = 0;  // kept raw, marked for the VA
  std::size_t repaired = 0;    // read with defects noted
  std::size_t skipped_files = 0;
};

struct TriageReport {
  std::size_t decided = 0;
  std::map<Disposition, std::size_t> by_disposition;
  std::map<Category, std::size_t> by_category;
};

// Someone the screener holds: a sender whose items wait for a person to let them in or keep
// them out.
struct ScreenedSender {
  std::string address;
  std::string name;
  std::vector<ItemId> items;  // oldest first
  std::string latest_subject;
  Timestamp latest = 0;
};

enum class ScreenerVerdict { let_in, keep_out };

struct ScreenerReport {
  std::size_t senders = 0;  // judged
  std::size_t items = 0;    // of theirs that waited and are settled now
  // Asked for, but nothing of theirs waits in the screener (a typo, or judged already).
  std::vector<std::string> not_waiting;
};

class Engine {
 public:
  // `model` may be empty (untrained): then nothing is called spam by the classifier.
  Engine(store::Db& db, const Clock& clock, IdSource& ids, triage::SpamModel model);
  ~Engine();

  Result<ImportReport> import_paths(const ClientId& client, const std::vector<std::string>& paths);
  // Intake of one message from any source; `source_key` makes it idempotent.
  // Returns the new item's id, or empty when the key was already there. With
  // `same_source_prefix`, a message with exactly the same bytes already taken in under a key
  // with that prefix is the same message renamed (a mailbox's UIDVALIDITY changed): it gets
  // the new key and nothing new is decided.
  Result<ItemId> intake_message(const ClientId& client, const std::string& source_key,
                                const std::string& raw, const std::string& origin,
                                const std::string& same_source_prefix = "");

  // Intake of an item already read from its channel (a text, a call); `item.source_key` makes
  // it idempotent and `raw` is kept as it came. Returns empty when the key was already there.
  Result<ItemId> intake_item(const ClientId& client, Item item, const std::string& raw,
                             const std::string& origin);

  Result<TriageReport> triage_pending(const ClientId& client);
  Result<Decision> triage_item(const ClientId& client, const ItemId& item);

  // A correction: the item is of `category` (and, if given, goes to `disposition`). The
  // decision is replaced, the audit log says who and why, and the lesson applies at once.
  // With `move_message` false nothing is planned in the mailbox: the client moved the
  // message themselves, and where they put it is the correction.
  Result<Decision> teach(const ClientId& client, const ItemId& item, Category category,
                         std::optional<Disposition> disposition, const std::string& actor,
                         const std::string& why, bool move_message = true);

  // A person looked and agrees: the current decision is recorded again as theirs (so the
  // item leaves the VA's queue), with no new effects.
  Result<Decision> confirm(const ClientId& client, const ItemId& item, const std::string& actor,
                           const std::string& why);
  // A VA approves a draft (optionally with an edited text): it is queued to send and, when it
  // answers an item, that item is answered() in the same transaction.
  Result<store::OutgoingMessage> approve_draft(const ClientId& client, const std::string& draft,
                                               const std::optional<std::string>& edited_body,
                                               const std::string& actor);
  // A person answered the item (approved a reply to it, or sent one): an item that was
  // waiting for a VA is handled now, in their name, with no new effects; any other decision
  // is confirmed as it stands. Either way it leaves the VA's queue.
  Result<Decision> answered(const ClientId& client, const ItemId& item, const std::string& actor,
                            const std::string& what);
  // Lets the item's sender through the screener for good and sends this item to the client.
  Result<Decision> let_in(const ClientId& client, const ItemId& item, const std::string& actor,
                          const std::string& why);

  // Everyone the screener holds for this client, the most waiting items first.
  Result<std::vector<ScreenedSender>> screened_senders(const ClientId& client);
  // The VA's verdict on screened senders, each named by address or by domain ("example.com":
  // every screened sender there), applied to all their waiting items at once, in one
  // transaction. Let in: the sender reaches the client from now on, and what waited goes to
  // the client. Keep out: the sender is blocked from now on, and what waited stays screened,
  // confirmed. Either way it leaves the VA's queue; the audit log has each sender with `why`.
  // No lesson is kept: the screener asks who may write, not what kind of mail it is, and a
  // lesson per item of a first pass over a big mailbox would slow every later decision.
  Result<ScreenerReport> judge_screened(const ClientId& client,
                                        const std::vector<std::string>& senders,
                                        ScreenerVerdict verdict, const std::string& actor,
                                        const std::string& why);

  // The decision history of an item, in words.
  Result<std::string> explain(const ClientId& client, const ItemId& item);

  Result<triage::Policy> load_policy(const ClientId& client);
  Result<void> import_rules(const ClientId& client, const std::string& toml_text,
                            const std::string& source_name, const std::string& actor);

  // With links set, a scheduling request gets free times proposed (sent or drafted per the
  // client's delegation). An iTIP REPLY to one of the client's invitations updates its
  // booking and is filed as handled, with or without links.
  void set_booking_links(BookingLinks links) { links_ = std::move(links); }

  const triage::SpamModel& model() const { return model_; }
  // The classifier for text messages (SMS): mail's model reads headers a text does not have.
  // Empty until set: then no text is called spam by a classifier.
  void set_text_model(triage::SpamModel model) { text_model_ = std::move(model); }
  const triage::SpamModel& text_model() const { return text_model_; }
  IdSource& ids() { return ids_; }

 private:
  Result<std::vector<triage::Lesson>> load_lessons(const ClientId& client);
  // teach(), and with `learn` false no lesson is kept: the category was not in question.
  Result<Decision> correct(const ClientId& client, const ItemId& item, Category category,
                           std::optional<Disposition> disposition, const std::string& actor,
                           const std::string& why, bool move_message, bool learn);
  Result<Decision> decide_and_record(const ClientId& client, const ItemId& id,
                                     const triage::Policy& policy,
                                     const std::vector<triage::Lesson>& lessons);

  // Before the decision is stored: an answer to an invitation is applied and handled.
  Result<bool> take_itip_reply(const ClientId& client, const store::StoredItem& item, Decision& d);
  // After it is stored: a scheduling request gets free times proposed.
  Result<void> propose_for(const ClientId& client, const store::StoredItem& item,
                           const Decision& d);

  std::optional<BookingLinks> links_;
  store::Db& db_;
  const Clock& clock_;
  IdSource& ids_;
  triage::SpamModel model_;
  triage::SpamModel text_model_;
  const triage::SpamModel no_model_;
  // Answers support items from the client's knowledge base (its matcher is cached).
  std::unique_ptr<SupportDesk> support_;
};

}  // namespace sk::engine
