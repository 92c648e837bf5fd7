#include "web/queue_cache.hpp"

#include <algorithm>

namespace sk::web {

std::shared_ptr<const QueueSnapshot> QueueCache::find(const std::vector<ClientId>& clients,
                                                      std::int64_t revision, Timestamp now) {
  std::lock_guard lock(mutex_);
  auto it = kept_.find(clients);
  if (it == kept_.end() || it->second.snapshot->revision != revision ||
      now >= it->second.snapshot->stale_at)
    return nullptr;
  it->second.used = ++tick_;
  return it->second.snapshot;
}

void QueueCache::keep(const std::vector<ClientId>& clients,
                      std::shared_ptr<const QueueSnapshot> snapshot) {
  std::lock_guard lock(mutex_);
  auto it = kept_.find(clients);
  if (it != kept_.end()) {
    // Two requests may build at once across a change: the later revision wins.
    if (it->second.snapshot->revision > snapshot->revision) return;
    it->second = {std::move(snapshot), ++tick_};
    return;
  }
  if (kept_.size() >= capacity_ && capacity_ > 0) {
    auto oldest = std::min_element(kept_.begin(), kept_.end(), [](const auto& a, const auto& b) {
      return a.second.used < b.second.used;
    });
    kept_.erase(oldest);
  }
  if (capacity_ > 0) kept_.emplace(clients, Kept{std::move(snapshot), ++tick_});
}

}  // namespace sk::web
