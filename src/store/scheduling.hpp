#pragma once
// Scheduling data per client: availability and booking types (opaque JSON owned by
// `calendar`), bookings, imported calendars and reminders.
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/result.hpp"
#include "store/db.hpp"

namespace sk::store {

Result<void> set_availability(Db& db, const ClientId& client, const std::string& json,
                              Timestamp now);
// Empty when the client has none yet.
Result<std::string> get_availability(Db& db, const ClientId& client);

Result<void> put_booking_type(Db& db, const ClientId& client, const std::string& slug,
                              const std::string& json);
Result<std::optional<std::string>> get_booking_type(Db& db, const ClientId& client,
                                                    const std::string& slug);
Result<std::vector<std::string>> list_booking_types(Db& db, const ClientId& client);

enum class BookingStatus { pending, confirmed, cancelled, declined };
std::string_view to_string(BookingStatus s);
std::optional<BookingStatus> booking_status_from(std::string_view s);

struct Booking {
  std::string id;  // bkg_N
  ClientId client;
  std::string type_slug;
  Timestamp starts_at = 0;
  Timestamp ends_at = 0;
  BookingStatus status = BookingStatus::pending;
  std::string guest_name;
  std::string guest_email;
  std::string guest_zone;
  std::string answers_json = "{}";
  std::string uid;   // iCalendar UID, stable across reschedules
  int sequence = 0;  // iCalendar SEQUENCE, raised by every change the guest must see
  std::string guest_partstat = "NEEDS-ACTION";
  std::string source;  // page, email, cli
  std::string caldav_href;
  Timestamp created_at = 0;
  Timestamp updated_at = 0;
};

Result<void> insert_booking(Db& db, const Booking& b);
Result<void> update_booking(Db& db, const Booking& b);
Result<Booking> get_booking(Db& db, const ClientId& client, const std::string& id);
Result<std::optional<Booking>> find_booking_by_uid(Db& db, const ClientId& client,
                                                   const std::string& uid);
// Pending and confirmed bookings meeting [from, to), by start.
Result<std::vector<Booking>> active_bookings(Db& db, const ClientId& client, Timestamp from,
                                             Timestamp to);
Result<std::vector<Booking>> list_bookings(Db& db, const ClientId& client);

// An imported iCalendar file, replaced by a new import under the same name.
Result<void> put_calendar_import(Db& db, const ClientId& client, const std::string& name,
                                 const std::string& ics, Timestamp now);
Result<std::vector<std::string>> calendar_imports(Db& db, const ClientId& client);
// Changes whenever the client's imported calendars change (each import's name and time; a
// replacement always moves its time on), without reading them: parsed busy time is kept
// until it does.
Result<std::string> calendar_imports_version(Db& db, const ClientId& client);

struct Reminder {
  std::string id;
  ClientId client;
  std::string booking_id;
  Timestamp due_at = 0;
  std::string status = "planned";  // planned, done, cancelled
};
Result<void> insert_reminder(Db& db, const Reminder& r);
Result<std::vector<Reminder>> due_reminders(Db& db, const ClientId& client, Timestamp now);
Result<void> set_reminder_status(Db& db, const ClientId& client, const std::string& id,
                                 const std::string& status);
// Cancels a booking's planned reminders (when it is cancelled or moved).
Result<void> cancel_reminders(Db& db, const ClientId& client, const std::string& booking_id);

// The client's CalDAV calendar: busy time is read from it and bookings written into it.
struct CalendarAccount {
  ClientId client;
  std::string url;  // the calendar collection
  std::string username;
  std::string sealed_secret;  // sealed (core/secrets.hpp)
  Timestamp created_at = 0;
  Timestamp synced_at = 0;
  std::string last_error;
};
// Connects (or replaces) the client's calendar.
Result<void> put_calendar_account(Db& db, const CalendarAccount& a);
Result<std::optional<CalendarAccount>> get_calendar_account(Db& db, const ClientId& client);
// Operator view: every connected calendar (what `sidekick serve` syncs).
Result<std::vector<CalendarAccount>> all_calendar_accounts(Db& db);
Result<void> set_calendar_synced(Db& db, const ClientId& client, Timestamp at,
                                 const std::string& error);

// Bookings the client's calendar does not hold as they are now: confirmed ones not written
// or changed since, and cancelled or declined ones still there.
Result<std::vector<Booking>> bookings_to_push(Db& db, const ClientId& client);
// The calendar now holds this version (SEQUENCE) of the booking.
Result<void> set_caldav_sequence(Db& db, const ClientId& client, const std::string& id,
                                 int sequence);

}  // namespace sk::store
