#include "web/support_pages.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "engine/replies.hpp"
#include "engine/support.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "support/answer.hpp"
#include "support/kb.hpp"
#include "support/repo.hpp"
#include "support/text.hpp"
#include "web/render.hpp"
#include "web/respond.hpp"

namespace sk::web {
namespace {

using nlohmann::json;

std::string pct(double p) {
  return std::to_string(static_cast<int>(p * 100 + 0.5)) + "%";
}

// What a call sends: form fields, or a JSON object whose lists may be arrays and whose
// `private` may be a boolean.
class Input {
 public:
  explicit Input(const Request& req) : fields_(fields(req)) {
    if (req.header("content-type").find("application/json") != std::string::npos) {
      json j = json::parse(req.body, nullptr, false);
      if (j.is_object()) json_ = std::move(j);
    }
  }
  bool has(const std::string& k) const {
    return fields_.count(k) > 0 || (json_.is_object() && json_.contains(k));
  }
  std::string str(const std::string& k) const { return field(fields_, k); }
  // One a line (variants) or comma separated (tags), or a JSON array of strings.
  std::vector<std::string> list(const std::string& k, const std::string& separators) const {
    if (json_.is_object() && json_.contains(k) && json_[k].is_array()) {
      std::vector<std::string> out;
      for (const auto& v : json_[k])
        if (v.is_string() && !trim(v.get<std::string>()).empty())
          out.push_back(trim(v.get<std::string>()));
      return out;
    }
    return split(unix_lines(str(k)), separators);
  }
  std::optional<bool> boolean(const std::string& k) const {
    if (json_.is_object() && json_.contains(k) && json_[k].is_boolean())
      return json_[k].get<bool>();
    if (!fields_.count(k)) return std::nullopt;
    std::string v = lower(trim(str(k)));
    if (v == "1" || v == "true" || v == "yes" || v == "on") return true;
    if (v == "0" || v == "false" || v == "no" || v == "off" || v.empty()) return false;
    return std::nullopt;
  }

