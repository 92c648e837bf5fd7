#include "engine/scheduling.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "calendar/ical.hpp"
#include "engine/booking_links.hpp"
#include "engine/replies.hpp"
#include "store/repos.hpp"

namespace sk::engine {
namespace {

using calendar::CivilTime;

CivilTime utc_civil(Timestamp t) {
  return CivilTime::from_seconds(t, true);
}

Result<store::ClientRecord> client_record(store::Db& db, const ClientId& client) {
  return store::find_client(db, client);
}

// The zone the client's calendar is kept in: their availability's, else their record's.
std::string calendar_zone(store::Db& db, const store::ClientRecord& c) {
  auto json = store::get_availability(db, c.id);
  if (json.ok() && !json->empty())
    if (auto a = calendar::availability_from_json(*json); a.ok()) return a->zone;
  return c.timezone;
}

std::string location_text(const calendar::Location& l) {
  if (l.kind == "phone") return "Phone: " + l.value;
  if (l.kind == "video") return l.value;
  return l.value;
}

// Parsing a client's imported calendars (thousands of events, through libical) costs a
// hundred times the slot search, and the public booking page searches on every visit: the
// parsed busy time is kept per database, client and home zone until the imports change. Each
// caller gets its own copy to add bookings to, so nothing shared is ever written.
class ImportedBusy {
 public:
  Result<calendar::BusyCalendar> get(store::Db& db, const ClientId& client,
                                     const calendar::Zone& home) {
    SK_ASSIGN(auto version, store::calendar_imports_version(db, client));
    const std::string key = std::string(db.location()) + '\n' + client + '\n' + home.name();
    if (!db.location().empty()) {
      std::lock_guard lock(mutex_);
      auto it = kept_.find(key);
      if (it != kept_.end() && it->second.version == version) return *it->second.busy;
    }
    auto busy = std::make_shared<calendar::BusyCalendar>(home);
    SK_ASSIGN(auto imports, store::calendar_imports(db, client));
    for (const auto& ics : imports) {
      for (const auto& one : calendar::split_calendars(ics)) {
        auto cal = calendar::parse_ics(one);
        if (!cal) continue;  // checked when imported
        SK_TRY(busy->add_calendar(*cal));
      }
    }
    if (db.location().empty()) return *busy;
    (void)busy->busy_between(0, 0);  // sorted once here, not in every copy
    std::lock_guard lock(mutex_);
    if (kept_.size() >= 256) kept_.clear();  // a bound, not a policy: clients are few
    kept_[key] = {version, busy};
    return *busy;
  }

