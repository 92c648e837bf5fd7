#include "store/scheduling.hpp"

#include <array>

namespace sk::store {
namespace {

constexpr std::array<std::string_view, 4> kStatus{"pending", "confirmed", "cancelled", "declined"};

constexpr const char* kBookingCols =
    "SELECT id, client_id, type_slug, starts_at, ends_at, status, guest_name, guest_email, "
    "guest_zone, answers, uid, sequence, guest_partstat, source, caldav_href, created_at, "
    "updated_at FROM bookings ";

Booking booking_from(const Row& r) {
  Booking b;
  b.id = r.str(0);
  b.client = r.str(1);
  b.type_slug = r.str(2);
  b.starts_at = r.i64(3);
  b.ends_at = r.i64(4);
  b.status = booking_status_from(r.str(5)).value_or(BookingStatus::cancelled);
  b.guest_name = r.str(6);
  b.guest_email = r.str(7);
  b.guest_zone = r.str(8);
  b.answers_json = r.str(9);
  b.uid = r.str(10);
  b.sequence = static_cast<int>(r.i64(11));
  b.guest_partstat = r.str(12);
  b.source = r.str(13);
  b.caldav_href = r.str(14);
  b.created_at = r.i64(15);
  b.updated_at = r.i64(16);
  return b;
}

Params booking_params(const Booking& b) {
  Params p;
  p.reserve(17);
  p.emplace_back(b.type_slug);
  p.emplace_back(b.starts_at);
  p.emplace_back(b.ends_at);
  p.emplace_back(std::string(to_string(b.status)));
  p.emplace_back(b.guest_name);
  p.emplace_back(b.guest_email);
  p.emplace_back(b.guest_zone);
  p.emplace_back(b.answers_json);
  p.emplace_back(b.uid);
  p.emplace_back(std::int64_t{b.sequence});
  p.emplace_back(b.guest_partstat);
  p.emplace_back(b.source);
  p.emplace_back(b.caldav_href);
  p.emplace_back(b.updated_at);
  p.emplace_back(b.id);
  p.emplace_back(b.client);
  return p;
}

Params with_created(const Booking& b) {
  Params p = booking_params(b);
  p.emplace_back(b.created_at);
  return p;
}

}  // namespace

std::string_view to_string(BookingStatus s) {
  return kStatus[static_cast<std::size_t>(s)];
}

std::optional<BookingStatus> booking_status_from(std::string_view s) {
  for (std::size_t i = 0; i < kStatus.size(); ++i)
    if (kStatus[i] == s) return static_cast<BookingStatus>(i);
  return std::nullopt;
}

Result<void> set_availability(Db& db, const ClientId& client, const std::string& json,
                              Timestamp now) {
  return db.exec(
      "INSERT INTO calendar_settings (client_id, availability, updated_at) VALUES (?, ?, ?) "
      "ON CONFLICT (client_id) DO UPDATE SET availability = excluded.availability, "
      "updated_at = excluded.updated_at",
      {client, json, now});
}

Result<std::string> get_availability(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows,
            db.query("SELECT availability FROM calendar_settings WHERE client_id = ?", {client}));
  if (rows.empty()) return std::string();
  return rows[0].str(0);
}

Result<void> put_booking_type(Db& db, const ClientId& client, const std::string& slug,
                              const std::string& json) {
  return db.exec(
      "INSERT INTO booking_types (client_id, slug, definition) VALUES (?, ?, ?) "
      "ON CONFLICT (client_id, slug) DO UPDATE SET definition = excluded.definition",
      {client, slug, json});
}

Result<std::optional<std::string>> get_booking_type(Db& db, const ClientId& client,
                                                    const std::string& slug) {
  SK_ASSIGN(auto rows, db.query("SELECT definition FROM booking_types WHERE client_id = ? AND "
                                "slug = ?",
                                {client, slug}));
  if (rows.empty()) return std::optional<std::string>();
  return std::optional<std::string>(rows[0].str(0));
}

