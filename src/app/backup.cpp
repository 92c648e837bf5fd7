#include "app/backup.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/hash.hpp"

namespace sk::app {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFormat = "sidekick backup 1";
constexpr const char* kManifest = "MANIFEST";
constexpr const char* kDatabase = "sidekick.db";
constexpr const char* kKey = "keys/secret.key";

Result<std::int64_t> count(store::Db& db, const char* table) {
  SK_ASSIGN(auto rows, db.query(std::string("SELECT COUNT(*) FROM ") + table));
  return rows.at(0).i64(0);
}

// A database of many clients' mail runs to gigabytes: hashed a block at a time.
// A backup this build can restore: not from a newer Sidekick.
Result<void> restorable(int schema) {
  auto known = store::known_schema(schema);
  if (known.ok()) return ok();
  return make_error(known.error().code,
                    "the backup was " + known.error().message + ": restore it with that");
}

Result<BackupFile> describe(const std::string& dir, const std::string& relative) {
  const std::string path = dir + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(Errc::io, "cannot read " + path);
  Sha256 hash;
  std::uint64_t bytes = 0;
  std::vector<char> block(1 << 20);
  while (in) {
    in.read(block.data(), static_cast<std::streamsize>(block.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    hash.add(std::string_view(block.data(), got));
    bytes += got;
  }
  if (in.bad()) return make_error(Errc::io, "cannot read " + path);
  return BackupFile{relative, bytes, hash.hex()};
}

// Copies a file, owner-only when `secret`; fails rather than replace one.
Result<void> copy_file(const std::string& from, const std::string& to, bool secret) {
  std::error_code ec;
  fs::create_directories(fs::path(to).parent_path(), ec);
  if (secret) fs::permissions(fs::path(to).parent_path(), fs::perms::owner_all, ec);
  if (!fs::copy_file(from, to, fs::copy_options::none, ec))
    return make_error(Errc::io, "cannot copy " + from + " to " + to + ": " + ec.message());
  if (secret)
    fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                    ec);
  if (ec) return make_error(Errc::io, "cannot make " + to + " owner-only: " + ec.message());
  return ok();
}

std::string manifest_text(const BackupReport& r) {
  std::ostringstream out;
  out << kFormat << "\ncreated " << r.created_at << "\nschema " << r.schema << "\nclients "
      << r.clients << "\nitems " << r.items << "\n";
  for (const auto& f : r.files)
    out << "file " << f.sha256 << " " << f.bytes << " " << f.path << "\n";
  return out.str();
}

}  // namespace

Result<BackupReport> backup_manifest(const std::string& dir) {
  const std::string path = dir + "/" + kManifest;
  std::error_code ec;
  if (!fs::exists(path, ec))
    return make_error(Errc::parse, dir + " is not a Sidekick backup (no " + kManifest + ")");
  SK_ASSIGN(auto text, read_file(path));
  std::istringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line != kFormat)
    return make_error(Errc::parse, path + " is not a Sidekick backup manifest (\"" +
                                       std::string(kFormat) + "\" expected on its first line)");
  BackupReport r;
  r.dir = dir;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key;
    fields >> key;
    bool good = true;
    if (key == "created") {
      good = static_cast<bool>(fields >> r.created_at);
    } else if (key == "schema") {
      good = static_cast<bool>(fields >> r.schema);
    } else if (key == "clients") {
      good = static_cast<bool>(fields >> r.clients);
    } else if (key == "items") {
      good = static_cast<bool>(fields >> r.items);
    } else if (key == "file") {
      BackupFile f;
      good = static_cast<bool>(fields >> f.sha256 >> f.bytes >> f.path);
      // A manifest names files inside the backup only.
      good = good && f.sha256.size() == 64 && !f.path.empty() && f.path.front() != '/' &&
             f.path.find("..") == std::string::npos;
      if (good) r.files.push_back(f);
    } else {
      good = key.empty();
    }
    if (!good) return make_error(Errc::parse, path + ": cannot read the line '" + line + "'");
  }
  bool database = false;
  for (const auto& f : r.files) database = database || f.path == kDatabase;
  if (!database) return make_error(Errc::parse, path + " names no database");
  return r;
}