 private:
  struct Kept {
    std::string version;
    std::shared_ptr<const calendar::BusyCalendar> busy;
  };
  std::mutex mutex_;
  std::map<std::string, Kept> kept_;
};

ImportedBusy& imported_busy() {
  static ImportedBusy cache;  // parsed copies of what the store holds: nothing to observe
  return cache;
}

// Busy time: every imported calendar and the client's own active bookings.
Result<calendar::BusyCalendar> load_busy(store::Db& db, const ClientId& client,
                                         const calendar::Zone& home, Timestamp from, Timestamp to,
                                         const std::string& ignore) {
  SK_ASSIGN(calendar::BusyCalendar busy, imported_busy().get(db, client, home));
  SK_ASSIGN(auto own, store::active_bookings(db, client, from, to));
  for (const auto& b : own)
    if (b.id != ignore) busy.add({b.starts_at, b.ends_at});
  return busy;
}

Result<void> invite(store::Db& db, const Clock& clock, IdSource& ids, const store::Booking& b,
                    const calendar::BookingType& type, const std::string& method,
                    const std::string& why,
                    const std::optional<BookingLinks>& links = std::nullopt) {
  SK_ASSIGN(auto c, client_record(db, b.client));
  const std::string ics =
      booking_ics(b, type, c.name, c.email, method, clock.now(), calendar_zone(db, c));
  SK_ASSIGN(calendar::Zone gz,
            calendar::Zone::find(b.guest_zone.empty() ? c.timezone : b.guest_zone));
  SK_ASSIGN(calendar::Zone cz, calendar::Zone::find(c.timezone));
  const bool cancel = method == "CANCEL";
  const std::string what = type.name.empty() ? type.slug : type.name;
  auto send = [&](const std::string& to, const calendar::Zone& z, const std::string& who) {
    MessageRequest m;
    m.to = {to};
    m.kind = "invitation";
    m.subject = (cancel           ? "Cancelled: "
                 : b.sequence > 0 ? "Updated: "
                                  : "Invitation: ") +
                what + " with " + (who == "guest" ? c.name : b.guest_name) + ", " +
                calendar::describe(b.starts_at, z);
    m.body = std::string(cancel ? "This meeting is cancelled.\n\n" : "") + what + "\n" +
             calendar::describe(b.starts_at, z) + " to " + calendar::describe(b.ends_at, z) + "\n" +
             (type.location.value.empty() ? "" : location_text(type.location) + "\n");
    if (links && who == "guest" && !cancel)
      m.body += "\nTo move or cancel it: " + links->base_url + "/book/" + c.slug +
                "/manage?t=" + manage_token(links->key, b) + "\n";
    m.reason = why;
    m.send_now = true;
    m.source_key = "booking:" + b.id + ":" + std::to_string(b.sequence) + ":" + method + ":" + who;
    m.parts.push_back({"text/calendar; charset=utf-8; method=" + method, "invite.ics", ics});
    return queue_message(db, clock, ids, b.client, m, "sidekick");
  };
  if (!b.guest_email.empty()) SK_TRY(send(b.guest_email, gz, "guest"));
  if (!c.email.empty()) SK_TRY(send(c.email, cz, "client"));
  return ok();
}

// A request the VA did not confirm: the guest had no invitation yet, so a plain note tells
// them, with the page to pick another time when it is served.
Result<void> tell_declined(store::Db& db, const Clock& clock, IdSource& ids,
                           const store::Booking& b, const calendar::BookingType& type,
                           const std::string& why, const std::optional<BookingLinks>& links) {
  if (b.guest_email.empty()) return ok();
  SK_ASSIGN(auto c, client_record(db, b.client));
  SK_ASSIGN(calendar::Zone gz,
            calendar::Zone::find(b.guest_zone.empty() ? c.timezone : b.guest_zone));
  const std::string what = type.name.empty() ? type.slug : type.name;
  MessageRequest m;
  m.to = {b.guest_email};
  m.kind = "message";
  m.subject =
      "Not confirmed: " + what + " with " + c.name + ", " + calendar::describe(b.starts_at, gz);
  m.body = (b.guest_name.empty() ? std::string("Hello") : "Hello " + b.guest_name) + ",\n\n" +
           "I am sorry: " + c.name + " cannot confirm " + what + " on " +
           calendar::describe(b.starts_at, gz) + "." + (why.empty() ? "" : "\n" + why) + "\n";
  if (links)
    m.body += "\nPlease pick another time: " + links->base_url + "/book/" + c.slug + "/" +
              type.slug + "\n";
  m.reason = "booking " + b.id + " not confirmed" + (why.empty() ? "" : ": " + why);
  m.send_now = true;
  m.source_key = "booking:" + b.id + ":declined";
  SK_TRY(queue_message(db, clock, ids, b.client, m, "sidekick"));
  return ok();
}

Result<void> plan_reminders(store::Db& db, const Clock& clock, IdSource& ids,
                            const store::Booking& b) {
  for (Timestamp before : {Timestamp{86400}, Timestamp{3600}}) {
    const Timestamp due = b.starts_at - before;
    if (due <= clock.now()) continue;
    SK_TRY(store::insert_reminder(db, {ids.next("rem"), b.client, b.id, due, "planned"}));
  }
  return ok();
}

Result<void> check_free(store::Db& db, const Clock& clock, const ClientId& client,
                        const std::string& type, Timestamp start, const std::string& ignore) {
  SK_ASSIGN(auto slots, find_slots(db, clock, client, type, 0, ignore));
  for (const auto& s : slots)
    if (s.start == start) return ok();
  return make_error(Errc::conflict, "that time is no longer free");
}

}  // namespace

std::string booking_ics(const store::Booking& b, const calendar::BookingType& type,
                        const std::string& client_name, const std::string& client_email,
                        const std::string& method, Timestamp now, const std::string& zone) {
  calendar::Calendar cal;
  cal.method = method;
  calendar::Component e;
  e.kind = "VEVENT";
  e.uid = b.uid;
  e.sequence = b.sequence;
  e.dtstamp = utc_civil(now);
  e.start = utc_civil(b.starts_at);
  e.end = utc_civil(b.ends_at);
  if (!zone.empty() && zone != "UTC") {
    if (auto z = calendar::Zone::find(zone); z.ok()) {
      e.tzid = zone;
      e.start = z->to_local(b.starts_at);
      e.end = z->to_local(b.ends_at);
      e.start->utc = e.end->utc = false;
    }
  }
  e.summary = (type.name.empty() ? type.slug : type.name) + " (" + b.guest_name + ")";
  e.location = location_text(type.location);
  e.status = method == "CANCEL" ? "CANCELLED" : "CONFIRMED";
  if (method.empty()) e.attendees.clear();
  e.organizer = client_email;
  e.organizer_name = client_name;
  if (!method.empty())
    e.attendees.push_back({b.guest_email, b.guest_name, "REQ-PARTICIPANT",
                           method == "CANCEL" ? "" : b.guest_partstat, method == "REQUEST", "",
                           ""});
  if (method == "REQUEST" || method.empty()) e.alarms.push_back("-PT15M");
  if (method.empty())
    e.attendees.push_back(
        {b.guest_email, b.guest_name, "REQ-PARTICIPANT", b.guest_partstat, false, "", ""});
  cal.components.push_back(std::move(e));
  return calendar::write_ics(cal);
}

Result<int> import_calendar(store::Db& db, const Clock& clock, const ClientId& client,
                            const std::string& name, const std::string& ics,
                            const std::string& actor) {
  auto parts = calendar::split_calendars(ics);
  if (parts.empty()) return make_error(Errc::parse, name + ": no VCALENDAR in the file");
  SK_ASSIGN(auto c, client_record(db, client));
  SK_ASSIGN(calendar::Zone home, calendar::Zone::find(c.timezone));
  calendar::BusyCalendar check(home);
  int events = 0;
  for (const auto& p : parts) {
    auto cal = calendar::parse_ics(p);
    if (!cal) return make_error(cal.error().code, name + ": " + cal.error().message);
    auto n = check.add_calendar(*cal);
    if (!n) return make_error(n.error().code, name + ": " + n.error().message);
    events += *n;
  }
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_TRY(store::put_calendar_import(db, client, name, ics, clock.now()));
    return store::append_audit(db, client, clock.now(), actor, "calendar imported", name,
                               std::to_string(events) + " events read as busy time");
  }));
  return events;
}