 private:
  std::map<std::string, std::string> fields_;
  json json_;
};

bool is_htmx(const Call& call) {
  return !call.request.header("hx-request").empty();
}

std::string kb_api(const ClientId& c) {
  return "/api/clients/" + c + "/kb";
}

json entry_json(const ClientId& client, const support::Entry& e) {
  std::string variants, tags;
  for (const auto& v : e.variants) variants += (variants.empty() ? "" : "\n") + v;
  for (const auto& t : e.tags) tags += (tags.empty() ? "" : ", ") + t;
  return {{"key", e.key},
          {"question", e.question},
          {"variants", e.variants},
          {"variants_text", variants},
          {"variant_count", e.variants.size()},
          {"answer", e.answer},
          {"tags", e.tags},
          {"tags_text", tags},
          {"private", e.is_private},
          {"url", "/c/" + client + "/kb/entries/" + e.key},
          {"api", kb_api(client) + "/entries/" + e.key}};
}

// Every word of the search is somewhere in the entry (key, question, variants, answer, tags).
bool entry_matches(const support::Entry& e, const std::string& query) {
  std::string hay = e.key + "\n" + e.question + "\n" + e.answer;
  for (const auto& v : e.variants) hay += "\n" + v;
  for (const auto& t : e.tags) hay += "\n" + t;
  hay = lower(hay);
  for (const auto& w : split(lower(query), " \t\n"))
    if (hay.find(w) == std::string::npos) return false;
  return true;
}

json settings_json(const support::Settings& s) {
  char t[16];
  std::snprintf(t, sizeof t, "%.2f", s.threshold);
  json tones = json::array();
  for (const char* tone : {"friendly", "formal", "brief"})
    tones.push_back({{"value", tone}, {"selected", s.tone == tone}});
  return {{"threshold", s.threshold}, {"threshold_text", t}, {"threshold_pct", pct(s.threshold)},
          {"tone", s.tone},           {"tones", tones},      {"signature", s.signature}};
}

// The fields of an entry the call sets, over `base` (a new entry starts empty).
Result<support::Entry> entry_from(const Input& in, support::Entry base,
                                  std::vector<std::string>* changed) {
  // Sets one field, noting it when the value is new.
  auto set = [&](const char* what, auto& field, auto value) {
    if (changed && value != field) changed->push_back(what);
    field = std::move(value);
  };
  if (in.has("key")) set("key", base.key, trim(in.str("key")));
  if (in.has("question")) set("question", base.question, trim(unix_lines(in.str("question"))));
  if (in.has("variants")) set("variants", base.variants, in.list("variants", "\n"));
  if (in.has("answer")) set("answer", base.answer, trim(unix_lines(in.str("answer"))));
  if (in.has("tags")) set("tags", base.tags, in.list("tags", ",|"));
  if (in.has("private")) {
    auto p = in.boolean("private");
    if (!p) return make_error(Errc::invalid_input, "`private` is yes or no");
    set("private", base.is_private, *p);
  }
  if (base.question.empty()) return make_error(Errc::invalid_input, "an entry needs a question");
  if (base.answer.empty()) return make_error(Errc::invalid_input, "an entry needs an answer");
  std::string unknown = support::unknown_placeholder(base.answer);
  if (!unknown.empty())
    return make_error(Errc::invalid_input,
                      "the answer uses " + unknown +
                          ", which is not filled in; use {{first_name}}, {{name}}, {{email}} "
                          "or {{question}}");
  return base;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// A change to the knowledge base went through: htmx shows the message (and reloads the page
// or goes elsewhere when the page no longer shows the truth), the API gets JSON.

Response bad(const Call& call, int status, const std::string& message) {
  if (call.wants_html())
    return Response::html(status, "<p class=\"error\">" + html_escape(message) + "</p>");
  return json_error(status, message);
}

std::string reason_of(const Input& in, const std::string& fallback) {
  std::string why = trim(in.str("why"));
  return why.empty() ? fallback : why;
}

// --- the knowledge base ---

Result<json> kb_json(Call& call) {
  const ClientId& client = call.client();
  SK_ASSIGN(auto c, store::find_client(call.db, client));
  SK_ASSIGN(auto entries, support::load_entries(call.db, client));
  SK_ASSIGN(auto settings, support::load_settings(call.db, client));
  auto q = call.request.query.find("q");
  std::string query = q == call.request.query.end() ? "" : trim(q->second);
  json list = json::array();
  for (const auto& e : entries)
    if (query.empty() || entry_matches(e, query)) list.push_back(entry_json(client, e));
  json s = settings_json(settings);
  return json{{"client", client},
              {"client_name", c.name},
              {"q", query},
              {"has_q", !query.empty()},
              {"total", entries.size()},
              {"shown", list.size()},
              {"entries", list},
              {"settings", s},
              {"threshold_pct", s["threshold_pct"]},
              {"threshold_text", s["threshold_text"]},
              {"tone", settings.tone},
              {"tones", s["tones"]},
              {"signature", settings.signature},
              {"can_edit", call.access.user.role != store::Role::client},
              {"api", kb_api(client)},
              {"url", "/c/" + client + "/kb"}};
}

Result<json> entry_page_json(Call& call) {
  const ClientId& client = call.client();
  SK_ASSIGN(auto c, store::find_client(call.db, client));
  SK_ASSIGN(auto entries, support::load_entries(call.db, client));
  for (const auto& e : entries)
    if (e.key == call.param("entry")) {
      json j = entry_json(client, e);
      j["client"] = client;
      j["client_name"] = c.name;
      j["can_edit"] = call.access.user.role != store::Role::client;
      j["kb_url"] = "/c/" + client + "/kb";
      return j;
    }
  return make_error(Errc::not_found,
                    "no entry '" + call.param("entry") + "' in the knowledge base");
}

Response add_entry(Call& call) {
  Input in(call.request);
  auto e = entry_from(in, {}, nullptr);
  if (!e.ok()) return error_response(call, e.error());
  auto r = call.db.transaction([&]() -> Result<void> {
    SK_ASSIGN(auto entries, support::load_entries(call.db, call.client()));
    for (const auto& x : entries)
      if (x.key == e->key)
        return make_error(Errc::conflict, "there is already an entry '" + e->key + "'");
    entries.push_back(*e);
    SK_TRY(support::validate_entries(entries, "the new entry"));
    SK_TRY(support::replace_entries(call.db, call.client(), entries));
    return store::append_audit(call.db, call.client(), call.clock.now(), call.actor(),
                               "kb entry added", e->key, reason_of(in, "added in the console"));
  });
  if (!r.ok()) return error_response(call, r.error());
  return changed(call, "added '" + e->key + "'", "reload",
                 {{"entry", entry_json(call.client(), *e)}});
}

Response update_entry(Call& call) {
  Input in(call.request);
  const std::string key = call.param("entry");
  support::Entry saved;
  std::vector<std::string> what;
  auto r = call.db.transaction([&]() -> Result<void> {
    SK_ASSIGN(auto entries, support::load_entries(call.db, call.client()));
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const support::Entry& x) { return x.key == key; });
    if (it == entries.end())
      return make_error(Errc::not_found, "no entry '" + key + "' in the knowledge base");
    SK_ASSIGN(saved, entry_from(in, *it, &what));
    if (saved.key != key)
      for (const auto& x : entries)
        if (x.key == saved.key)
          return make_error(Errc::conflict, "there is already an entry '" + saved.key + "'");
    *it = saved;
    SK_TRY(support::validate_entries(entries, "the entry"));
    if (what.empty()) return ok();
    SK_TRY(support::replace_entries(call.db, call.client(), entries));
    return store::append_audit(
        call.db, call.client(), call.clock.now(), call.actor(), "kb entry changed",
        saved.key + (saved.key != key ? " (was " + key + ")" : "") + ": " + joined(what),
        reason_of(in, "edited in the console"));
  });
  if (!r.ok()) return error_response(call, r.error());
  std::string msg =
      what.empty() ? "nothing changed" : "saved '" + saved.key + "' (" + joined(what) + ")";
  // A new key is a new address: the page goes there.
  std::string go = saved.key != key ? "/c/" + call.client() + "/kb/entries/" + saved.key : "";
  return changed(call, msg, go, {{"entry", entry_json(call.client(), saved)}, {"changed", what}});
}

Response delete_entry(Call& call) {
  Input in(call.request);
  const std::string key = call.param("entry");
  auto r = call.db.transaction([&]() -> Result<void> {
    SK_ASSIGN(auto entries, support::load_entries(call.db, call.client()));
    auto n = std::erase_if(entries, [&](const support::Entry& x) { return x.key == key; });
    if (n == 0) return make_error(Errc::not_found, "no entry '" + key + "' in the knowledge base");
    SK_TRY(support::replace_entries(call.db, call.client(), entries));
    return store::append_audit(call.db, call.client(), call.clock.now(), call.actor(),
                               "kb entry deleted", key, reason_of(in, "deleted in the console"));
  });
  if (!r.ok()) return error_response(call, r.error());
  return changed(call, "deleted '" + key + "'", "/c/" + call.client() + "/kb");
}

Response import_kb(Call& call) {
  Input in(call.request);
  std::string text = unix_lines(in.str("text"));
  std::string format = lower(trim(in.str("format")));
  const std::string type = call.request.header("content-type");
  // The file itself as the body: its type says the format.
  if (!in.has("text") && type.find("json") == std::string::npos &&
      type.find("x-www-form-urlencoded") == std::string::npos) {
    text = call.request.body;
    if (type.find("csv") != std::string::npos) format = "csv";
    if (type.find("toml") != std::string::npos) format = "toml";
  }
  if (format != "toml" && format != "csv") return bad(call, 400, "say `format`: toml or csv");
  if (trim(text).empty()) return bad(call, 400, "nothing to import: the text is empty");
  std::string mode = in.has("mode") ? lower(trim(in.str("mode"))) : "replace";
  if (mode != "replace" && mode != "merge")
    return bad(call, 400, "`mode` is replace (the file is the whole KB) or merge (by key)");
  std::string name = trim(in.str("name"));
  if (name.empty()) name = "the imported " + format;
  auto kb = format == "csv" ? support::kb_from_csv(text, name) : support::kb_from_toml(text, name);
  if (!kb.ok()) return error_response(call, kb.error());
  std::size_t total = 0;
  auto r = call.db.transaction([&]() -> Result<void> {
    std::vector<support::Entry> entries = kb->entries;
    if (mode == "merge") {
      SK_ASSIGN(auto old, support::load_entries(call.db, call.client()));
      for (const auto& e : kb->entries) {
        auto it = std::find_if(old.begin(), old.end(),
                               [&](const support::Entry& x) { return x.key == e.key; });
        if (it != old.end())
          *it = e;
        else
          old.push_back(e);
      }
      entries = std::move(old);
    }
    SK_TRY(support::validate_entries(entries, name));
    SK_ASSIGN(auto settings, support::load_settings(call.db, call.client()));
    if (kb->threshold) settings.threshold = *kb->threshold;
    if (kb->tone) settings.tone = *kb->tone;
    if (kb->signature) settings.signature = *kb->signature;
    SK_TRY(support::replace_entries(call.db, call.client(), entries));
    SK_TRY(support::save_settings(call.db, call.client(), settings));
    total = entries.size();
    return store::append_audit(
        call.db, call.client(), call.clock.now(), call.actor(), "kb imported",
        std::to_string(kb->entries.size()) + " entries from " + name + " (" + mode + ")",
        reason_of(in, "imported in the console"));
  });
  if (!r.ok()) return error_response(call, r.error());
  return changed(call,
                 "imported " + std::to_string(kb->entries.size()) + " entries (" + mode + "); " +
                     std::to_string(total) + " in the knowledge base",
                 "reload", {{"imported", kb->entries.size()}, {"total", total}});
}

Response export_kb(Call& call) {
  auto f = call.request.query.find("format");
  std::string format = f == call.request.query.end() ? "toml" : lower(f->second);
  if (format != "toml" && format != "csv") return bad(call, 400, "`format` is toml or csv");
  auto c = store::find_client(call.db, call.client());
  if (!c.ok()) return error_response(call, c.error());
  auto entries = support::load_entries(call.db, call.client());
  if (!entries.ok()) return error_response(call, entries.error());
  auto settings = support::load_settings(call.db, call.client());
  if (!settings.ok()) return error_response(call, settings.error());
  Response r = Response::text(200, format == "csv" ? support::kb_to_csv(*entries)
                                                   : support::kb_to_toml(*entries, *settings));
  r.set("Content-Type",
        format == "csv" ? "text/csv; charset=utf-8" : "application/toml; charset=utf-8");
  r.set("Content-Disposition", "attachment; filename=\"" + c->slug + "-kb." + format + "\"");
  return r;
}

Response save_settings(Call& call) {
  Input in(call.request);
  auto s = support::load_settings(call.db, call.client());
  if (!s.ok()) return error_response(call, s.error());
  bool any = false;
  if (in.has("threshold")) {
    std::string t = trim(in.str("threshold"));
    char* end = nullptr;
    double v = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || !(v >= 0 && v <= 1))
      return bad(call, 400, "the threshold is a number from 0 to 1 (0.8: answer when 80% sure)");
    s->threshold = v;
    any = true;
  }
  if (in.has("tone")) {
    std::string tone = lower(trim(in.str("tone")));
    if (!support::valid_tone(tone)) return bad(call, 400, "the tone is friendly, formal or brief");
    s->tone = tone;
    any = true;
  }
  if (in.has("signature")) {
    s->signature = unix_lines(in.str("signature"));
    while (!s->signature.empty() && (s->signature.back() == '\n' || s->signature.back() == ' '))
      s->signature.pop_back();
    any = true;
  }
  if (!any) return bad(call, 400, "nothing to change: give threshold, tone or signature");
  char t[16];
  std::snprintf(t, sizeof t, "%.2f", s->threshold);
  std::string what = std::string("threshold ") + t + ", tone " + s->tone;
  auto r = call.db.transaction([&]() -> Result<void> {
    SK_TRY(support::save_settings(call.db, call.client(), *s));
    return store::append_audit(call.db, call.client(), call.clock.now(), call.actor(),
                               "support settings", what, reason_of(in, "changed in the console"));
  });
  if (!r.ok()) return error_response(call, r.error());
  return changed(call, "saved: " + what, "", {{"settings", settings_json(*s)}});
}