namespace {

// Everything but the folder itself; `dir` exists, is empty and is owner-only.
Result<BackupReport> write_backup(const Home& home, store::Db& db, const std::string& dir,
                                  const Clock& clock) {
  BackupReport r;
  r.dir = dir;
  r.created_at = clock.now();
  SK_TRY(store::snapshot(db, dir + "/" + kDatabase));
  {
    SK_ASSIGN(auto copy, store::open_sqlite_read_only(dir + "/" + kDatabase));
    SK_TRY(store::check_integrity(*copy));
    SK_ASSIGN(r.schema, store::stored_schema_version(*copy));
    SK_TRY(restorable(r.schema));
    SK_ASSIGN(r.clients, count(*copy, "clients"));
    SK_ASSIGN(r.items, count(*copy, "items"));
  }
  SK_ASSIGN(auto database, describe(dir, kDatabase));
  r.files.push_back(database);
  std::error_code ec;
  if (fs::exists(home.secret_key(), ec)) {
    SK_TRY(copy_file(home.secret_key(), dir + "/" + kKey, true));
    SK_ASSIGN(auto key, describe(dir, kKey));
    r.files.push_back(key);
  }
  for (const std::string& model : {home.spam_model(), home.text_model()}) {
    if (!fs::exists(model, ec)) continue;
    const std::string relative = "models/" + fs::path(model).filename().string();
    SK_TRY(copy_file(model, dir + "/" + relative, false));
    SK_ASSIGN(auto f, describe(dir, relative));
    r.files.push_back(f);
  }
  // Not verified again: the copy's integrity was checked and its files hashed just now, and
  // a database of many clients' mail is gigabytes to read twice more.
  SK_TRY(write_file_atomically(dir + "/" + kManifest, manifest_text(r)));
  return r;
}

}  // namespace

Result<BackupReport> create_backup(const Home& home, store::Db& db, const std::string& dir,
                                   const Clock& clock) {
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  if (existed && !fs::is_empty(dir, ec))
    return make_error(Errc::conflict, dir + " is not empty: a backup goes into a new folder");
  if (!existed) {
    if (fs::path(dir).has_parent_path()) fs::create_directories(fs::path(dir).parent_path(), ec);
    // Made here and now, or another backup is being written into it (two serves at 03:00).
    if (!fs::create_directory(dir, ec))
      return make_error(
          ec ? Errc::io : Errc::conflict,
          ec ? "cannot create " + dir + ": " + ec.message()
             : dir + " appeared while the backup began: another one is written there");
  }
  // It holds the key to the mailboxes' passwords: as private as the home.
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  if (ec) return make_error(Errc::io, "cannot make " + dir + " owner-only: " + ec.message());
  auto r = write_backup(home, db, dir, clock);
  if (!r.ok()) {
    // Half a backup looks like one: nothing of it is left (the folder was empty or new).
    if (existed) {
      for (const auto& entry : fs::directory_iterator(dir, ec)) fs::remove_all(entry.path(), ec);
    } else {
      fs::remove_all(dir, ec);
    }
    return make_error(r.error().code, r.error().message + " (no backup was kept)");
  }
  return r;
}

Result<BackupReport> verify_backup(const std::string& dir) {
  SK_ASSIGN(auto r, backup_manifest(dir));
  for (const auto& f : r.files) {
    const std::string path = dir + "/" + f.path;
    std::error_code ec;
    if (!fs::exists(path, ec))
      return make_error(Errc::conflict, "the backup is incomplete: " + f.path + " is missing");
    SK_ASSIGN(auto now, describe(dir, f.path));
    if (now.bytes != f.bytes || now.sha256 != f.sha256)
      return make_error(Errc::conflict, "the backup was damaged or altered: " + f.path +
                                            " is not what its manifest says");
  }
  SK_ASSIGN(auto db, store::open_sqlite_read_only(dir + "/" + kDatabase));
  SK_TRY(store::check_integrity(*db));
  SK_ASSIGN(int schema, store::stored_schema_version(*db));
  if (schema != r.schema)
    return make_error(Errc::conflict, "the backup's database is at schema " +
                                          std::to_string(schema) + ", its manifest says " +
                                          std::to_string(r.schema));
  SK_TRY(restorable(schema));
  return r;
}

