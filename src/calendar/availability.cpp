#include "calendar/availability.hpp"

#include <nlohmann/json.hpp>

#include "calendar/civil.hpp"
#include "calendar/zone.hpp"

namespace sk::calendar {
namespace {

using nlohmann::json;
constexpr const char* kDayNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string hhmm(int min) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d", min / 60, min % 60);
  return buf;
}

Result<int> parse_hhmm(const std::string& s) {
  int h = 0, m = 0;
  char c1 = 0, c2 = 0;
  if (std::sscanf(s.c_str(), "%d%c%d%c", &h, &c1, &m, &c2) != 3 || c1 != ':' || h < 0 || h > 24 ||
      m < 0 || m > 59 || (h == 24 && m != 0))
    return make_error(Errc::invalid_input, "not a time of day (HH:MM): " + s);
  return h * 60 + m;
}

json ranges_json(const std::vector<HoursRange>& v) {
  json a = json::array();
  for (const auto& r : v) a.push_back(hhmm(r.start_min) + "-" + hhmm(r.end_min));
  return a;
}

Result<std::vector<HoursRange>> ranges_from(const json& a, const std::string& where) {
  if (!a.is_array())
    return make_error(Errc::invalid_input, where + ": expected a list like [\"09:00-17:00\"]");
  std::vector<HoursRange> out;
  for (const auto& x : a) {
    if (!x.is_string())
      return make_error(Errc::invalid_input, where + ": expected \"HH:MM-HH:MM\"");
    std::string s = x.get<std::string>();
    auto dash = s.find('-');
    if (dash == std::string::npos)
      return make_error(Errc::invalid_input, where + ": expected \"HH:MM-HH:MM\", got " + s);
    SK_ASSIGN(int a1, parse_hhmm(s.substr(0, dash)));
    SK_ASSIGN(int b1, parse_hhmm(s.substr(dash + 1)));
    out.push_back({a1, b1});
  }
  return out;
}

template <class F>
Result<void> guard(F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    return make_error(Errc::invalid_input, std::string("bad JSON: ") + e.what());
  }
}

}  // namespace

std::string to_json(const Availability& a) {
  json j;
  j["zone"] = a.zone;
  json w = json::object();
  for (int d = 0; d < 7; ++d) w[kDayNames[d]] = ranges_json(a.weekly[d]);
  j["weekly"] = w;
  json o = json::array();
  for (const auto& x : a.overrides) {
    char date[48];
    std::snprintf(date, sizeof date, "%04d-%02d-%02d", x.year, x.month, x.day);
    o.push_back({{"date", date}, {"hours", ranges_json(x.hours)}, {"note", x.note}});
  }
  j["overrides"] = o;
  j["buffer_before_min"] = a.buffer_before_min;
  j["buffer_after_min"] = a.buffer_after_min;
  j["min_notice_min"] = a.min_notice_min;
  j["max_per_day"] = a.max_per_day;
  j["max_per_week"] = a.max_per_week;
  j["horizon_days"] = a.horizon_days;
  if (!a.default_type.empty()) j["default_type"] = a.default_type;
  j["step_min"] = a.step_min;
  return j.dump();
}

