#pragma once
// Answering customers: an item triaged as support is matched against the client's
// knowledge base and, when it is safe and the client's threshold is met, answered
// (sent or drafted per the client's delegation for support); otherwise the VA gets the
// best three suggestions and the reason. Conversations are kept up to date on the way.
#include <map>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "store/repos.hpp"
#include "support/matcher.hpp"
#include "support/repo.hpp"
#include "triage/triage.hpp"

namespace sk::engine {

// A customer quiet this long after an answer has what they needed: solved.
inline constexpr Timestamp kSupportQuietSolve = 7 * 86400;
// A message with the same subject from the same customer within this long joins their
// conversation even without threading headers.
inline constexpr Timestamp kSupportThreadWindow = 30 * 86400;

class SupportDesk {
 public:
  SupportDesk(store::Db& db, const Clock& clock, IdSource& ids);
  ~SupportDesk();

  // Called with each new decision before it is stored: for support items, matches the
  // question, checks safety, and sets the disposition and reasons; then, in the same
  // transaction once the decision is stored, `carry_out` updates the conversation, stores
  // the suggestions and queues the reply or draft.
  Result<void> amend(const ClientId& client, const store::StoredItem& item, const Party& party,
                     const triage::Policy& policy, Decision& d);
  Result<void> carry_out(const ClientId& client, const store::StoredItem& item, const Decision& d);

  // The client's matcher, rebuilt when the knowledge base changed.
  Result<const support::Matcher*> matcher(const ClientId& client,
                                          std::vector<support::Entry>** entries = nullptr);

 private:
  struct Pending;
  struct Cached {
    std::int64_t revision = -1;
    std::vector<support::Entry> entries;
    support::Matcher matcher;
  };
  store::Db& db_;
  const Clock& clock_;
  IdSource& ids_;
  std::map<ClientId, Cached> cache_;
  std::map<ItemId, std::unique_ptr<Pending>> pending_;
};

// Conversations whose answers were sent since last looked at (a draft approved, an
// automatic answer delivered) move to waiting on the customer; those quiet for
// kSupportQuietSolve after an answer are solved.
Result<void> refresh_conversations(store::Db& db, const ClientId& client, Timestamp now);
// A VA marks a conversation solved; `why` goes in the audit log.
Result<support::Conversation> solve_conversation(store::Db& db, const Clock& clock,
                                                 const ClientId& client, const std::string& id,
                                                 const std::string& actor,
                                                 const std::string& why = "");

}  // namespace sk::engine