Result<calendar::Availability> load_availability(store::Db& db, const ClientId& client) {
  SK_ASSIGN(auto json, store::get_availability(db, client));
  if (json.empty())
    return make_error(Errc::not_found,
                      "no availability set for " + client + " (sidekick calendar availability)");
  return calendar::availability_from_json(json);
}

Result<calendar::BookingType> load_booking_type(store::Db& db, const ClientId& client,
                                                const std::string& slug) {
  SK_ASSIGN(auto json, store::get_booking_type(db, client, slug));
  if (!json) return make_error(Errc::not_found, "no booking type '" + slug + "'");
  return calendar::booking_type_from_json(*json);
}

Result<std::vector<calendar::Slot>> find_slots(store::Db& db, const Clock& clock,
                                               const ClientId& client, const std::string& type,
                                               int days, const std::string& ignore_booking) {
  SK_ASSIGN(auto a, load_availability(db, client));
  SK_ASSIGN(auto t, load_booking_type(db, client, type));
  SK_ASSIGN(calendar::Zone home, calendar::Zone::find(a.zone));
  const Timestamp now = clock.now();
  const Timestamp to = now + static_cast<Timestamp>(a.horizon_days + 1) * 86400;
  SK_ASSIGN(auto busy, load_busy(db, client, home, now - 86400, to, ignore_booking));
  calendar::SlotQuery q;
  q.now = now;
  q.days = days;
  SK_ASSIGN(auto own, store::active_bookings(db, client, now - 8 * 86400, to));
  for (const auto& b : own)
    if (b.id != ignore_booking) q.booked_starts.push_back(b.starts_at);
  return calendar::free_slots(a, t, busy, q);
}

