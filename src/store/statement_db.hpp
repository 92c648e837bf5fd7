#pragma once
// What both engines' adapters share (sqlite.cpp, postgres.cpp; internal to the store): exec and
// query through one run(), and transactions that nest by joining the outermost one.
#include "store/db.hpp"

namespace sk::store {

class StatementDb : public Db {
 public:
  Result<void> exec(std::string_view sql, const Params& params) final {
    return run(sql, params, nullptr);
  }

  Result<std::vector<Row>> query(std::string_view sql, const Params& params) final {
    std::vector<Row> out;
    SK_TRY(run(sql, params, &out));
    return out;
  }

  Result<void> transaction(const std::function<Result<void>()>& fn) final {
    if (depth_ > 0) {
      ++depth_;
      auto r = fn();
      --depth_;
      return r;
    }
    SK_TRY(begin());
    ++depth_;
    auto r = fn();
    --depth_;
    if (!r.ok()) {
      rollback();
      return r;
    }
    if (auto c = commit(); !c.ok()) {
      rollback();
      return c;
    }
    return ok();
  }

 protected:
  // One statement; its rows into `out` when given.
  virtual Result<void> run(std::string_view sql, const Params& params, std::vector<Row>* out) = 0;
  // The engine's own statements for a transaction's edges.
  virtual Result<void> begin() = 0;
  virtual Result<void> commit() = 0;
  virtual void rollback() = 0;
  bool in_transaction() const { return depth_ > 0; }

 private:
  int depth_ = 0;
};

}  // namespace sk::store
