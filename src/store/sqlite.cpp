#include <sqlite3.h>

#include <unordered_map>

#include "store/statement_db.hpp"

namespace sk::store {

std::int64_t Row::i64(std::size_t i) const {
  const auto& v = cols.at(i);
  if (auto p = std::get_if<std::int64_t>(&v)) return *p;
  if (auto p = std::get_if<double>(&v)) return static_cast<std::int64_t>(*p);
  if (auto p = std::get_if<std::string>(&v)) return std::stoll(*p);
  return 0;
}

double Row::f64(std::size_t i) const {
  const auto& v = cols.at(i);
  if (auto p = std::get_if<double>(&v)) return *p;
  if (auto p = std::get_if<std::int64_t>(&v)) return static_cast<double>(*p);
  if (auto p = std::get_if<std::string>(&v)) return std::stod(*p);
  return 0;
}

std::string Row::str(std::size_t i) const {
  const auto& v = cols.at(i);
  if (auto p = std::get_if<std::string>(&v)) return *p;
  if (auto p = std::get_if<std::int64_t>(&v)) return std::to_string(*p);
  if (auto p = std::get_if<double>(&v)) return std::to_string(*p);
  return {};
}

namespace {

class SqliteDb final : public StatementDb {
 public:
  explicit SqliteDb(sqlite3* db) : db_(db) {
    const char* file = sqlite3_db_filename(db_, "main");
    location_ = file ? file : "";
  }
  ~SqliteDb() override {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);
    sqlite3_close_v2(db_);
  }

  std::int64_t changes() const override { return sqlite3_changes64(db_); }
  std::string_view engine() const override { return "sqlite"; }
  std::string_view location() const override { return location_; }

 private:
  Error fail(std::string_view sql) const {
    return make_error(
        sqlite3_errcode(db_) == SQLITE_CONSTRAINT ? Errc::conflict : Errc::storage,
        std::string(sqlite3_errmsg(db_)) + " [" + std::string(sql.substr(0, 80)) + "]");
  }

  // Prepared statements are kept per SQL text: the engine runs the same few dozen
  // statements over and over, and preparing costs more than running them.
  Result<sqlite3_stmt*> prepare(std::string_view sql) {
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) return it->second;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &st, nullptr) !=
        SQLITE_OK)
      return fail(sql);
    if (st) cache_.emplace(std::string(sql), st);
    return st;
  }

  Result<void> begin() override { return run("BEGIN IMMEDIATE", {}, nullptr); }
  Result<void> commit() override { return run("COMMIT", {}, nullptr); }
  void rollback() override { (void)run("ROLLBACK", {}, nullptr); }

  Result<void> run(std::string_view sql, const Params& params, std::vector<Row>* out) override {
    SK_ASSIGN(sqlite3_stmt * st, prepare(sql));
    if (!st) return ok();  // empty statement
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{st};
    for (std::size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      const auto& v = params[i];
      int rc = SQLITE_OK;
      if (std::holds_alternative<std::monostate>(v))
        rc = sqlite3_bind_null(st, idx);
      else if (auto p = std::get_if<std::int64_t>(&v))
        rc = sqlite3_bind_int64(st, idx, *p);
      else if (auto p = std::get_if<double>(&v))
        rc = sqlite3_bind_double(st, idx, *p);
      else {
        const auto& s = std::get<std::string>(v);
        rc = sqlite3_bind_text64(st, idx, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) return fail(sql);
    }
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return fail(sql);
      if (!out) continue;
      Row row;
      int n = sqlite3_column_count(st);
      row.cols.reserve(static_cast<std::size_t>(n));
      for (int c = 0; c < n; ++c) {
        switch (sqlite3_column_type(st, c)) {
          case SQLITE_NULL:
            row.cols.emplace_back(std::monostate{});
            break;
          case SQLITE_INTEGER:
            row.cols.emplace_back(std::int64_t{sqlite3_column_int64(st, c)});
            break;
          case SQLITE_FLOAT:
            row.cols.emplace_back(sqlite3_column_double(st, c));
            break;
          default: {
            auto p = reinterpret_cast<const char*>(sqlite3_column_blob(st, c));
            int len = sqlite3_column_bytes(st, c);
            row.cols.emplace_back(std::string(p ? p : "", static_cast<std::size_t>(len)));
          }
        }
      }
      out->push_back(std::move(row));
    }
    return ok();
  }

  sqlite3* db_;
  std::string location_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<Db>> open_sqlite(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close_v2(raw);
    return make_error(Errc::storage, "cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(raw, 10000);
  std::unique_ptr<Db> db = std::make_unique<SqliteDb>(raw);
  // WAL lets the console read while the engine writes; NORMAL sync is durable in WAL mode
  // across process crashes, which is what the outbox needs.
  if (path != ":memory:") SK_TRY(db->exec("PRAGMA journal_mode=WAL"));
  SK_TRY(db->exec("PRAGMA synchronous=NORMAL"));
  SK_TRY(db->exec("PRAGMA foreign_keys=ON"));
  return db;
}

Result<std::unique_ptr<Db>> open_sqlite_read_only(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close_v2(raw);
    return make_error(Errc::storage, "cannot open database " + path + ": " + msg);
  }
  sqlite3_busy_timeout(raw, 10000);
  return std::unique_ptr<Db>(std::make_unique<SqliteDb>(raw));
}

Result<void> snapshot(Db& db, const std::string& path) {
  if (db.engine() != "sqlite")
    return make_error(Errc::invalid_input, "a snapshot is for SQLite; back up " +
                                               std::string(db.engine()) + " with its own tools");
  // VACUUM INTO reads in one transaction: writers in WAL mode are not held up, and the copy is
  // compact and whole, with no WAL of its own.
  auto r = db.exec("VACUUM INTO ?", {path});
  if (!r.ok())
    return make_error(Errc::storage,
                      "cannot copy the database to " + path + ": " + r.error().message);
  return ok();
}

Result<void> check_integrity(Db& db) {
  SK_ASSIGN(auto rows, db.query("PRAGMA integrity_check(20)"));
  if (rows.size() == 1 && rows[0].str(0) == "ok") return ok();
  std::string what;
  for (const auto& r : rows) what += (what.empty() ? "" : "; ") + r.str(0);
  return make_error(Errc::storage, "the database is damaged: " + what);
}

}  // namespace sk::store