Result<json> ask_json(Call& call) {
  auto q = call.request.query.find("q");
  std::string question = q == call.request.query.end() ? "" : trim(q->second);
  engine::SupportDesk desk(call.db, call.clock, call.ids);
  std::vector<support::Entry>* entries = nullptr;
  SK_ASSIGN(const support::Matcher* m, desk.matcher(call.client(), &entries));
  SK_ASSIGN(auto settings, support::load_settings(call.db, call.client()));
  json found = json::array();
  if (!question.empty())
    for (const auto& s : m->match(question, 3))
      found.push_back({{"key", (*entries)[s.entry].key},
                       {"question", (*entries)[s.entry].question},
                       {"confidence", s.confidence},
                       {"confidence_pct", pct(s.confidence)},
                       {"above_threshold", s.confidence >= settings.threshold}});
  return json{{"question", question}, {"threshold", settings.threshold}, {"suggestions", found}};
}

// --- a support item ---

std::string status_label(support::Status s) {
  switch (s) {
    case support::Status::open:
      return "open";
    case support::Status::waiting_on_customer:
      return "waiting on the customer";
    case support::Status::solved:
      return "solved";
  }
  return "open";
}

json conversation_json(const ClientId& client, const support::Conversation& v) {
  auto fr = support::first_response_seconds(v);
  auto rs = support::resolution_seconds(v);
  return {{"id", v.id},
          {"customer", v.customer},
          {"subject", v.subject},
          {"status", support::to_string(v.status)},
          {"status_label", status_label(v.status)},
          {"solved", v.status == support::Status::solved},
          {"opened_at", format_utc(v.opened_at)},
          {"first_response", support::describe_wait(fr)},
          {"first_response_seconds", fr ? json(*fr) : json()},
          {"resolution", support::describe_wait(rs)},
          {"resolution_seconds", rs ? json(*rs) : json()},
          {"reopened", v.reopened},
          {"has_reopened", v.reopened > 0},
          {"solve_api", "/api/clients/" + client + "/conversations/" + v.id + "/solve"}};
}

