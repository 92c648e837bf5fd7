#include "calendar/ical.hpp"

#include <algorithm>

#include <libical/ical.h>

#include <cstring>
#include <memory>

namespace sk::calendar {
namespace {

struct CompFree {
  void operator()(icalcomponent* c) const { icalcomponent_free(c); }
};
using CompPtr = std::unique_ptr<icalcomponent, CompFree>;

std::string str(const char* s) {
  return s ? std::string(s) : std::string();
}

std::string strip_mailto(std::string v) {
  if (v.size() >= 7 && strncasecmp(v.c_str(), "mailto:", 7) == 0) v.erase(0, 7);
  return v;
}

std::string param(icalproperty* p, const char* name) {
  return str(icalproperty_get_parameter_as_string(p, name));
}

CivilTime civil_of(const icaltimetype& t) {
  CivilTime c;
  c.year = t.year;
  c.month = t.month;
  c.day = t.day;
  c.date_only = t.is_date;
  if (!t.is_date) {
    c.hour = t.hour;
    c.minute = t.minute;
    c.second = t.second;
  }
  c.utc = icaltime_is_utc(t);
  return c;
}

icaltimetype ical_of(const CivilTime& c) {
  icaltimetype t = icaltime_null_time();
  t.year = c.year;
  t.month = c.month;
  t.day = c.day;
  t.is_date = c.date_only;
  if (!c.date_only) {
    t.hour = c.hour;
    t.minute = c.minute;
    t.second = c.second;
  }
  if (c.utc) t.zone = icaltimezone_get_utc_timezone();
  return t;
}

// The zone a date-time property names: its TZID when libical knows it as an IANA zone
// (with or without the "/freeassociation.sourceforge.net/" style prefixes).
std::string zone_name(icalproperty* p) {
  std::string tzid = param(p, "TZID");
  if (tzid.empty()) return tzid;
  if (icaltimezone_get_builtin_timezone(tzid.c_str())) return tzid;
  if (icaltimezone* z = icaltimezone_get_builtin_timezone_from_tzid(tzid.c_str()))
    return str(icaltimezone_get_location(z));
  return tzid;  // a custom VTIMEZONE (Calendar::custom_zones) or unknown
}

std::optional<CivilTime> time_prop(icalcomponent* c, icalproperty_kind kind, std::string* tz) {
  icalproperty* p = icalcomponent_get_first_property(c, kind);
  if (!p) return std::nullopt;
  icalvalue* v = icalproperty_get_value(p);
  if (!v) return std::nullopt;
  icaltimetype t = icalvalue_get_datetime(v);
  if (icaltime_is_null_time(t)) return std::nullopt;
  if (tz && tz->empty()) *tz = zone_name(p);
  return civil_of(t);
}

std::string text_prop(icalcomponent* c, icalproperty_kind kind) {
  icalproperty* p = icalcomponent_get_first_property(c, kind);
  if (!p) return {};
  icalvalue* v = icalproperty_get_value(p);
  // TEXT values come back unescaped ("a, b" rather than "a\\, b").
  if (v && icalvalue_isa(v) == ICAL_TEXT_VALUE) return str(icalvalue_get_text(v));
  return str(icalproperty_get_value_as_string(p));
}

Component read_component(icalcomponent* c) {
  Component out;
  out.kind = str(icalcomponent_kind_to_string(icalcomponent_isa(c)));
  out.uid = text_prop(c, ICAL_UID_PROPERTY);
  if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_SEQUENCE_PROPERTY))
    out.sequence = icalproperty_get_sequence(p);
  out.dtstamp = time_prop(c, ICAL_DTSTAMP_PROPERTY, nullptr);
  out.start = time_prop(c, ICAL_DTSTART_PROPERTY, &out.tzid);
  out.end = time_prop(c, ICAL_DTEND_PROPERTY, &out.tzid);
  if (!out.end) out.end = time_prop(c, ICAL_DUE_PROPERTY, &out.tzid);
  if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_DURATION_PROPERTY)) {
    out.duration_s = icaldurationtype_as_int(icalproperty_get_duration(p));
  }
  out.summary = text_prop(c, ICAL_SUMMARY_PROPERTY);
  out.description = text_prop(c, ICAL_DESCRIPTION_PROPERTY);
  out.location = text_prop(c, ICAL_LOCATION_PROPERTY);
  out.status = text_prop(c, ICAL_STATUS_PROPERTY);
  out.transp = text_prop(c, ICAL_TRANSP_PROPERTY);
  out.comment = text_prop(c, ICAL_COMMENT_PROPERTY);
  out.request_status = text_prop(c, ICAL_REQUESTSTATUS_PROPERTY);
  if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY)) {
    out.organizer = strip_mailto(str(icalproperty_get_organizer(p)));
    out.organizer_name = param(p, "CN");
  }
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY); p;
       p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
    Attendee a;
    a.address = strip_mailto(str(icalproperty_get_attendee(p)));
    a.name = param(p, "CN");
    a.role = param(p, "ROLE");
    a.partstat = param(p, "PARTSTAT");
    a.rsvp = strcasecmp(param(p, "RSVP").c_str(), "TRUE") == 0;
    a.delegated_to = strip_mailto(param(p, "DELEGATED-TO"));
    a.delegated_from = strip_mailto(param(p, "DELEGATED-FROM"));
    out.attendees.push_back(std::move(a));
  }
  if (icalproperty* p = icalcomponent_get_first_property(c, ICAL_RRULE_PROPERTY))
    out.rrule = str(icalproperty_get_value_as_string(p));
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_EXDATE_PROPERTY); p;
       p = icalcomponent_get_next_property(c, ICAL_EXDATE_PROPERTY))
    out.exdates.push_back(civil_of(icalproperty_get_exdate(p)));
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_RDATE_PROPERTY); p;
       p = icalcomponent_get_next_property(c, ICAL_RDATE_PROPERTY)) {
    icaldatetimeperiodtype dp = icalproperty_get_rdate(p);
    if (!icaltime_is_null_time(dp.time))
      out.rdates.push_back(civil_of(dp.time));
    else if (!icaltime_is_null_time(dp.period.start))
      out.rdates.push_back(civil_of(dp.period.start));
  }
  out.recurrence_id = time_prop(c, ICAL_RECURRENCEID_PROPERTY, nullptr);
  for (icalproperty* p = icalcomponent_get_first_property(c, ICAL_FREEBUSY_PROPERTY); p;
       p = icalcomponent_get_next_property(c, ICAL_FREEBUSY_PROPERTY)) {
    icalperiodtype per = icalproperty_get_freebusy(p);
    Period fb;
    fb.start = civil_of(per.start);
    if (!icaltime_is_null_time(per.end)) {
      fb.end = civil_of(per.end);
    } else {
      CivilTime e = CivilTime::from_seconds(
          fb.start.seconds() + icaldurationtype_as_int(per.duration), fb.start.utc);
      fb.end = e;
    }
    out.freebusy.push_back(fb);
  }
  for (icalcomponent* a = icalcomponent_get_first_component(c, ICAL_VALARM_COMPONENT); a;
       a = icalcomponent_get_next_component(c, ICAL_VALARM_COMPONENT))
    out.alarms.push_back(text_prop(a, ICAL_TRIGGER_PROPERTY));
  return out;
}

}  // namespace

