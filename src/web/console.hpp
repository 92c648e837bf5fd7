#pragma once
// The console: every route of the web interface (pages, JSON API, server-sent events) on one
// Router, with authentication, authorization by client and security headers applied around
// each handler in one place.
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "store/db.hpp"
#include "triage/spam_model.hpp"
#include "web/auth.hpp"
#include "web/router.hpp"

namespace sk::web {

// What the agency page says of the nightly backups (`serve --backup-dir`).
struct BackupStatus {
  std::string dir;        // where they go; empty: none are taken
  std::string last;       // the newest one's folder; empty: none yet
  Timestamp last_at = 0;  // when it was taken
  std::string failure;    // why the last attempt failed, if it did
};

struct ConsoleOptions {
  AuthOptions auth;
  std::size_t pool_size = 8;  // open store connections kept for requests
  int events_poll_ms = 1000;  // how often an event stream looks for new decisions
  // The public booking page's address and link key: a booking the VA confirms then carries
  // the guest's own move/cancel link. Empty: no such link.
  std::string booking_link_key;
  std::string booking_base_url;
  // The queue page shows the most urgent rows and says how many more wait: a first pass over a
  // big mailbox screens thousands of senders, and a page of thousands of rows helps nobody.
  // The API lists them all.
  std::size_t queue_rows_shown = 200;
  // The classifier for text messages (phone lines); it outlives the console. None: no text is
  // called spam by a classifier.
  const triage::SpamModel* text_model = nullptr;
  // Asked when the agency page is shown; none: backups are not this process's to take.
  std::function<BackupStatus()> backup_status;
};

class Console {
 public:
  using OpenDb = std::function<Result<std::unique_ptr<store::Db>>()>;
  Console(OpenDb open_db, const Clock& clock, const triage::SpamModel& model,
          ConsoleOptions options = {});
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  // Routes can be added (before serving starts) by other modules, e.g. a public booking page.
  Router& router();
  Response handle(const Request& req);
  // Streams end when this becomes true (the server's stopping flag).
  void set_stopping(const std::atomic<bool>* stopping);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sk::web