bool answered(store::OutgoingStatus s) {
  return s == store::OutgoingStatus::queued || s == store::OutgoingStatus::sending ||
         s == store::OutgoingStatus::handing_over || s == store::OutgoingStatus::sent;
}

const support::Entry* find_entry(const std::vector<support::Entry>& entries,
                                 const std::string& key) {
  for (const auto& e : entries)
    if (e.key == key) return &e;
  return nullptr;
}

std::string composed_for(const support::Entry& e, const support::Settings& s, const Item& it) {
  return support::compose_answer(e, s, {it.from_name, it.from_address},
                                 support::question_text(it.subject, it.text));
}

Result<json> item_support_json(Call& call, const ItemId& id) {
  const ClientId& client = call.client();
  SK_ASSIGN(auto stored, store::get_item(call.db, client, id));
  SK_TRY(engine::refresh_conversations(call.db, client, call.clock.now()));
  SK_ASSIGN(auto rec, support::get_answer(call.db, client, id));
  SK_ASSIGN(auto entries, support::load_entries(call.db, client));
  SK_ASSIGN(auto settings, support::load_settings(call.db, client));
  const std::string api = "/api/clients/" + client + "/items/" + id + "/support";
  json j{{"client", client},
         {"item", id},
         {"api", api},
         {"send_api", api + "/send"},
         {"fragment", "/c/" + client + "/items/" + id + "/support"},
         {"kb_url", "/c/" + client + "/kb"},
         {"threshold", settings.threshold},
         {"threshold_pct", pct(settings.threshold)},
         {"kb_size", entries.size()},
         {"is_support", rec.has_value()}};
  if (!rec) return j;
  j["action"] = rec->action;
  j["code"] = rec->code;
  j["reason"] = rec->reason;
  j["at"] = format_utc(rec->at);
  bool done = false;
  if (!rec->outgoing_id.empty()) {
    auto out = store::get_outgoing(call.db, client, rec->outgoing_id);
    if (out.ok()) {
      done = answered(out->status);
      j["reply"] = {{"id", out->id},
                    {"status", store::to_string(out->status)},
                    {"is_draft", out->status == store::OutgoingStatus::draft},
                    {"kind", out->kind},
                    {"url", "/c/" + client + "/drafts/" + out->id}};
    }
  }
  j["answered"] = done;
  j["can_send"] = !done;
  json list = json::array();
  int rank = 0;
  for (const auto& s : rec->suggestions) {
    const support::Entry* e = find_entry(entries, s.key);
    list.push_back({{"rank", ++rank},
                    {"key", s.key},
                    {"question", e ? e->question : s.question},
                    {"confidence", s.confidence},
                    {"confidence_pct", pct(s.confidence)},
                    {"above_threshold", s.confidence >= settings.threshold},
                    {"exists", e != nullptr},
                    {"private", e && e->is_private},
                    {"answer", e ? composed_for(*e, settings, stored.item) : ""}});
  }
  j["suggestions"] = list;
  j["has_suggestions"] = !list.empty();
  if (!rec->conversation.empty()) {
    SK_ASSIGN(auto conv, support::get_conversation(call.db, client, rec->conversation));
    if (conv) j["conversation"] = conversation_json(client, *conv);
  }
  return j;
}

