#include "web/screened_pages.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "store/repos.hpp"

namespace sk::web {
namespace {

using nlohmann::json;

// A domain's screened senders, grouped for the page.
struct Domain {
  std::string name;
  std::size_t items = 0;
  std::vector<const engine::ScreenedSender*> senders;
};

bool matches(const engine::ScreenedSender& s, const std::string& q) {
  if (q.empty()) return true;
  for (const std::string* field : {&s.address, &s.name, &s.latest_subject})
    if (lower(*field).find(q) != std::string::npos) return true;
  return false;
}

Result<json> screened_json(Call& call, std::size_t domains_shown) {
  const ClientId& client = call.client();
  SK_ASSIGN(auto c, store::find_client(call.db, client));
  SK_ASSIGN(auto held, call.engine.screened_senders(client));
  auto q_it = call.request.query.find("q");
  const std::string q = q_it == call.request.query.end() ? "" : lower(trim(q_it->second));
  std::map<std::string, Domain> by_name;
  std::size_t senders = 0, items = 0;
  for (const auto& s : held) {
    if (!matches(s, q)) continue;
    Domain& d = by_name[domain_of(s.address)];
    d.items += s.items.size();
    d.senders.push_back(&s);
    ++senders;
    items += s.items.size();
  }
  std::vector<Domain> domains;
  for (auto& [name, d] : by_name) {
    d.name = name;
    domains.push_back(std::move(d));
  }
  std::stable_sort(domains.begin(), domains.end(),
                   [](const Domain& a, const Domain& b) { return a.items > b.items; });
  // The page shows the domains with the most waiting; the API and the counts have them all.
  const bool page = call.wants_html();
  const std::size_t shown = page ? std::min(domains.size(), domains_shown) : domains.size();
  json list = json::array();
  for (std::size_t i = 0; i < shown; ++i) {
    const Domain& d = domains[i];
    json ss = json::array();
    for (const auto* s : d.senders)
      ss.push_back(
          {{"address", s->address},
           {"name", s->name},
           {"items", s->items.size()},
           {"latest_subject", s->latest_subject.empty() ? "(no subject)" : s->latest_subject},
           {"latest_at", format_utc(s->latest)},
           {"url", "/c/" + client + "/items/" + s->items.back()}});
    // Texts and calls come from numbers, which have no domain: they are listed together,
    // each let in or kept out on its own.
    list.push_back({{"domain", d.name},
                    {"by_domain", !d.name.empty()},
                    {"label", d.name.empty() ? std::string("Phone numbers") : d.name},
                    {"items", d.items},
                    {"sender_count", d.senders.size()},
                    {"several", d.senders.size() > 1},
                    {"senders", ss}});
  }
  return json{{"client", client},
              {"client_name", c.name},
              {"q", q},
              {"has_q", !q.empty()},
              {"q_query", url_encode(q)},
              {"sender_count", senders},
              {"domain_count", domains.size()},
              {"item_count", items},
              {"domains", list},
              {"more_domains", domains.size() - shown},
              {"has_more", domains.size() > shown}};
}

// The senders and domains a verdict names: `senders` and `domains` as lists ("a@x, b@y" or
// one per line, as a JSON string or form field), and the page's check boxes, one field each
// ("sender:a@x", "domain:x").
std::vector<std::string> named(const std::map<std::string, std::string>& f) {
  std::vector<std::string> out = split(field(f, "senders"), ", \n\r\t;");
  for (auto& d : split(field(f, "domains"), ", \n\r\t;")) out.push_back(std::move(d));
  for (const auto& [key, value] : f) {
    if (key.starts_with("sender:")) out.push_back(key.substr(7));
    if (key.starts_with("domain:")) out.push_back(key.substr(7));
  }
  return out;
}

std::string plural(std::size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

void add_screened_routes(Router& router, PageBase page_base, ScreenedPagesOptions options) {
  const Roles staff = Roles::staff();
  auto view = [shown = options.domains_shown](Call& call) { return screened_json(call, shown); };
  router.add({"GET", "/c/{client}/screened", staff,
              page_route(page_base, "screened", "Screened senders", view),
              "everyone the screener holds, by domain, to let in or keep out in bulk"});
  router.add({"GET", "/api/clients/{client}/screened", staff, api_route(view),
              "everyone the screener holds, by domain (`?q=` filters)"});
  router.add(
      {"POST", "/api/clients/{client}/screened", staff,
       [](Call& call) {
         auto f = fields(call.request);
         const std::string action = field(f, "action");
         engine::ScreenerVerdict verdict;
         if (action == "let_in")
           verdict = engine::ScreenerVerdict::let_in;
         else if (action == "keep_out")
           verdict = engine::ScreenerVerdict::keep_out;
         else
           return error_response(
               call, make_error(Errc::invalid_input,
                                "action must be let_in or keep_out, not '" + action + "'"));
         auto names = named(f);
         if (names.empty())
           return error_response(
               call, make_error(Errc::invalid_input,
                                "choose at least one sender or domain (senders, domains)"));
         auto r = call.engine.judge_screened(call.client(), names, verdict, call.actor(),
                                             field(f, "why"));
         if (!r.ok()) return error_response(call, r.error());
         std::string message =
             (verdict == engine::ScreenerVerdict::let_in ? "let in " : "kept out ") +
             plural(r->senders, "sender", "senders") + " (" +
             plural(r->items, "message", "messages") + ")";
         if (!r->not_waiting.empty()) {
           message += "; nothing waits from ";
           for (std::size_t i = 0; i < r->not_waiting.size(); ++i)
             message += (i ? ", " : "") + r->not_waiting[i];
         }
         Response res = changed(
             call, message, "",
             json{{"senders", r->senders}, {"items", r->items}, {"not_waiting", r->not_waiting}});
         // The page lists what still waits, and open queues drop what was settled.
         if (!call.request.header("hx-request").empty()) res.set("HX-Trigger", "queue-changed");
         return res;
       },
       "let screened senders in or keep them out, by address or domain, with everything they "
       "sent that waits (staff)"});
}

}  // namespace sk::web
