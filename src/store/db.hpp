#pragma once
// One database interface for both engines. SQL is written once with `?` placeholders; each
// engine adapts it. Repositories (repos.hpp) are the only callers outside this module's tests.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.hpp"

namespace sk::store {

using Value = std::variant<std::monostate, std::int64_t, double, std::string>;
using Params = std::vector<Value>;

struct Row {
  std::vector<Value> cols;
  bool is_null(std::size_t i) const { return cols.at(i).index() == 0; }
  std::int64_t i64(std::size_t i) const;
  double f64(std::size_t i) const;
  std::string str(std::size_t i) const;  // empty for NULL
};

class Db {
 public:
  virtual ~Db() = default;
  virtual Result<void> exec(std::string_view sql, const Params& params = {}) = 0;
  virtual Result<std::vector<Row>> query(std::string_view sql, const Params& params = {}) = 0;
  // Runs `fn` in one transaction: committed when it returns ok, rolled back otherwise.
  // Nested calls join the outer transaction.
  virtual Result<void> transaction(const std::function<Result<void>()>& fn) = 0;
  // Rows changed by the last exec.
  virtual std::int64_t changes() const = 0;
  virtual std::string_view engine() const = 0;
  // Where the data lives (an SQLite file's full path); empty for an in-memory database.
  // Data derived from the store and kept in memory is kept per location, and not at all
  // for an in-memory database, whose contents no other connection shares.
  virtual std::string_view location() const = 0;
};

// Opens (creating if needed) an SQLite database in WAL mode. ":memory:" for tests.
Result<std::unique_ptr<Db>> open_sqlite(const std::string& path);

// Connects to a PostgreSQL database ("postgresql://user@host:port/name", or libpq's
// "key=value" form). The repositories' SQL is translated for it (postgres.cpp); the database
// should be made with ENCODING 'SQL_ASCII' and LC_COLLATE 'C', which store and order text as
// SQLite does, byte for byte.
Result<std::unique_ptr<Db>> open_postgres(const std::string& conninfo);
// Whether `where` names a PostgreSQL database rather than an SQLite file.
bool is_postgres_url(std::string_view where);
// open_postgres for a postgresql:// or postgres:// URL, else open_sqlite.
Result<std::unique_ptr<Db>> open_database(const std::string& where);

// Writes a consistent copy of the whole database to `path` (which must not exist), while other
// connections and processes go on reading and writing: what was committed when it began.
// SQLite only (a PostgreSQL store is backed up with its own tools): Errc::invalid_input else.
Result<void> snapshot(Db& db, const std::string& path);
// Reads every page of the database and checks its structure (PRAGMA integrity_check).
// Errc::storage with what is wrong.
Result<void> check_integrity(Db& db);
// Opens an SQLite database file that must exist, to read it: nothing is written, no WAL made.
Result<std::unique_ptr<Db>> open_sqlite_read_only(const std::string& path);

// Brings the schema to the newest version; safe to call on every start.
Result<void> migrate(Db& db);
// The schema version the database is at, and the newest this build knows.
Result<int> schema_version(Db& db);
// The same without creating the version table where it is missing (0 then): for an SQLite
// database opened to read only.
Result<int> stored_schema_version(Db& db);
int latest_schema_version();
// Ok for a schema this build knows; else Errc::conflict, "made by a newer Sidekick (schema N;
// this one knows up to M)", for the caller to say of what.
Result<void> known_schema(int version);

}  // namespace sk::store
