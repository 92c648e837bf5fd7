#pragma once
// Mail leaving Sidekick on a client's behalf: drafts waiting for a VA, replies and
// invitations queued to send, and what was sent. Each message has its Message-ID from the
// start, and its bytes are fixed when it is queued, so a retry sends exactly what was
// recorded and the Sent folder can be asked whether it already went out.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"

namespace sk::store {

enum class OutgoingStatus {
  draft,      // waits for a VA to approve (or edit) it
  queued,     // approved: the outbox sends it
  sending,    // an attempt started; a process that died here finds it again
  sent,       // the submission server took it
  failed,     // gave up: a VA has to look (last_error says why)
  discarded,  // a VA threw the draft away
  // Every byte is with the server and the end-of-data mark is going out: whether the server
  // took it is known only from its answer. A process that died here takes it as sent rather
  // than send it twice, and says so in the audit log.
  handing_over,
};
std::string_view to_string(OutgoingStatus s);
std::optional<OutgoingStatus> outgoing_status_from(std::string_view s);

// A MIME part beside the text: a text/calendar invitation, a file.
struct OutgoingPart {
  std::string content_type;  // "text/calendar; method=REQUEST"
  std::string filename;      // empty: inline
  std::string content;
};

struct OutgoingMessage {
  std::string id;  // out_N
  ClientId client;
  // The mail account it goes out through (and is filed in): the one the answered mail came
  // to, else the one added first. Empty when the client has no account yet: whichever sends.
  std::string account;
  ItemId answers;    // the item this replies to or forwards; empty for new mail
  std::string kind;  // reply, auto_reply, forward, invitation, message
  OutgoingStatus status = OutgoingStatus::draft;
  std::vector<std::string> to, cc;
  std::string subject;
  std::string body;
  std::vector<OutgoingPart> parts;
  std::string message_id;  // without <>
  // What made it, unique per client: the effect that planned it, a booking's invitation...
  // A second request with the same key returns the first message instead of a new one.
  std::string source_key;
  std::string raw;  // the RFC 5322 bytes, fixed when queued
  std::string reason;
  std::string created_by;
  Timestamp created_at = 0;
  int attempts = 0;
  Timestamp next_attempt_at = 0;
  std::string last_error;
  Timestamp sent_at = 0;
  bool filed = false;  // a copy is in the Sent folder
};

// Inserts `m` (id and created_at set by the caller), or, when the client already has a
// message with its source_key, leaves everything as it was and returns that one.
Result<OutgoingMessage> insert_outgoing(Db& db, const OutgoingMessage& m);
Result<OutgoingMessage> get_outgoing(Db& db, const ClientId& client, const std::string& id);
// Newest first; `status` empty: all.
Result<std::vector<OutgoingMessage>> list_outgoing(Db& db, const ClientId& client,
                                                   std::optional<OutgoingStatus> status = {});
// Queued messages whose time has come, sending ones a dead process left behind, and sent ones
// not yet filed in Sent; oldest first.
// `account`: only what goes out through that account (and what has none).
Result<std::vector<OutgoingMessage>> due_outgoing(Db& db, const ClientId& client, Timestamp now,
                                                  int limit, const std::string& account = "");
Result<void> update_outgoing(Db& db, const OutgoingMessage& m);
// When a message of this kind last went (or was queued to go) to `address`; 0 if never.
Result<Timestamp> last_outgoing_to(Db& db, const ClientId& client, const std::string& kind,
                                   const std::string& address);

// The client's templates for replies (decline, acknowledge...).
struct Template {
  std::string name;
  std::string subject;  // empty: "Re: " + the original's
  std::string body;
};
Result<std::optional<Template>> get_template(Db& db, const ClientId& client,
                                             const std::string& name);
Result<void> set_template(Db& db, const ClientId& client, const Template& t);
// False when the client has no such template. A built-in one (decline, acknowledge) answers
// again once the client's own version is gone.
Result<bool> delete_template(Db& db, const ClientId& client, const std::string& name);
Result<std::vector<Template>> list_templates(Db& db, const ClientId& client);

}  // namespace sk::store
