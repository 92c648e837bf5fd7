#pragma once
// A backup of a Sidekick home: the database as it stood at one moment (taken while `serve`
// goes on), the key that seals the mailboxes' passwords and the phone lines' tokens (without
// it they cannot be opened again), the models, and a manifest with each file's SHA-256, so
// that a damaged or altered backup is known before it is restored.
//
//   DIR/MANIFEST            "sidekick backup 1", when, the schema version, one line per file
//   DIR/sidekick.db         the database (SQLite, compact, no WAL)
//   DIR/keys/secret.key     owner-only, like the home's
//   DIR/models/*.model
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "app/home.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/db.hpp"

namespace sk::app {

struct BackupFile {
  std::string path;  // relative to the backup folder
  std::uint64_t bytes = 0;
  std::string sha256;
};

struct BackupReport {
  std::string dir;
  Timestamp created_at = 0;
  int schema = 0;
  std::vector<BackupFile> files;
  std::int64_t clients = 0, items = 0;
};

// Writes a backup of `home` (whose database is `db`) into `dir`, which must not exist or be
// empty; made owner-only. The copy is checked (integrity, manifest) before it is reported.
Result<BackupReport> create_backup(const Home& home, store::Db& db, const std::string& dir,
                                   const Clock& clock);

// What a backup's manifest says (no file is read but the manifest): for a listing.
Result<BackupReport> backup_manifest(const std::string& dir);

// Checks a backup: the manifest, every file's size and hash, the database's integrity and a
// schema this build can open. Errc::parse for a folder that is no backup, Errc::conflict for
// one that was damaged or altered, or made by a newer Sidekick.
Result<BackupReport> verify_backup(const std::string& dir);

// Checks the backup, then puts it into `home`, which must have no database yet (Errc::conflict
// otherwise: a restore never overwrites a home). The database goes in last and under its own
// name only when whole.
Result<BackupReport> restore_backup(const std::string& dir, const Home& home);

// Nightly backups by `serve`: into `dir`, once a day from `at_minute` (minutes after midnight,
// UTC), each in a folder of its own named by its time ("sidekick-20261124T030000Z"), the
// newest `keep` kept.
struct BackupSchedule {
  std::string dir;
  int at_minute = 3 * 60;
  int keep = 7;
};

// The backups in `dir` this schedule made (a name of its kind and a manifest), newest first.
std::vector<std::string> scheduled_backups(const std::string& dir);

// Takes the day's backup when it is due (its time has come today and no backup in `dir` was
// taken since), then removes the scheduled backups past the newest `keep`; nothing (and no
// error) when not due. Safe to call every few seconds: the folder is the record.
Result<std::optional<BackupReport>> backup_if_due(const Home& home, store::Db& db,
                                                  const BackupSchedule& schedule,
                                                  const Clock& clock);

}  // namespace sk::app