Result<BackupReport> restore_backup(const std::string& dir, const Home& home) {
  SK_ASSIGN(auto r, verify_backup(dir));
  if (!home.database_url.empty())
    return make_error(Errc::invalid_input,
                      "a backup restores an SQLite home; SIDEKICK_DATABASE names a PostgreSQL "
                      "database: unset it to restore");
  std::error_code ec;
  if (fs::exists(home.database(), ec))
    return make_error(Errc::conflict,
                      home.dir +
                          " already has a database: a restore goes into a home without "
                          "one (--home DIR), so that nothing is overwritten");
  for (const auto& f : r.files)
    if (f.path != kDatabase && fs::exists(home.dir + "/" + f.path, ec))
      return make_error(Errc::conflict,
                        home.dir + "/" + f.path + " exists already: a restore overwrites nothing");
  // All of it or none: every file is copied under a name of its own first, put in place only
  // when all are whole, the database last (a database under its name is a complete home).
  // A failure part way takes back what this restore wrote, so that it can simply be run again.
  std::vector<BackupFile> order;
  for (const auto& f : r.files)
    if (f.path != kDatabase) order.push_back(f);
  for (const auto& f : r.files)
    if (f.path == kDatabase) order.push_back(f);
  std::vector<std::string> written;  // copies and files put in place: what an undo removes
  auto undo = [&](const Error& e) {
    std::error_code ignored;
    for (const auto& path : written) fs::remove(path, ignored);
    return make_error(e.code, e.message + " (nothing was restored)");
  };
  for (const auto& f : order) {
    const std::string partial = home.dir + "/" + f.path + ".restoring";
    fs::remove(partial, ec);
    auto copied = copy_file(dir + "/" + f.path, partial, f.path == kKey);
    if (!copied.ok()) return undo(copied.error());
    written.push_back(partial);
  }
  for (const auto& f : order) {
    const std::string to = home.dir + "/" + f.path;
    written.push_back(to);
    fs::rename(to + ".restoring", to, ec);
    if (ec) return undo(make_error(Errc::io, "cannot put " + to + " in place: " + ec.message()));
  }
  return r;
}

namespace {

constexpr std::string_view kScheduledPrefix = "sidekick-";

// "sidekick-20261124T030000Z": sorts as it was taken.
std::string scheduled_name(Timestamp t) {
  std::string utc = format_utc(t);  // 2026-11-24T03:00:00Z
  std::string compact;
  for (char c : utc)
    if (c != '-' && c != ':') compact += c;
  return std::string(kScheduledPrefix) + compact;
}

bool scheduled_name_shape(const std::string& name) {
  // sidekick-YYYYMMDDTHHMMSSZ
  if (name.size() != kScheduledPrefix.size() + 16 || !name.starts_with(kScheduledPrefix))
    return false;
  const std::string_view t = std::string_view(name).substr(kScheduledPrefix.size());
  for (std::size_t i = 0; i < t.size(); ++i) {
    const bool digit = t[i] >= '0' && t[i] <= '9';
    if (i == 8 ? t[i] != 'T' : i == 15 ? t[i] != 'Z' : !digit) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> scheduled_backups(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_directory(ec) && scheduled_name_shape(name) &&
        fs::exists(entry.path() / kManifest, ec))
      out.push_back(entry.path().string());
  }
  std::sort(out.rbegin(), out.rend());
  return out;
}

Result<std::optional<BackupReport>> backup_if_due(const Home& home, store::Db& db,
                                                  const BackupSchedule& schedule,
                                                  const Clock& clock) {
  const Timestamp now = clock.now();
  const Timestamp midnight = now - ((now % 86400) + 86400) % 86400;
  const Timestamp due = midnight + static_cast<Timestamp>(schedule.at_minute) * 60;
  if (now < due) return std::optional<BackupReport>{};
  const auto taken = scheduled_backups(schedule.dir);
  // Names are times: the newest one taken at or after today's time means today's is done.
  if (!taken.empty() && fs::path(taken.front()).filename().string() >= scheduled_name(due))
    return std::optional<BackupReport>{};
  SK_ASSIGN(auto report, create_backup(home, db, schedule.dir + "/" + scheduled_name(now), clock));
  auto all = scheduled_backups(schedule.dir);
  std::error_code ec;
  for (std::size_t i = static_cast<std::size_t>(std::max(schedule.keep, 1)); i < all.size(); ++i)
    fs::remove_all(all[i], ec);
  return std::optional<BackupReport>{std::move(report)};
}

}  // namespace sk::app