Result<std::vector<std::string>> list_booking_types(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT definition FROM booking_types WHERE client_id = ? "
                                "ORDER BY slug",
                                {client}));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.str(0));
  return out;
}

Result<void> insert_booking(Db& db, const Booking& b) {
  return db.exec(
      "INSERT INTO bookings (type_slug, starts_at, ends_at, status, guest_name, guest_email, "
      "guest_zone, answers, uid, sequence, guest_partstat, source, caldav_href, updated_at, id, "
      "client_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      with_created(b));
}

Result<void> update_booking(Db& db, const Booking& b) {
  SK_TRY(db.exec(
      "UPDATE bookings SET type_slug = ?, starts_at = ?, ends_at = ?, status = ?, guest_name = ?, "
      "guest_email = ?, guest_zone = ?, answers = ?, uid = ?, sequence = ?, guest_partstat = ?, "
      "source = ?, caldav_href = ?, updated_at = ? WHERE id = ? AND client_id = ?",
      booking_params(b)));
  if (db.changes() == 0) return make_error(Errc::not_found, "no booking " + b.id);
  return ok();
}

Result<Booking> get_booking(Db& db, const ClientId& client, const std::string& id) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kBookingCols) + "WHERE client_id = ? AND id = ?", {client, id}));
  if (rows.empty()) return make_error(Errc::not_found, "no booking " + id);
  return booking_from(rows[0]);
}

Result<std::optional<Booking>> find_booking_by_uid(Db& db, const ClientId& client,
                                                   const std::string& uid) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kBookingCols) + "WHERE client_id = ? AND uid = ?", {client, uid}));
  if (rows.empty()) return std::optional<Booking>();
  return std::optional<Booking>(booking_from(rows[0]));
}

Result<std::vector<Booking>> active_bookings(Db& db, const ClientId& client, Timestamp from,
                                             Timestamp to) {
  SK_ASSIGN(auto rows, db.query(std::string(kBookingCols) +
                                    "WHERE client_id = ? AND status IN ('pending', 'confirmed') "
                                    "AND ends_at > ? AND starts_at < ? ORDER BY starts_at",
                                {client, from, to}));
  std::vector<Booking> out;
  for (const auto& r : rows) out.push_back(booking_from(r));
  return out;
}

Result<std::vector<Booking>> list_bookings(Db& db, const ClientId& client) {
  SK_ASSIGN(
      auto rows,
      db.query(std::string(kBookingCols) + "WHERE client_id = ? ORDER BY starts_at, id", {client}));
  std::vector<Booking> out;
  for (const auto& r : rows) out.push_back(booking_from(r));
  return out;
}

Result<void> put_calendar_import(Db& db, const ClientId& client, const std::string& name,
                                 const std::string& ics, Timestamp now) {
  return db.exec(
      "INSERT INTO calendar_imports (client_id, name, ics, imported_at) VALUES (?, ?, ?, ?) "
      "ON CONFLICT (client_id, name) DO UPDATE SET ics = excluded.ics, "
      "imported_at = MAX(excluded.imported_at, calendar_imports.imported_at + 1)",
      {client, name, ics, now});
}

Result<std::string> calendar_imports_version(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT name, imported_at FROM calendar_imports WHERE "
                                "client_id = ? ORDER BY name",
                                {client}));
  std::string v;
  for (const auto& r : rows) v += r.str(0) + '@' + std::to_string(r.i64(1)) + '\n';
  return v;
}

Result<std::vector<std::string>> calendar_imports(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query("SELECT ics FROM calendar_imports WHERE client_id = ? ORDER BY "
                                "name",
                                {client}));
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.str(0));
  return out;
}

Result<void> insert_reminder(Db& db, const Reminder& r) {
  return db.exec(
      "INSERT INTO reminders (id, client_id, booking_id, due_at, status) VALUES (?, ?, ?, ?, ?)",
      {r.id, r.client, r.booking_id, r.due_at, r.status});
}

