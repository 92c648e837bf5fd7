#pragma once
// The VA's queue is read far more often than it changes (every open tab refreshes it, and
// integrations poll the API), and building it reads and formats every waiting item. What was
// built for a set of clients is kept, as the API's JSON and as the page's rows, until the
// store's revision for those clients moves on, or until the clock passes the time something
// in it stops belonging there (a booking request whose time has come).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/domain.hpp"

namespace sk::web {

struct QueueSnapshot {
  std::int64_t revision = 0;
  // From this time on the snapshot is out of date even if the store did not change.
  Timestamp stale_at = std::numeric_limits<Timestamp>::max();
  std::size_t count = 0;
  std::map<ClientId, std::size_t> per_client;  // how many of count are each client's
  std::map<ClientId, Timestamp> oldest;        // when each client's oldest waiting thing came
  std::string json;                            // the body of GET /api/queue
  std::string rows_html;                       // the rows of the queue page's table
  // Above the rows: mailboxes that cannot be read, and per client how many senders the
  // screener holds, with a link to judge them in bulk.
  std::string notices_html;
};

class QueueCache {
 public:
  explicit QueueCache(std::size_t capacity = 64) : capacity_(capacity) {}
  // What was built for exactly these clients at `revision` and is still current at `now`,
  // or null.
  std::shared_ptr<const QueueSnapshot> find(const std::vector<ClientId>& clients,
                                            std::int64_t revision, Timestamp now);
  // Keeps a snapshot unless one built at a later revision is already kept; past `capacity`
  // client sets, the one used longest ago is forgotten.
  void keep(const std::vector<ClientId>& clients, std::shared_ptr<const QueueSnapshot> snapshot);

 private:
  struct Kept {
    std::shared_ptr<const QueueSnapshot> snapshot;
    std::uint64_t used = 0;
  };
  std::size_t capacity_;
  std::mutex mutex_;
  std::uint64_t tick_ = 0;
  std::map<std::vector<ClientId>, Kept> kept_;
};

}  // namespace sk::web