// After an action on the item's support panel: htmx gets the panel again with the message,
// the API the message and the panel's data.
Response panel_done(Call& call, const ItemId& item, const std::string& message,
                    json extra = json::object()) {
  auto j = item_support_json(call, item);
  if (!j.ok()) return error_response(call, j.error());
  if (is_htmx(call)) {
    json page = *j;
    page["message"] = message;
    page["has_message"] = true;
    Response r = Response::html(200, render_fragment("support_panel", json{{"page", page}}));
    // Forms aim at the panel's status line, so an error shows there; a success redraws it all.
    r.set("HX-Retarget", "#support");
    r.set("HX-Reswap", "innerHTML");
    r.set("HX-Trigger", "queue-changed");
    return r;
  }
  extra["ok"] = true;
  extra["message"] = message;
  extra["support"] = *j;
  return Response::json(200, dump(extra));
}

struct ItemContext {
  store::StoredItem stored;
  support::AnswerRecord rec;
};

Result<ItemContext> support_item(Call& call) {
  ItemContext c;
  SK_ASSIGN(c.stored, store::get_item(call.db, call.client(), call.param("item")));
  SK_ASSIGN(auto rec, support::get_answer(call.db, call.client(), c.stored.item.id));
  if (!rec)
    return make_error(Errc::conflict, c.stored.item.id +
                                          " was not matched against the knowledge base (not a "
                                          "support item)");
  c.rec = std::move(*rec);
  return c;
}

// The reply recorded for a support item, if any, while it is not sent: one that is (queued,
// sending or sent) means the item is answered, a conflict.
Result<std::optional<store::OutgoingMessage>> unsent_reply(Call& call,
                                                           const support::AnswerRecord& rec) {
  if (rec.outgoing_id.empty()) return std::optional<store::OutgoingMessage>();
  SK_ASSIGN(auto out, store::get_outgoing(call.db, call.client(), rec.outgoing_id));
  if (answered(out.status))
    return make_error(Errc::conflict, "already answered: " + out.id + " is " +
                                          std::string(store::to_string(out.status)));
  return std::optional<store::OutgoingMessage>(std::move(out));
}

