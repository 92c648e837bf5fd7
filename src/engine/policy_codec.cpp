#include "engine/policy_codec.hpp"

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

namespace sk::engine {
namespace {

using nlohmann::json;

json condition_json(const triage::RuleCondition& c) {
  json j = json::object();
  if (!c.from.empty()) j["from"] = c.from;
  if (!c.domains.empty()) j["domain"] = c.domains;
  if (!c.relationships.empty()) {
    json a = json::array();
    for (auto r : c.relationships) a.push_back(to_string(r));
    j["relationship"] = a;
  }
  if (!c.headers.empty()) {
    json h = json::object();
    for (const auto& hc : c.headers) h[hc.name] = hc.contains;
    j["header"] = h;
  }
  if (!c.words.empty()) j["words"] = c.words;
  if (!c.subject_words.empty()) j["subject"] = c.subject_words;
  if (!c.categories.empty()) {
    json a = json::array();
    for (auto k : c.categories) a.push_back(to_string(k));
    j["category"] = a;
  }
  if (c.spam_score_min) j["score_above"] = *c.spam_score_min;
  if (c.spam_score_max) j["score_below"] = *c.spam_score_max;
  if (c.hour_from || c.hour_to)
    j["hours"] =
        std::to_string(c.hour_from.value_or(0)) + "-" + std::to_string(c.hour_to.value_or(24));
  if (!c.weekdays.empty()) j["weekdays"] = c.weekdays;
  return j;
}

json action_json(const triage::RuleAction& a) {
  json j = json::object();
  if (a.disposition) j["disposition"] = to_string(*a.disposition);
  if (a.category) j["category"] = to_string(*a.category);
  if (!a.labels.empty()) j["label"] = a.labels;
  if (a.let_through) j["let_through"] = true;
  if (!a.reply.empty()) j["reply"] = a.reply;
  return j;
}

// A value given either as one string or as a list of strings.
template <class Get>
Result<std::vector<std::string>> strings(const std::string& where, const char* key, Get&& get) {
  std::vector<std::string> out;
  if (!get(out))
    return make_error(Errc::invalid_input,
                      where + ": '" + key + "' must be a string or a list of strings");
  return out;
}

constexpr const char* kWeekdays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

Result<int> weekday_from(const std::string& where, const std::string& s) {
  std::string l = lower(s.substr(0, 3));
  for (int i = 0; i < 7; ++i)
    if (l == kWeekdays[i]) return i;
  return make_error(Errc::invalid_input, where + ": unknown weekday '" + s + "'");
}

Result<std::pair<int, int>> hours_from(const std::string& where, const std::string& s) {
  int a = -1, b = -1;
  char extra = 0;
  if (std::sscanf(s.c_str(), "%d-%d%c", &a, &b, &extra) != 2 || a < 0 || a > 24 || b < 0 || b > 24)
    return make_error(
        Errc::invalid_input,
        where + ": hours must look like \"22-6\" (from-to, local hours 0-24), not '" + s + "'");
  return std::pair{a, b};
}

// Reads a rule from a generic key/value view, shared by the JSON and TOML readers.
struct RuleReader {
  std::string where;

