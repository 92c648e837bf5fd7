#pragma once
// iCalendar (RFC 5545) and iTIP (RFC 5546) objects as plain values. Reading and writing go
// through libical inside ical.cpp; nothing here includes it.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calendar/civil.hpp"
#include "calendar/recur.hpp"
#include "core/result.hpp"

namespace sk::calendar {

struct Attendee {
  std::string address;   // without "mailto:"
  std::string name;      // CN
  std::string role;      // REQ-PARTICIPANT, ...
  std::string partstat;  // NEEDS-ACTION, ACCEPTED, DECLINED, TENTATIVE, DELEGATED, ...
  bool rsvp = false;
  std::string delegated_to;
  std::string delegated_from;
};

struct Period {
  CivilTime start;
  CivilTime end;
};

// One VEVENT, VTODO, VJOURNAL or VFREEBUSY.
struct Component {
  std::string kind;  // "VEVENT", "VTODO", ...
  std::string uid;
  int sequence = 0;
  std::optional<CivilTime> dtstamp;
  std::optional<CivilTime> start;
  std::optional<CivilTime> end;  // DTEND (or DUE for a VTODO)
  long duration_s = 0;           // DURATION, when there is no end
  std::string tzid;              // zone of start/end as an IANA name; empty for UTC or floating
  std::string summary, description, location, status, transp, comment;
  std::string organizer, organizer_name;
  std::vector<Attendee> attendees;
  std::string rrule;  // as written, without "RRULE:"
  std::vector<CivilTime> exdates, rdates;
  std::optional<CivilTime> recurrence_id;
  std::string request_status;
  std::vector<Period> freebusy;     // VFREEBUSY periods, UTC
  std::vector<std::string> alarms;  // each VALARM's TRIGGER, as written
};

struct Calendar {
  std::string method;  // REQUEST, REPLY, CANCEL, ... (empty for a plain file)
  std::string prodid;
  std::vector<Component> components;
  // VTIMEZONE blocks whose TZID is not an IANA name, by TZID, as text (Zone::from_vtimezone).
  std::vector<std::pair<std::string, std::string>> custom_zones;
};

// Parses one VCALENDAR. Errors name what is wrong; nothing is thrown.
Result<Calendar> parse_ics(std::string_view text);
// Splits a stream holding several VCALENDARs (a mailbox of invitations, a test file).
std::vector<std::string> split_calendars(std::string_view text);

// Writes a calendar (one VCALENDAR with a METHOD when set). Times marked utc are written in
// UTC; others with the component's `tzid` (an IANA name), whose VTIMEZONE is included.
std::string write_ics(const Calendar& cal);

}  // namespace sk::calendar
