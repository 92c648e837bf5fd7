#pragma once
// A client's phone lines: the numbers people call and text to reach them, with the provider
// account's token that signs its webhooks, and the texts Sidekick sent back on them.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "store/reachability.hpp"

namespace sk::store {

struct PhoneLine {
  std::string id;  // phl_N
  ClientId client;
  std::string number;        // E.164, the number people dial; one client's only
  std::string sealed_token;  // the provider's auth token, sealed (core/secrets.hpp)
  std::string forward_to;    // E.164: where calls the client takes ring; empty: voicemail only
  std::string region;        // ISO 3166 ("US"): numbers written without a country code
  std::string greeting;      // spoken before a voicemail; empty: one with the client's name
  Timestamp created_at = 0;
};

// Adds the line, or replaces the client's line of that number. A number another client
// already has is a conflict.
Result<PhoneLine> save_phone_line(Db& db, IdSource& ids, const Clock& clock, PhoneLine line);
// Which client a webhook is for: the number it was made to, whoever's it is.
Result<std::optional<PhoneLine>> phone_line_by_number(Db& db, const std::string& number);
Result<std::vector<PhoneLine>> list_phone_lines(Db& db, const ClientId& client);
// False when the client has no line with that number.
Result<bool> delete_phone_line(Db& db, const ClientId& client, const std::string& number);

// Whether the provider's webhooks for a line get through: ok is a webhook signed right, a
// failure one refused (three in a row: the provider's token changed, or someone probing). A
// line never called has all zeros.
struct PhoneLineHealth {
  PhoneLine line;
  Reachability reach;
  static constexpr Reachability::Words kWords{"refused", "answered", "not called yet"};
};
// A webhook for the line checked out. Written at most once a minute while nothing is refused.
Result<void> record_line_ok(Db& db, const PhoneLine& line, Timestamp now);
Result<void> record_line_refusal(Db& db, const PhoneLine& line, Timestamp now,
                                 const std::string& why);
// Every line of these clients with its health, by client and number.
Result<std::vector<PhoneLineHealth>> phone_line_health(Db& db,
                                                       const std::vector<ClientId>& clients);

struct TextSent {
  std::string id;
  ClientId client;
  ItemId item;  // the text it answers
  std::string to;
  std::string body;
  std::string reason;
  Timestamp sent_at = 0;
};
Result<void> record_text_sent(Db& db, IdSource& ids, TextSent t);
// What Sidekick texted back in answer to this item; empty: nothing.
Result<std::string> text_sent_for(Db& db, const ClientId& client, const ItemId& item);
// When Sidekick last texted this number for the client; 0: never.
Result<Timestamp> last_text_to(Db& db, const ClientId& client, const std::string& number);

}  // namespace sk::store