Result<store::Booking> create_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                      const ClientId& client, const std::string& type,
                                      Timestamp start, const Guest& guest,
                                      const std::string& source, const std::string& actor) {
  if (guest.email.find('@') == std::string::npos)
    return make_error(Errc::invalid_input, "the guest needs a mail address");
  if (!guest.zone.empty()) SK_TRY(calendar::Zone::find(guest.zone));
  SK_ASSIGN(auto t, load_booking_type(db, client, type));
  store::Booking b;
  SK_TRY(db.transaction([&]() -> Result<void> {
    // Checked inside the transaction: two guests cannot take the same time.
    SK_TRY(check_free(db, clock, client, type, start, ""));
    b.id = ids.next("bkg");
    b.client = client;
    b.type_slug = type;
    b.starts_at = start;
    b.ends_at = start + static_cast<Timestamp>(t.duration_min) * 60;
    b.status = t.va_confirms ? store::BookingStatus::pending : store::BookingStatus::confirmed;
    b.guest_name = guest.name.empty() ? guest.email : guest.name;
    b.guest_email = guest.email;
    b.guest_zone = guest.zone;
    b.answers_json = guest.answers_json;
    b.uid = b.id + "-" + client + "@sidekick";
    b.source = source;
    b.created_at = b.updated_at = clock.now();
    SK_TRY(store::insert_booking(db, b));
    SK_TRY(store::append_audit(
        db, client, clock.now(), actor, t.va_confirms ? "booking requested" : "booking confirmed",
        b.id + " " + type + " with " + guest.email + " at " + format_utc(start),
        t.va_confirms ? "booking type needs a VA's confirmation" : "booked from " + source));
    if (t.va_confirms) return ok();
    SK_TRY(plan_reminders(db, clock, ids, b));
    return invite(db, clock, ids, b, t, "REQUEST", "booking " + b.id + " confirmed", guest.links);
  }));
  return b;
}

namespace {
// A VA answers a booking that waits for them: its new status and the audit entry, then what
// follows (invitations, or a note to the guest), in one transaction.
Result<store::Booking> settle_pending(
    store::Db& db, const Clock& clock, const ClientId& client, const std::string& id,
    store::BookingStatus status, const std::string& actor, const std::string& action,
    const std::string& reason,
    const std::function<Result<void>(store::Booking&, const calendar::BookingType&)>& then) {
  SK_ASSIGN(auto b, store::get_booking(db, client, id));
  if (b.status != store::BookingStatus::pending)
    return make_error(Errc::conflict, id + " is " + std::string(store::to_string(b.status)) +
                                          ", not waiting for confirmation");
  SK_ASSIGN(auto t, load_booking_type(db, client, b.type_slug));
  SK_TRY(db.transaction([&]() -> Result<void> {
    b.status = status;
    b.updated_at = clock.now();
    SK_TRY(store::update_booking(db, b));
    SK_TRY(store::append_audit(db, client, clock.now(), actor, action, id, reason));
    return then(b, t);
  }));
  return b;
}
}  // namespace