  template <class Node>
  Result<triage::Rule> read(const Node& when, const Node& then, std::string name, bool enabled,
                            bool has_when, bool has_then) {
    triage::Rule r;
    r.name = std::move(name);
    r.enabled = enabled;
    if (!has_when) return make_error(Errc::invalid_input, where + ": needs a [when] table");
    if (!has_then) return make_error(Errc::invalid_input, where + ": needs a [then] table");
    for (const auto& key : when.keys()) {
      auto list = when.strings(key);
      if (!list.ok() && key != "score_above" && key != "score_below" && key != "header" &&
          key != "weekdays")
        return make_error(Errc::invalid_input,
                          where + ": '" + key + "' must be a string or a list of strings");
      if (key == "from")
        r.when.from = *list;
      else if (key == "domain" || key == "domains")
        r.when.domains = *list;
      else if (key == "words")
        r.when.words = *list;
      else if (key == "subject")
        r.when.subject_words = *list;
      else if (key == "relationship") {
        for (const auto& s : *list) {
          auto rel = relationship_from(s);
          if (!rel)
            return make_error(Errc::invalid_input, where + ": unknown relationship '" + s +
                                                       "' (vip, family, team, customer, "
                                                       "vendor, unknown, blocked, "
                                                       "protected-from)");
          r.when.relationships.push_back(*rel);
        }
      } else if (key == "category") {
        for (const auto& s : *list) {
          auto c = category_from(s);
          if (!c) return make_error(Errc::invalid_input, where + ": unknown category '" + s + "'");
          r.when.categories.push_back(*c);
        }
      } else if (key == "score_above" || key == "score_below") {
        auto v = when.number(key);
        if (!v || *v < 0 || *v > 1)
          return make_error(Errc::invalid_input, where + ": '" + key + "' must be a number 0..1");
        (key == "score_above" ? r.when.spam_score_min : r.when.spam_score_max) = *v;
      } else if (key == "hours") {
        if (list->size() != 1)
          return make_error(Errc::invalid_input, where + ": one 'hours' range");
        SK_ASSIGN(auto h, hours_from(where, list->front()));
        r.when.hour_from = h.first;
        r.when.hour_to = h.second;
      } else if (key == "weekdays") {
        auto days = when.strings(key);
        if (!days.ok()) return make_error(Errc::invalid_input, where + ": weekdays are names");
        for (const auto& d : *days) {
          SK_ASSIGN(int wd, weekday_from(where, d));
          r.when.weekdays.push_back(wd);
        }
      } else if (key == "header") {
        auto h = when.headers(key);
        if (!h)
          return make_error(Errc::invalid_input,
                            where + ": 'header' must be a table of name = \"text\"");
        r.when.headers = *h;
      } else {
        return make_error(Errc::invalid_input, where + ": unknown condition '" + key + "'");
      }
    }
    if (r.when.empty())
      return make_error(Errc::invalid_input, where +
                                                 ": [when] has no condition, it would match "
                                                 "nothing");
    for (const auto& key : then.keys()) {
      if (key == "let_through") {
        auto b = then.boolean(key);
        if (!b) return make_error(Errc::invalid_input, where + ": let_through is true or false");
        r.then.let_through = *b;
        continue;
      }
      auto list = then.strings(key);
      if (!list.ok())
        return make_error(Errc::invalid_input, where + ": '" + key + "' must be text");
      if (key == "disposition") {
        auto d = list->size() == 1 ? disposition_from(list->front()) : std::nullopt;
        if (!d)
          return make_error(Errc::invalid_input,
                            where +
                                ": disposition is one of to-client, handled, awaiting-va, "
                                "screened, blocked, protected");
        r.then.disposition = *d;
      } else if (key == "category") {
        auto c = list->size() == 1 ? category_from(list->front()) : std::nullopt;
        if (!c) return make_error(Errc::invalid_input, where + ": unknown category");
        r.then.category = *c;
      } else if (key == "label" || key == "labels") {
        r.then.labels = *list;
      } else if (key == "reply") {
        if (list->size() != 1 || list->front().empty())
          return make_error(Errc::invalid_input, where + ": reply names one template");
        r.then.reply = list->front();
      } else {
        return make_error(Errc::invalid_input, where + ": unknown action '" + key + "'");
      }
    }
    if (!r.then.disposition && !r.then.category && r.then.labels.empty() && !r.then.let_through &&
        r.then.reply.empty())
      return make_error(Errc::invalid_input, where + ": [then] does nothing");
    return r;
  }
};

// Generic views over a JSON object and a TOML table.
struct JsonView {
  const json& j;
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (auto it = j.begin(); it != j.end(); ++it) k.push_back(it.key());
    return k;
  }
  Result<std::vector<std::string>> strings(const std::string& key) const {
    const json& v = j.at(key);
    if (v.is_string()) return std::vector<std::string>{v.get<std::string>()};
    if (!v.is_array()) return make_error(Errc::invalid_input, "not strings");
    std::vector<std::string> out;
    for (const auto& e : v) {
      if (e.is_string())
        out.push_back(e.get<std::string>());
      else if (e.is_number_integer())
        out.push_back(std::string(kWeekdays[e.get<int>() % 7]));
      else
        return make_error(Errc::invalid_input, "not strings");
    }
    return out;
  }
  std::optional<double> number(const std::string& key) const {
    const json& v = j.at(key);
    return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
  }
  std::optional<bool> boolean(const std::string& key) const {
    const json& v = j.at(key);
    return v.is_boolean() ? std::optional<bool>(v.get<bool>()) : std::nullopt;
  }
  std::optional<std::vector<triage::HeaderCondition>> headers(const std::string& key) const {
    const json& v = j.at(key);
    if (!v.is_object()) return std::nullopt;
    std::vector<triage::HeaderCondition> out;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (!it.value().is_string()) return std::nullopt;
      out.push_back({it.key(), it.value().get<std::string>()});
    }
    return out;
  }
};

struct TomlView {
  const toml::table& t;
  std::vector<std::string> keys() const {
    std::vector<std::string> k;
    for (const auto& [key, node] : t) k.emplace_back(key.str());
    return k;
  }
  Result<std::vector<std::string>> strings(const std::string& key) const {
    const toml::node* n = t.get(key);
    if (auto s = n->value<std::string>()) return std::vector<std::string>{*s};
    const toml::array* a = n->as_array();
    if (!a) return make_error(Errc::invalid_input, "not strings");
    std::vector<std::string> out;
    for (const auto& e : *a) {
      auto s = e.value<std::string>();
      if (!s) return make_error(Errc::invalid_input, "not strings");
      out.push_back(*s);
    }
    return out;
  }
  std::optional<double> number(const std::string& key) const { return t.get(key)->value<double>(); }
  std::optional<bool> boolean(const std::string& key) const { return t.get(key)->value<bool>(); }
  std::optional<std::vector<triage::HeaderCondition>> headers(const std::string& key) const {
    const toml::table* h = t.get(key)->as_table();
    if (!h) return std::nullopt;
    std::vector<triage::HeaderCondition> out;
    for (const auto& [name, node] : *h) {
      auto s = node.value<std::string>();
      if (!s) return std::nullopt;
      out.push_back({std::string(name.str()), *s});
    }
    return out;
  }
};

}  // namespace

