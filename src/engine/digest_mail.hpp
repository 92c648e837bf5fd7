#pragma once
// The client's digest, mailed to them at the time they chose on their own clock.
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "store/outgoing.hpp"

namespace sk::engine {

// When the client's digest time has come today (their zone) and today's digest is not queued
// yet, it is queued to the client's own address, covering the 24 hours up to that time; the
// console's page for it is linked from `console_url` (may be empty). Nothing when the client
// wants no digest mail, has no address, or it is not time yet. Safe to call every minute and
// from several processes: a day's digest is one message (its source key is the day).
Result<std::optional<store::OutgoingMessage>> mail_digest_if_due(store::Db& db, const Clock& clock,
                                                                 IdSource& ids,
                                                                 const ClientId& client,
                                                                 const std::string& console_url);

}  // namespace sk::engine
