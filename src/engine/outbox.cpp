#include "engine/outbox.hpp"

#include <algorithm>

#include "engine/replies.hpp"

namespace sk::engine {

bool effect_is_internal(EffectKind kind) {
  return kind == EffectKind::record_evidence || kind == EffectKind::notify_va ||
         kind == EffectKind::notify_client || kind == EffectKind::reply;
}

Result<OutboxReport> Outbox::run(const ClientId& client, EffectExecutor& executor, int limit) {
  OutboxReport report;
  SK_ASSIGN(auto due, store::due_effects(db_, client, clock_.now(), limit));
  for (const auto& effect : due) {
    SK_TRY(store::begin_effect(db_, client, effect.id));
    auto stored = store::get_item(db_, client, effect.item);
    Result<std::string> outcome =
        !stored.ok() ? Result<std::string>(stored.error())
        : effect.kind == EffectKind::reply
            ? plan_automatic_reply(db_, clock_, ids_, client, effect, *stored)
        : effect_is_internal(effect.kind) ? Result<std::string>(std::string("recorded"))
                                          : executor.execute(effect, *stored);
    Timestamp now = clock_.now();
    if (outcome.ok()) {
      SK_TRY(db_.transaction([&]() -> Result<void> {
        SK_TRY(store::finish_effect(db_, client, effect.id, true, *outcome, now, 0));
        if (effect_is_internal(effect.kind) && effect.kind != EffectKind::reply) return ok();
        return store::append_audit(db_, client, now, "sidekick",
                                   std::string(to_string(effect.kind)),
                                   effect.item + ": " + effect.target, *outcome);
      }));
      ++report.done;
    } else {
      // attempts counts this one: 1 → 30 s, 2 → 2 min, 3 → 8 min ...
      Timestamp delay = 30;
      for (int i = 1; i < effect.attempts + 1 && delay < 6 * 3600; ++i) delay *= 4;
      delay = std::min<Timestamp>(delay, 6 * 3600);
      SK_TRY(store::finish_effect(db_, client, effect.id, false, outcome.error().message, now,
                                  now + delay));
      ++report.failed;
    }
  }
  return report;
}

}  // namespace sk::engine
