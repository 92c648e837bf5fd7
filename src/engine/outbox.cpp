#include "engine/outbox.hpp"

#include <algorithm>
#include <optional>

#include "engine/replies.hpp"

namespace sk::engine {

bool effect_is_internal(EffectKind kind) {
  return kind == EffectKind::record_evidence || kind == EffectKind::notify_va ||
         kind == EffectKind::notify_client || kind == EffectKind::reply;
}

std::vector<Result<std::string>> EffectExecutor::execute_many(const std::vector<DueEffect>& due) {
  std::vector<Result<std::string>> outcomes;
  outcomes.reserve(due.size());
  for (const auto& d : due) outcomes.push_back(execute(d.effect, d.item));
  return outcomes;
}

Result<OutboxReport> Outbox::run(const ClientId& client, EffectExecutor& executor, int limit) {
  OutboxReport report;
  SK_ASSIGN(auto due, store::due_effects(db_, client, clock_.now(), limit));
  report.more = limit > 0 && due.size() >= static_cast<std::size_t>(limit);
  // Waves: an item's first due effect goes in the first, its second in the next, and so on.
  // Within a wave every item appears once, so carrying a wave out together cannot move an
  // item's flag ahead of the move it goes with.
  std::vector<std::vector<const store::EffectRecord*>> waves;
  std::map<ItemId, std::size_t> seen;
  for (const auto& effect : due) {
    std::size_t wave = seen[effect.item]++;
    if (wave == waves.size()) waves.emplace_back();
    waves[wave].push_back(&effect);
  }

  for (const auto& wave : waves) {
    SK_TRY(db_.transaction([&]() -> Result<void> {
      for (const auto* effect : wave) SK_TRY(store::begin_effect(db_, client, effect->id));
      return ok();
    }));
    std::vector<std::optional<store::StoredItem>> items(wave.size());
    std::vector<std::optional<Result<std::string>>> outcomes(wave.size());
    std::vector<DueEffect> outside;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < wave.size(); ++i) {
      const auto& effect = *wave[i];
      auto stored = store::get_item(db_, client, effect.item);
      if (!stored.ok()) {
        outcomes[i].emplace(stored.error());
      } else if (effect.kind == EffectKind::reply) {
        outcomes[i].emplace(plan_automatic_reply(db_, clock_, ids_, client, effect, *stored));
      } else if (effect_is_internal(effect.kind)) {
        outcomes[i].emplace(std::string("recorded"));
      } else {
        items[i].emplace(std::move(stored).value());
      }
    }
    for (std::size_t i = 0; i < wave.size(); ++i) {
      if (!items[i]) continue;
      outside.push_back({*wave[i], *items[i]});
      index.push_back(i);
    }
    if (!outside.empty()) {
      auto results = executor.execute_many(outside);
      for (std::size_t k = 0; k < index.size(); ++k) {
        if (k < results.size())
          outcomes[index[k]].emplace(std::move(results[k]));
        else
          outcomes[index[k]].emplace(make_error(Errc::internal, "the executor gave no outcome"));
      }
    }

    Timestamp now = clock_.now();
    for (std::size_t i = 0; i < wave.size(); ++i) {
      const auto& effect = *wave[i];
      const auto& outcome = *outcomes[i];
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
        for (int n = 1; n < effect.attempts + 1 && delay < 6 * 3600; ++n) delay *= 4;
        delay = std::min<Timestamp>(delay, 6 * 3600);
        SK_TRY(store::finish_effect(db_, client, effect.id, false, outcome.error().message, now,
                                    now + delay));
        ++report.failed;
      }
    }
  }
  return report;
}

}  // namespace sk::engine
