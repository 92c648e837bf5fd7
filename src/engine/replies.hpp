#pragma once
// Mail Sidekick writes on a client's behalf: replies, automatic replies from templates,
// drafts a VA approves, new messages (invitations). Everything leaves through one path:
// an outgoing message with a fixed Message-ID and fixed bytes, sent by `send_due`, which
// asks the Sent folder before sending again, so a crash does not send anything twice.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/result.hpp"
#include "mail/smtp.hpp"
#include "store/db.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"

namespace sk::engine {

struct ReplyRequest {
  ItemId answers;
  std::string body;             // the text; the original is quoted below it when `quote` is set
  std::string kind = "reply";   // reply, auto_reply, forward
  std::vector<std::string> to;  // a forward's recipients (a reply goes to the sender)
  std::string reason;           // for the audit log and the VA
  bool send_now = false;        // false: a draft that waits for a VA
  bool quote = false;
  std::string source_key;  // makes the request idempotent (see store::OutgoingMessage)
  std::vector<store::OutgoingPart> parts;
};

struct MessageRequest {
  std::vector<std::string> to, cc;
  std::string subject;
  std::string body;
  std::string kind = "message";  // message, invitation...
  std::string reason;
  bool send_now = false;
  std::string source_key;
  std::vector<store::OutgoingPart> parts;
};

// A reply to an item, threaded (In-Reply-To, References), from the client's address.
Result<store::OutgoingMessage> queue_reply(store::Db& db, const Clock& clock, IdSource& ids,
                                           const ClientId& client, const ReplyRequest& request,
                                           const std::string& actor);
// New mail from the client's address.
Result<store::OutgoingMessage> queue_message(store::Db& db, const Clock& clock, IdSource& ids,
                                             const ClientId& client, const MessageRequest& request,
                                             const std::string& actor);
// A VA approves a draft, optionally with an edited text: its bytes are fixed and it is sent.
// The same for mail that could not be sent (failed): it is tried again now, from scratch.
Result<store::OutgoingMessage> approve_outgoing(store::Db& db, const Clock& clock,
                                                const ClientId& client, const std::string& id,
                                                const std::optional<std::string>& edited_body,
                                                const std::string& actor);
Result<void> discard_outgoing(store::Db& db, const Clock& clock, const ClientId& client,
                              const std::string& id, const std::string& actor,
                              const std::string& why);

// Carries out a planned `reply` effect: the client's template (or the built-in one of that
// name) becomes an automatic reply queued to send, unless RFC 3834 says no (lists, bounces,
// automatic mail, no-reply senders, the client's own address, a sender answered
// automatically within the client's auto_reply_period_hours). Safe to repeat: the effect id
// makes it one reply.
Result<std::string> plan_automatic_reply(store::Db& db, const Clock& clock, IdSource& ids,
                                         const ClientId& client, const store::EffectRecord& effect,
                                         const store::StoredItem& item);

// The built-in texts for templates a client has not written (decline, acknowledge).
std::optional<store::Template> builtin_template(const std::string& name);

// Where the mail goes out. Implementations talk SMTP and IMAP; tests may count.
class MailSender {
 public:
  virtual ~MailSender() = default;
  // Whether a copy with this Message-ID is already filed (in Sent): it went out before.
  virtual Result<bool> already_sent(const store::OutgoingMessage& m) = 0;
  // Hands the message to the submission server. `before_end` must run once every byte is
  // with the server and before the end-of-data mark (see mail::smtp_submit); it records
  // "handing_over", and returning false abandons the message. A Handover that was not
  // answered: the mark went and the server fell silent; it most likely has the message.
  virtual Result<mail::Handover> submit(const store::OutgoingMessage& m,
                                        const std::function<bool()>& before_end) = 0;
  // Files a copy in Sent (nothing when one is there).
  virtual Result<void> file_copy(const store::OutgoingMessage& m) = 0;
  // The mail account it sends through: it sends only that account's messages (and those
  // of no account). Empty: every message of the client.
  virtual std::string account() const { return ""; }
};

struct SendReport {
  std::size_t sent = 0;
  std::size_t found_sent = 0;  // an earlier attempt had sent it: not sent again
  std::size_t failed = 0;
  // Every byte went and no answer came (an earlier attempt died then, or the server fell
  // silent): not sent again.
  std::size_t taken_as_sent = 0;
};

// Sends the client's queued messages. "sending" is committed before the server is spoken
// to, "handing_over" just before the end-of-data mark and "sent" right after the server
// answers. A process that died in between first asks the Sent folder; one that died
// "sending" sends it again, one that died "handing_over" takes it as sent (the server has
// almost surely taken it) and says so in the audit log; so is one the server fell silent on
// after the end mark. Temporary failures are retried with a growing delay; permanent ones
// wait for a VA.
Result<SendReport> send_due(store::Db& db, const Clock& clock, const ClientId& client,
                            MailSender& sender, int limit = 100);

}  // namespace sk::engine
