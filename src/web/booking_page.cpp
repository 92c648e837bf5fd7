#include "web/booking_page.hpp"

#include <nlohmann/json.hpp>

#include "calendar/civil.hpp"
#include "calendar/zone.hpp"
#include "engine/booking_links.hpp"
#include "engine/scheduling.hpp"
#include "store/repos.hpp"
#include "web/console.hpp"
#include "web/render.hpp"

namespace sk::web {
namespace {

using nlohmann::json;

std::string when_label(Timestamp t, const calendar::Zone& z) {
  const auto c = z.to_local(t);
  return calendar::long_date(c) + ", " + calendar::format_hh_mm(c) + " (" + z.name() + ")";
}

// Pages are for people: every refusal is a page that says what happened and what to do.
Response message_page(int status, const std::string& title, const std::string& text,
                      const std::string& back = "") {
  json d{
      {"title", title},
      {"public", true},
      {"page", {{"heading", title}, {"text", text}, {"back", back}, {"has_back", !back.empty()}}}};
  return Response::html(status, render_page("book_message", d));
}

Response refusal(const Error& e, const std::string& back = "") {
  switch (e.code) {
    case Errc::invalid_input:
    case Errc::parse:
      if (e.message.find("expired") != std::string::npos)
        return message_page(410, "This link has expired",
                            "The time it offered has passed. Please pick another time.", back);
      return message_page(400, "This link does not work", "The " + e.message + ".", back);
    case Errc::not_found:
      return message_page(404, "Not found", e.message, back);
    case Errc::conflict:
      return message_page(409, "That did not work", e.message, back);
    default:
      return message_page(500, "Something went wrong", "Please try again in a moment.", back);
  }
}

std::string field(const std::map<std::string, std::string>& f, const std::string& k) {
  auto it = f.find(k);
  return it == f.end() ? std::string() : it->second;
}

struct Shared {
  BookingPageOptions options;
  engine::PageLimits limits;  // counted in the store, shared by every thread and process
  explicit Shared(BookingPageOptions o)
      : options(std::move(o)),
        limits{engine::AbuseLimiter(options.per_ip_per_hour, 3600),
               engine::AbuseLimiter(options.per_email_per_day, 86400)} {}
};

// The page's client from its URL; a client with no booking page set up is not found, the
// same as one that does not exist.
Result<store::ClientRecord> page_client(Call& call) {
  const std::string& who = call.param("who");
  auto c = store::find_client(call.db, who);
  if (!c.ok() || c->slug != who)
    return make_error(Errc::not_found, "There is no booking page here.");
  return c;
}

// The zone the visitor reads times in: theirs when the page was told it and it exists,
// otherwise the client's.
struct VisitorZone {
  calendar::Zone zone = calendar::Zone::utc();
  bool asked = false;  // the URL carried a zone (the page's script sets it)
  bool fell_back = false;
};
VisitorZone visitor_zone(const Request& req, const std::string& client_zone) {
  VisitorZone v;
  auto it = req.query.find("zone");
  if (it != req.query.end() && !it->second.empty()) {
    v.asked = true;
    if (auto z = calendar::Zone::find(it->second); z.ok()) {
      v.zone = *z;
      return v;
    }
    v.fell_back = true;
  }
  if (auto z = calendar::Zone::find(client_zone); z.ok()) v.zone = *z;
  return v;
}

// A link's claims, checked against the page it was opened on: a token of another client
// (or another booking type) is refused, so one page never acts on another client's data.
Result<engine::LinkClaims> claims_for(Call& call, const Shared& sh, const std::string& token,
                                      const store::ClientRecord& c, const std::string& action,
                                      const std::string& type = "") {
  if (token.empty()) return make_error(Errc::invalid_input, "link is missing its token");
  SK_ASSIGN(auto claims, engine::verify_link(sh.options.key, token, call.clock.now()));
  if (claims.client != c.id || claims.action != action || (!type.empty() && claims.subject != type))
    return make_error(Errc::invalid_input, "link belongs to another booking page");
  return claims;
}

json type_json(const calendar::BookingType& t) {
  std::string where;
  if (t.location.kind == "phone")
    where = "By phone: " + t.location.value;
  else if (t.location.kind == "video")
    where = "Video call";
  else
    where = t.location.value;
  return {{"slug", t.slug},
          {"name", t.name.empty() ? t.slug : t.name},
          {"duration", t.duration_min},
          {"location", where},
          {"has_location", !where.empty()}};
}

std::string page_url(const store::ClientRecord& c, const std::string& type) {
  return "/book/" + c.slug + "/" + type;
}

// Free times grouped by day in the visitor's zone, each linking to `link(start)`.
json days_json(const std::vector<std::pair<Timestamp, std::string>>& slots,
               const calendar::Zone& z) {
  json days = json::array();
  std::int64_t last = INT64_MIN;
  for (const auto& [start, url] : slots) {
    const auto local = z.to_local(start);
    if (local.days() != last) {
      days.push_back({{"day", calendar::long_date(local)}, {"slots", json::array()}});
      last = local.days();
    }
    days.back()["slots"].push_back(
        {{"time", calendar::format_hh_mm(local)}, {"url", url}, {"start", start}});
  }
  return days;
}

json zone_json(const VisitorZone& v, const calendar::Zone& client_zone) {
  return {{"zone", v.zone.name()},
          {"zone_auto", !v.asked},
          {"fell_back", v.fell_back},
          {"client_zone", client_zone.name()}};
}

Response type_page(Call& call, Shared& sh) {
  auto c = page_client(call);
  if (!c.ok()) return refusal(c.error());
  const std::string& type = call.param("type");
  auto t = engine::load_booking_type(call.db, c->id, type);
  auto a = engine::load_availability(call.db, c->id);
  if (!t.ok() || !a.ok()) return message_page(404, "Not found", "There is no booking page here.");
  auto home = calendar::Zone::find(a->zone);
  if (!home.ok()) return refusal(home.error());
  const VisitorZone v = visitor_zone(call.request, a->zone);
  auto slots = engine::page_slots(call.db, call.clock, sh.options.key, c->id, type, v.zone.name(),
                                  sh.options.days);
  if (!slots.ok()) return refusal(slots.error());
  std::vector<std::pair<Timestamp, std::string>> links;
  for (const auto& s : *slots)
    links.emplace_back(s.start, page_url(*c, type) + "/confirm?t=" + s.token +
                                    "&zone=" + url_encode(v.zone.name()));
  json p = zone_json(v, *home);
  p["client_name"] = c->name;
  p["type"] = type_json(*t);
  p["days"] = days_json(links, v.zone);
  p["none"] = slots->empty();
  p["action"] = page_url(*c, type);
  json d{{"title", (t->name.empty() ? t->slug : t->name) + " with " + c->name},
         {"public", true},
         {"page", p}};
  return Response::html(200, render_page("book_type", d));
}

Response confirm_page(Call& call, Shared& sh, const std::string& error = "", int status = 200) {
  auto c = page_client(call);
  if (!c.ok()) return refusal(c.error());
  const std::string& type = call.param("type");
  const bool post = call.request.method == "POST";
  const auto form = post ? call.request.form() : std::map<std::string, std::string>{};
  const std::string token = post ? field(form, "t") : field(call.request.query, "t");
  auto claims = claims_for(call, sh, token, *c, "book", type);
  if (!claims.ok()) return refusal(claims.error(), page_url(*c, type));
  auto t = engine::load_booking_type(call.db, c->id, type);
  auto a = engine::load_availability(call.db, c->id);
  if (!t.ok() || !a.ok()) return message_page(404, "Not found", "There is no booking page here.");
  auto home = calendar::Zone::find(a->zone);
  if (!home.ok()) return refusal(home.error());
  VisitorZone v = visitor_zone(call.request, a->zone);
  if (post && !field(form, "zone").empty())
    if (auto z = calendar::Zone::find(field(form, "zone")); z.ok()) v.zone = *z;
  json questions = json::array();
  for (std::size_t i = 0; i < t->questions.size(); ++i)
    questions.push_back({{"name", "q" + std::to_string(i)},
                         {"label", t->questions[i]},
                         {"value", field(form, "q" + std::to_string(i))}});
  json p = zone_json(v, *home);
  p["zone_auto"] = false;
  p["client_name"] = c->name;
  p["type"] = type_json(*t);
  p["when"] = when_label(claims->start, v.zone);
  p["token"] = token;
  p["questions"] = questions;
  p["name"] = field(form, "name");
  p["email"] = field(form, "email");
  p["error"] = error;
  p["has_error"] = !error.empty();
  p["action"] = page_url(*c, type) + "/confirm";
  p["back"] = page_url(*c, type) + "?zone=" + url_encode(v.zone.name());
  json d{{"title", "Confirm your time"}, {"public", true}, {"page", p}};
  return Response::html(status, render_page("book_confirm", d));
}

Response confirm_post(Call& call, Shared& sh) {
  auto c = page_client(call);
  if (!c.ok()) return refusal(c.error());
  const std::string& type = call.param("type");
  const auto form = call.request.form();
  const std::string token = field(form, "t");
  auto claims = claims_for(call, sh, token, *c, "book", type);
  if (!claims.ok()) return refusal(claims.error(), page_url(*c, type));
  auto t = engine::load_booking_type(call.db, c->id, type);
  if (!t.ok()) return message_page(404, "Not found", "There is no booking page here.");
  engine::Guest g;
  g.name = field(form, "name");
  g.email = field(form, "email");
  g.zone = field(form, "zone");
  if (!g.zone.empty() && !calendar::Zone::find(g.zone).ok()) g.zone.clear();
  const auto at = g.email.find('@');
  if (g.name.empty() || at == std::string::npos || at == 0 || at + 1 == g.email.size() ||
      g.email.find_first_of(" \t\r\n<>,;\"") != std::string::npos)
    return confirm_page(call, sh, "Please give your name and a valid email address.", 400);
  json answers = json::object();
  for (std::size_t i = 0; i < t->questions.size(); ++i)
    answers[t->questions[i]] = field(form, "q" + std::to_string(i));
  g.answers_json = answers.dump(-1, ' ', false, json::error_handler_t::replace);
  if (!sh.options.base_url.empty())
    g.links = engine::BookingLinks{sh.options.key, sh.options.base_url};
  Result<store::Booking> b = make_error(Errc::internal, "not booked");
  b = engine::page_confirm(call.db, call.clock, call.ids, sh.options.key, token, g,
                           call.request.remote, sh.limits);
  if (!b.ok()) {
    if (b.error().message.find("too many") != std::string::npos)
      return message_page(429, "Please wait a little",
                          "Too many bookings were made from here recently. Try again later.");
    return refusal(b.error(), page_url(*c, type) + "?zone=" + url_encode(g.zone));
  }
  return Response::redirect("/book/" + c->slug +
                            "/done?t=" + engine::manage_token(sh.options.key, *b));
}

// The booking a guest's own link names, with its type and the zone to show it in.
struct Managed {
  store::ClientRecord client;
  store::Booking booking;
  calendar::BookingType type;
  calendar::Zone zone = calendar::Zone::utc();
  std::string token;
};
Result<Managed> managed(Call& call, Shared& sh, const std::string& token) {
  SK_ASSIGN(auto c, page_client(call));
  SK_ASSIGN(auto claims, claims_for(call, sh, token, c, "manage"));
  SK_ASSIGN(auto b, store::get_booking(call.db, c.id, claims.subject));
  SK_ASSIGN(auto t, engine::load_booking_type(call.db, c.id, b.type_slug));
  Managed m{c, b, t, calendar::Zone::utc(), token};
  auto z = calendar::Zone::find(b.guest_zone.empty() ? c.timezone : b.guest_zone);
  if (z.ok()) m.zone = *z;
  return m;
}

json booking_json(const Managed& m) {
  const auto s = m.booking.status;
  return {{"client_name", m.client.name},
          {"type", type_json(m.type)},
          {"when", when_label(m.booking.starts_at, m.zone)},
          {"guest_name", m.booking.guest_name},
          {"guest_email", m.booking.guest_email},
          {"status", store::to_string(s)},
          {"confirmed", s == store::BookingStatus::confirmed},
          {"pending", s == store::BookingStatus::pending},
          {"active", s == store::BookingStatus::confirmed || s == store::BookingStatus::pending},
          {"gone", s == store::BookingStatus::cancelled || s == store::BookingStatus::declined},
          {"manage", "/book/" + m.client.slug + "/manage?t=" + m.token},
          {"token", m.token},
          {"booking", m.booking.id}};
}

Response done_page(Call& call, Shared& sh) {
  auto m = managed(call, sh, field(call.request.query, "t"));
  if (!m.ok()) return refusal(m.error());
  json d{{"title", "Booked"}, {"public", true}, {"page", booking_json(*m)}};
  return Response::html(200, render_page("book_done", d));
}

Response manage_page(Call& call, Shared& sh, const std::string& note = "") {
  const bool post = call.request.method == "POST";
  const std::string token = post ? field(call.request.form(), "t") : field(call.request.query, "t");
  auto m = managed(call, sh, token);
  if (!m.ok()) return refusal(m.error());
  json p = booking_json(*m);
  p["note"] = note;
  p["has_note"] = !note.empty();
  p["zone"] = m->zone.name();
  std::vector<std::pair<Timestamp, std::string>> links;
  if (p["active"].get<bool>()) {
    auto slots = engine::find_slots(call.db, call.clock, m->client.id, m->booking.type_slug,
                                    sh.options.days, m->booking.id);
    if (!slots.ok()) return refusal(slots.error());
    for (const auto& s : *slots)
      if (s.start != m->booking.starts_at) links.emplace_back(s.start, "");
  }
  p["days"] = days_json(links, m->zone);
  p["can_move"] = !links.empty();
  p["cancel_action"] = "/book/" + m->client.slug + "/manage/cancel";
  p["move_action"] = "/book/" + m->client.slug + "/manage/reschedule";
  json d{{"title", "Your booking"}, {"public", true}, {"page", p}};
  return Response::html(200, render_page("book_manage", d));
}

Response manage_post(Call& call, Shared& sh, bool cancel) {
  const auto form = call.request.form();
  const std::string token = field(form, "t");
  auto m = managed(call, sh, token);
  if (!m.ok()) return refusal(m.error());
  auto allowed = sh.limits.per_ip.allow(call.db, "ip:" + call.request.remote, call.clock.now());
  if (!allowed.ok()) return refusal(allowed.error());
  if (!*allowed)
    return message_page(429, "Please wait a little",
                        "Too many changes were made from here recently. Try again later.");
  Result<store::Booking> b = make_error(Errc::internal, "unchanged");
  if (cancel) {
    b = engine::page_cancel(call.db, call.clock, call.ids, sh.options.key, token);
  } else {
    Timestamp start = 0;
    try {
      start = std::stoll(field(form, "start"));
    } catch (const std::exception&) {
      return message_page(400, "Pick a time", "Choose one of the free times to move to.",
                          "/book/" + m->client.slug + "/manage?t=" + token);
    }
    b = engine::page_reschedule(call.db, call.clock, call.ids, sh.options.key, token, start,
                                sh.options.base_url);
  }
  if (!b.ok()) return refusal(b.error(), "/book/" + m->client.slug + "/manage?t=" + token);
  return Response::redirect("/book/" + m->client.slug + "/manage?t=" + token +
                            (cancel ? "&done=cancelled" : "&done=moved"));
}

}  // namespace

void add_booking_page(Console& console, BookingPageOptions options) {
  auto sh = std::make_shared<Shared>(std::move(options));
  Router& r = console.router();
  const Roles anyone = Roles::everyone();
  r.add({"GET", "/book/{who}/{type}/confirm", anyone,
         [sh](Call& call) { return confirm_page(call, *sh); },
         "public booking page: the confirm form for an offered time (?t= signed token)"});
  r.add({"POST", "/book/{who}/{type}/confirm", anyone,
         [sh](Call& call) { return confirm_post(call, *sh); },
         "public booking page: book the offered time (form: t, name, email, zone, q0..)", true});
  r.add({"GET", "/book/{who}/done", anyone, [sh](Call& call) { return done_page(call, *sh); },
         "public booking page: what was booked, with the guest's own link (?t=)"});
  r.add({"GET", "/book/{who}/manage", anyone,
         [sh](Call& call) {
           const auto& q = call.request.query;
           auto it = q.find("done");
           std::string note = it == q.end()           ? ""
                              : it->second == "moved" ? "Your booking was moved."
                                                      : "Your booking is cancelled.";
           return manage_page(call, *sh, note);
         },
         "public booking page: the guest's booking, to move or cancel (?t= signed link)"});
  // After done and manage: a booking type cannot be called either.
  r.add({"GET", "/book/{who}/{type}", anyone, [sh](Call& call) { return type_page(call, *sh); },
         "public booking page: a booking type's free times in the visitor's zone (?zone=)"});
  r.add({"POST", "/book/{who}/manage/cancel", anyone,
         [sh](Call& call) { return manage_post(call, *sh, true); },
         "public booking page: the guest cancels (form: t)", true});
  r.add({"POST", "/book/{who}/manage/reschedule", anyone,
         [sh](Call& call) { return manage_post(call, *sh, false); },
         "public booking page: the guest moves to another free time (form: t, start)", true});
}

}  // namespace sk::web