Result<store::Booking> confirm_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                       const ClientId& client, const std::string& id,
                                       const std::string& actor,
                                       const std::optional<BookingLinks>& links) {
  return settle_pending(db, clock, client, id, store::BookingStatus::confirmed, actor,
                        "booking confirmed", "confirmed by " + actor,
                        [&](store::Booking& b, const calendar::BookingType& t) -> Result<void> {
                          SK_TRY(plan_reminders(db, clock, ids, b));
                          return invite(db, clock, ids, b, t, "REQUEST",
                                        "booking " + id + " confirmed by " + actor, links);
                        });
}

Result<store::Booking> cancel_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                      const ClientId& client, const std::string& id,
                                      const std::string& actor, const std::string& why) {
  SK_ASSIGN(auto b, store::get_booking(db, client, id));
  if (b.status == store::BookingStatus::cancelled || b.status == store::BookingStatus::declined)
    return make_error(Errc::conflict,
                      id + " is already " + std::string(store::to_string(b.status)));
  SK_ASSIGN(auto t, load_booking_type(db, client, b.type_slug));
  const bool was_confirmed = b.status == store::BookingStatus::confirmed;
  SK_TRY(db.transaction([&]() -> Result<void> {
    b.status = store::BookingStatus::cancelled;
    ++b.sequence;
    b.updated_at = clock.now();
    SK_TRY(store::update_booking(db, b));
    SK_TRY(store::cancel_reminders(db, client, id));
    SK_TRY(store::append_audit(db, client, clock.now(), actor, "booking cancelled", id, why));
    if (!was_confirmed) return ok();
    return invite(db, clock, ids, b, t, "CANCEL", "booking " + id + " cancelled: " + why);
  }));
  return b;
}

Result<store::Booking> decline_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                       const ClientId& client, const std::string& id,
                                       const std::string& actor, const std::string& why,
                                       const std::optional<BookingLinks>& links) {
  return settle_pending(db, clock, client, id, store::BookingStatus::cancelled, actor,
                        "booking not confirmed", why.empty() ? "declined by " + actor : why,
                        [&](store::Booking& b, const calendar::BookingType& t) -> Result<void> {
                          return tell_declined(db, clock, ids, b, t, why, links);
                        });
}

Result<store::Booking> reschedule_booking(store::Db& db, const Clock& clock, IdSource& ids,
                                          const ClientId& client, const std::string& id,
                                          Timestamp new_start, const std::string& actor,
                                          const std::optional<BookingLinks>& links) {
  SK_ASSIGN(auto b, store::get_booking(db, client, id));
  if (b.status != store::BookingStatus::confirmed && b.status != store::BookingStatus::pending)
    return make_error(Errc::conflict, id + " is " + std::string(store::to_string(b.status)));
  SK_ASSIGN(auto t, load_booking_type(db, client, b.type_slug));
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_TRY(check_free(db, clock, client, b.type_slug, new_start, id));
    const Timestamp old = b.starts_at;
    b.starts_at = new_start;
    b.ends_at = new_start + static_cast<Timestamp>(t.duration_min) * 60;
    ++b.sequence;
    b.guest_partstat = "NEEDS-ACTION";
    b.updated_at = clock.now();
    SK_TRY(store::update_booking(db, b));
    SK_TRY(store::cancel_reminders(db, client, id));
    SK_TRY(store::append_audit(db, client, clock.now(), actor, "booking moved", id,
                               format_utc(old) + " -> " + format_utc(new_start)));
    if (b.status != store::BookingStatus::confirmed) return ok();
    SK_TRY(plan_reminders(db, clock, ids, b));
    return invite(db, clock, ids, b, t, "REQUEST", "booking " + id + " moved", links);
  }));
  return b;
}