Response send_answer(Call& call) {
  auto ctx = support_item(call);
  if (!ctx.ok()) return error_response(call, ctx.error());
  Input in(call.request);
  const ClientId& client = call.client();
  const Item& it = ctx->stored.item;
  support::AnswerRecord rec = ctx->rec;
  const std::string key = trim(in.str("entry"));
  if (key.empty()) return bad(call, 400, "say which entry to send (`entry`: its key)");
  auto entries = support::load_entries(call.db, client);
  if (!entries.ok()) return error_response(call, entries.error());
  const support::Entry* e = find_entry(*entries, key);
  if (!e) return bad(call, 400, "no entry '" + key + "' in the knowledge base");
  auto settings = support::load_settings(call.db, client);
  if (!settings.ok()) return error_response(call, settings.error());
  auto reply = unsent_reply(call, rec);
  if (!reply.ok()) return error_response(call, reply.error());
  const std::optional<store::OutgoingMessage>& earlier = *reply;
  const std::string composed = trim(composed_for(*e, *settings, it));
  std::string body = in.has("body") ? trim(unix_lines(in.str("body"))) : composed;
  if (body.empty()) return bad(call, 400, "the answer is empty");
  const bool edited = body != composed;
  double confidence = 0;
  for (const auto& s : rec.suggestions)
    if (s.key == key) confidence = s.confidence;
  const std::string reason = call.actor() + " chose the knowledge-base entry \"" + key + "\"" +
                             (confidence > 0 ? " (" + pct(confidence) + " sure)" : "") +
                             (edited ? " and edited it" : "");
  std::string out_id;
  auto r = call.db.transaction([&]() -> Result<void> {
    // The engine's own draft is replaced by the VA's choice, not sent beside it.
    if (earlier && earlier->status == store::OutgoingStatus::draft)
      SK_TRY(engine::discard_outgoing(call.db, call.clock, client, earlier->id, call.actor(),
                                      "replaced by the answer " + call.actor() + " chose"));
    engine::ReplyRequest req;
    req.answers = it.id;
    req.body = body;
    req.kind = "reply";
    req.reason = reason;
    req.send_now = true;
    req.quote = true;
    req.source_key = "support-va:" + it.id;
    SK_ASSIGN(auto out,
              engine::queue_reply(call.db, call.clock, call.ids, client, req, call.actor()));
    if (out.status != store::OutgoingStatus::queued)
      return make_error(Errc::conflict, "already answered: " + out.id);
    out_id = out.id;
    if (!rec.conversation.empty())
      SK_TRY(support::add_thread_message(
          call.db, client, {rec.conversation, out.message_id, it.id, out.id, false, 0}));
    rec.action = "sent";
    rec.code = "support.va_chose";
    rec.reason = reason;
    rec.outgoing_id = out.id;
    rec.at = call.clock.now();
    SK_TRY(support::save_answer(call.db, client, rec));
    // A person has dealt with the item: it is handled and leaves the queue.
    SK_TRY(call.engine.answered(client, it.id, call.actor(), "sent the answer \"" + key + "\""));
    return store::append_audit(
        call.db, client, call.clock.now(), call.actor(), "support answered",
        it.id + " → " + out.id + " (\"" + key + "\"" + (edited ? ", edited" : "") + ")",
        reason_of(in, reason));
  });
  if (!r.ok()) return error_response(call, r.error());
  std::string to = it.from_address;
  return panel_done(
      call, it.id,
      std::string(edited ? "sent with your edits" : "sent") + ": \"" + key + "\" queued to " + to,
      {{"outgoing", out_id}, {"edited", edited}});
}

Response dismiss(Call& call) {
  auto ctx = support_item(call);
  if (!ctx.ok()) return error_response(call, ctx.error());
  Input in(call.request);
  const ClientId& client = call.client();
  support::AnswerRecord rec = ctx->rec;
  auto reply = unsent_reply(call, rec);
  if (!reply.ok()) return error_response(call, reply.error());
  std::optional<store::OutgoingMessage> draft;
  if (*reply && (*reply)->status == store::OutgoingStatus::draft) draft = *reply;
  const std::string why = trim(in.str("why"));
  auto r = call.db.transaction([&]() -> Result<void> {
    if (draft)
      SK_TRY(engine::discard_outgoing(call.db, call.clock, client, draft->id, call.actor(),
                                      "the suggestions were dismissed"));
    rec.action = "dismissed";
    rec.reason = call.actor() + " dismissed the suggestions" + (why.empty() ? "" : ": " + why);
    rec.at = call.clock.now();
    SK_TRY(support::save_answer(call.db, client, rec));
    return store::append_audit(call.db, client, call.clock.now(), call.actor(),
                               "support suggestions dismissed", rec.item,
                               why.empty() ? "none of them answers it" : why);
  });
  if (!r.ok()) return error_response(call, r.error());
  return panel_done(call, rec.item, "suggestions dismissed; answer it yourself or correct it");
}

