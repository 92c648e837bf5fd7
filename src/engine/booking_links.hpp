#pragma once
// The booking page and booking by email, without HTTP: signed one-click links (HMAC-SHA256
// with an expiry), slots shown in the visitor's zone, confirm / reschedule / cancel by token,
// abuse limits per IP and per address, and the reply that proposes three free times to a
// scheduling request. The web module only maps routes onto these.
#include <map>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "engine/scheduling.hpp"
#include "store/db.hpp"
#include "store/outgoing.hpp"

namespace sk::engine {

struct LinkClaims {
  ClientId client;
  std::string action;  // "book" (subject: booking type) or "manage" (subject: booking id)
  std::string subject;
  Timestamp start = 0;  // the offered time, for "book"
  Timestamp expires = 0;
};

// "payload.mac", URL-safe. `key` is 32 secret bytes (the data folder's key).
std::string sign_link(const std::string& key, const LinkClaims& c);
// Fails with invalid_input for a forged, altered or malformed token, and for an expired one.
Result<LinkClaims> verify_link(const std::string& key, const std::string& token, Timestamp now);

// At most `max` actions per key (an IP, an address) in any `window` seconds, counted in the
// store: every process serving the page counts the same actions.
class AbuseLimiter {
 public:
  AbuseLimiter(int max, Timestamp window) : max_(max), window_(window) {}
  // Counts the action when it is allowed.
  Result<bool> allow(store::Db& db, const std::string& key, Timestamp now) const;

 private:
  int max_;
  Timestamp window_;
};

struct PageSlot {
  Timestamp start = 0;
  std::string label;  // in the visitor's zone
  std::string token;  // signed "book" link for this time
};

// Free times for the public page, labelled in the visitor's zone (the client's if empty).
Result<std::vector<PageSlot>> page_slots(store::Db& db, const Clock& clock, const std::string& key,
                                         const ClientId& client, const std::string& type,
                                         const std::string& visitor_zone, int days);

struct PageLimits {
  AbuseLimiter per_ip{10, 3600};
  AbuseLimiter per_email{3, 86400};
};

// A visitor confirms an offered time (from a page slot or a mailed link).
Result<store::Booking> page_confirm(store::Db& db, const Clock& clock, IdSource& ids,
                                    const std::string& key, const std::string& token,
                                    const Guest& guest, const std::string& ip,
                                    const PageLimits& limits);
// The guest's own link from their invitation: cancel, or move to another free time.
std::string manage_token(const std::string& key, const store::Booking& b);
Result<store::Booking> page_cancel(store::Db& db, const Clock& clock, IdSource& ids,
                                   const std::string& key, const std::string& token);
Result<store::Booking> page_reschedule(store::Db& db, const Clock& clock, IdSource& ids,
                                       const std::string& key, const std::string& token,
                                       Timestamp new_start, const std::string& base_url = "");

// Answers a scheduling request: three free times on different days as one-click links and
// the booking page, sent or left as a draft per the client's delegation for scheduling.
Result<store::OutgoingMessage> propose_times(store::Db& db, const Clock& clock, IdSource& ids,
                                             const std::string& key, const ClientId& client,
                                             const ItemId& item, const std::string& type,
                                             const std::string& base_url);

}  // namespace sk::engine
