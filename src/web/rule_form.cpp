#include "web/rule_form.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string_view>

#include "triage/rules.hpp"
#include "web/respond.hpp"

namespace sk::web {
namespace {

using nlohmann::json;

constexpr Relationship kRelationships[] = {Relationship::vip,     Relationship::family,
                                           Relationship::team,    Relationship::customer,
                                           Relationship::vendor,  Relationship::unknown,
                                           Relationship::blocked, Relationship::protected_from};
constexpr Disposition kDispositions[] = {Disposition::to_client,   Disposition::handled,
                                         Disposition::awaiting_va, Disposition::screened,
                                         Disposition::blocked,     Disposition::protected_};
constexpr std::string_view kDays[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// A list as a VA types it: with commas or one per line.
std::vector<std::string> list_of(const std::string& text) {
  return split(text, ",\n");
}

bool checked(const std::map<std::string, std::string>& f, const std::string& k) {
  const std::string v = field(f, k);
  return !v.empty() && v != "off" && v != "false" && v != "0";
}

std::string score_text(const std::optional<double>& v) {
  if (!v) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", *v);
  return buf;
}

}  // namespace

json rule_form(const triage::Rule* rule, const std::vector<std::string>& templates) {
  const triage::Rule blank{};
  const triage::Rule& r = rule ? *rule : blank;
  const triage::RuleCondition& w = r.when;
  auto has = [](const auto& v, auto x) { return std::find(v.begin(), v.end(), x) != v.end(); };

  json relationships = json::array();
  for (auto rel : kRelationships)
    relationships.push_back({{"value", to_string(rel)}, {"checked", has(w.relationships, rel)}});
  json categories = json::array(), then_categories = json::array();
  then_categories.push_back({{"value", ""}, {"label", "as triage says"}, {"selected", true}});
  for (int i = 0; i < kCategoryCount; ++i) {
    const auto c = static_cast<Category>(i);
    categories.push_back(
        {{"value", to_string(c)}, {"label", label(c)}, {"checked", has(w.categories, c)}});
    const bool chosen = r.then.category == c;
    if (chosen) then_categories[0]["selected"] = false;
    then_categories.push_back({{"value", to_string(c)}, {"label", label(c)}, {"selected", chosen}});
  }
  json dispositions = json::array();
  dispositions.push_back(
      {{"value", ""}, {"label", "as triage decides"}, {"selected", !r.then.disposition}});
  for (auto d : kDispositions)
    dispositions.push_back(
        {{"value", to_string(d)}, {"label", label(d)}, {"selected", r.then.disposition == d}});
  json weekdays = json::array();
  for (int d = 0; d < 7; ++d)
    weekdays.push_back({{"value", kDays[d]}, {"checked", has(w.weekdays, d)}});
  json replies = json::array();
  replies.push_back({{"value", ""}, {"label", "no answer"}, {"selected", r.then.reply.empty()}});
  bool reply_listed = r.then.reply.empty();
  for (const auto& t : templates) {
    replies.push_back({{"value", t}, {"label", t}, {"selected", t == r.then.reply}});
    reply_listed = reply_listed || t == r.then.reply;
  }
  if (!reply_listed)  // a template since deleted (a built-in one answers): still shown
    replies.push_back({{"value", r.then.reply}, {"label", r.then.reply}, {"selected", true}});

  std::string hours;
  if (w.hour_from || w.hour_to)
    hours = std::to_string(w.hour_from.value_or(0)) + "-" + std::to_string(w.hour_to.value_or(24));
  const triage::HeaderCondition header =
      w.headers.empty() ? triage::HeaderCondition{} : w.headers[0];
  return json{{"is_new", rule == nullptr},
              {"name", rule ? r.name : std::string("New rule")},
              {"enabled", r.enabled},
              {"from", joined(w.from)},
              {"domains", joined(w.domains)},
              {"subject", joined(w.subject_words)},
              {"words", joined(w.words)},
              {"relationships", relationships},
              {"categories", categories},
              {"score_above", score_text(w.spam_score_min)},
              {"score_below", score_text(w.spam_score_max)},
              {"hours", hours},
              {"weekdays", weekdays},
              {"header_name", header.name},
              {"header_contains", header.contains},
              {"dispositions", dispositions},
              {"then_categories", then_categories},
              {"then_labels", joined(r.then.labels)},
              {"let_through", r.then.let_through},
              {"replies", replies},
              // More than one header condition: the form shows one, so it would drop the rest.
              {"fits", w.headers.size() <= 1}};
}

bool is_rule_form(const std::map<std::string, std::string>& fields) {
  return fields.count("rule") == 0 && fields.count("name") > 0;
}

Result<std::string> rule_json_from_form(const std::map<std::string, std::string>& f) {
  json when = json::object(), then = json::object();
  auto list = [&](const char* from, const char* key) {
    auto v = list_of(field(f, from));
    if (!v.empty()) when[key] = v;
  };
  list("from", "from");
  list("domains", "domain");
  list("subject", "subject");
  list("words", "words");
  json rels = json::array(), cats = json::array(), days = json::array();
  for (auto rel : kRelationships)
    if (checked(f, "rel_" + std::string(to_string(rel)))) rels.push_back(to_string(rel));
  for (int i = 0; i < kCategoryCount; ++i)
    if (checked(f, "cat_" + std::string(to_string(static_cast<Category>(i)))))
      cats.push_back(to_string(static_cast<Category>(i)));
  for (auto d : kDays)
    if (checked(f, "day_" + std::string(d))) days.push_back(d);
  if (!rels.empty()) when["relationship"] = rels;
  if (!cats.empty()) when["category"] = cats;
  if (!days.empty()) when["weekdays"] = days;
  for (const char* key : {"score_above", "score_below"}) {
    const std::string text = trim(field(f, key));
    if (text.empty()) continue;
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0')
      return make_error(Errc::invalid_input,
                        std::string(key) + " must be a number from 0 to 1, not '" + text + "'");
    when[key] = v;
  }
  if (auto h = list_of(field(f, "hours")); !h.empty()) when["hours"] = h.front();
  if (auto name = list_of(field(f, "header_name")); !name.empty())
    when["header"] = {{name.front(), field(f, "header_contains")}};
  if (auto d = field(f, "then_disposition"); !d.empty()) then["disposition"] = d;
  if (auto c = field(f, "then_category"); !c.empty()) then["category"] = c;
  if (auto labels = list_of(field(f, "then_labels")); !labels.empty()) then["label"] = labels;
  if (checked(f, "then_let_through")) then["let_through"] = true;
  if (auto reply = field(f, "then_reply"); !reply.empty()) then["reply"] = reply;
  const std::string name = trim(field(f, "name"));
  if (name.empty()) return make_error(Errc::invalid_input, "a rule needs a name");
  return json{{"name", name}, {"enabled", checked(f, "enabled")}, {"when", when}, {"then", then}}
      .dump();
}

}  // namespace sk::web