std::string rule_to_json(const triage::Rule& rule) {
  json j{{"name", rule.name},
         {"enabled", rule.enabled},
         {"when", condition_json(rule.when)},
         {"then", action_json(rule.then)}};
  return j.dump();
}

Result<triage::Rule> rule_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return make_error(Errc::parse, "stored rule is not JSON");
  std::string name = j.value("name", "");
  RuleReader reader{"rule \"" + name + "\""};
  static const json kEmpty = json::object();
  const json& when = j.contains("when") ? j["when"] : kEmpty;
  const json& then = j.contains("then") ? j["then"] : kEmpty;
  return reader.read(JsonView{when}, JsonView{then}, name, j.value("enabled", true),
                     j.contains("when"), j.contains("then"));
}

Result<std::vector<triage::Rule>> rules_from_toml(const std::string& toml_text,
                                                  const std::string& source_name) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    const auto& src = e.source();
    return make_error(Errc::invalid_input, source_name + ":" + std::to_string(src.begin.line) +
                                               ":" + std::to_string(src.begin.column) + ": " +
                                               std::string(e.description()));
  }
  std::vector<triage::Rule> rules;
  for (const auto& [key, node] : doc)
    if (key.str() != "rule")
      return make_error(Errc::invalid_input, source_name + ": unknown top-level key '" +
                                                 std::string(key.str()) +
                                                 "' (rules are [[rule]] tables)");
  const toml::array* arr = doc["rule"].as_array();
  if (!arr) return make_error(Errc::invalid_input, source_name + ": no [[rule]] tables found");
  static const toml::table kEmpty;
  int n = 0;
  for (const auto& node : *arr) {
    ++n;
    const toml::table* t = node.as_table();
    std::string where = source_name + ": rule " + std::to_string(n);
    if (!t) return make_error(Errc::invalid_input, where + " is not a table");
    auto name = (*t)["name"].value<std::string>();
    if (!name || name->empty()) return make_error(Errc::invalid_input, where + " needs a name");
    where += " (\"" + *name + "\")";
    for (const auto& [k, v] : *t) {
      std::string ks(k.str());
      if (ks != "name" && ks != "enabled" && ks != "when" && ks != "then")
        return make_error(Errc::invalid_input, where + ": unknown key '" + ks + "'");
    }
    const toml::table* when = (*t)["when"].as_table();
    const toml::table* then = (*t)["then"].as_table();
    RuleReader reader{where};
    SK_ASSIGN(auto rule,
              reader.read(TomlView{when ? *when : kEmpty}, TomlView{then ? *then : kEmpty}, *name,
                          (*t)["enabled"].value_or(true), when != nullptr, then != nullptr));
    rules.push_back(std::move(rule));
  }
  return rules;
}

std::string policy_to_json(const triage::Policy& p) {
  json del = json::object();
  for (int c = 0; c < kCategoryCount; ++c)
    del[std::string(to_string(static_cast<Category>(c)))] = to_string(p.delegation[c]);
  json j{{"client_addresses", p.client_addresses},
         {"client_domains", p.client_domains},
         {"screener", p.screener},
         {"delegation", del},
         {"utc_offset_minutes", p.utc_offset_minutes},
         {"low_confidence", p.low_confidence},
         {"auto_reply_period_hours", p.auto_reply_period_hours}};
  if (p.spam_threshold >= 0) j["spam_threshold"] = p.spam_threshold;
  return j.dump();
}

Result<triage::Policy> policy_from_json(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return make_error(Errc::parse, "stored policy is not JSON");
  triage::Policy p;
  try {
    p.client_addresses = j.value("client_addresses", std::vector<std::string>{});
    p.client_domains = j.value("client_domains", std::vector<std::string>{});
    p.screener = j.value("screener", true);
    p.utc_offset_minutes = j.value("utc_offset_minutes", 0);
    p.low_confidence = j.value("low_confidence", p.low_confidence);
    p.spam_threshold = j.value("spam_threshold", -1.0);
    p.auto_reply_period_hours = j.value("auto_reply_period_hours", p.auto_reply_period_hours);
    if (j.contains("delegation"))
      for (auto it = j["delegation"].begin(); it != j["delegation"].end(); ++it) {
        auto c = category_from(it.key());
        auto d = delegation_from(it.value().get<std::string>());
        if (c && d) p.delegation[static_cast<int>(*c)] = *d;
      }
  } catch (const json::exception& e) {
    return make_error(Errc::parse, std::string("stored policy is malformed: ") + e.what());
  }
  return p;
}

}  // namespace sk::engine