std::vector<std::string> split_calendars(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (true) {
    auto b = text.find("BEGIN:VCALENDAR", pos);
    if (b == std::string_view::npos) break;
    auto e = text.find("END:VCALENDAR", b);
    if (e == std::string_view::npos) break;
    e += std::strlen("END:VCALENDAR");
    out.emplace_back(text.substr(b, e - b));
    out.back() += "\r\n";
    pos = e;
  }
  return out;
}

Result<Calendar> parse_ics(std::string_view text) {
  if (text.find("BEGIN:VCALENDAR") == std::string_view::npos)
    return make_error(Errc::parse, "not an iCalendar object (no BEGIN:VCALENDAR)");
  std::string buf(text);
  CompPtr root(icalparser_parse_string(buf.c_str()));
  if (!root) return make_error(Errc::parse, "iCalendar could not be parsed");
  icalcomponent* cal = root.get();
  if (icalcomponent_isa(cal) == ICAL_XROOT_COMPONENT)
    cal = icalcomponent_get_first_component(cal, ICAL_VCALENDAR_COMPONENT);
  if (!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT)
    return make_error(Errc::parse, "iCalendar has no VCALENDAR");
  // libical keeps going past bad lines and leaves X-LIC-ERROR properties where they were.
  // A calendar that lost a rule or a time would give wrong busy time, so that is refused;
  // a lost LOCATION or the like is not worth refusing a real file for.
  for (icalcomponent* c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); c;
       c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
    for (icalproperty* e = icalcomponent_get_first_property(c, ICAL_XLICERROR_PROPERTY); e;
         e = icalcomponent_get_next_property(c, ICAL_XLICERROR_PROPERTY)) {
      const std::string why = str(icalproperty_get_xlicerror(e));
      for (const char* key :
           {"RRULE", "DTSTART", "DTEND", "DURATION", "EXDATE", "RDATE", "RECURRENCE-ID", "FREQ"}) {
        if (why.find(key) != std::string::npos)
          return make_error(Errc::parse,
                            "iCalendar error in " + text_prop(c, ICAL_UID_PROPERTY) + ": " + why);
      }
    }
  }
  Calendar out;
  if (icalproperty* p = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY))
    out.method = str(icalproperty_method_to_string(icalproperty_get_method(p)));
  out.prodid = text_prop(cal, ICAL_PRODID_PROPERTY);
  for (icalcomponent* c = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT); c;
       c = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
    icalcomponent_kind k = icalcomponent_isa(c);
    if (k == ICAL_VTIMEZONE_COMPONENT) {
      std::string tzid = text_prop(c, ICAL_TZID_PROPERTY);
      if (!tzid.empty() && !icaltimezone_get_builtin_timezone(tzid.c_str()) &&
          !icaltimezone_get_builtin_timezone_from_tzid(tzid.c_str())) {
        char* s = icalcomponent_as_ical_string_r(c);
        out.custom_zones.emplace_back(tzid, str(s));
        free(s);
      }
      continue;
    }
    if (k == ICAL_VEVENT_COMPONENT || k == ICAL_VTODO_COMPONENT || k == ICAL_VJOURNAL_COMPONENT ||
        k == ICAL_VFREEBUSY_COMPONENT)
      out.components.push_back(read_component(c));
  }
  return out;
}

