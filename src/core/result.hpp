#pragma once
// Result<T>: a value or an Error. Used at every module boundary instead of exceptions.
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace sk {

enum class Errc {
  invalid_input,  // the caller's input is wrong: a 4xx, exit code 2
  not_found,      // exit code 3
  conflict,       // already exists, or changed underneath
  storage,        // database failure
  io,             // file or network failure
  parse,          // could not be read
  internal,
};

struct Error {
  Errc code = Errc::internal;
  std::string message;
};

inline Error make_error(Errc c, std::string msg) {
  return Error{c, std::move(msg)};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T v) : v_(std::move(v)) {}      // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error e) : err_(std::move(e)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return err_;
  }

 private:
  Error err_;
  bool ok_ = true;
};

inline Result<void> ok() {
  return {};
}

}  // namespace sk

// Propagate an error from an expression returning Result<...>.
#define SK_TRY(expr)                               \
  do {                                             \
    auto sk_try_r_ = (expr);                       \
    if (!sk_try_r_.ok()) return sk_try_r_.error(); \
  } while (0)

#define SK_CONCAT_INNER(a, b) a##b
#define SK_CONCAT(a, b) SK_CONCAT_INNER(a, b)
// Bind the value of a Result<T> expression or propagate its error.
#define SK_ASSIGN(lhs, expr) SK_ASSIGN_IMPL(SK_CONCAT(sk_assign_r_, __LINE__), lhs, expr)
#define SK_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                   \
  if (!tmp.ok()) return tmp.error();   \
  lhs = std::move(tmp).value()