Result<std::optional<store::Booking>> apply_itip_reply(store::Db& db, const Clock& clock,
                                                       IdSource& ids, const ClientId& client,
                                                       const std::string& ics,
                                                       const std::string& actor) {
  SK_ASSIGN(auto cal, calendar::parse_ics(ics));
  if (cal.method != "REPLY")
    return make_error(Errc::invalid_input, "not an iTIP REPLY (METHOD:" + cal.method + ")");
  for (const auto& c : cal.components) {
    if (c.kind != "VEVENT") continue;
    SK_ASSIGN(auto found, store::find_booking_by_uid(db, client, c.uid));
    if (!found) continue;
    store::Booking b = *found;
    std::string partstat;
    for (const auto& a : c.attendees) {
      std::string x = a.address, y = b.guest_email;
      std::transform(x.begin(), x.end(), x.begin(), ::tolower);
      std::transform(y.begin(), y.end(), y.begin(), ::tolower);
      if (x == y) partstat = a.partstat;
    }
    if (partstat.empty())
      return make_error(Errc::invalid_input, "the reply does not answer for " + b.guest_email);
    if (c.sequence < b.sequence) return std::optional<store::Booking>(b);  // an older answer
    SK_ASSIGN(auto t, load_booking_type(db, client, b.type_slug));
    SK_TRY(db.transaction([&]() -> Result<void> {
      b.guest_partstat = partstat;
      b.updated_at = clock.now();
      const bool declined = partstat == "DECLINED" && b.status != store::BookingStatus::cancelled;
      if (declined) {
        b.status = store::BookingStatus::declined;
        ++b.sequence;
        SK_TRY(store::cancel_reminders(db, client, b.id));
      }
      SK_TRY(store::update_booking(db, b));
      SK_TRY(store::append_audit(db, client, clock.now(), actor, "invitation answered", b.id,
                                 b.guest_email + " " + partstat));
      if (!declined) return ok();
      // The client's calendar learns the meeting is off.
      SK_ASSIGN(auto cr, client_record(db, client));
      if (cr.email.empty()) return ok();
      MessageRequest m;
      m.to = {cr.email};
      m.kind = "invitation";
      m.subject = "Declined: " + (t.name.empty() ? t.slug : t.name) + " with " + b.guest_name;
      m.body = b.guest_name + " declined; the time is free again.\n";
      m.reason = "guest declined booking " + b.id;
      m.send_now = true;
      m.source_key = "booking:" + b.id + ":" + std::to_string(b.sequence) + ":CANCEL:client";
      m.parts.push_back(
          {"text/calendar; charset=utf-8; method=CANCEL", "invite.ics",
           booking_ics(b, t, cr.name, cr.email, "CANCEL", clock.now(), calendar_zone(db, cr))});
      return queue_message(db, clock, ids, client, m, "sidekick").ok()
                 ? ok()
                 : Result<void>(make_error(Errc::internal, "could not queue the cancellation"));
    }));
    return std::optional<store::Booking>(b);
  }
  return std::optional<store::Booking>();
}

Result<int> send_due_reminders(store::Db& db, const Clock& clock, IdSource& ids,
                               const ClientId& client) {
  SK_ASSIGN(auto due, store::due_reminders(db, client, clock.now()));
  int sent = 0;
  for (const auto& r : due) {
    SK_ASSIGN(auto b, store::get_booking(db, client, r.booking_id));
    SK_ASSIGN(auto t, load_booking_type(db, client, b.type_slug));
    SK_ASSIGN(auto c, client_record(db, client));
    SK_ASSIGN(calendar::Zone gz,
              calendar::Zone::find(b.guest_zone.empty() ? c.timezone : b.guest_zone));
    SK_TRY(db.transaction([&]() -> Result<void> {
      SK_TRY(store::set_reminder_status(db, client, r.id, "done"));
      if (b.status != store::BookingStatus::confirmed) return ok();
      MessageRequest m;
      m.to = {b.guest_email};
      m.kind = "reminder";
      m.subject = "Reminder: " + (t.name.empty() ? t.slug : t.name) + " with " + c.name + ", " +
                  calendar::describe(b.starts_at, gz);
      m.body = "A reminder of your meeting with " + c.name + ":\n" +
               calendar::describe(b.starts_at, gz) + "\n" +
               (t.location.value.empty() ? "" : location_text(t.location) + "\n");
      m.reason = "reminder before booking " + b.id;
      m.send_now = true;
      m.source_key = "reminder:" + r.id;
      SK_TRY(queue_message(db, clock, ids, client, m, "sidekick"));
      ++sent;
      return ok();
    }));
  }
  return sent;
}