Response rematch(Call& call) {
  auto ctx = support_item(call);
  if (!ctx.ok()) return error_response(call, ctx.error());
  const ClientId& client = call.client();
  support::AnswerRecord rec = ctx->rec;
  const Item& it = ctx->stored.item;
  engine::SupportDesk desk(call.db, call.clock, call.ids);
  std::vector<support::Entry>* entries = nullptr;
  auto m = desk.matcher(client, &entries);
  if (!m.ok()) return error_response(call, m.error());
  rec.suggestions.clear();
  for (const auto& s : (*m)->match(support::question_text(it.subject, it.text), 3))
    rec.suggestions.push_back(
        {(*entries)[s.entry].key, (*entries)[s.entry].question, s.confidence});
  std::string best = rec.suggestions.empty() ? "no match"
                                             : "best \"" + rec.suggestions[0].key + "\" " +
                                                   pct(rec.suggestions[0].confidence);
  auto r = call.db.transaction([&]() -> Result<void> {
    SK_TRY(support::save_answer(call.db, client, rec));
    return store::append_audit(call.db, client, call.clock.now(), call.actor(),
                               "support matched again", it.id,
                               "against " + std::to_string(entries->size()) + " entries: " + best);
  });
  if (!r.ok()) return error_response(call, r.error());
  return panel_done(call, it.id, "matched again: " + best);
}

Response solve(Call& call) {
  Input in(call.request);
  const ClientId& client = call.client();
  const std::string id = call.param("conversation");
  auto conv = support::get_conversation(call.db, client, id);
  if (!conv.ok()) return error_response(call, conv.error());
  if (!*conv) return bad(call, 404, "no conversation '" + id + "'");
  if ((*conv)->status == support::Status::solved) return bad(call, 409, id + " is already solved");
  auto done = engine::solve_conversation(call.db, call.clock, client, id, call.actor(),
                                         trim(in.str("why")));
  if (!done.ok()) return error_response(call, done.error());
  std::string msg = id + " is solved";
  const std::string item = trim(in.str("item"));
  if (is_htmx(call) && !item.empty() && valid_param(item)) return panel_done(call, item, msg);
  return changed(call, msg, "", {{"conversation", conversation_json(client, *done)}});
}

// The statuses a VA filters by; "active" (the default) is everything not solved.
constexpr std::string_view kConversationFilters[] = {"active", "open", "waiting", "solved", "all"};

bool shown_by(std::string_view filter, support::Status s) {
  if (filter == "all") return true;
  if (filter == "active") return s != support::Status::solved;
  if (filter == "open") return s == support::Status::open;
  if (filter == "waiting") return s == support::Status::waiting_on_customer;
  return s == support::Status::solved;
}

// What the VA should look at first: open ones, the customer waiting longest at the top; then
// those waiting on the customer; then solved ones, newest first.
bool before_in_list(const support::Conversation& a, const support::Conversation& b) {
  auto rank = [](support::Status s) {
    return s == support::Status::open ? 0 : s == support::Status::waiting_on_customer ? 1 : 2;
  };
  if (rank(a.status) != rank(b.status)) return rank(a.status) < rank(b.status);
  if (a.status == support::Status::solved) return a.solved_at > b.solved_at;
  Timestamp wa = a.status == support::Status::open ? a.last_customer_at : a.last_reply_at;
  Timestamp wb = b.status == support::Status::open ? b.last_customer_at : b.last_reply_at;
  if (wa != wb) return wa < wb;
  return a.id < b.id;
}

Result<json> conversations_json(Call& call) {
  const ClientId& client = call.client();
  auto f = call.request.query.find("status");
  const std::string filter =
      f == call.request.query.end() || f->second.empty() ? "active" : f->second;
  if (std::find(std::begin(kConversationFilters), std::end(kConversationFilters), filter) ==
      std::end(kConversationFilters))
    return make_error(Errc::invalid_input,
                      "unknown status '" + filter + "' (active, open, waiting, solved, all)");
  SK_ASSIGN(auto c, store::find_client(call.db, client));
  SK_TRY(engine::refresh_conversations(call.db, client, call.clock.now()));
  SK_ASSIGN(auto all, support::list_conversations(call.db, client));
  std::stable_sort(all.begin(), all.end(), before_in_list);
  json a = json::array();
  int open = 0, waiting = 0, solved = 0;
  std::vector<Timestamp> first_responses;
  for (const auto& v : all) {
    (v.status == support::Status::open     ? open
     : v.status == support::Status::solved ? solved
                                           : waiting) += 1;
    if (auto fr = support::first_response_seconds(v)) first_responses.push_back(*fr);
    if (!shown_by(filter, v.status)) continue;
    json row = conversation_json(client, v);
    // The customer's latest message, where the VA answers from.
    SK_ASSIGN(auto thread, support::thread_messages(call.db, client, v.id));
    for (auto m = thread.rbegin(); m != thread.rend(); ++m)
      if (m->from_customer && !m->item.empty()) {
        row["item_url"] = "/c/" + client + "/items/" + m->item;
        break;
      }
    row["messages"] = thread.size();
    a.push_back(std::move(row));
  }
  std::optional<Timestamp> median;
  if (!first_responses.empty()) {
    auto mid = first_responses.begin() + static_cast<std::ptrdiff_t>(first_responses.size() / 2);
    std::nth_element(first_responses.begin(), mid, first_responses.end());
    median = *mid;
  }
  json filters = json::array();
  for (auto name : kConversationFilters)
    filters.push_back({{"name", name},
                       {"url", "/c/" + client + "/conversations?status=" + std::string(name)},
                       {"current", name == filter}});
  return json{{"client", client},
              {"client_name", c.name},
              {"status", filter},
              {"filters", filters},
              {"open", open},
              {"waiting", waiting},
              {"solved", solved},
              {"median_first_response", support::describe_wait(median)},
              {"median_first_response_seconds", median ? json(*median) : json()},
              {"shown", a.size()},
              {"conversations", a}};
}

}  // namespace