Result<std::vector<Reminder>> due_reminders(Db& db, const ClientId& client, Timestamp now) {
  SK_ASSIGN(auto rows, db.query("SELECT id, client_id, booking_id, due_at, status FROM reminders "
                                "WHERE client_id = ? AND status = 'planned' AND due_at <= ? "
                                "ORDER BY due_at, id",
                                {client, now}));
  std::vector<Reminder> out;
  for (const auto& r : rows) out.push_back({r.str(0), r.str(1), r.str(2), r.i64(3), r.str(4)});
  return out;
}

Result<void> set_reminder_status(Db& db, const ClientId& client, const std::string& id,
                                 const std::string& status) {
  return db.exec("UPDATE reminders SET status = ? WHERE client_id = ? AND id = ?",
                 {status, client, id});
}

Result<void> cancel_reminders(Db& db, const ClientId& client, const std::string& booking_id) {
  return db.exec(
      "UPDATE reminders SET status = 'cancelled' WHERE client_id = ? AND booking_id = ? AND "
      "status = 'planned'",
      {client, booking_id});
}

Result<void> put_calendar_account(Db& db, const CalendarAccount& a) {
  if (a.url.rfind("http://", 0) != 0 && a.url.rfind("https://", 0) != 0)
    return make_error(Errc::invalid_input, "the calendar URL must start with http:// or https://");
  return db.exec(
      "INSERT INTO calendar_accounts (client_id, url, username, secret, created_at) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (client_id) DO UPDATE SET url = excluded.url, "
      "username = excluded.username, secret = excluded.secret, synced_at = 0, last_error = ''",
      {a.client, a.url, a.username, a.sealed_secret, a.created_at});
}

namespace {
constexpr const char* kCalendarCols =
    "SELECT client_id, url, username, secret, created_at, synced_at, last_error "
    "FROM calendar_accounts ";
CalendarAccount calendar_account_from(const Row& r) {
  return {r.str(0), r.str(1), r.str(2), r.str(3), r.i64(4), r.i64(5), r.str(6)};
}
}  // namespace

Result<std::optional<CalendarAccount>> get_calendar_account(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows, db.query(std::string(kCalendarCols) + "WHERE client_id = ?", {client}));
  if (rows.empty()) return std::optional<CalendarAccount>();
  return std::optional<CalendarAccount>(calendar_account_from(rows[0]));
}

Result<std::vector<CalendarAccount>> all_calendar_accounts(Db& db) {
  SK_ASSIGN(auto rows, db.query(std::string(kCalendarCols) + "ORDER BY client_id", {}));
  std::vector<CalendarAccount> out;
  for (const auto& r : rows) out.push_back(calendar_account_from(r));
  return out;
}

Result<void> set_calendar_synced(Db& db, const ClientId& client, Timestamp at,
                                 const std::string& error) {
  return db.exec("UPDATE calendar_accounts SET synced_at = ?, last_error = ? WHERE client_id = ?",
                 {at, error, client});
}

Result<std::vector<Booking>> bookings_to_push(Db& db, const ClientId& client) {
  SK_ASSIGN(auto rows,
            db.query(std::string(kBookingCols) +
                         "WHERE client_id = ? AND ((status = 'confirmed' AND (caldav_href = '' OR "
                         "caldav_sequence <> sequence)) OR (status IN ('cancelled', 'declined') "
                         "AND caldav_href <> '')) ORDER BY starts_at, id",
                     {client}));
  std::vector<Booking> out;
  for (const auto& r : rows) out.push_back(booking_from(r));
  return out;
}

Result<void> set_caldav_sequence(Db& db, const ClientId& client, const std::string& id,
                                 int sequence) {
  return db.exec("UPDATE bookings SET caldav_sequence = ? WHERE client_id = ? AND id = ?",
                 {std::int64_t{sequence}, client, id});
}

}  // namespace sk::store
