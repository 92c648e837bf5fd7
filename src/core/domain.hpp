#pragma once
// The engine's domain words as plain value types. Every module speaks these; none of them
// does I/O.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"

namespace sk {

using ClientId = std::string;
using ItemId = std::string;
using PartyId = std::string;

enum class Channel { email, sms, voice, web };

enum class Relationship { unknown, vip, family, team, customer, vendor, blocked, protected_from };

enum class Category {
  spam,
  cold_outreach,
  newsletter,
  support,
  scheduling,
  billing,
  team,
  personal,
  other,
};
inline constexpr int kCategoryCount = 9;

enum class Disposition { to_client, handled, awaiting_va, screened, blocked, protected_ };

// How much the assistant may do alone for one category.
enum class Delegation { auto_, draft, notify, silent };

std::string_view to_string(Channel c);
std::string_view to_string(Relationship r);
std::string_view to_string(Category c);
std::string_view to_string(Disposition d);
std::string_view to_string(Delegation d);
// Words a VA reads ("cold outreach", "awaiting VA").
std::string_view label(Category c);
std::string_view label(Disposition d);

std::optional<Channel> channel_from(std::string_view s);
std::optional<Relationship> relationship_from(std::string_view s);
std::optional<Category> category_from(std::string_view s);
std::optional<Disposition> disposition_from(std::string_view s);
std::optional<Delegation> delegation_from(std::string_view s);

struct Header {
  std::string name;
  std::string value;
};

struct Attachment {
  std::string filename;
  std::string content_type;
  std::size_t size = 0;
};

enum class ParseStatus {
  ok,         // read cleanly
  repaired,   // read, with defects noted (bad charset, broken base64, ...)
  unreadable  // kept raw only; a VA has to look at it
};
std::string_view to_string(ParseStatus s);
std::optional<ParseStatus> parse_status_from(std::string_view s);

// What arrived, normalized from any channel.
struct Item {
  ItemId id;
  ClientId client;
  Channel channel = Channel::email;
  std::string source_key;    // idempotency key from the source
  std::string from_address;  // lower-cased address or E.164 number
  std::string from_name;
  std::vector<std::string> to;  // addresses
  std::vector<std::string> cc;
  std::string subject;
  std::string text;                     // plain text; HTML converted
  bool html_only = false;               // the sender sent no plain-text part
  std::vector<std::string> link_hosts;  // hosts the HTML body links to
  std::vector<std::string> html_tags;   // HTML elements the body uses
  std::vector<Header> headers;          // in arrival order, unfolded and decoded
  std::vector<Attachment> attachments;
  std::string message_id;
  std::string in_reply_to;
  std::vector<std::string> references;
  Timestamp sent_at = 0;  // the Date header; 0 when absent or unreadable
  Timestamp received_at = 0;
  ParseStatus parse_status = ParseStatus::ok;
  std::vector<std::string> defects;  // what was wrong with the message, in words
  std::size_t raw_size = 0;

  // First header with this name (case-insensitive), or nullptr.
  const std::string* header(std::string_view name) const;
};

struct Party {
  PartyId id;
  ClientId client;
  std::string name;
  Relationship relationship = Relationship::unknown;
  std::vector<std::string> identities;  // addresses and numbers
  // Sender history, as the store counts it when the item is decided.
  int items_seen = 0;    // earlier items from this party
  int items_let_in = 0;  // earlier items that reached the client or were let through
  bool let_in = false;   // the client or VA let this sender through the screener
};

struct Reason {
  std::string code;  // stable machine name: "relationship.vip", "rule", "screener.first_time"
  std::string text;  // what a VA reads
};

// reply: answer the item with the client's template named by the target (an automatic
// reply, checked against RFC 3834 when it is carried out).
enum class EffectKind {
  move_to_folder,
  flag,
  notify_va,
  notify_client,
  record_evidence,
  label,
  reply
};
std::string_view to_string(EffectKind k);
std::optional<EffectKind> effect_kind_from(std::string_view s);

struct PlannedEffect {
  EffectKind kind;
  std::string target;  // folder, label, recipient...
};

struct Decision {
  ItemId item;
  Category category = Category::other;
  Disposition disposition = Disposition::awaiting_va;
  double confidence = 0;  // 0..1, for the category
  double spam_score = 0;  // 0..1 from the classifier
  std::vector<std::string> labels;
  std::vector<Reason> reasons;
  std::vector<PlannedEffect> effects;
  std::string decided_by = "triage";  // "triage" or who corrected it
  Timestamp decided_at = 0;
};

// Lower-case ASCII; addresses and header names compare this way.
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
// The addresses in an address header's decoded value (To, Cc, Reply-To...), lower-cased:
// inside <> when there are brackets, else the entry itself; display names, quoted strings
// and comments never count. The small reading triage and composing need, not a full
// RFC 5322 parser (GMime does that when a message is parsed).
std::vector<std::string> addresses_in(std::string_view header_value);
// For people and forms: "a@x.example, b@y.example" (what addresses_in reads back).
std::string join_addresses(const std::vector<std::string>& addresses);
// The part after '@', or empty.
std::string domain_of(std::string_view address);

}  // namespace sk
