#pragma once
// What a client offers: when they can be booked, and the kinds of meeting they take.
#include <array>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace sk::calendar {

// Minutes after local midnight; end may be 1440.
struct HoursRange {
  int start_min = 0;
  int end_min = 0;
};

struct DateOverride {
  int year = 0, month = 0, day = 0;
  std::vector<HoursRange> hours;  // empty: closed that day (a holiday)
  std::string note;
};

struct Availability {
  std::string zone = "UTC";                       // IANA zone the hours are written in
  std::array<std::vector<HoursRange>, 7> weekly;  // Monday first
  std::vector<DateOverride> overrides;
  int buffer_before_min = 0;
  int buffer_after_min = 0;
  int min_notice_min = 0;
  int max_per_day = 0;   // 0: no limit
  int max_per_week = 0;  // 0: no limit (weeks start on Monday, in the client's zone)
  int horizon_days = 60;
  int step_min = 0;          // spacing of start times; 0: the meeting's duration
  std::string default_type;  // the booking type offered to a request by email; "": the first
};

struct Location {
  std::string kind;  // "", "address", "phone", "video"
  std::string value;
};

struct BookingType {
  std::string slug;
  std::string name;
  int duration_min = 30;
  Location location;
  std::vector<std::string> questions;
  bool va_confirms = false;  // a booking waits for the VA before it is confirmed
};

// JSON codecs for the store and the command line. Errors name the field.
std::string to_json(const Availability& a);
Result<Availability> availability_from_json(const std::string& json);
std::string to_json(const BookingType& t);
Result<BookingType> booking_type_from_json(const std::string& json);

// Checks ranges, zone name, limits.
Result<void> validate(const Availability& a);
Result<void> validate(const BookingType& t);

}  // namespace sk::calendar
