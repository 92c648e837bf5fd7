#include "core/domain.hpp"

#include <array>
#include <utility>

namespace sk {
namespace {

template <class E, std::size_t N>
std::optional<E> find_name(const std::array<std::pair<E, std::string_view>, N>& table,
                           std::string_view s) {
  for (const auto& [e, name] : table)
    if (name == s) return e;
  return std::nullopt;
}

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) {
  for (const auto& [k, name] : table)
    if (k == e) return name;
  return "?";
}

constexpr std::array<std::pair<Channel, std::string_view>, 4> kChannels{{{Channel::email, "email"},
                                                                         {Channel::sms, "sms"},
                                                                         {Channel::voice, "voice"},
                                                                         {Channel::web, "web"}}};

constexpr std::array<std::pair<Relationship, std::string_view>, 8> kRelationships{
    {{Relationship::unknown, "unknown"},
     {Relationship::vip, "vip"},
     {Relationship::family, "family"},
     {Relationship::team, "team"},
     {Relationship::customer, "customer"},
     {Relationship::vendor, "vendor"},
     {Relationship::blocked, "blocked"},
     {Relationship::protected_from, "protected-from"}}};

constexpr std::array<std::pair<Category, std::string_view>, kCategoryCount> kCategories{
    {{Category::spam, "spam"},
     {Category::cold_outreach, "cold-outreach"},
     {Category::newsletter, "newsletter"},
     {Category::support, "support"},
     {Category::scheduling, "scheduling"},
     {Category::billing, "billing"},
     {Category::team, "team"},
     {Category::personal, "personal"},
     {Category::other, "other"}}};

constexpr std::array<std::pair<Category, std::string_view>, kCategoryCount> kCategoryLabels{
    {{Category::spam, "spam"},
     {Category::cold_outreach, "cold outreach / sales pitch"},
     {Category::newsletter, "newsletter / bulk"},
     {Category::support, "support"},
     {Category::scheduling, "scheduling"},
     {Category::billing, "billing / vendor"},
     {Category::team, "team"},
     {Category::personal, "personal"},
     {Category::other, "other"}}};

constexpr std::array<std::pair<Disposition, std::string_view>, 6> kDispositions{
    {{Disposition::to_client, "to-client"},
     {Disposition::handled, "handled"},
     {Disposition::awaiting_va, "awaiting-va"},
     {Disposition::screened, "screened"},
     {Disposition::blocked, "blocked"},
     {Disposition::protected_, "protected"}}};

constexpr std::array<std::pair<Disposition, std::string_view>, 6> kDispositionLabels{
    {{Disposition::to_client, "to the client"},
     {Disposition::handled, "handled"},
     {Disposition::awaiting_va, "awaiting the VA"},
     {Disposition::screened, "screened"},
     {Disposition::blocked, "blocked"},
     {Disposition::protected_, "protected"}}};

constexpr std::array<std::pair<Delegation, std::string_view>, 4> kDelegations{
    {{Delegation::auto_, "auto"},
     {Delegation::draft, "draft"},
     {Delegation::notify, "notify"},
     {Delegation::silent, "silent"}}};

constexpr std::array<std::pair<ParseStatus, std::string_view>, 3> kParseStatuses{
    {{ParseStatus::ok, "ok"},
     {ParseStatus::repaired, "repaired"},
     {ParseStatus::unreadable, "unreadable"}}};

constexpr std::array<std::pair<EffectKind, std::string_view>, 7> kEffectKinds{
    {{EffectKind::move_to_folder, "move"},
     {EffectKind::flag, "flag"},
     {EffectKind::notify_va, "notify-va"},
     {EffectKind::notify_client, "notify-client"},
     {EffectKind::record_evidence, "record-evidence"},
     {EffectKind::label, "label"},
     {EffectKind::reply, "reply"}}};

}  // namespace

std::string_view to_string(Channel c) {
  return name_of(kChannels, c);
}
std::string_view to_string(Relationship r) {
  return name_of(kRelationships, r);
}
std::string_view to_string(Category c) {
  return name_of(kCategories, c);
}
std::string_view to_string(Disposition d) {
  return name_of(kDispositions, d);
}
std::string_view to_string(Delegation d) {
  return name_of(kDelegations, d);
}
std::string_view to_string(ParseStatus s) {
  return name_of(kParseStatuses, s);
}
std::string_view to_string(EffectKind k) {
  return name_of(kEffectKinds, k);
}
std::string_view label(Category c) {
  return name_of(kCategoryLabels, c);
}
std::string_view label(Disposition d) {
  return name_of(kDispositionLabels, d);
}

std::optional<Channel> channel_from(std::string_view s) {
  return find_name(kChannels, s);
}
std::optional<Relationship> relationship_from(std::string_view s) {
  if (s == "protected_from" || s == "protected") return Relationship::protected_from;
  return find_name(kRelationships, s);
}
std::optional<Category> category_from(std::string_view s) {
  if (s == "cold_outreach" || s == "sales" || s == "pitch") return Category::cold_outreach;
  if (s == "bulk") return Category::newsletter;
  if (s == "vendor") return Category::billing;
  return find_name(kCategories, s);
}
std::optional<Disposition> disposition_from(std::string_view s) {
  if (s == "to_client") return Disposition::to_client;
  if (s == "awaiting_va") return Disposition::awaiting_va;
  return find_name(kDispositions, s);
}
std::optional<Delegation> delegation_from(std::string_view s) {
  return find_name(kDelegations, s);
}
std::optional<ParseStatus> parse_status_from(std::string_view s) {
  return find_name(kParseStatuses, s);
}
std::optional<EffectKind> effect_kind_from(std::string_view s) {
  return find_name(kEffectKinds, s);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string domain_of(std::string_view address) {
  auto at = address.rfind('@');
  if (at == std::string_view::npos) return {};
  return lower(address.substr(at + 1));
}

std::string join_addresses(const std::vector<std::string>& addresses) {
  std::string out;
  for (const auto& a : addresses) out += (out.empty() ? "" : ", ") + a;
  return out;
}

std::vector<std::string> addresses_in(std::string_view v) {
  std::vector<std::string> out;
  std::string entry;
  bool quoted = false;
  int paren = 0, angle = 0;
  auto finish = [&] {
    std::string_view e = entry;
    if (auto lt = e.rfind('<'); lt != std::string_view::npos) {
      e.remove_prefix(lt + 1);
      e = e.substr(0, e.find('>'));
    }
    while (!e.empty() && (e.front() == ' ' || e.front() == '\t')) e.remove_prefix(1);
    while (!e.empty() && (e.back() == ' ' || e.back() == '\t')) e.remove_suffix(1);
    if (e.find('@') != std::string_view::npos) out.push_back(lower(e));
    entry.clear();
  };
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
      continue;
    }
    if (paren > 0) {
      paren += c == '(' ? 1 : c == ')' ? -1 : 0;
      continue;
    }
    if (c == '"')
      quoted = true;
    else if (c == '(')
      ++paren;
    else if ((c == ',' || c == ';') && angle == 0)
      finish();
    else {
      if (c == '<') ++angle;
      if (c == '>' && angle > 0) --angle;
      entry += c;
    }
  }
  finish();
  return out;
}

// The local part, lower-cased, without a "+tag" (bounces+123@ is still bounces@).
const std::string* Item::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h.value;
  return nullptr;
}

}  // namespace sk
