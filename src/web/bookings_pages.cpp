#include "web/bookings_pages.hpp"

#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "calendar/slots.hpp"
#include "calendar/zone.hpp"
#include "engine/scheduling.hpp"
#include "store/repos.hpp"
#include "store/scheduling.hpp"

namespace sk::web {
namespace {

using nlohmann::json;

std::string booking_api(const ClientId& client, const std::string& id) {
  return "/api/clients/" + client + "/bookings/" + id;
}

std::string guest_response(const std::string& partstat) {
  if (partstat == "ACCEPTED") return "accepted";
  if (partstat == "TENTATIVE") return "tentative";
  if (partstat == "DECLINED") return "declined";
  return "no answer yet";
}

json booking_json(const store::Booking& b, const calendar::Zone& zone,
                  std::map<std::string, std::string>& type_names, store::Db& db) {
  auto name = type_names.find(b.type_slug);
  if (name == type_names.end()) {
    auto t = engine::load_booking_type(db, b.client, b.type_slug);
    name =
        type_names.emplace(b.type_slug, t.ok() && !t->name.empty() ? t->name : b.type_slug).first;
  }
  json answers = json::array();
  json a = json::parse(b.answers_json, nullptr, false);
  if (a.is_object())
    for (const auto& [q, v] : a.items())
      answers.push_back(
          {{"question", q}, {"answer", v.is_string() ? v.get<std::string>() : v.dump()}});
  std::string guest_when;
  if (!b.guest_zone.empty() && b.guest_zone != zone.name())
    if (auto gz = calendar::Zone::find(b.guest_zone); gz.ok())
      guest_when = calendar::describe(b.starts_at, *gz) + " for the guest";
  const std::string api = booking_api(b.client, b.id);
  return {{"id", b.id},
          {"type", name->second},
          {"type_slug", b.type_slug},
          {"when", calendar::describe(b.starts_at, zone)},
          {"minutes", (b.ends_at - b.starts_at) / 60},
          {"guest_when", guest_when},
          {"guest_name", b.guest_name},
          {"guest_email", b.guest_email},
          {"status", std::string(store::to_string(b.status))},
          {"pending", b.status == store::BookingStatus::pending},
          {"guest_response", guest_response(b.guest_partstat)},
          {"source", b.source},
          {"answers", answers},
          {"has_answers", !answers.empty()},
          {"confirm_api", api + "/confirm"},
          {"decline_api", api + "/decline"},
          {"cancel_api", api + "/cancel"}};
}

Result<json> bookings_json(Call& call) {
  const ClientId& client = call.client();
  SK_ASSIGN(auto c, store::find_client(call.db, client));
  SK_ASSIGN(auto zone_name, engine::client_calendar_zone(call.db, client));
  SK_ASSIGN(auto zone, calendar::Zone::find(zone_name));
  SK_ASSIGN(auto active, store::active_bookings(call.db, client, call.clock.now(),
                                                std::numeric_limits<Timestamp>::max()));
  std::map<std::string, std::string> type_names;
  json pending = json::array(), upcoming = json::array();
  for (const auto& b : active)
    (b.status == store::BookingStatus::pending ? pending : upcoming)
        .push_back(booking_json(b, zone, type_names, call.db));
  return json{{"client", client},
              {"client_name", c.name},
              {"zone", zone.name()},
              {"pending", pending},
              {"pending_count", pending.size()},
              {"upcoming", upcoming},
              {"upcoming_count", upcoming.size()},
              {"can_act", call.access.user.role != store::Role::client}};
}

// One booking action: the engine call, then the booking as it is now.
using BookingAction =
    std::function<Result<store::Booking>(Call&, const std::string& id, const std::string& why)>;

RouteHandler act(BookingAction action, std::string done) {
  return [action = std::move(action), done = std::move(done)](Call& call) {
    auto f = fields(call.request);
    const std::string id = call.param("booking");
    auto b = action(call, id, field(f, "why"));
    if (!b.ok()) return error_response(call, b.error());
    return changed(call, id + " " + done, "",
                   {{"booking", {{"id", b->id}, {"status", store::to_string(b->status)}}}});
  };
}

}  // namespace

void add_bookings_routes(Router& router, PageBase page_base, BookingsPagesOptions options) {
  const Roles staff = Roles::staff(), signed_in = Roles::signed_in();
  std::optional<engine::BookingLinks> links;
  if (!options.link_key.empty() && !options.base_url.empty())
    links = engine::BookingLinks{options.link_key, options.base_url};

  router.add({"GET", "/c/{client}/bookings", signed_in,
              page_route(page_base, "bookings", "Bookings", bookings_json),
              "the client's upcoming bookings in their zone, those to confirm first"});
  router.add({"GET", "/api/clients/{client}/bookings", signed_in, api_route(bookings_json),
              "upcoming bookings: `pending` (waiting for a VA) and `upcoming` (confirmed)"});
  router.add({"POST", "/api/clients/{client}/bookings/{booking}/confirm", staff,
              act(
                  [links](Call& call, const std::string& id, const std::string&) {
                    return engine::confirm_booking(call.db, call.clock, call.ids, call.client(), id,
                                                   call.actor(), links);
                  },
                  "confirmed: invitations sent to the guest and the client"),
              "confirm a booking that waits for a VA: the invitations go out"});
  router.add({"POST", "/api/clients/{client}/bookings/{booking}/decline", staff,
              act(
                  [links](Call& call, const std::string& id, const std::string& why) {
                    return engine::decline_booking(call.db, call.clock, call.ids, call.client(), id,
                                                   call.actor(), why, links);
                  },
                  "not confirmed: the guest is told"),
              "do not confirm a pending booking (`why` goes to the guest and the audit log)"});
  router.add({"POST", "/api/clients/{client}/bookings/{booking}/cancel", staff,
              act(
                  [](Call& call, const std::string& id, const std::string& why) {
                    return engine::cancel_booking(
                        call.db, call.clock, call.ids, call.client(), id, call.actor(),
                        why.empty() ? "cancelled by " + call.actor() : why);
                  },
                  "cancelled: both sides get the cancellation"),
              "cancel a booking (`why` for the audit log)"});
}

}  // namespace sk::web
