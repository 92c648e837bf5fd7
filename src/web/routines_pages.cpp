#include "web/routines_pages.hpp"

#include <nlohmann/json.hpp>

#include "calendar/slots.hpp"
#include "calendar/zone.hpp"
#include "engine/routines.hpp"
#include "store/repos.hpp"
#include "store/routines.hpp"

namespace sk::web {
namespace {

using nlohmann::json;

Result<json> routines_json(Call& call) {
  const ClientId& client = call.client();
  SK_ASSIGN(auto c, store::find_client(call.db, client));
  SK_ASSIGN(auto zone, calendar::Zone::find(c.timezone));
  SK_ASSIGN(auto routines, store::list_routines(call.db, client));
  json list = json::array();
  for (const auto& r : routines) {
    SK_ASSIGN(auto next, engine::next_occurrences(r, zone, call.clock.now(), 1));
    list.push_back({{"name", r.name},
                    {"rrule", r.rrule},
                    {"starts", r.starts},
                    {"to", join_addresses(r.to)},
                    {"subject", r.subject},
                    {"body", r.body},
                    {"send_alone", r.send_alone},
                    {"next", next.empty() ? "no more" : calendar::describe(next.front(), zone)}});
  }
  return json{{"client", client},
              {"client_name", c.name},
              {"zone", zone.name()},
              {"routines", list},
              {"has_routines", !list.empty()},
              // Shown as written: the page's own templates would fill them.
              {"date_placeholder", "{{date}}"},
              {"name_placeholder", "{{client_name}}"}};
}

}  // namespace

void add_routines_routes(Router& router, PageBase page_base) {
  const Roles staff = Roles::staff();
  router.add({"GET", "/c/{client}/routines", staff,
              page_route(page_base, "routines", "Routines", routines_json),
              "a client's routines: mail written on a schedule"});
  router.add({"GET", "/api/clients/{client}/routines", staff, api_route(routines_json),
              "a client's routines with their next time on the client's clock"});
  router.add({"POST", "/api/clients/{client}/routines", staff,
              [](Call& call) {
                auto f = fields(call.request);
                store::Routine r;
                r.client = call.client();
                r.name = trim(field(f, "name"));
                r.rrule = trim(field(f, "rrule"));
                r.to = split(field(f, "to"), ", \n\r\t;");
                r.subject = trim(field(f, "subject"));
                r.body = unix_lines(field(f, "body"));
                const std::string draft = field(f, "draft");
                r.send_alone = draft.empty() || draft == "0" || draft == "false";
                auto starts = engine::routine_start(call.db, call.client(), call.clock.now(),
                                                    trim(field(f, "at")), trim(field(f, "from")));
                if (!starts.ok()) return error_response(call, starts.error());
                r.starts = *starts;
                auto saved = engine::save_routine(call.db, call.clock, call.ids, r, call.actor());
                if (!saved.ok()) return error_response(call, saved.error());
                return changed(call, "saved the routine " + saved->name, "reload",
                               json{{"name", saved->name}, {"starts", saved->starts}});
              },
              "add a routine, or replace the client's routine of that name: `name`, `rrule`, `at` "
              "(HH:MM), `from` (YYYY-MM-DD), `to`, `subject`, `body`, `draft` (staff)"});
  router.add({"POST", "/api/clients/{client}/routines/delete", staff,
              [](Call& call) {
                auto f = fields(call.request);
                auto r = engine::remove_routine(call.db, call.clock, call.client(),
                                                field(f, "name"), call.actor());
                if (!r.ok()) return error_response(call, r.error());
                return changed(call, "removed the routine " + field(f, "name"), "reload");
              },
              "stop a routine (`name`) (staff)"});
}

}  // namespace sk::web