void add_support_routes(Router& router, PageBase page_base) {
  const Roles staff = Roles::staff(), signed_in = Roles::signed_in();
  auto page = [page_base](std::string tmpl, std::string title, ViewModel build) {
    return page_route(page_base, std::move(tmpl), std::move(title), std::move(build));
  };
  auto api = [](ViewModel build) { return api_route(std::move(build)); };

  // --- the knowledge base: staff edit it; the client may read their own ---
  router.add({"GET", "/c/{client}/kb", signed_in, page("kb", "Knowledge base", kb_json),
              "the knowledge base: entries (search with ?q=), settings, import and export"});
  router.add({"GET", "/api/clients/{client}/kb", signed_in, api(kb_json),
              "knowledge-base entries (every word of ?q= in the entry) and the support settings"});
  router.add(
      {"POST", "/api/clients/{client}/kb/entries", staff, add_entry, "add a knowledge-base entry"});
  router.add({"GET", "/c/{client}/kb/entries/{entry}", signed_in,
              page("kb_entry", "Knowledge base entry", entry_page_json),
              "one knowledge-base entry, to read or edit"});
  router.add({"GET", "/api/clients/{client}/kb/entries/{entry}", signed_in, api(entry_page_json),
              "one knowledge-base entry"});
  router.add({"POST", "/api/clients/{client}/kb/entries/{entry}", staff, update_entry,
              "change a knowledge-base entry (only the fields given; `key` renames it)"});
  router.add({"POST", "/api/clients/{client}/kb/entries/{entry}/delete", staff, delete_entry,
              "delete a knowledge-base entry"});
  router.add({"POST", "/api/clients/{client}/kb/import", staff, import_kb,
              "import entries from TOML or CSV (replace the KB, or merge by key)"});
  router.add({"GET", "/api/clients/{client}/kb/export", signed_in, export_kb,
              "the knowledge base as a TOML or CSV file (?format=)"});
  router.add({"POST", "/api/clients/{client}/kb/settings", staff, save_settings,
              "support settings: threshold, tone, signature"});
  router.add({"GET", "/api/clients/{client}/kb/ask", staff, api(ask_json),
              "the best three entries for a question (?q=), changing nothing"});

  // --- a support item: suggestions, the conversation, the VA's answer ---
  router.add({"GET", "/c/{client}/items/{item}/support", staff,
              [](Call& call) {
                auto j = item_support_json(call, call.param("item"));
                if (!j.ok()) return error_response(call, j.error());
                // Not a support item: nothing, so the panel's place stays empty and hidden.
                if (!(*j)["is_support"].get<bool>()) return Response::html(200, "");
                return Response::html(200, render_fragment("support_panel", json{{"page", *j}}));
              },
              "the support panel of an item page (htmx fragment)"});
  router.add({"GET", "/api/clients/{client}/items/{item}/support", staff,
              api([](Call& call) { return item_support_json(call, call.param("item")); }),
              "what support did with an item: suggestions with scores, reply, conversation"});
  router.add({"POST", "/api/clients/{client}/items/{item}/support/send", staff, send_answer,
              "send a suggested entry as the reply (`entry`; an edited `body` if given)"});
  router.add({"POST", "/api/clients/{client}/items/{item}/support/dismiss", staff, dismiss,
              "none of the suggestions fits: dismiss them (and the engine's draft)"});
  router.add({"POST", "/api/clients/{client}/items/{item}/support/rematch", staff, rematch,
              "match the item again against the knowledge base as it is now"});
  router.add({"GET", "/c/{client}/conversations", staff,
              page("conversations", "Support conversations", conversations_json),
              "support conversations: the customer waiting longest first (?status=)"});
  router.add({"GET", "/api/clients/{client}/conversations", staff, api(conversations_json),
              "support conversations with status and timings (?status=active, open, waiting, "
              "solved or all; active is everything not solved)"});
  router.add({"POST", "/api/clients/{client}/conversations/{conversation}/solve", staff, solve,
              "mark a support conversation solved"});
}

}  // namespace sk::web
