#pragma once
// An IMAP client session (libetpan inside imap.cpp; none of its types show here).
// Errors come back as Result errors: Errc::io for the network, TLS and the server refusing a
// command, Errc::invalid_input for a refused login, Errc::not_found for a missing folder.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace sk::mail {

enum class ImapSecurity { none, starttls, tls };

struct ImapConfig {
  std::string host;
  int port = 993;
  ImapSecurity security = ImapSecurity::tls;
  std::string user;
  std::string password;
  std::string oauth2_token;        // when set, log in with XOAUTH2 instead of the password
  bool verify_certificate = true;  // the system's trusted CAs and the host name
  int timeout_seconds = 30;        // for connecting and for each answer
  // Watch with NOOP polls even where the server offers IDLE (tests, benchmarks).
  bool allow_idle = true;
};

struct MailboxStatus {
  std::uint32_t uidvalidity = 0;
  std::uint32_t uidnext = 0;
  std::uint32_t exists = 0;
};

struct FetchedMessage {
  std::uint32_t uid = 0;
  std::vector<std::string> flags;  // as the server spells them: "\\Seen", "$Label1"
  std::string bytes;               // the whole message, exactly as stored
};

// One connection, logged in. Not thread-safe: one thread at a time.
class ImapSession {
 public:
  static Result<std::unique_ptr<ImapSession>> connect(const ImapConfig& config);

  Result<std::vector<std::string>> capabilities();
  Result<MailboxStatus> select(const std::string& folder);
  // Selects the folder unless it is the one selected already (a SELECT of a large mailbox
  // costs the server a resync; one per effect adds up).
  Result<void> ensure_selected(const std::string& folder);
  // Whether a message with this UID is in the selected folder (UID SEARCH UID n).
  Result<bool> has_uid(std::uint32_t uid);
  // Which of these UIDs are in the selected folder, ascending (one UID SEARCH for the set).
  Result<std::vector<std::uint32_t>> present_uids(const std::vector<std::uint32_t>& uids);

  // In the selected folder, in ascending order.
  Result<std::vector<std::uint32_t>> uids_since(std::int64_t unix_time);  // SEARCH SINCE (a date)
  Result<std::vector<std::uint32_t>> uids_from(std::uint32_t first_uid);  // UID first:*
  // SEARCH HEADER: messages whose header `name` contains `value` (a Message-ID, say).
  Result<std::vector<std::uint32_t>> uids_with_header(const std::string& name,
                                                      const std::string& value);
  // BODY.PEEK[] and FLAGS: never marks anything \Seen. Uids that no longer exist are left out.
  Result<std::vector<FetchedMessage>> fetch(const std::vector<std::uint32_t>& uids);

  Result<void> create_folder(const std::string& name);  // ok when it exists already
  // MOVE where offered, else UID COPY + \Deleted + UID EXPUNGE. Returns the message's UID in
  // `folder` when the server tells (COPYUID), else 0; Errc::not_found when no message in the
  // selected folder has that UID.
  Result<std::uint32_t> move(std::uint32_t uid, const std::string& folder);
  // The same for a set of messages, in one command per step (a server rewrites its index
  // once per expunge, not once per message). Returns, for each UID that was moved, its UID
  // in `folder` (0 when the server does not tell); a UID left out was not there to move.
  Result<std::map<std::uint32_t, std::uint32_t>> move_many(const std::vector<std::uint32_t>& uids,
                                                           const std::string& folder);
  Result<void> set_flag(std::uint32_t uid, const std::string& flag, bool on);
  // Returns the new message's UID when the server tells (APPENDUID), else 0.
  Result<std::uint32_t> append(const std::string& folder, const std::string& bytes,
                               const std::vector<std::string>& flags);

  // Waits for a change in the selected folder (new, expunged or re-flagged mail): IDLE where
  // offered, for up to `seconds`, else NOOP polls. True when something changed, including
  // changes the server reported during earlier commands since the last call.
  Result<bool> wait_for_change(int seconds);

  // Tagged commands sent on this connection so far, the login's included (for tests and
  // benchmarks that count round trips).
  std::uint64_t commands_sent() const;

  ~ImapSession();
  ImapSession(const ImapSession&) = delete;
  ImapSession& operator=(const ImapSession&) = delete;

  struct Impl;

 private:
  explicit ImapSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sk::mail
