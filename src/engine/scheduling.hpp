#pragma once
// Bookings on a client's behalf: free slots from their availability and busy time (imported
// calendars, their own bookings), booking, rescheduling and cancelling with iTIP invitations
// (METHOD:REQUEST / CANCEL) to the guest and the client, replies that update a booking, and
// reminders before the meeting. Every change is audited.
#include <optional>
#include <string>
#include <vector>

#include "calendar/availability.hpp"
#include "calendar/caldav.hpp"
#include "calendar/slots.hpp"
#include "core/clock.hpp"
#include "core/result.hpp"
#include "store/db.hpp"
#include "store/scheduling.hpp"

namespace sk::engine {

// Signs the one-click links and says where the booking page is served.
struct BookingLinks {
  std::string key;
  std::string base_url;  // e.g. https://book.example.com (no trailing slash)
};

struct Guest {
  std::string name;
  std::string email;
  std::string zone;  // where the guest reads times; empty: the client's zone
  std::string answers_json = "{}";
  // When the booking page is served, the invitation carries the guest's own link to move or
  // cancel.
  std::optional<BookingLinks> links;
};

// The zone the client's calendar is kept in (their availability's, else their record's).
Result<std::string> client_calendar_zone(store::Db& db, const ClientId& client);

// Imports (or replaces, under the same name) an iCalendar file as busy time. Returns how
// many events it holds. A file that cannot be read is refused whole.
Result<int> import_calendar(store::Db& db, const Clock& clock, const ClientId& client,
                            const std::string& name, const std::string& ics,
                            const std::string& actor);

// The client's availability and one booking type, checked.
Result<calendar::Availability> load_availability(store::Db& db, const ClientId& client);
Result<calendar::BookingType> load_booking_type(store::Db& db, const ClientId& client,
                                                const std::string& slug);

// Free start times for a booking type, from now. `ignore_booking` leaves one booking out of
// the busy time (the one being moved).
Result<std::vector<calendar::Slot>> find_slots(store::Db& db, const Clock& clock,
                                               const ClientId& client, const std::string& type,
                                               int days = 0,
                                               const std::string& ignore_booking = "");

// Books `start` if it is still free. A type the VA must confirm makes a pending booking (no
// invitation yet); otherwise it is confirmed and invitations go to the guest and the client.
Result<store::Booking> create_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                      const ClientId& client, const std::string& type,
                                      Timestamp start, const Guest& guest,
                                      const std::string& source, const std::string& actor);
// With links, the guest's invitation carries their own link to move or cancel.
Result<store::Booking> confirm_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                       const ClientId& client, const std::string& id,
                                       const std::string& actor,
                                       const std::optional<BookingLinks>& links = std::nullopt);
// The VA does not confirm a pending booking: it is cancelled and the guest, who had no
// invitation yet, gets a note saying so (with the booking page to pick another time, given
// links).
Result<store::Booking> decline_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                       const ClientId& client, const std::string& id,
                                       const std::string& actor, const std::string& why,
                                       const std::optional<BookingLinks>& links = std::nullopt);
Result<store::Booking> cancel_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                      const ClientId& client, const std::string& id,
                                      const std::string& actor, const std::string& why);
Result<store::Booking> reschedule_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                          const ClientId& client, const std::string& id,
                                          Timestamp new_start, const std::string& actor,
                                          const std::optional<BookingLinks>& links = std::nullopt);

// A METHOD:REPLY from the guest: ACCEPTED / TENTATIVE keep the booking, DECLINED cancels
// it (and tells the client). Returns the booking it answered, or nothing for an unknown UID.
Result<std::optional<store::Booking>> apply_itip_reply(store::Db& db, const Clock& clock,
                                                       IdSource& ids, const ClientId& client,
                                                       const std::string& ics,
                                                       const std::string& actor);

// Queues the reminders whose time has come (a day and an hour before each meeting).
Result<int> send_due_reminders(store::Db& db, const Clock& clock, IdSource& ids,
                               const ClientId& client);

// Reads the client's CalDAV calendar over the booking horizon and keeps it as busy time
// (an import named after the calendar's URL, replaced by the next read). Returns the events.
Result<int> import_caldav_busy(store::Db& db, const Clock& clock, const ClientId& client,
                               calendar::CaldavClient& caldav, const std::string& url,
                               const std::string& actor);
// Writes a booking into the client's CalDAV calendar: created once (If-None-Match), replaced
// after a move, removed when cancelled or declined. Returns the object's URL (empty once
// removed).
Result<std::string> push_booking_to_caldav(store::Db& db, const Clock& clock,
                                           const ClientId& client, const std::string& booking_id,
                                           calendar::CaldavClient& caldav,
                                           const std::string& actor);

// One round with the client's CalDAV calendar: bookings written, moved or removed where the
// calendar holds an older version, then its busy time read. Returns the bookings written.
struct CaldavSync {
  int written = 0;
  int busy_events = 0;
};
Result<CaldavSync> sync_caldav(store::Db& db, const Clock& clock, const ClientId& client,
                               calendar::CaldavClient& caldav, const std::string& url,
                               const std::string& actor);

// The iCalendar object for a booking: METHOD REQUEST or CANCEL, the client as organizer;
// an empty method gives the stored form (no METHOD) a calendar server keeps.
// Times are written in `zone` (an IANA name, with its VTIMEZONE) unless it is empty or UTC.
std::string booking_ics(const store::Booking& b, const calendar::BookingType& type,
                        const std::string& client_name, const std::string& client_email,
                        const std::string& method, Timestamp now, const std::string& zone = "");

}  // namespace sk::engine
