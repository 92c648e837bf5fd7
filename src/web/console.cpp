#include "web/console.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "calendar/slots.hpp"
#include "calendar/zone.hpp"
#include "core/secrets.hpp"
#include "digest/digest.hpp"
#include "engine/engine.hpp"
#include "engine/phone.hpp"
#include "engine/policy_codec.hpp"
#include "engine/replies.hpp"
#include "engine/scheduling.hpp"
#include "engine/tasks.hpp"
#include "mail/message.hpp"
#include "phone/number.hpp"
#include "store/accounts.hpp"
#include "store/outgoing.hpp"
#include "store/phone_lines.hpp"
#include "store/repos.hpp"
#include "store/scheduling.hpp"
#include "support/conversation.hpp"
#include "web/bookings_pages.hpp"
#include "web/queue_cache.hpp"
#include "web/render.hpp"
#include "web/respond.hpp"
#include "web/routines_pages.hpp"
#include "web/rule_form.hpp"
#include "web/sanitize.hpp"
#include "web/screened_pages.hpp"
#include "web/support_pages.hpp"
#include "web/tasks_pages.hpp"

namespace sk::web {
namespace {

using nlohmann::json;

// Every response carries these; the console has no inline script or style, so the policy
// can be strict. Message bodies are shown in sandboxed srcdoc iframes, which inherit it:
// data: images are the message's own (cid:) pictures, which load nothing from anywhere.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
// The same for a message whose reader asked to see its images: the frame inherits the page's
// policy, so the page has to allow them too.
constexpr const char* kCspWithImages =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: http: https:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

struct Workspace {
  std::unique_ptr<store::Db> db;
  std::unique_ptr<store::DbIds> ids;
  std::unique_ptr<engine::Engine> engine;
};

// Urgency classes of the queue, most urgent first.
struct Why {
  int rank;
  const char* kind;
  const char* label;
};
Why why_waiting(const store::QueueRow& r, double low_confidence) {
  const auto d = r.decision.disposition;
  if (d == Disposition::protected_) return {0, "escalation", "escalation: protected-from sender"};
  if (r.parse_status == ParseStatus::unreadable) return {1, "unreadable", "unreadable message"};
  if (d == Disposition::awaiting_va) return {3, "awaiting", "needs an answer"};
  if (r.decision.confidence < low_confidence && d != Disposition::screened)
    return {4, "low-confidence", "low-confidence decision"};
  return {5, "screened", "first-time sender, screened"};
}
// Mail that could not be sent (a 5xx, or too many tries): a promise not kept, right after the
// escalations.
constexpr Why kUnsent{1, "unsent", "mail not sent"};
constexpr Why kDraft{2, "draft", "draft to approve"};
constexpr Why kBooking{2, "booking", "booking to confirm"};
constexpr Why kTask{2, "task", "task due"};
constexpr int kScreenedRank = 5;

// What every row of the queue says, whatever waits there (an item, a draft, a booking
// request, a task): whose, from whom, what, since when, why, and where to open and approve it.
struct QueueEntry {
  const store::ClientRecord& client;
  const std::string& id;
  std::string from;
  std::string from_name = {};
  std::string subject;
  Timestamp at = 0;
  const Why& why;
  std::string label;  // the why, said for this row
  std::string api;
  std::string approve;
  std::string url;
  bool can_let_in = false;
};

json queue_entry(const QueueEntry& e) {
  return {{"client", e.client.id},
          {"client_name", e.client.name},
          {"client_slug", e.client.slug},
          {"item", e.id},
          {"from", e.from},
          {"from_name", e.from_name},
          {"subject", e.subject.empty() ? "(no subject)" : e.subject},
          {"received_at", format_utc(e.at)},
          {"received_ts", e.at},
          {"kind", e.why.kind},
          {"why", e.label},
          {"urgency", e.why.rank},
          {"can_let_in", e.can_let_in},
          {"approve", e.approve},
          {"url", e.url},
          {"api", e.api}};
}

std::string pct(double p) {
  return std::to_string(static_cast<int>(p * 100 + 0.5)) + "%";
}

json reasons_json(const std::vector<Reason>& rs) {
  json a = json::array();
  for (const auto& r : rs) a.push_back({{"code", r.code}, {"text", r.text}});
  return a;
}

json decision_json(const Decision& d) {
  return {{"category", to_string(d.category)},
          {"category_label", label(d.category)},
          {"disposition", to_string(d.disposition)},
          {"disposition_label", label(d.disposition)},
          {"confidence", d.confidence},
          {"confidence_pct", pct(d.confidence)},
          {"spam_score", d.spam_score},
          {"decided_by", d.decided_by},
          {"decided_at", format_utc(d.decided_at)},
          {"reasons", reasons_json(d.reasons)}};
}

// The reader asked to see this message's remote images (blocked by default).
bool shows_images(const Call& call) {
  auto it = call.request.query.find("images");
  return it != call.request.query.end() && it->second == "shown";
}

}  // namespace

struct Console::Impl {
  OpenDb open_db;
  const Clock& clock;
  triage::SpamModel model;
  ConsoleOptions options;
  Router router;
  const std::atomic<bool>* stopping = nullptr;
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<Workspace>> pool;
  QueueCache queue_cache;

  Impl(OpenDb o, const Clock& c, const triage::SpamModel& m, ConsoleOptions opt)
      : open_db(std::move(o)), clock(c), model(m), options(opt) {}

  // A workspace for one call; returned to the pool after.
  struct Lease {
    Impl* impl;
    std::unique_ptr<Workspace> ws;
    Lease(Impl* i, std::unique_ptr<Workspace> w) : impl(i), ws(std::move(w)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (!ws) return;
      std::lock_guard lock(impl->pool_mutex);
      if (impl->pool.size() < impl->options.pool_size) impl->pool.push_back(std::move(ws));
    }
  };
  Result<Lease> lease() {
    {
      std::lock_guard lock(pool_mutex);
      if (!pool.empty()) {
        auto ws = std::move(pool.back());
        pool.pop_back();
        return Lease{this, std::move(ws)};
      }
    }
    auto ws = std::make_unique<Workspace>();
    SK_ASSIGN(ws->db, open_db());
    ws->ids = std::make_unique<store::DbIds>(*ws->db);
    ws->engine = std::make_unique<engine::Engine>(*ws->db, clock, *ws->ids, model);
    if (options.text_model) ws->engine->set_text_model(*options.text_model);
    return Lease{this, std::move(ws)};
  }

  // Read each time, not kept: a client renamed by the CLI or another console shows its new
  // name at once. (The queue, which names a client on every row, reads each client once.)
  Result<store::ClientRecord> client_record(store::Db& db, const ClientId& id) {
    SK_ASSIGN(auto c, store::find_client(db, id));
    if (c.id != id) return make_error(Errc::not_found, "no client '" + id + "'");
    return c;
  }

  void secure(Response& r, bool authenticated) {
    // A page that shows a message's images set the only other policy there is.
    bool images = std::any_of(r.headers.begin(), r.headers.end(), [](const auto& h) {
      return h.first == "Content-Security-Policy" && h.second == kCspWithImages;
    });
    r.set("Content-Security-Policy", images ? kCspWithImages : kCsp);
    r.set("X-Content-Type-Options", "nosniff");
    // same-origin, not no-referrer: with no-referrer browsers send `Origin: null` on form
    // posts, and the origin check of sign-in and CSRF needs the real one.
    r.set("Referrer-Policy", "same-origin");
    r.set("X-Frame-Options", "DENY");
    r.set("Cross-Origin-Opener-Policy", "same-origin");
    if (authenticated) r.set("Cache-Control", "no-store");
  }

  Response handle(const Request& req);
  void add_routes();