Result<int> import_caldav_busy(store::Db& db, const Clock& clock, const ClientId& client,
                               calendar::CaldavClient& caldav, const std::string& url,
                               const std::string& actor) {
  SK_ASSIGN(auto a, load_availability(db, client));
  const Timestamp now = clock.now();
  SK_ASSIGN(
      auto objects,
      caldav.events_between(now - 86400, now + static_cast<Timestamp>(a.horizon_days + 2) * 86400));
  std::string all;
  for (const auto& o : objects) all += o.ics + "\r\n";
  // Our own bookings are already busy time; reading them back would count them twice.
  SK_ASSIGN(auto own, store::list_bookings(db, client));
  std::string kept;
  for (const auto& one : calendar::split_calendars(all)) {
    bool mine = false;
    for (const auto& b : own) mine |= one.find("UID:" + b.uid) != std::string::npos;
    if (!mine) kept += one;
  }
  if (kept.empty())
    kept = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sidekick//EN\r\nEND:VCALENDAR\r\n";
  // Read every minute by serve: an unchanged calendar is not imported (or audited) again.
  SK_ASSIGN(auto before, store::calendar_imports(db, client));
  if (std::find(before.begin(), before.end(), kept) != before.end()) {
    int events = 0;
    for (auto at = kept.find("BEGIN:VEVENT"); at != std::string::npos;
         at = kept.find("BEGIN:VEVENT", at + 1))
      ++events;
    return events;
  }
  return import_calendar(db, clock, client, "caldav:" + url, kept, actor);
}

Result<std::string> push_booking_to_caldav(store::Db& db, const Clock& clock,
                                           const ClientId& client, const std::string& booking_id,
                                           calendar::CaldavClient& caldav,
                                           const std::string& actor) {
  SK_ASSIGN(auto b, store::get_booking(db, client, booking_id));
  SK_ASSIGN(auto t, load_booking_type(db, client, b.type_slug));
  SK_ASSIGN(auto c, client_record(db, client));
  const bool gone =
      b.status == store::BookingStatus::cancelled || b.status == store::BookingStatus::declined;
  std::string href;
  if (gone) {
    if (b.caldav_href.empty()) return std::string();
    auto r = caldav.remove(b.id);
    if (!r && r.error().code != Errc::not_found) return r.error();
  } else {
    SK_ASSIGN(
        href,
        caldav.put(b.id, booking_ics(b, t, c.name, c.email, "", clock.now(), calendar_zone(db, c)),
                   b.caldav_href.empty()));
  }
  b.caldav_href = href;
  SK_TRY(db.transaction([&]() -> Result<void> {
    SK_TRY(store::update_booking(db, b));
    return store::append_audit(
        db, client, clock.now(), actor,
        gone ? "booking removed from calendar" : "booking written to calendar", b.id,
        gone ? "cancelled" : href);
  }));
  return href;
}

Result<CaldavSync> sync_caldav(store::Db& db, const Clock& clock, const ClientId& client,
                               calendar::CaldavClient& caldav, const std::string& url,
                               const std::string& actor) {
  CaldavSync out;
  SK_ASSIGN(auto due, store::bookings_to_push(db, client));
  for (const auto& b : due) {
    SK_TRY(push_booking_to_caldav(db, clock, client, b.id, caldav, actor));
    SK_TRY(store::set_caldav_sequence(db, client, b.id, b.sequence));
    ++out.written;
  }
  SK_ASSIGN(out.busy_events, import_caldav_busy(db, clock, client, caldav, url, actor));
  return out;
}

Result<std::string> client_calendar_zone(store::Db& db, const ClientId& client) {
  SK_ASSIGN(auto c, client_record(db, client));
  return calendar_zone(db, c);
}

}  // namespace sk::engine