std::string write_ics(const Calendar& in) {
  CompPtr cal(icalcomponent_new_vcalendar());
  icalcomponent_add_property(cal.get(), icalproperty_new_version("2.0"));
  icalcomponent_add_property(
      cal.get(), icalproperty_new_prodid(in.prodid.empty() ? "-//Sidekick//Scheduling//EN"
                                                           : in.prodid.c_str()));
  if (!in.method.empty())
    icalcomponent_add_property(
        cal.get(), icalproperty_new_method(icalenum_string_to_method(in.method.c_str())));
  // Each zone the events use, once, before them: receivers need not know IANA names.
  std::vector<std::string> zones;
  for (const auto& c : in.components) {
    if (c.tzid.empty() || std::find(zones.begin(), zones.end(), c.tzid) != zones.end()) continue;
    zones.push_back(c.tzid);
    icaltimezone* z = icaltimezone_get_builtin_timezone(c.tzid.c_str());
    icalcomponent* vt = z ? icaltimezone_get_component(z) : nullptr;
    if (!vt) continue;
    icalcomponent* copy = icalcomponent_new_clone(vt);
    // The TZID the events use: the IANA name, not libical's prefixed one.
    if (icalproperty* id = icalcomponent_get_first_property(copy, ICAL_TZID_PROPERTY))
      icalproperty_set_tzid(id, c.tzid.c_str());
    icalcomponent_add_component(cal.get(), copy);
  }
  for (const auto& c : in.components) {
    icalcomponent* e = icalcomponent_new(icalcomponent_string_to_kind(c.kind.c_str()));
    icalcomponent_add_property(e, icalproperty_new_uid(c.uid.c_str()));
    icalcomponent_add_property(e, icalproperty_new_sequence(c.sequence));
    if (c.dtstamp) icalcomponent_add_property(e, icalproperty_new_dtstamp(ical_of(*c.dtstamp)));
    // A local time names its zone; the zone's VTIMEZONE is in the calendar (added above).
    auto zoned = [&](icalproperty* p, const CivilTime& t) {
      if (!c.tzid.empty() && !t.utc && !t.date_only)
        icalproperty_add_parameter(p, icalparameter_new_tzid(c.tzid.c_str()));
      icalcomponent_add_property(e, p);
    };
    if (c.start) zoned(icalproperty_new_dtstart(ical_of(*c.start)), *c.start);
    if (c.end) zoned(icalproperty_new_dtend(ical_of(*c.end)), *c.end);
    if (!c.summary.empty())
      icalcomponent_add_property(e, icalproperty_new_summary(c.summary.c_str()));
    if (!c.description.empty())
      icalcomponent_add_property(e, icalproperty_new_description(c.description.c_str()));
    if (!c.location.empty())
      icalcomponent_add_property(e, icalproperty_new_location(c.location.c_str()));
    if (!c.comment.empty())
      icalcomponent_add_property(e, icalproperty_new_comment(c.comment.c_str()));
    if (!c.status.empty())
      icalcomponent_add_property(
          e, icalproperty_new_status(icalenum_string_to_status(c.status.c_str())));
    if (!c.organizer.empty()) {
      icalproperty* p = icalproperty_new_organizer(("mailto:" + c.organizer).c_str());
      if (!c.organizer_name.empty())
        icalproperty_add_parameter(p, icalparameter_new_cn(c.organizer_name.c_str()));
      icalcomponent_add_property(e, p);
    }
    for (const auto& a : c.attendees) {
      icalproperty* p = icalproperty_new_attendee(("mailto:" + a.address).c_str());
      if (!a.name.empty()) icalproperty_add_parameter(p, icalparameter_new_cn(a.name.c_str()));
      if (!a.role.empty()) icalproperty_set_parameter_from_string(p, "ROLE", a.role.c_str());
      if (!a.partstat.empty())
        icalproperty_set_parameter_from_string(p, "PARTSTAT", a.partstat.c_str());
      if (a.rsvp) icalproperty_set_parameter_from_string(p, "RSVP", "TRUE");
      icalcomponent_add_property(e, p);
    }
    if (!c.rrule.empty())
      icalcomponent_add_property(
          e, icalproperty_new_rrule(icalrecurrencetype_from_string(c.rrule.c_str())));
    for (const auto& trig : c.alarms) {
      icalcomponent* a = icalcomponent_new_valarm();
      icalcomponent_add_property(a, icalproperty_new_action(ICAL_ACTION_DISPLAY));
      icalcomponent_add_property(a, icalproperty_new_description("Reminder"));
      icalcomponent_add_property(
          a, icalproperty_new_trigger(icaltriggertype_from_string(trig.c_str())));
      icalcomponent_add_component(e, a);
    }
    icalcomponent_add_component(cal.get(), e);
  }
  char* s = icalcomponent_as_ical_string_r(cal.get());
  std::string out = str(s);
  free(s);
  return out;
}

}  // namespace sk::calendar
