#pragma once
// IANA time zones: instants to wall clocks and back, correct across daylight-saving changes.
// The offsets come from libical (inside zone.cpp), tabulated once per zone per process.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/civil.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"

namespace sk::calendar {

class Zone {
 public:
  // "Europe/London", "UTC". Unknown names are an invalid_input error.
  static Result<Zone> find(std::string_view iana);
  static Zone utc();

  const std::string& name() const;
  // Seconds east of UTC in force at `t`.
  int offset_at(Timestamp t) const;
  CivilTime to_local(Timestamp t) const;
  // A wall-clock time to an instant. A time skipped by a change (02:30 on a spring-forward
  // night) moves forward by the gap, as RFC 5545 says; a repeated one (01:30 on an autumn
  // night) means its first occurrence.
  Timestamp to_utc(const CivilTime& local) const;
  // "UTC-05:00", "UTC+05:30"
  std::string offset_label(Timestamp t) const;

  struct Table;

 private:
  explicit Zone(std::shared_ptr<const Table> t) : t_(std::move(t)) {}
  std::shared_ptr<const Table> t_;
};

}  // namespace sk::calendar
