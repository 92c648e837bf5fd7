#pragma once
// A real mail server for tests: Dovecot (IMAP, IMAPS, LMTP) and Postfix (SMTP delivering into
// Dovecot), started by tests/fixtures/mailserver in a fresh temporary folder, on free
// loopback ports. Each test process gets its own; two processes never share one.
//
// Users alice, bob and carol (address name@sidekick.test, password "secret-NAME", XOAUTH2
// bearer token "token-NAME"). Folders use "/" as the hierarchy separator. Postfix accepts
// mail for those three addresses only and rejects every other recipient at RCPT time:
// nothing can leave the machine.
//
// The servers need root (CI runs tests as root). When they cannot start, every call of
// shared() throws std::runtime_error with the servers' logs: the test fails, it is never
// skipped.
#include <cstddef>
#include <string>
#include <vector>

namespace sk::test {

struct MailUser {
  std::string name, password, address;  // address: name@sidekick.test
};

class MailServer {
 public:
  // Started on first use in a test process, stopped at exit (and by a watcher, should the
  // process die without exiting).
  static MailServer& shared();

  int imap_port() const { return imap_port_; }    // plain IMAP, STARTTLS offered
  int imaps_port() const { return imaps_port_; }  // IMAP over TLS (self-signed certificate)
  int smtp_port() const { return smtp_port_; }    // Postfix: STARTTLS, AUTH PLAIN/LOGIN

  MailUser user(const std::string& name) const;
  std::string oauth2_token(const std::string& name) const { return "token-" + name; }

  // Saves the message, byte for byte, straight into the user's INBOX (no headers added).
  void deliver(const std::string& user, const std::string& raw);
  // The messages now in that folder ("Sidekick/Screened" for a subfolder; ASCII names, as
  // Dovecot keeps others in modified UTF-7 on disk), read from the Maildir and sorted by file
  // name (delivery order). Dovecot stores them with CRLF line ends, as IMAP serves them.
  std::vector<std::string> messages(const std::string& user,
                                    const std::string& folder = "INBOX") const;
  // The INBOX messages that contain `needle`, waiting up to `seconds` for Postfix to deliver
  // at least `want` of them (0 seconds: look once).
  std::vector<std::string> wait_for(const std::string& user, const std::string& needle,
                                    std::size_t want, int seconds = 20) const;

  const std::string& dir() const { return dir_; }
  std::string logs() const;  // the servers' recent log lines, for failure messages

  ~MailServer();
  MailServer(const MailServer&) = delete;
  MailServer& operator=(const MailServer&) = delete;

 private:
  MailServer();
  std::string dir_;
  int imap_port_ = 0, imaps_port_ = 0, smtp_port_ = 0;
};

}  // namespace sk::test