  // --- view models (the API returns them; the pages render them) ---
  Result<json> page_base(Call& call, const std::string& title);
  // stale_at, when given, gets the time the queue changes by the clock alone (a booking
  // request's meeting is over).
  // The queue of these clients (all the caller's, or the one `?client=` names).
  Result<json> queue_json(Call& call, const std::vector<ClientId>& clients,
                          Timestamp* stale_at = nullptr);
  Result<std::shared_ptr<const QueueSnapshot>> queue_snapshot(Call& call,
                                                              const std::vector<ClientId>& clients);
  // `?client=SLUG` narrows the queue to that client; otherwise every client of the caller's.
  Result<std::vector<ClientId>> queue_clients(const Call& call);
  // The queue page: the rows, and a tab per client with how many of theirs wait.
  Result<json> queue_page(Call& call);
  Result<json> item_json(Call& call);
  Result<json> draft_json(Call& call);
  Result<json> policy_json(Call& call);
  void add_policy_routes(const Roles& staff);
  Result<json> digest_json(Call& call);
  Result<json> next_after(Call& call, const ItemId& done);
  Response action_done(Call& call, const std::string& message, const ItemId& item);
};

Result<json> Console::Impl::page_base(Call& call, const std::string& title) {
  json clients = json::array();
  for (const auto& id : call.access.clients) {
    SK_ASSIGN(auto c, client_record(call.db, id));
    clients.push_back({{"id", c.id}, {"slug", c.slug}, {"name", c.name}});
  }
  const auto role = call.access.user.role;
  return json{{"title", title},
              {"signed_in", true},
              {"user", call.access.user.name},
              {"role", store::to_string(role)},
              {"is_staff", role != store::Role::client},
              {"is_admin", role == store::Role::admin},
              {"csrf", call.access.csrf},
              {"clients", clients}};
}

Result<std::vector<ClientId>> Console::Impl::queue_clients(const Call& call) {
  auto named = call.request.query.find("client");
  if (named == call.request.query.end() || named->second.empty()) return call.access.clients;
  auto c = store::find_client(call.db, named->second);
  // Someone else's client is answered as if it did not exist.
  if (!c.ok() || !call.access.may_see(c->id))
    return make_error(Errc::not_found, "no such client '" + named->second + "'");
  return std::vector<ClientId>{c->id};
}

Result<json> Console::Impl::queue_json(Call& call, const std::vector<ClientId>& clients,
                                       Timestamp* stale_at) {
  const double low = triage::Policy{}.low_confidence;
  struct Entry {
    Why why;
    store::QueueRow row;
  };
  std::vector<Entry> entries;
  std::map<ClientId, store::ClientRecord> records;
  for (const auto& c : clients) {
    SK_ASSIGN(records[c], client_record(call.db, c));
    SK_ASSIGN(auto rows, store::queue_rows(call.db, c, low));
    for (auto& r : rows) entries.push_back({why_waiting(r, low), std::move(r)});
  }
  std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.why.rank != b.why.rank) return a.why.rank < b.why.rank;
    return a.row.received_at < b.row.received_at;
  });
  std::vector<store::OutgoingMessage> drafts, unsent;
  for (const auto& c : clients) {
    SK_ASSIGN(auto ds, store::list_outgoing(call.db, c, store::OutgoingStatus::draft));
    for (auto& d : ds) drafts.push_back(std::move(d));
    SK_ASSIGN(auto fs, store::list_outgoing(call.db, c, store::OutgoingStatus::failed));
    for (auto f = fs.rbegin(); f != fs.rend(); ++f) unsent.push_back(std::move(*f));
  }
  // Oldest first, as the list gives them per client newest first.
  std::stable_sort(unsent.begin(), unsent.end(),
                   [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
  std::sort(drafts.begin(), drafts.end(),
            [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
  // Meetings a guest asked for that wait for a VA, beside the drafts: both are "say yes".
  json bookings = json::array();
  for (const auto& c : clients) {
    SK_ASSIGN(auto active, store::active_bookings(call.db, c, call.clock.now(),
                                                  std::numeric_limits<Timestamp>::max()));
    std::optional<calendar::Zone> zone;
    for (const auto& b : active) {
      if (b.status != store::BookingStatus::pending) continue;
      if (stale_at) *stale_at = std::min(*stale_at, b.ends_at);
      if (!zone) {
        SK_ASSIGN(auto name, engine::client_calendar_zone(call.db, c));
        SK_ASSIGN(zone, calendar::Zone::find(name));
      }
      const std::string api = "/api/clients/" + c + "/bookings/" + b.id;
      bookings.push_back(
          queue_entry({.client = records.at(c),
                       .id = b.id,
                       .from = b.guest_email,
                       .from_name = b.guest_name,
                       .subject = b.type_slug + ", " + calendar::describe(b.starts_at, *zone),
                       .at = b.created_at,
                       .why = kBooking,
                       .label = kBooking.label,
                       .api = api,
                       .approve = api + "/confirm",
                       .url = "/c/" + c + "/bookings#" + b.id}));
    }
  }
  // Tasks whose time has come, before the drafts: a promise with a date.
  json tasks = json::array();
  SK_ASSIGN(auto due, engine::due_tasks(call.db, clients, call.clock.now()));
  for (const auto& t : due) {
    const auto& rec = records.at(t.client);
    const std::string api = "/api/clients/" + t.client + "/tasks/" + t.id;
    tasks.push_back(queue_entry({.client = rec,
                                 .id = t.id,
                                 .from = "due " + engine::describe_due(t, rec.timezone),
                                 .subject = t.title,
                                 .at = t.due_at,
                                 .why = kTask,
                                 .label = kTask.label,
                                 .api = api,
                                 .approve = api + "/done",
                                 .url = "/c/" + t.client + "/tasks#" + t.id}));
  }
  if (stale_at) {
    SK_ASSIGN(Timestamp next, engine::next_task_due(call.db, clients, call.clock.now()));
    if (next != 0) *stale_at = std::min(*stale_at, next);
  }
  json items = json::array();
  // A row for mail of the client's: a draft to approve, or mail that failed to send again.
  auto outgoing_row = [&](const store::OutgoingMessage& m, const Why& why,
                          const std::string& label) {
    const std::string api = "/api/clients/" + m.client + "/drafts/" + m.id;
    json row = queue_entry({.client = records.at(m.client),
                            .id = m.id,
                            .from = "to " + (m.to.empty() ? std::string("?") : m.to.front()),
                            .subject = m.subject,
                            .at = m.created_at,
                            .why = why,
                            .label = label,
                            .api = api,
                            .approve = api + "/approve",
                            .url = "/c/" + m.client + "/drafts/" + m.id});
    row["answers"] = m.answers;
    row["draft"] = {{"kind", m.kind}, {"reason", m.reason}, {"error", m.last_error}};
    return row;
  };
  auto add_unsent = [&] {
    for (const auto& m : unsent)
      items.push_back(outgoing_row(
          m, kUnsent, std::string(kUnsent.label) + ": " + m.last_error.substr(0, 120)));
    unsent.clear();
  };
  auto add_drafts = [&]() -> Result<void> {
    add_unsent();
    for (auto& t : tasks) items.push_back(std::move(t));
    tasks = json::array();
    for (auto& b : bookings) items.push_back(std::move(b));
    bookings = json::array();
    for (const auto& m : drafts) items.push_back(outgoing_row(m, kDraft, kDraft.label));
    drafts.clear();
    return ok();
  };
  for (const auto& e : entries) {
    if (e.why.rank >= kUnsent.rank) add_unsent();
    if (e.why.rank > kDraft.rank && (!drafts.empty() || !bookings.empty() || !tasks.empty()))
      SK_TRY(add_drafts());
    const std::string api = "/api/clients/" + e.row.client + "/items/" + e.row.item;
    json row = queue_entry({.client = records.at(e.row.client),
                            .id = e.row.item,
                            .from = e.row.from,
                            .from_name = e.row.from_name,
                            .subject = e.row.subject,
                            .at = e.row.received_at,
                            .why = e.why,
                            .label = e.why.label,
                            .api = api,
                            .approve = api + "/confirm",
                            .url = "/c/" + e.row.client + "/items/" + e.row.item,
                            .can_let_in = e.why.rank == kScreenedRank});
    row["decision"] = decision_json(e.row.decision);
    items.push_back(std::move(row));
  }
  SK_TRY(add_drafts());
  // Mail that cannot be read is not in the queue at all: say so above it.
  json mailboxes = json::array();
  SK_ASSIGN(auto health, store::account_health(call.db, clients));
  for (const auto& h : health) {
    const auto& r = h.reach;
    if (!r.failing()) continue;
    mailboxes.push_back({{"client", h.client},
                         {"client_name", records.at(h.client).name},
                         {"account", h.account},
                         {"address", h.address},
                         {"failing_since", format_utc(r.failing_since)},
                         {"last_ok_at", r.last_ok_at ? format_utc(r.last_ok_at) : ""},
                         {"was_ok", r.last_ok_at != 0},
                         {"failures", r.failures},
                         {"error", r.last_error}});
  }
  // A phone line whose webhooks are refused loses every text and call to it.
  json lines = json::array();
  SK_ASSIGN(auto line_health, store::phone_line_health(call.db, clients));
  for (const auto& h : line_health) {
    const auto& r = h.reach;
    if (!r.failing()) continue;
    lines.push_back({{"client", h.line.client},
                     {"client_name", records.at(h.line.client).name},
                     {"number", phone::for_display(h.line.number)},
                     {"refused_since", format_utc(r.failing_since)},
                     {"refusals", r.failures},
                     {"last_ok_at", r.last_ok_at ? format_utc(r.last_ok_at) : ""},
                     {"was_ok", r.last_ok_at != 0},
                     {"error", r.last_error}});
  }
  // What Sidekick keeps failing to do in a mailbox that can be read (a folder the server
  // refuses, a message too big to move): retried every few hours, shown so a person knows.
  json stuck = json::array();
  for (const auto& c : clients) {
    SK_ASSIGN(auto effects, store::stuck_effects(call.db, c));
    if (effects.empty()) continue;
    const auto& last = effects.back();
    stuck.push_back({{"client", c},
                     {"client_name", records.at(c).name},
                     {"count", effects.size()},
                     {"several", effects.size() > 1},
                     {"example", std::string(to_string(last.kind)) + " " + last.target},
                     {"item_url", "/c/" + c + "/items/" + last.item},
                     {"error", last.result},
                     {"retry", "/api/clients/" + c + "/effects/retry"}});
  }
  return json{{"count", items.size()},
              {"items", items},
              {"mailboxes_failing", mailboxes},
              {"phone_lines_refused", lines},
              {"effects_stuck", stuck}};
}

Result<std::shared_ptr<const QueueSnapshot>> Console::Impl::queue_snapshot(
    Call& call, const std::vector<ClientId>& clients) {
  // The revision is read before the queue: a change in between makes the next call rebuild.
  SK_ASSIGN(auto revision, store::revision(call.db, clients));
  if (auto kept = queue_cache.find(clients, revision, call.clock.now())) return kept;
  auto snapshot = std::make_shared<QueueSnapshot>();
  SK_ASSIGN(auto q, queue_json(call, clients, &snapshot->stale_at));
  snapshot->revision = revision;
  snapshot->count = q["items"].size();
  for (const auto& i : q["items"]) {
    const auto client = i["client"].get<std::string>();
    ++snapshot->per_client[client];
    const Timestamp at = i["received_ts"];
    auto [oldest, first] = snapshot->oldest.emplace(client, at);
    if (!first) oldest->second = std::min(oldest->second, at);
  }
  snapshot->json = dump(q);
  json& items = q["items"];
  struct Held {
    std::string client_name;
    std::set<std::string> senders;
  };
  std::map<std::string, Held> screened;  // by client
  for (const auto& i : items) {
    if (i["kind"] != "screened" || i["from"] == "") continue;  // no sender: nobody to judge
    Held& h = screened[i["client"]];
    h.client_name = i["client_name"];
    h.senders.insert(i["from"].get<std::string>());
  }
  json held = json::array();
  for (const auto& [client, h] : screened)
    held.push_back({{"client", client},
                    {"client_name", h.client_name},
                    {"senders", h.senders.size()},
                    {"several", h.senders.size() > 1}});
  snapshot->notices_html =
      render_fragment("queue_notices", json{{"page",
                                             {{"held", held},
                                              {"mailboxes", q["mailboxes_failing"]},
                                              {"lines", q["phone_lines_refused"]},
                                              {"stuck", q["effects_stuck"]}}}});
  const std::size_t shown = std::min(items.size(), options.queue_rows_shown);
  json rows{
      {"items", json::array()}, {"more", items.size() - shown}, {"has_more", items.size() > shown}};
  for (std::size_t i = 0; i < shown; ++i) rows["items"].push_back(std::move(items[i]));
  snapshot->rows_html = render_fragment("queue_rows", json{{"page", rows}});
  queue_cache.keep(clients, snapshot);
  return std::shared_ptr<const QueueSnapshot>(std::move(snapshot));
}

Result<json> Console::Impl::queue_page(Call& call) {
  SK_ASSIGN(auto clients, queue_clients(call));
  SK_ASSIGN(auto q, queue_snapshot(call, clients));
  const bool one = clients.size() == 1 && call.access.clients.size() > 1;
  json tabs = json::array();
  std::string rows_url = "/queue/rows";
  if (call.access.clients.size() > 1) {
    // Counts from the whole queue, kept like any other: a tab costs no second build.
    SK_ASSIGN(auto all, queue_snapshot(call, call.access.clients));
    tabs.push_back({{"name", "All"}, {"url", "/queue"}, {"count", all->count}, {"current", !one}});
    for (const auto& id : call.access.clients) {
      SK_ASSIGN(auto c, client_record(call.db, id));
      auto n = all->per_client.find(id);
      const bool current = one && clients.front() == id;
      if (current) rows_url += "?client=" + c.slug;
      tabs.push_back({{"name", c.name},
                      {"url", "/queue?client=" + c.slug},
                      {"count", n == all->per_client.end() ? 0 : n->second},
                      {"current", current}});
    }
  }
  return json{{"count", q->count}, {"rows_html", q->rows_html}, {"notices_html", q->notices_html},
              {"tabs", tabs},      {"has_tabs", !tabs.empty()}, {"rows_url", rows_url}};
}

Result<json> Console::Impl::draft_json(Call& call) {
  const ClientId& client = call.client();
  SK_ASSIGN(auto m, store::get_outgoing(call.db, client, call.param("draft")));
  SK_ASSIGN(auto c, client_record(call.db, client));
  const std::string to = join_addresses(m.to), cc = join_addresses(m.cc);
  json j{{"client", client},
         {"client_name", c.name},
         {"draft", m.id},
         {"kind", m.kind},
         {"status", store::to_string(m.status)},
         {"is_draft", m.status == store::OutgoingStatus::draft},
         {"is_failed", m.status == store::OutgoingStatus::failed},
         {"can_send",
          m.status == store::OutgoingStatus::draft || m.status == store::OutgoingStatus::failed},
         {"last_error", m.last_error},
         {"to", m.to},
         {"to_line", to},
         {"cc_line", cc},
         {"has_cc", !cc.empty()},
         {"has_reason", !m.reason.empty()},
         {"subject", m.subject},
         {"body", m.body},
         {"reason", m.reason},
         {"created_by", m.created_by},
         {"created_at", format_utc(m.created_at)},
         {"message_id", m.message_id},
         {"api", "/api/clients/" + client + "/drafts/" + m.id},
         {"url", "/c/" + client + "/drafts/" + m.id}};
  if (!m.answers.empty()) {
    auto original = store::get_item(call.db, client, m.answers);
    if (original.ok()) {
      j["answers"] = {{"item", m.answers},
                      {"subject", original->item.subject},
                      {"from", original->item.from_address},
                      {"text", original->item.text.substr(0, 4000)},
                      {"url", "/c/" + client + "/items/" + m.answers}};
    }
  }
  return j;
}

Result<json> Console::Impl::item_json(Call& call) {
  const ClientId& client = call.client();
  const ItemId& id = call.param("item");
  SK_ASSIGN(auto stored, store::get_item(call.db, client, id));
  SK_ASSIGN(auto current, store::current_decision(call.db, client, id));
  SK_ASSIGN(auto history, store::decision_history(call.db, client, id));
  SK_ASSIGN(auto c, client_record(call.db, client));
  const Item& it = stored.item;
  json j{{"client", client},
         {"client_name", c.name},
         {"item", id},
         {"from", it.from_address},
         {"from_name", it.from_name},
         {"subject", it.subject.empty() ? "(no subject)" : it.subject},
         {"received_at", format_utc(it.received_at)},
         {"readable", to_string(it.parse_status)},
         {"defects", it.defects},
         {"has_defects", !it.defects.empty()},
         {"text", it.text},
         {"url", "/c/" + client + "/items/" + id},
         {"api", "/api/clients/" + client + "/items/" + id}};
  // A text or a call: the VA may call back from their own phone, and hear the voicemail at
  // the provider (its link is only ever https).
  const bool by_phone = it.channel == Channel::sms || it.channel == Channel::voice;
  j["by_phone"] = by_phone;
  j["channel_label"] = it.channel == Channel::voice ? "a call" : "a text";
  j["has_tel"] = by_phone && it.from_address.starts_with("+");
  j["tel"] = it.from_address;
  j["has_voicemail"] = false;
  if (it.channel == Channel::voice) {
    for (std::size_t at = it.text.find("\nVoicemail"); at != std::string::npos;
         at = it.text.find("\nVoicemail", at + 1)) {
      auto url = it.text.find(": https://", at);
      auto end = it.text.find('\n', at + 1);
      if (url == std::string::npos || (end != std::string::npos && url > end)) continue;
      j["voicemail_url"] = it.text.substr(url + 2, end == std::string::npos ? end : end - url - 2);
      j["has_voicemail"] = true;
    }
  }
  if (current) j["decision"] = decision_json(*current);
  json h = json::array();
  for (const auto& d : history) h.push_back(decision_json(d));
  j["history"] = h;
  SK_ASSIGN(auto raw, store::raw_message(call.db, client, id));
  std::string html = mail::html_part(raw);
  if (!html.empty()) {
    SanitizeReport rep;
    SanitizeOptions options;
    options.show_images = shows_images(call);
    if (lower(html).find("cid:") != std::string::npos)
      for (auto& image : mail::inline_images(raw))
        options.inline_images.emplace_back(std::move(image.content_id), std::move(image.data_uri));
    std::string body = sanitize_html(html, &rep, options);
    if (options.show_images && rep.shown_images > 0) {
      // Loading them tells the sender the message was opened: a thing done for the client.
      SK_TRY(store::append_audit(call.db, client, call.clock.now(), call.actor(), "images shown",
                                 id, std::to_string(rep.shown_images) + " remote images loaded"));
    }
    j["html_document"] = message_document(body, options.show_images);
    j["has_html"] = true;
    j["images_shown"] = options.show_images;
    j["blocked_images"] = rep.blocked_images;
    j["has_blocked_images"] = rep.blocked_images > 0;
    j["shown_images"] = rep.shown_images;
    j["blocked_trackers"] = rep.blocked_trackers;
    j["inline_images"] = rep.inline_images;
    j["dropped_links"] = rep.dropped_links;
  } else {
    j["has_html"] = false;
  }
  json cats = json::array();
  for (int i = 0; i < kCategoryCount; ++i) {
    auto cat = static_cast<Category>(i);
    cats.push_back({{"value", to_string(cat)},
                    {"label", label(cat)},
                    {"selected", current && current->category == cat}});
  }
  j["categories"] = cats;
  json rels = json::array();
  for (auto r : {Relationship::unknown, Relationship::vip, Relationship::family, Relationship::team,
                 Relationship::customer, Relationship::vendor, Relationship::blocked,
                 Relationship::protected_from})
    rels.push_back({{"value", to_string(r)}});
  j["relationships"] = rels;
  return j;
}

Result<json> Console::Impl::digest_json(Call& call) {
  const ClientId& client = call.client();
  auto day = call.request.query.find("day");
  SK_ASSIGN(auto d, digest::build(call.db, client, clock.now(),
                                  day == call.request.query.end() ? "" : day->second));
  auto lines = [&](const std::vector<digest::Line>& ls) {
    json a = json::array();
    for (const auto& l : ls)
      a.push_back({{"item", l.item},
                   {"from", l.from},
                   {"from_name", l.from_name},
                   {"subject", l.subject},
                   {"category_label", label(l.category)},
                   {"api", "/api/clients/" + client + "/items/" + l.item}});
    return a;
  };
  json cats = json::array();
  for (const auto& [cat, n] : d.by_category)
    cats.push_back({{"category", to_string(cat)}, {"label", label(cat)}, {"count", n}});
  return json{{"client", client},
              {"client_name", d.client_name},
              {"day", d.day},
              {"date", d.date},
              {"today", d.today},
              {"since", format_utc(d.from)},
              {"until", format_utc(d.to)},
              {"previous_day", d.previous_day},
              {"next_day", d.next_day},
              {"has_next", !d.next_day.empty()},
              {"total", d.total},
              {"needs_you", lines(d.needs_you)},
              {"needs_you_count", d.needs_you.size()},
              {"handled", d.handled},
              {"kept_away", d.kept_away},
              {"with_va", d.with_va},
              {"screened", lines(d.screened)},
              {"by_category", cats}};
}

// Where the VA goes after finishing an item: the next one in the queue.
Result<json> Console::Impl::next_after(Call& call, const ItemId& done) {
  SK_ASSIGN(auto q, queue_json(call, call.access.clients));
  for (const auto& i : q["items"])
    if (i["item"] != done) return json{{"next", i["url"]}};
  return json{{"next", "/queue"}};
}

Response Console::Impl::action_done(Call& call, const std::string& message, const ItemId& item) {
  auto next = next_after(call, item);
  json j{{"ok", true}, {"message", message}, {"item", item}};
  if (next.ok()) j["next"] = (*next)["next"];
  Response r = Response::json(200, dump(j));
  if (!call.request.header("hx-request").empty()) {
    r = Response::html(200, "<p class=\"done\">" + html_escape(message) + "</p>");
    // The queue page swaps the row away; an item page moves on to the next item.
    r.set("HX-Trigger", "queue-changed");
    if (call.request.header("x-sk-then") == "next" && j.contains("next"))
      r.set("X-Sk-Next", j["next"].get<std::string>());
  }
  return r;
}

Response Console::Impl::handle(const Request& req) {
  bool path_known = false;
  auto m = router.match(req.method, req.path, &path_known);
  Response res;
  bool authed = false;
  [&] {
    if (!m) {
      res = path_known ? json_error(405, "method not allowed") : json_error(404, "not found");
      return;
    }
    const Route& route = *m->route;
    auto lease_r = lease();
    if (!lease_r.ok()) {
      res = json_error(503, "store unavailable: " + lease_r.error().message);
      return;
    }
    Workspace& ws = *lease_r->ws;
    Access access;
    if (!route.roles.anyone || !req.header("authorization").empty() ||
        !req.cookie("sk_session").empty()) {
      auto a = authenticate(*ws.db, clock, req);
      if (!a.ok()) {
        res = json_error(503, a.error().message);
        return;
      }
      access = std::move(*a);
    }
    authed = access.signed_in;
    const bool api = req.path.rfind("/api/", 0) == 0 || req.path == "/events";
    if (!route.roles.anyone) {
      if (!access.signed_in) {
        res = api ? json_error(401, "sign in first (session cookie or Bearer token)")
                  : Response::redirect("/login");
        return;
      }
      if (!route.roles.allows(access.user.role)) {
        res = json_error(
            403, "a " + std::string(store::to_string(access.user.role)) + " may not do this");
        return;
      }
      // Someone else's client is answered as if it did not exist.
      if (route.takes_client() && !access.may_see(m->param("client"))) {
        res = json_error(404, "no such client");
        return;
      }
    }
    const bool writes = req.method != "GET" && req.method != "HEAD";
    if (writes && route.public_form) {
      // No session to hang a token on: the form's own signed token says what may be done,
      // and a post from another site is refused before the handler sees it.
      if (!same_origin(req)) {
        res = json_error(403, "this form can only be sent from its own page");
        return;
      }
    } else if (writes && access.signed_in && !csrf_ok(req, access)) {
      res = json_error(403, "missing or wrong CSRF token");
      return;
    }
    Call call{req, *m, access, *ws.db, *ws.ids, *ws.engine, clock};
    res = route.handler(call);
  }();
  secure(res, authed);
  return res;
}

void Console::Impl::add_routes() {
  const PageBase frame = [this](Call& call, const std::string& title) {
    return page_base(call, title);
  };
  auto page = [frame](std::string tmpl, std::string title, ViewModel build) {
    return page_route(frame, std::move(tmpl), std::move(title), std::move(build));
  };
  auto api = [](ViewModel build) { return api_route(std::move(build)); };
  const Roles staff = Roles::staff(), signed_in = Roles::signed_in(), admins = Roles::admins(),
              anyone = Roles::everyone();

  // --- public ---
  router.add({"GET", "/static/{name}", anyone,
              [](Call& call) {
                std::string name = call.param("name");
                std::string_view a = asset("static/" + name);
                if (a.empty()) return json_error(404, "no such file");
                Response r;
                r.body = std::string(a);
                r.set("Content-Type", name.ends_with(".css")  ? "text/css; charset=utf-8"
                                      : name.ends_with(".js") ? "text/javascript; charset=utf-8"
                                                              : "application/octet-stream");
                r.set("Cache-Control", "max-age=3600");
                return r;
              },
              "static files: CSS, the console's script, htmx"});
  router.add({"GET", "/api/openapi.yaml", anyone,
              [](Call&) {
                Response r = Response::text(200, std::string(asset("openapi.yaml")));
                r.set("Content-Type", "application/yaml");
                return r;
              },
              "this API's OpenAPI description"});
  router.add({"GET", "/login", anyone,
              [](Call& call) {
                json d{{"title", "Sign in"},
                       {"page",
                        {{"failed", call.request.query.count("failed") > 0},
                         {"throttled", call.request.query.count("throttled") > 0}}}};
                return Response::html(200, render_page("login", d));
              },
              "the sign-in page"});
  router.add({"POST", "/login", anyone,
              [this](Call& call) {
                // Browsers say where a form came from; another site's form is refused.
                std::string origin = call.request.header("origin");
                std::string host = call.request.header("host");
                if (!origin.empty() && origin != "http://" + host && origin != "https://" + host)
                  return json_error(403, "cross-site sign-in refused");
                auto f = fields(call.request);
                auto r = login(call.db, clock, options.auth, field(f, "name"), field(f, "password"),
                               call.request.remote);
                const bool html =
                    call.request.header("content-type").find("json") == std::string::npos;
                if (!r.ok()) return error_response(call, r.error());
                if (r->throttled)
                  return html ? Response::redirect("/login?throttled=1")
                              : json_error(429, "too many failed sign-ins; wait 15 minutes");
                if (!r->ok)
                  return html ? Response::redirect("/login?failed=1")
                              : json_error(401, "wrong name or password");
                std::string home = r->user.role == store::Role::client
                                       ? "/c/" + r->user.client + "/digest"
                                       : "/queue";
                Response res = html ? Response::redirect(home)
                                    : Response::json(200, dump(json{{"ok", true}, {"home", home}}));
                res.set("Set-Cookie", r->cookie);
                return res;
              },
              "sign in with name and password; sets the session cookie"});

  // --- signed in ---
  router.add({"GET", "/", signed_in,
              [](Call& call) {
                if (call.access.user.role == store::Role::client)
                  return Response::redirect("/c/" + call.access.user.client + "/digest");
                return Response::redirect("/queue");
              },
              "home: the queue, or a client's digest"});
  router.add({"POST", "/logout", signed_in,
              [this](Call& call) {
                auto c = logout(call.db, call.access, options.auth);
                if (!c.ok()) return error_response(call, c.error());
                Response r = Response::redirect("/login");
                r.set("Set-Cookie", *c);
                return r;
              },
              "sign out"});
  router.add({"GET", "/api/me", signed_in, api([this](Call& call) -> Result<json> {
                SK_ASSIGN(auto base, page_base(call, ""));
                base.erase("title");
                return base;
              }),
              "who is signed in, and the clients they may see"});
  router.add(
      {"GET", "/events", signed_in,
       [this](Call& call) {
         Response r;
         r.set("Content-Type", "text/event-stream");
         r.set("Cache-Control", "no-store");
         std::vector<ClientId> clients = call.access.clients;
         r.stream = [this, clients](const StreamWriter& write) {
           if (!write("retry: 2000\n\n")) return;
           std::int64_t seen = -1;
           int idle = 0;
           while (!(stopping && *stopping)) {
             std::int64_t mark = seen;
             {
               auto l = lease();
               if (l.ok()) {
                 auto w = store::revision(*l->ws->db, clients);
                 if (w.ok()) mark = *w;
               }
             }
             if (mark != seen) {
               if (!write("event: changed\ndata: {\"revision\":" + std::to_string(mark) + "}\n\n"))
                 return;
               seen = mark;
               idle = 0;
             } else if (++idle * options.events_poll_ms >= 15000) {
               if (!write(": ping\n\n")) return;
               idle = 0;
             } else if (!write("")) {
               return;
             }
             std::this_thread::sleep_for(std::chrono::milliseconds(options.events_poll_ms));
           }
         };
         return r;
       },
       "server-sent events: `changed` whenever a decision or a draft of a visible client changes"});

  // --- the VA's queue ---
  router.add({"GET", "/queue", staff,
              page("queue", "Queue", [this](Call& c) { return queue_page(c); }),
              "the VA's queue page (`?client=SLUG`: one client's)"});
  router.add({"GET", "/queue/rows", staff,
              [this](Call& call) {
                auto clients = queue_clients(call);
                if (!clients.ok()) return error_response(call, clients.error());
                auto q = queue_snapshot(call, *clients);
                if (!q.ok()) return error_response(call, q.error());
                return Response::html(200, (*q)->rows_html);
              },
              "the queue's rows (htmx fragment)"});
  router.add({"GET", "/api/queue", staff,
              [this](Call& call) {
                auto clients = queue_clients(call);
                if (!clients.ok()) return error_response(call, clients.error());
                auto q = queue_snapshot(call, *clients);
                if (!q.ok()) return error_response(call, q.error());
                return Response::json(200, (*q)->json);
              },
              "items waiting for a person across the caller's clients (`?client=SLUG`: one "
              "client's), most urgent first"});
  router.add({"GET", "/api/clients", signed_in, api([this](Call& call) -> Result<json> {
                SK_ASSIGN(auto base, page_base(call, ""));
                return json{{"clients", base["clients"]}};
              }),
              "the clients the caller may see"});

  // --- items ---
  router.add(
      {"GET", "/c/{client}/items/{item}", staff,
       [item_page = page("item", "Item", [this](Call& c) { return item_json(c); })](Call& call) {
         Response r = item_page(call);
         if (shows_images(call)) r.set("Content-Security-Policy", kCspWithImages);
         return r;
       },
       "an item (`?images=shown` loads the message's remote images)"});
  router.add({"GET", "/api/clients/{client}/items/{item}", staff,
              api([this](Call& c) { return item_json(c); }),
              "an item: message, sanitized HTML, decision and its history (`?images=shown` keeps "
              "the message's remote images)"});
  router.add({"POST", "/api/clients/{client}/items/{item}/confirm", staff,
              [this](Call& call) {
                auto f = fields(call.request);
                auto d = call.engine.confirm(call.client(), call.param("item"), call.actor(),
                                             field(f, "why"));
                if (!d.ok()) return error_response(call, d.error());
                return action_done(call, "confirmed: " + std::string(label(d->disposition)),
                                   call.param("item"));
              },
              "approve the decision as it stands"});
  router.add({"POST", "/api/clients/{client}/items/{item}/correct", staff,
              [this](Call& call) {
                auto f = fields(call.request);
                auto cat = category_from(field(f, "category"));
                if (!cat) return json_error(400, "unknown category '" + field(f, "category") + "'");
                std::optional<Disposition> disp;
                if (!field(f, "disposition").empty()) {
                  disp = disposition_from(field(f, "disposition"));
                  if (!disp)
                    return json_error(400, "unknown disposition '" + field(f, "disposition") + "'");
                }
                auto d = call.engine.teach(call.client(), call.param("item"), *cat, disp,
                                           call.actor(), field(f, "why"));
                if (!d.ok()) return error_response(call, d.error());
                return action_done(call,
                                   "corrected to " + std::string(label(d->category)) + ", " +
                                       std::string(label(d->disposition)),
                                   call.param("item"));
              },
              "correct the decision (teaches the engine)"});
  router.add({"POST", "/api/clients/{client}/items/{item}/let-in", signed_in,
              [this](Call& call) {
                auto f = fields(call.request);
                auto d = call.engine.let_in(call.client(), call.param("item"), call.actor(),
                                            field(f, "why"));
                if (!d.ok()) return error_response(call, d.error());
                return action_done(call, "let through: the sender now reaches the client",
                                   call.param("item"));
              },
              "let the item's sender through the screener"});

  router.add({"POST", "/api/clients/{client}/effects/retry", staff,
              [this](Call& call) {
                auto n = store::retry_stuck_effects(call.db, call.client(), clock.now());
                if (!n.ok()) return error_response(call, n.error());
                auto a = store::append_audit(call.db, call.client(), clock.now(), call.actor(),
                                             "tried again", std::to_string(*n) + " changes",
                                             "the mailbox changes that kept failing");
                if (!a.ok()) return error_response(call, a.error());
                return changed(call,
                               std::to_string(*n) + " to try again at the mailbox's next round", "",
                               json{{"retried", *n}});
              },
              "try the client's mailbox changes that keep failing again at the next round"});

  add_policy_routes(staff);
  add_support_routes(router, frame);
  add_screened_routes(router, frame);
  add_routines_routes(router, frame);
  add_tasks_routes(router, frame);
  add_bookings_routes(router, frame, {options.booking_link_key, options.booking_base_url});

  // --- drafts ---
  router.add({"GET", "/c/{client}/drafts/{draft}", staff,
              page("draft", "Draft", [this](Call& c) { return draft_json(c); }),
              "a draft reply, to approve, edit or discard"});
  router.add({"GET", "/api/clients/{client}/drafts/{draft}", staff,
              api([this](Call& c) { return draft_json(c); }),
              "a draft (or sent) message and the item it answers"});
  router.add({"POST", "/api/clients/{client}/drafts/{draft}/approve", staff,
              [this](Call& call) {
                auto f = fields(call.request);
                auto current = store::get_outgoing(call.db, call.client(), call.param("draft"));
                if (!current.ok()) return error_response(call, current.error());
                std::optional<std::string> edited;
                auto body = f.find("body");
                if (body != f.end()) {
                  std::string text = unix_lines(body->second);
                  if (text != current->body) edited = text;
                }
                auto m = call.engine.approve_draft(call.client(), call.param("draft"), edited,
                                                   call.actor());
                if (!m.ok()) return error_response(call, m.error());
                const bool again = current->status == store::OutgoingStatus::failed;
                return action_done(
                    call,
                    std::string(again    ? (edited ? "sent again with your edits" : "sent again")
                                : edited ? "approved with your edits"
                                         : "approved") +
                        ": queued to send to " + (m->to.empty() ? std::string("?") : m->to.front()),
                    call.param("draft"));
              },
              "approve a draft, or send mail that failed again (with an edited `body` if given): "
              "it is queued to send"});
  router.add({"POST", "/api/clients/{client}/drafts/{draft}/discard", staff,
              [this](Call& call) {
                auto f = fields(call.request);
                auto r =
                    engine::discard_outgoing(call.db, clock, call.client(), call.param("draft"),
                                             call.actor(), field(f, "why"));
                if (!r.ok()) return error_response(call, r.error());
                return action_done(call, "discarded", call.param("draft"));
              },
              "throw a draft away"});

  // --- a client's pages ---
  router.add({"GET", "/c/{client}/digest", signed_in,
              page("digest", "Digest", [this](Call& c) { return digest_json(c); }),
              "the client's digest: today in their zone, or `?day=YYYY-MM-DD`"});
  router.add({"GET", "/api/clients/{client}/digest", signed_in,
              api([this](Call& c) { return digest_json(c); }),
              "a day for the client: what needs them, what was handled, counts by category"});
  auto contacts = [this](Call& call) -> Result<json> {
    SK_ASSIGN(auto parties, store::list_parties(call.db, call.client()));
    SK_ASSIGN(auto c, client_record(call.db, call.client()));
    json a = json::array();
    for (const auto& p : parties)
      a.push_back({{"id", p.id},
                   {"name", p.name},
                   {"relationship", to_string(p.relationship)},
                   {"identities", p.identities},
                   {"let_in", p.let_in}});
    json rels = json::array();
    for (auto r : {Relationship::vip, Relationship::family, Relationship::team,
                   Relationship::customer, Relationship::vendor, Relationship::blocked,
                   Relationship::protected_from, Relationship::unknown})
      rels.push_back({{"value", to_string(r)}});
    return json{{"client", call.client()},
                {"client_name", c.name},
                {"parties", a},
                {"relationships", rels}};
  };
  // Finding "that mail from Bob last week": every word somewhere in the sender, subject or text.
  auto search = [this](Call& call) -> Result<json> {
    SK_ASSIGN(auto c, client_record(call.db, call.client()));
    auto q_it = call.request.query.find("q");
    const std::string q = q_it == call.request.query.end() ? "" : trim(q_it->second);
    constexpr int kShown = 100;
    json results = json::array();
    if (!q.empty()) {
      SK_ASSIGN(auto rows, store::search_items(call.db, call.client(), split(q, " \t"), kShown));
      for (const auto& r : rows)
        results.push_back({{"item", r.item},
                           {"from", r.from},
                           {"from_name", r.from_name},
                           {"subject", r.subject.empty() ? "(no subject)" : r.subject},
                           {"received_at", format_utc(r.received_at)},
                           {"decision", decision_json(r.decision)},
                           {"url", "/c/" + call.client() + "/items/" + r.item}});
    }
    return json{
        {"client", call.client()}, {"client_name", c.name},   {"q", q},
        {"has_q", !q.empty()},     {"count", results.size()}, {"capped", results.size() == kShown},
        {"results", results}};
  };
  router.add({"GET", "/c/{client}/search", staff, page("search", "Search", search),
              "find a client's mail by sender, subject or words (`?q=`)"});
  router.add({"GET", "/api/clients/{client}/search", staff, api(search),
              "a client's decided items with every word of `q` in the sender, subject or text, "
              "newest first (at most 100)"});
  router.add({"GET", "/c/{client}/contacts", staff, page("contacts", "Contacts", contacts),
              "contacts and relationships"});
  router.add({"GET", "/api/clients/{client}/parties", staff, api(contacts),
              "contacts with a relationship"});
  router.add({"POST", "/api/clients/{client}/parties", staff,
              [this](Call& call) {
                auto f = fields(call.request);
                auto rel = relationship_from(field(f, "relationship"));
                if (!rel)
                  return json_error(400, "unknown relationship '" + field(f, "relationship") + "'");
                auto identity = engine::identity_of(call.db, call.client(), field(f, "address"));
                if (!identity.ok()) return error_response(call, identity.error());
                const std::string& address = *identity;
                auto p = store::set_relationship(call.db, call.ids, clock, call.client(), address,
                                                 *rel, field(f, "name"));
                if (!p.ok()) return error_response(call, p.error());
                auto a = store::append_audit(
                    call.db, call.client(), clock.now(), call.actor(), "relationship set",
                    address + " is " + std::string(to_string(*rel)), field(f, "why"));
                if (!a.ok()) return error_response(call, a.error());
                std::string msg = address + " is now " + std::string(to_string(*rel));
                if (!call.request.header("hx-request").empty()) {
                  Response r =
                      Response::html(200, "<p class=\"done\">" + html_escape(msg) + "</p>");
                  r.set("HX-Trigger", "queue-changed");
                  return r;
                }
                return Response::json(200, dump(json{{"ok", true}, {"message", msg}}));
              },
              "set a sender's relationship"});
  auto audit = [this](Call& call) -> Result<json> {
    SK_ASSIGN(auto entries, store::list_audit(call.db, call.client(), 200));
    SK_ASSIGN(auto c, client_record(call.db, call.client()));
    json a = json::array();
    for (const auto& e : entries)
      a.push_back({{"seq", e.seq},
                   {"at", format_utc(e.at)},
                   {"actor", e.actor},
                   {"action", e.action},
                   {"subject", e.subject},
                   {"reason", e.reason}});
    return json{{"client", call.client()}, {"client_name", c.name}, {"entries", a}};
  };
  router.add(
      {"GET", "/c/{client}/audit", signed_in, page("audit", "Audit log", audit), "the audit log"});
  router.add({"GET", "/api/clients/{client}/audit", signed_in, api(audit),
              "what was done on the client's behalf, newest first"});

  // --- admin ---
  auto admin = [this](Call& call) -> Result<json> {
    SK_ASSIGN(auto clients, store::list_clients(call.db));
    SK_ASSIGN(auto users, store::list_users(call.db));
    // The agency's load: what waits for a person, per client and per VA, and since when.
    SK_ASSIGN(auto queue, queue_snapshot(call, call.access.clients));
    const Timestamp now = call.clock.now();
    auto load = [&](const std::vector<ClientId>& of) {
      std::size_t waiting = 0;
      std::optional<Timestamp> oldest;
      for (const auto& c : of) {
        auto n = queue->per_client.find(c);
        if (n != queue->per_client.end()) waiting += n->second;
        auto o = queue->oldest.find(c);
        if (o != queue->oldest.end() && (!oldest || o->second < *oldest)) oldest = o->second;
      }
      return json{{"waiting", waiting},
                  {"has_oldest", oldest.has_value()},
                  {"oldest_wait", oldest ? support::describe_wait(now - *oldest) : ""}};
    };
    json cs = json::array(), us = json::array();
    for (const auto& c : clients) {
      SK_ASSIGN(auto n, store::count_items(call.db, c.id));
      json row{{"id", c.id}, {"slug", c.slug}, {"name", c.name}, {"items", n}};
      row.update(load({c.id}));
      cs.push_back(std::move(row));
    }
    for (const auto& u : users) {
      SK_ASSIGN(auto mine, store::clients_of_user(call.db, u));
      json row{{"id", u.id},
               {"name", u.name},
               {"role", store::to_string(u.role)},
               {"clients", mine},
               {"is_va", u.role == store::Role::va}};
      if (u.role == store::Role::va) row.update(load(mine));
      us.push_back(std::move(row));
    }
    SK_ASSIGN(auto tokens, store::list_api_tokens(call.db));
    json ts = json::array();
    for (const auto& t : tokens) {
      std::string owner = t.user_id;
      for (const auto& u : users)
        if (u.id == t.user_id) owner = u.name;
      ts.push_back({{"id", t.id},
                    {"name", t.name.empty() ? "(unnamed)" : t.name},
                    {"user", owner},
                    {"created_at", format_utc(t.created_at)}});
    }
    // Every watched mailbox and whether it can be read: the agency's first look at 3 a.m.
    std::vector<ClientId> ids;
    std::map<ClientId, std::string> slugs;
    for (const auto& c : clients) {
      ids.push_back(c.id);
      slugs[c.id] = c.slug;
    }
    SK_ASSIGN(auto health, store::account_health(call.db, ids));
    json ms = json::array();
    for (const auto& h : health)
      ms.push_back({{"account", h.account},
                    {"client", slugs[h.client]},
                    {"address", h.address},
                    {"failing", h.reach.failing()},
                    {"state", h.reach.state(store::AccountHealth::kWords)},
                    {"last_ok_at", h.reach.last_ok_at ? format_utc(h.reach.last_ok_at) : ""},
                    {"failures", h.reach.failures},
                    {"error", h.reach.last_error}});
    SK_ASSIGN(auto line_health, store::phone_line_health(call.db, ids));
    json ls = json::array();
    for (const auto& h : line_health)
      ls.push_back({{"client", slugs[h.line.client]},
                    {"number", phone::for_display(h.line.number)},
                    {"refused", h.reach.failing()},
                    {"state", h.reach.state(store::PhoneLineHealth::kWords)},
                    {"error", h.reach.last_error}});
    const bool has_lines = !ls.empty();
    // A day and a bit without one is a night missed.
    const BackupStatus b = options.backup_status ? options.backup_status() : BackupStatus{};
    const bool stale = b.last.empty() || now - b.last_at > 26 * 3600;
    json backups{{"scheduled", !b.dir.empty()},
                 {"dir", b.dir},
                 {"last", b.last},
                 {"last_at", b.last_at ? format_utc(b.last_at) : ""},
                 {"has_last", !b.last.empty()},
                 {"failure", b.failure},
                 {"failing", !b.dir.empty() && (stale || !b.failure.empty())}};
    return json{{"clients", cs},     {"users", us},       {"tokens", ts},
                {"mailboxes", ms},   {"phone_lines", ls}, {"has_phone_lines", has_lines},
                {"backups", backups}};
  };
  router.add(
      {"GET", "/admin", admins, page("admin", "Agency", admin), "clients, users and assignments"});
  router.add({"GET", "/api/admin", admins, api(admin), "clients, users and assignments"});
  // What was done across the agency, newest first: what happened tonight, in one place.
  auto agency_audit = [](Call& call) -> Result<json> {
    constexpr int kShown = 200;
    SK_ASSIGN(auto clients, store::list_clients(call.db));
    struct Entry {
      store::AuditEntry e;
      const store::ClientRecord* client;
    };
    std::vector<Entry> all;
    for (const auto& c : clients) {
      SK_ASSIGN(auto entries, store::list_audit(call.db, c.id, kShown));
      for (auto& e : entries) all.push_back({std::move(e), &c});
    }
    std::stable_sort(all.begin(), all.end(), [](const Entry& a, const Entry& b) {
      return a.e.at != b.e.at ? a.e.at > b.e.at : a.e.seq > b.e.seq;
    });
    if (all.size() > kShown) all.resize(kShown);
    json a = json::array();
    for (const auto& [e, c] : all)
      a.push_back({{"client", c->slug},
                   {"client_id", c->id},
                   {"client_name", c->name},
                   {"at", format_utc(e.at)},
                   {"actor", e.actor},
                   {"action", e.action},
                   {"subject", e.subject},
                   {"reason", e.reason}});
    return json{{"entries", a}};
  };
  router.add({"GET", "/admin/audit", admins, page("agency_audit", "Agency audit", agency_audit),
              "the audit log of every client, newest first"});
  router.add({"GET", "/api/admin/audit", admins, api(agency_audit),
              "the newest 200 audit entries across every client, newest first"});
  router.add({"POST", "/api/admin/assignments", admins,
              [](Call& call) {
                auto f = fields(call.request);
                auto u = store::find_user(call.db, field(f, "user"));
                if (!u.ok()) return error_response(call, u.error());
                auto c = store::find_client(call.db, field(f, "client"));
                if (!c.ok()) return error_response(call, c.error());
                if (u->role != store::Role::va)
                  return json_error(400, "only VAs are assigned to clients");
                auto r = field(f, "remove") == "1" ? store::unassign(call.db, u->id, c->id)
                                                   : store::assign(call.db, u->id, c->id);
                if (!r.ok()) return error_response(call, r.error());
                auto a = store::append_audit(call.db, c->id, call.clock.now(), call.actor(),
                                             field(f, "remove") == "1" ? "unassigned" : "assigned",
                                             u->name, "");
                if (!a.ok()) return error_response(call, a.error());
                if (!call.request.header("hx-request").empty()) {
                  Response res = Response::html(200, "<p class=\"done\">saved</p>");
                  res.set("HX-Refresh", "true");
                  return res;
                }
                return Response::json(200, dump(json{{"ok", true}}));
              },
              "assign a VA to a client (or remove with remove=1)"});
  // A password is shown once, in the admin's answer, and never stored in clear.
  auto password_answer = [](Call& call, int status, const std::string& user,
                            const std::string& password, const std::string& what) {
    if (!call.request.header("hx-request").empty()) {
      Response res =
          Response::html(status, "<p class=\"done\">" + html_escape(what) + ": password for <b>" +
                                     html_escape(user) + "</b> is <code class=\"password\">" +
                                     html_escape(password) + "</code> (shown once)</p>");
      return res;
    }
    return Response::json(status, dump(json{{"user", user}, {"password", password}}));
  };
  auto audit_user = [](Call& call, const store::UserRecord& u, const std::string& action,
                       const std::string& why) {
    return audit_user_change(call.db, call.clock, call.actor(), u, action, why);
  };
  router.add({"POST", "/api/admin/users", admins,
              [password_answer, audit_user](Call& call) {
                auto f = fields(call.request);
                auto role = store::role_from(field(f, "role"));
                if (!role) return json_error(400, "role must be admin, va or client");
                ClientId client;
                if (*role == store::Role::client) {
                  auto c = store::find_client(call.db, field(f, "client"));
                  if (!c.ok()) return error_response(call, c.error());
                  client = c->id;
                }
                std::string password = random_token().substr(0, 16);
                auto hash = hash_password(password);
                if (!hash.ok()) return error_response(call, hash.error());
                auto u = store::create_user(call.db, call.ids, call.clock, field(f, "name"), *role,
                                            client, *hash);
                if (!u.ok()) return error_response(call, u.error());
                auto a = audit_user(call, *u, "user added", "role " + field(f, "role"));
                if (!a.ok()) return error_response(call, a.error());
                return password_answer(call, 201, u->name, password, "added");
              },
              "add a user (name, role, and client for a client user); the password is in the "
              "answer, once"});
  router.add({"POST", "/api/admin/users/{user}/password", admins,
              [password_answer, audit_user](Call& call) {
                auto u = store::find_user(call.db, call.param("user"));
                if (!u.ok()) return error_response(call, u.error());
                auto password = reset_password(call.db, *u);
                if (!password.ok()) return error_response(call, password.error());
                auto a = audit_user(call, *u, "password reset", "signed out everywhere");
                if (!a.ok()) return error_response(call, a.error());
                return password_answer(call, 200, u->name, *password, "reset");
              },
              "a new password for a user, in the answer once; their sessions end"});
  router.add({"POST", "/api/admin/tokens/{token}/revoke", admins,
              [audit_user](Call& call) {
                auto tokens = store::list_api_tokens(call.db);
                if (!tokens.ok()) return error_response(call, tokens.error());
                auto t = std::find_if(tokens->begin(), tokens->end(),
                                      [&](const auto& t) { return t.id == call.param("token"); });
                if (t == tokens->end()) return json_error(404, "no token " + call.param("token"));
                auto r = store::revoke_api_token(call.db, t->id);
                if (!r.ok()) return error_response(call, r.error());
                auto u = store::find_user(call.db, t->user_id);
                if (u.ok()) {
                  auto a = audit_user(call, *u, "token revoked", t->name);
                  if (!a.ok()) return error_response(call, a.error());
                }
                if (!call.request.header("hx-request").empty()) {
                  Response res = Response::html(200, "<p class=\"done\">revoked</p>");
                  res.set("HX-Refresh", "true");
                  return res;
                }
                return Response::json(200, dump(json{{"ok", true}, {"revoked", t->id}}));
              },
              "revoke an API token: it stops working at once"});
}

Result<json> Console::Impl::policy_json(Call& call) {
  // Read fresh, not from the cache: this page changes the policy.
  SK_ASSIGN(auto c, store::find_client(call.db, call.client()));
  SK_ASSIGN(auto policy, engine::policy_from_json(c.policy_json));
  json dels = json::array();
  for (int i = 0; i < kCategoryCount; ++i) {
    json levels = json::array();
    for (auto d : {Delegation::auto_, Delegation::draft, Delegation::notify, Delegation::silent})
      levels.push_back({{"value", to_string(d)}, {"selected", policy.delegation[i] == d}});
    dels.push_back({{"category", to_string(static_cast<Category>(i))},
                    {"label", label(static_cast<Category>(i))},
                    {"levels", levels}});
  }
  SK_ASSIGN(auto templates, store::list_templates(call.db, call.client()));
  json ts = json::array();
  std::vector<std::string> template_names;
  for (const auto& t : templates) {
    ts.push_back({{"name", t.name}, {"subject", t.subject}, {"body", t.body}});
    template_names.push_back(t.name);
  }
  SK_ASSIGN(auto rules, store::load_rules(call.db, call.client()));
  json rs = json::array();
  for (std::size_t i = 0; i < rules.size(); ++i) {
    auto r = engine::rule_from_json(rules[i]);
    json form = r.ok() ? rule_form(&*r, template_names) : json();
    if (r.ok()) {
      form["index"] = i;
      form["key"] = std::to_string(i);
    }
    rs.push_back({{"index", i},
                  {"number", i + 1},
                  {"name", r.ok() ? r->name : "(unreadable)"},
                  {"enabled", r.ok() && r->enabled},
                  {"json", rules[i]},
                  {"form", form},
                  {"first", i == 0},
                  {"up", i == 0 ? 0 : i - 1},
                  {"last", i + 1 == rules.size()}});
  }
  json new_rule = rule_form(nullptr, template_names);
  new_rule["key"] = "new";
  return json{{"client", call.client()}, {"client_name", c.name}, {"screener", policy.screener},
              {"delegation", dels},      {"rules", rs},           {"new_rule", new_rule},
              {"templates", ts}};
}

namespace {

// A rule sent as the policy page's form, or as JSON in `rule`.
Result<triage::Rule> rule_of(const std::map<std::string, std::string>& f) {
  if (!is_rule_form(f)) return engine::rule_from_json(field(f, "rule"));
  SK_ASSIGN(auto text, rule_json_from_form(f));
  return engine::rule_from_json(text);
}

}  // namespace

void Console::Impl::add_policy_routes(const Roles& staff) {
  // A rule or a template changed: the page shows the lists again, in their new order; a
  // delegation level is shown by its own select already.
  auto done = [](Call& call, const std::string& message) {
    return changed(call, message, "reload");
  };
  router.add({"GET", "/c/{client}/policy", staff,
              [this](Call& call) {
                auto data = policy_json(call);
                if (!data.ok()) return error_response(call, data.error());
                auto base = page_base(call, "Policy");
                if (!base.ok()) return error_response(call, base.error());
                json d = *base;
                d["page"] = *data;
                return Response::html(200, render_page("policy", d));
              },
              "delegation levels, rules and templates"});
  router.add({"GET", "/api/clients/{client}/policy", staff,
              [this](Call& call) {
                auto data = policy_json(call);
                if (!data.ok()) return error_response(call, data.error());
                return Response::json(200, dump(*data));
              },
              "delegation per category, the rules in order, the templates"});
  router.add(
      {"POST", "/api/clients/{client}/delegation", staff,
       [this](Call& call) {
         auto f = fields(call.request);
         auto cat = category_from(field(f, "category"));
         auto level = delegation_from(field(f, "level"));
         if (!cat || !level)
           return json_error(400, "give a category and a level (auto, draft, notify, silent)");
         auto r = call.db.transaction([&]() -> Result<void> {
           SK_ASSIGN(auto c, store::find_client(call.db, call.client()));
           SK_ASSIGN(auto policy, engine::policy_from_json(c.policy_json));
           policy.delegation[static_cast<int>(*cat)] = *level;
           SK_TRY(store::set_client_policy(call.db, c.id, engine::policy_to_json(policy)));
           return store::append_audit(
               call.db, c.id, clock.now(), call.actor(), "policy changed", c.slug,
               std::string(to_string(*cat)) + "=" + std::string(to_string(*level)));
         });
         if (!r.ok()) return error_response(call, r.error());
         return changed(call, std::string(label(*cat)) + ": " + std::string(to_string(*level)));
       },
       "set the delegation level of one category"});
  router.add({"POST", "/api/clients/{client}/rules/move", staff,
              [this, done](Call& call) {
                auto f = fields(call.request);
                int from = -1, to = -1;
                try {
                  from = std::stoi(field(f, "from"));
                  to = std::stoi(field(f, "to"));
                } catch (const std::exception&) {
                  return json_error(400, "give `from` and `to` as rule positions (0-based)");
                }
                auto r = call.db.transaction([&]() -> Result<void> {
                  SK_ASSIGN(auto rules, store::load_rules(call.db, call.client()));
                  const int n = static_cast<int>(rules.size());
                  if (from < 0 || from >= n || to < 0 || to >= n)
                    return make_error(Errc::invalid_input, "no rule at that position");
                  std::string moved = rules[static_cast<std::size_t>(from)];
                  rules.erase(rules.begin() + from);
                  rules.insert(rules.begin() + to, moved);
                  SK_TRY(store::replace_rules(call.db, call.client(), rules));
                  auto rule = engine::rule_from_json(moved);
                  return store::append_audit(
                      call.db, call.client(), clock.now(), call.actor(), "rule moved",
                      rule.ok() ? rule->name : moved,
                      "from " + std::to_string(from + 1) + " to " + std::to_string(to + 1));
                });
                if (!r.ok()) return error_response(call, r.error());
                return done(call, "moved rule " + std::to_string(from + 1) + " to " +
                                      std::to_string(to + 1));
              },
              "reorder the rules: the first that decides wins"});
  router.add(
      {"POST", "/api/clients/{client}/rules/test", staff,
       [this](Call& call) {
         auto rule = rule_of(fields(call.request));
         if (!rule.ok()) return json_error(400, "the rule is not valid: " + rule.error().message);
         auto policy = call.engine.load_policy(call.client());
         if (!policy.ok()) return error_response(call, policy.error());
         auto rows = store::list_decisions(call.db, call.client());
         if (!rows.ok()) return error_response(call, rows.error());
         // Hours are read on the client's clock as it was when each item came (load_policy's
         // offset is today's: half the year an hour off across daylight saving).
         auto record = client_record(call.db, call.client());
         if (!record.ok()) return error_response(call, record.error());
         std::optional<calendar::Zone> zone;
         if (!record->timezone.empty() && record->timezone != "UTC") {
           auto z = calendar::Zone::find(record->timezone);
           if (!z.ok()) return error_response(call, z.error());
           zone = std::move(*z);
         }
         json matches = json::array();
         int tested = 0;
         // The newest 200 items, as triage saw them (its category and spam score).
         for (auto it = rows->rbegin(); it != rows->rend() && tested < 200; ++it, ++tested) {
           auto stored = store::get_item(call.db, call.client(), it->item);
           if (!stored.ok()) continue;
           auto party = store::find_party(call.db, call.client(), stored->item.from_address);
           Party p = party.ok() && *party ? **party : Party{};
           const Timestamp at = stored->item.received_at;
           Timestamp local = at + (zone ? zone->offset_at(at) : policy->utc_offset_minutes * 60);
           int hour = static_cast<int>(((local % 86400) + 86400) % 86400 / 3600);
           int weekday = static_cast<int>(((local / 86400 + 4) % 7 + 7) % 7);
           triage::RuleContext ctx{
               stored->item, p, it->decision.category, it->decision.spam_score, hour, weekday};
           std::string why;
           if (triage::rule_matches(*rule, ctx, &why))
             matches.push_back(
                 {{"item", it->item}, {"from", it->from}, {"subject", it->subject}, {"why", why}});
         }
         json j{{"tested", tested}, {"matched", matches.size()}, {"matches", matches}};
         if (!call.request.header("hx-request").empty())
           return Response::html(200, render_fragment("rule_test", json{{"page", j}}));
         return Response::json(200, dump(j));
       },
       "test a rule (JSON) against the newest 200 items, changing nothing"});
  router.add(
      {"POST", "/api/clients/{client}/rules/save", staff,
       [this, done](Call& call) {
         auto f = fields(call.request);
         auto rule = rule_of(f);
         if (!rule.ok()) return json_error(400, "the rule is not valid: " + rule.error().message);
         int index = -1;
         if (!field(f, "index").empty()) {
           try {
             index = std::stoi(field(f, "index"));
           } catch (const std::exception&) {
             return json_error(400, "`index` is a rule position (0-based), or absent to add");
           }
         }
         auto r = call.db.transaction([&]() -> Result<void> {
           SK_ASSIGN(auto rules, store::load_rules(call.db, call.client()));
           std::string text = engine::rule_to_json(*rule);
           if (index < 0) {
             rules.push_back(text);
           } else if (index < static_cast<int>(rules.size())) {
             rules[static_cast<std::size_t>(index)] = text;
           } else {
             return make_error(Errc::invalid_input, "no rule at that position");
           }
           SK_TRY(store::replace_rules(call.db, call.client(), rules));
           return store::append_audit(call.db, call.client(), clock.now(), call.actor(),
                                      index < 0 ? "rule added" : "rule changed", rule->name, "");
         });
         if (!r.ok()) return error_response(call, r.error());
         return done(call, "saved rule '" + rule->name + "'");
       },
       "add a rule (no index) or replace the rule at `index`"});
  router.add({"POST", "/api/clients/{client}/templates", staff,
              [this, done](Call& call) {
                auto f = fields(call.request);
                store::Template t{field(f, "name"), field(f, "subject"), field(f, "body")};
                if (t.name.empty() || t.body.empty())
                  return json_error(400, "a template needs a name and a body");
                auto r = call.db.transaction([&]() -> Result<void> {
                  SK_TRY(store::set_template(call.db, call.client(), t));
                  return store::append_audit(call.db, call.client(), clock.now(), call.actor(),
                                             "template saved", t.name, "");
                });
                if (!r.ok()) return error_response(call, r.error());
                return done(call, "saved template '" + t.name + "'");
              },
              "add or replace a reply template"});
  router.add({"POST", "/api/clients/{client}/rules/delete", staff,
              [this, done](Call& call) {
                auto f = fields(call.request);
                int index = -1;
                try {
                  index = std::stoi(field(f, "index"));
                } catch (const std::exception&) {
                  return json_error(400, "give `index`, the rule's position (0-based)");
                }
                std::string name;
                auto r = call.db.transaction([&]() -> Result<void> {
                  SK_ASSIGN(auto rules, store::load_rules(call.db, call.client()));
                  if (index < 0 || index >= static_cast<int>(rules.size()))
                    return make_error(Errc::invalid_input, "no rule at that position");
                  auto rule = engine::rule_from_json(rules[static_cast<std::size_t>(index)]);
                  name = rule.ok() ? rule->name : "rule " + std::to_string(index + 1);
                  rules.erase(rules.begin() + index);
                  SK_TRY(store::replace_rules(call.db, call.client(), rules));
                  return store::append_audit(call.db, call.client(), clock.now(), call.actor(),
                                             "rule deleted", name, field(f, "why"));
                });
                if (!r.ok()) return error_response(call, r.error());
                return done(call, "deleted rule '" + name + "'");
              },
              "delete the rule at `index`"});
  router.add({"POST", "/api/clients/{client}/templates/delete", staff,
              [this, done](Call& call) {
                auto f = fields(call.request);
                const std::string name = field(f, "name");
                bool gone = false;
                auto r = call.db.transaction([&]() -> Result<void> {
                  SK_ASSIGN(gone, store::delete_template(call.db, call.client(), name));
                  if (!gone) return ok();
                  return store::append_audit(call.db, call.client(), clock.now(), call.actor(),
                                             "template deleted", name, field(f, "why"));
                });
                if (!r.ok()) return error_response(call, r.error());
                if (!gone) return json_error(404, "no template '" + name + "'");
                return done(call, "deleted template '" + name + "'");
              },
              "delete a reply template (a built-in one answers again)"});
}

Console::Console(OpenDb open_db, const Clock& clock, const triage::SpamModel& model,
                 ConsoleOptions options)
    : impl_(std::make_unique<Impl>(std::move(open_db), clock, model, options)) {
  impl_->add_routes();
}

Console::~Console() = default;

Router& Console::router() {
  return impl_->router;
}

Response Console::handle(const Request& req) {
  return impl_->handle(req);
}

void Console::set_stopping(const std::atomic<bool>* stopping) {
  impl_->stopping = stopping;
}

}  // namespace sk::web
