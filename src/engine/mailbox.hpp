#pragma once
// Watching a client's own IMAP mailbox: new INBOX mail is taken in, decided, and the
// decisions carried out in the mailbox itself (moves into Sidekick/ folders, flags). The
// mail never leaves the client's server, so nothing is lost if Sidekick stops.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine.hpp"
#include "engine/outbox.hpp"
#include "engine/replies.hpp"
#include "mail/imap.hpp"
#include "mail/smtp.hpp"
#include "store/accounts.hpp"

namespace sk::engine {

mail::ImapConfig imap_config(const store::AccountRecord& account, const std::string& secret);
mail::SmtpConfig smtp_config(const store::AccountRecord& account, const std::string& secret);

// Carries out effects in the mailbox the item came from, following the message where it
// was moved. Safe to repeat: a message already in its target folder is not moved again, and
// one that is no longer where Sidekick left it was filed by the client, who wins.
class ImapExecutor final : public EffectExecutor {
 public:
  ImapExecutor(store::Db& db, mail::ImapSession& session, ClientId client, std::string account_id)
      : db_(db), session_(session), client_(std::move(client)), account_(std::move(account_id)) {}
  Result<std::string> execute(const store::EffectRecord& effect,
                              const store::StoredItem& item) override;
  // Moves from one folder to another go together: one search for which messages are still
  // there and one MOVE for all of them (Dovecot rewrites a folder's index once per expunge,
  // which one move at a time pays per message). Everything else goes one at a time.
  std::vector<Result<std::string>> execute_many(const std::vector<DueEffect>& due) override;

 private:
  // Where the item's message is now; nullopt when it did not come from this mailbox.
  Result<std::optional<store::ItemLocation>> locate(const store::StoredItem& item);
  Result<void> ensure_folder(const std::string& folder);
  // A repeated move whose message is gone from where the store says: the interrupted attempt
  // may have moved it without its new UID reaching the store. Looks in the target by
  // Message-ID and records it there; 0 when it is not found there (the client filed it).
  Result<std::uint32_t> moved_before(const store::EffectRecord& effect,
                                     const store::StoredItem& item);
  struct Move {
    std::size_t index;  // into the effects given to execute_many
    std::uint32_t uid;  // in the folder it is moved from
  };
  void move_together(const std::string& from, const std::string& to, const std::vector<Move>& moves,
                     const std::vector<DueEffect>& due,
                     std::vector<std::optional<Result<std::string>>>& outcomes);

  store::Db& db_;
  mail::ImapSession& session_;
  ClientId client_;
  std::string account_;
  std::vector<std::string> created_;  // folders known to exist
};

// Sends through the account's submission server and keeps a copy in its Sent folder, which
// is also where a restarted Sidekick looks to tell whether a message already went out.
class AccountSender final : public MailSender {
 public:
  AccountSender(mail::ImapSession& session, store::AccountRecord account, std::string secret)
      : session_(session), account_(std::move(account)), secret_(std::move(secret)) {}
  Result<bool> already_sent(const store::OutgoingMessage& m) override;
  Result<mail::Handover> submit(const store::OutgoingMessage& m,
                                const std::function<bool()>& before_end) override;
  Result<void> file_copy(const store::OutgoingMessage& m) override;
  std::string account() const override { return account_.id; }

 private:
  mail::ImapSession& session_;
  store::AccountRecord account_;
  std::string secret_;
  bool sent_folder_ready_ = false;
};

struct WatchRound {
  std::size_t taken_in = 0;
  std::size_t decided = 0;
  std::size_t effects_done = 0;
  std::size_t effects_failed = 0;
  std::size_t sent = 0;
  std::size_t send_failed = 0;
  std::size_t corrections = 0;  // messages the client moved into or out of Sidekick's folders
  // Wall time of the round's phases, for benchmarks and logs.
  double take_in_ms = 0;  // connecting included
  double decide_ms = 0;
  double act_ms = 0;                // carrying out the due effects in the mailbox
  std::uint64_t imap_commands = 0;  // sent on the watcher's connection during the round
};

class MailboxWatcher {
 public:
  MailboxWatcher(Engine& engine, store::Db& db, const Clock& clock, store::AccountRecord account,
                 std::string secret);
  ~MailboxWatcher();

  // One round: connect if needed, take in new INBOX mail (the first round looks back
  // first_pass_days), decide it, carry out due effects.
  Result<WatchRound> poll_once();
  // Rounds until `stop`: IDLE (or polling) between them, reconnecting with backoff. A round
  // that left work (mail that came meanwhile, effects past its share) is followed at once.
  void run(const std::atomic<bool>& stop, int idle_seconds = 300);
  // How many due effects one round carries out (500 unless told).
  void set_effects_per_round(int n) { effects_per_round_ = n; }

 private:
  Result<void> ensure_connected();
  Result<std::size_t> take_in();
  // A message Sidekick had filed away is back in INBOX at `uid`: when the client moved it,
  // that is a correction ("this is for me").
  Result<void> back_in_inbox(const ItemId& item, std::uint32_t uid);
  // Messages the client moved into Sidekick's folders are corrections too ("this is spam").
  Result<std::size_t> notice_client_moves();

  Engine& engine_;
  store::Db& db_;
  const Clock& clock_;
  store::AccountRecord account_;
  std::string secret_;
  std::unique_ptr<mail::ImapSession> session_;
  std::size_t corrections_ = 0;  // found while taking in, reported with the round
  bool more_waiting_ = false;    // INBOX got mail while the last round was busy, or effects wait
  int effects_per_round_ = 500;
};

}  // namespace sk::engine