Result<Availability> availability_from_json(const std::string& text) {
  Availability a;
  SK_TRY(guard([&]() -> Result<void> {
    json j = json::parse(text);
    if (!j.is_object()) return make_error(Errc::invalid_input, "availability must be an object");
    a.zone = j.value("zone", a.zone);
    if (j.contains("weekly")) {
      for (int d = 0; d < 7; ++d) {
        if (!j["weekly"].contains(kDayNames[d])) continue;
        SK_ASSIGN(a.weekly[d],
                  ranges_from(j["weekly"][kDayNames[d]], std::string("weekly.") + kDayNames[d]));
      }
    }
    for (const auto& o : j.value("overrides", json::array())) {
      DateOverride x;
      std::string date = o.value("date", "");
      if (std::sscanf(date.c_str(), "%d-%d-%d", &x.year, &x.month, &x.day) != 3 || x.month < 1 ||
          x.month > 12 || x.day < 1 || x.day > days_in_month(x.year, x.month))
        return make_error(Errc::invalid_input, "overrides: not a date (YYYY-MM-DD): " + date);
      SK_ASSIGN(x.hours, ranges_from(o.value("hours", json::array()), "overrides." + date));
      x.note = o.value("note", "");
      a.overrides.push_back(std::move(x));
    }
    a.buffer_before_min = j.value("buffer_before_min", 0);
    a.buffer_after_min = j.value("buffer_after_min", 0);
    a.min_notice_min = j.value("min_notice_min", 0);
    a.max_per_day = j.value("max_per_day", 0);
    a.max_per_week = j.value("max_per_week", 0);
    a.horizon_days = j.value("horizon_days", 60);
    a.default_type = j.value("default_type", std::string());
    a.step_min = j.value("step_min", 0);
    return ok();
  }));
  SK_TRY(validate(a));
  return a;
}

std::string to_json(const BookingType& t) {
  json j{{"slug", t.slug},
         {"name", t.name},
         {"duration_min", t.duration_min},
         {"location", {{"kind", t.location.kind}, {"value", t.location.value}}},
         {"questions", t.questions},
         {"va_confirms", t.va_confirms}};
  return j.dump();
}

Result<BookingType> booking_type_from_json(const std::string& text) {
  BookingType t;
  SK_TRY(guard([&]() -> Result<void> {
    json j = json::parse(text);
    if (!j.is_object()) return make_error(Errc::invalid_input, "booking type must be an object");
    t.slug = j.value("slug", "");
    t.name = j.value("name", "");
    t.duration_min = j.value("duration_min", 30);
    if (j.contains("location")) {
      t.location.kind = j["location"].value("kind", "");
      t.location.value = j["location"].value("value", "");
    }
    t.questions = j.value("questions", std::vector<std::string>{});
    t.va_confirms = j.value("va_confirms", false);
    return ok();
  }));
  SK_TRY(validate(t));
  return t;
}

Result<void> validate(const Availability& a) {
  SK_TRY(Zone::find(a.zone));
  auto check = [](const std::vector<HoursRange>& v, const std::string& where) -> Result<void> {
    for (const auto& r : v)
      if (r.start_min < 0 || r.end_min > 1440 || r.start_min >= r.end_min)
        return make_error(Errc::invalid_input, where + ": hours must run forwards within a day");
    return ok();
  };
  for (int d = 0; d < 7; ++d) SK_TRY(check(a.weekly[d], std::string("weekly.") + kDayNames[d]));
  for (const auto& o : a.overrides) SK_TRY(check(o.hours, "overrides"));
  if (a.buffer_before_min < 0 || a.buffer_after_min < 0 || a.min_notice_min < 0 ||
      a.max_per_day < 0 || a.max_per_week < 0 || a.step_min < 0)
    return make_error(Errc::invalid_input, "buffers, notice, limits and step cannot be negative");
  if (a.horizon_days < 1 || a.horizon_days > 730)
    return make_error(Errc::invalid_input, "horizon_days must be 1..730");
  return ok();
}

Result<void> validate(const BookingType& t) {
  // /book/CLIENT/done and /book/CLIENT/manage are pages of the booking page itself.
  if (t.slug == "done" || t.slug == "manage")
    return make_error(Errc::invalid_input, "a booking type cannot be called '" + t.slug +
                                               "': the booking page uses that name");
  if (t.duration_min < 5 || t.duration_min > 24 * 60)
    return make_error(Errc::invalid_input, "duration_min must be 5..1440");
  if (!t.location.kind.empty() && t.location.kind != "address" && t.location.kind != "phone" &&
      t.location.kind != "video")
    return make_error(Errc::invalid_input, "location.kind must be address, phone or video");
  return ok();
}

}  // namespace sk::calendar
