#pragma once
// Carrying out what decisions planned. Each effect is recorded before the outside world is
// touched and after; a process killed in between finds it "running" and repeats it, so
// every executor must make its effect safe to repeat (a move of a message that has already
// moved is done; a send checks its idempotency key first).
#include <map>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "store/repos.hpp"

namespace sk::engine {

// A due effect and the item it is for.
struct DueEffect {
  const store::EffectRecord& effect;
  const store::StoredItem& item;
};

class EffectExecutor {
 public:
  virtual ~EffectExecutor() = default;
  // Carries out one effect for its item; the text says what happened, for the audit log.
  virtual Result<std::string> execute(const store::EffectRecord& effect,
                                      const store::StoredItem& item) = 0;
  // Carries out several effects, each for a different item, all recorded running already;
  // returns their outcomes in the same order, each as `execute` would have given it. An
  // executor that can do the work of many in one step (one IMAP command for a set of
  // messages) overrides this; the default carries them out one at a time.
  virtual std::vector<Result<std::string>> execute_many(const std::vector<DueEffect>& due);
};

struct OutboxReport {
  std::size_t done = 0;
  std::size_t failed = 0;
  bool more = false;  // the run stopped at its limit: more effects may be due
};

class Outbox {
 public:
  Outbox(store::Db& db, const Clock& clock, IdSource& ids) : db_(db), clock_(clock), ids_(ids) {}
  // Carries out up to `limit` due effects of the client, oldest first. A failure is retried
  // with a growing delay (30 s, 2 min, 8 min, ... capped at 6 h); the failure itself is not
  // an error of this call, only the store's failures are. Effects of different items go to
  // the executor together (execute_many); an item's own effects keep their order, one call
  // after another.
  Result<OutboxReport> run(const ClientId& client, EffectExecutor& executor, int limit = 500);

 private:
  store::Db& db_;
  const Clock& clock_;
  IdSource& ids_;
};

// Effects that need nothing outside Sidekick (evidence is written with the decision;
// notifications are read from the store by the console and the digest). A reply is carried
// out inside too: it becomes an outgoing message, which send_due (replies.hpp) sends.
bool effect_is_internal(EffectKind kind);

}  // namespace sk::engine
