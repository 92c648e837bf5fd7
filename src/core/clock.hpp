#pragma once
// Time and ids come in through these interfaces so that tests are deterministic.
#include <cstdint>
#include <string>

namespace sk {

// Seconds since the Unix epoch, UTC.
using Timestamp = std::int64_t;

// Days since 1970-01-01 for a proleptic Gregorian date (month 1-12): what turns a calendar
// date into a Timestamp, for the calendar and for mail's Date headers alike.
std::int64_t days_from_civil(int y, int m, int d);

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Timestamp now() const override;
};

// A clock that stands still until told to move.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(Timestamp t) : t_(t) {}
  Timestamp now() const override { return t_; }
  void set(Timestamp t) { t_ = t; }
  void advance(Timestamp seconds) { t_ += seconds; }

 private:
  Timestamp t_;
};

class IdSource {
 public:
  virtual ~IdSource() = default;
  // A new id that starts with `prefix` ("itm", "dec", ...), unique within this store.
  virtual std::string next(const std::string& prefix) = 0;
};

// Random ids for production: prefix + 12 characters of Crockford base32.
class RandomIds final : public IdSource {
 public:
  std::string next(const std::string& prefix) override;
};

// prefix_1, prefix_2, ...: for tests and reproducible runs.
class SequentialIds final : public IdSource {
 public:
  std::string next(const std::string& prefix) override;

 private:
  std::uint64_t n_ = 0;
};

// "2026-11-23T18:26:10Z"
std::string format_utc(Timestamp t);

}  // namespace sk
