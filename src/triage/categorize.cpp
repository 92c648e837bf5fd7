#include "triage/categorize.hpp"

#include "triage/features.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace sk::triage {
namespace {

struct Cue {
  std::string_view phrase;  // lower case; matched on word boundaries
  double weight;
};

constexpr Cue kOutreach[] = {
    {"quick call", 2},
    {"15 minutes", 1.5},
    {"15-minute", 1.5},
    {"hop on a call", 2},
    {"i came across", 2},
    {"i noticed your", 1.5},
    {"reaching out", 1.5},
    {"reach out", 1},
    {"partnership", 1},
    {"would love to", 1},
    {"our agency", 1.5},
    {"our platform", 1.5},
    {"book a demo", 2},
    {"schedule a demo", 2},
    {"following up on my", 1.5},
    {"touch base", 1},
    {"help you grow", 2},
    {"grow your business", 2},
    {"increase your", 1},
    {"leads", 1},
    {"seo", 1.5},
    {"lead generation", 2},
    {"decision maker", 1.5},
    {"are you the right person", 2},
    {"free trial", 1},
    {"case study", 1},
    {"roi", 1},
    {"web design", 1},
    {"outsourcing", 1.5},
    {"offshore", 1},
};
constexpr Cue kScheduling[] = {
    {"meeting", 1.5},   {"schedule", 1.5},    {"reschedule", 2},      {"availability", 1.5},
    {"available", 1},   {"calendar", 1},      {"appointment", 2},     {"book a time", 2},
    {"free on", 1.5},   {"time to meet", 2},  {"call on", 1},         {"this week", 0.5},
    {"next week", 0.5}, {"tomorrow at", 1.5}, {"works for you", 1.5}, {"invitation", 1},
    {"zoom", 1},        {"google meet", 1.5}, {"lunch", 0.5},         {"monday", 0.5},
    {"tuesday", 0.5},   {"wednesday", 0.5},   {"thursday", 0.5},      {"friday", 0.5},
};
constexpr Cue kBilling[] = {
    {"invoice", 2.5},      {"receipt", 2},     {"payment", 1.5},    {"paid", 1},
    {"amount due", 2.5},   {"billing", 2},     {"subscription", 1}, {"renewal", 1.5},
    {"order number", 1.5}, {"statement", 1},   {"past due", 2.5},   {"overdue", 2},
    {"purchase order", 2}, {"quote", 1},       {"remittance", 2},   {"balance", 1},
    {"charged", 1.5},      {"credit card", 1}, {"vat", 1},          {"net 30", 2},
};
constexpr Cue kSupport[] = {
    {"help", 1},           {"problem", 1.5},        {"issue", 1},     {"not working", 2.5},
    {"doesn't work", 2.5}, {"does not work", 2.5},  {"error", 1},     {"broken", 1.5},
    {"refund", 2},         {"can't", 0.5},          {"cannot", 0.5},  {"how do i", 2},
    {"how can i", 1.5},    {"question about", 1.5}, {"my order", 2},  {"support", 1},
    {"return", 0.5},       {"warranty", 1.5},       {"complaint", 2}, {"still waiting", 1.5},
    {"my account", 1.5},   {"password", 1},         {"login", 1},     {"bug", 1},
};
constexpr Cue kPersonal[] = {
    {"mom", 1.5},     {"dad", 1.5},           {"love", 0.5},   {"dinner", 1},    {"birthday", 1.5},
    {"weekend", 0.5}, {"family", 1},          {"kids", 1},     {"wedding", 1.5}, {"vacation", 1},
    {"party", 0.5},   {"congratulations", 1}, {"miss you", 2}, {"hugs", 2},
};
constexpr Cue kNewsletter[] = {
    {"unsubscribe", 2},
    {"view this email in your browser", 2.5},
    {"newsletter", 2},
    {"mailing list", 1.5},
    {"manage your preferences", 2},
    {"update your preferences", 2},
    {"this week's", 1},
    {"digest", 1},
    {"webinar", 1},
    {"you are receiving this", 2.5},
    {"you received this", 2},
    {"opt out", 1.5},
};

// A piece of evidence, put in words only if it is among the few a guess shows: most are not.
// The parts are literals, cue phrases or strings that outlive the guess's making.
struct Hit {
  double weight;
  std::string_view before, middle, after;

  std::string words() const {
    std::string s;
    s.reserve(before.size() + middle.size() + after.size());
    return s.append(before).append(middle).append(after);
  }
};

// The watched phrases an item has (a few dozen at most), with a bit per value of eight bits of
// their hashes (bits 1-8: bit 0 is always set): most of the ~300 cues are in no item, and a
// bit says so without a search.
class FoundPhrases {
 public:
  explicit FoundPhrases(const std::vector<std::uint64_t>& list) : list_(list) {
    for (std::uint64_t h : list) bits_[(h >> 7) & 3] |= std::uint64_t{1} << ((h >> 1) & 63);
  }
  bool contains(std::uint64_t h) const {
    return ((bits_[(h >> 7) & 3] >> ((h >> 1) & 63)) & 1) &&
           std::find(list_.begin(), list_.end(), h) != list_.end();
  }

 private:
  const std::vector<std::uint64_t>& list_;
  std::array<std::uint64_t, 4> bits_{};
};

// One instantiation per cue table (the table is the template argument), so each table's
// hashes are computed once; they are constant, so sharing them is safe.
template <const auto& cues>
double score_cues(const FoundPhrases& phrases, std::vector<Hit>& hits) {
  constexpr std::size_t N = std::size(cues);
  static const std::array<std::uint64_t, N> hashes = [] {
    std::array<std::uint64_t, N> h{};
    for (std::size_t i = 0; i < N; ++i) h[i] = phrase_hash(cues[i].phrase);
    return h;
  }();
  double s = 0;
  for (std::size_t i = 0; i < N; ++i) {
    if (!phrases.contains(hashes[i])) continue;
    s += cues[i].weight;
    hits.push_back({cues[i].weight, "mentions '", cues[i].phrase, "'"});
  }
  return s;
}

template <const auto& cues>
void add_phrases(std::vector<std::string_view>& out) {
  for (const auto& c : cues) out.push_back(c.phrase);
}

}  // namespace

const PhraseSet& category_cues() {
  static const PhraseSet set = [] {
    std::vector<std::string_view> all;
    add_phrases<kOutreach>(all);
    add_phrases<kScheduling>(all);
    add_phrases<kBilling>(all);
    add_phrases<kSupport>(all);
    add_phrases<kPersonal>(all);
    add_phrases<kNewsletter>(all);
    return PhraseSet(all);
  }();
  return set;
}

bool is_bulk(const Item& item, std::string* why) {
  auto say = [&](std::string s) {
    if (why) *why = std::move(s);
    return true;
  };
  if (const auto* v = item.header("auto-submitted"); v && lower(*v).rfind("no", 0) != 0)
    return say("Auto-Submitted: " + *v);
  if (const auto* v = item.header("precedence")) {
    std::string p = lower(*v);
    if (p.find("bulk") != std::string::npos || p.find("list") != std::string::npos ||
        p.find("junk") != std::string::npos)
      return say("Precedence: " + *v);
  }
  if (item.header("list-unsubscribe")) return say("it has a List-Unsubscribe header");
  if (item.header("list-id")) return say("it has a List-Id header");
  if (item.header("x-mailing-list") || item.header("mailing-list"))
    return say("it comes from a mailing list");
  return false;
}

CategoryGuess categorize(const CategoryContext& ctx) {
  const Item& item = ctx.item;
  const FoundPhrases phrases(ctx.phrases);

  std::array<double, kCategoryCount> score{};
  std::array<std::vector<Hit>, kCategoryCount> hits;
  auto add = [&](Category c, double w, std::string_view why, std::string_view more = {}) {
    score[static_cast<int>(c)] += w;
    hits[static_cast<int>(c)].push_back({w, why, more, {}});
  };

  // Who it is from says the most.
  switch (ctx.party.relationship) {
    case Relationship::team:
      add(Category::team, 6, "the sender is on the client's team");
      break;
    case Relationship::family:
      add(Category::personal, 6, "the sender is family");
      break;
    case Relationship::customer:
      add(Category::support, 2, "the sender is a customer");
      break;
    case Relationship::vendor:
      add(Category::billing, 3, "the sender is a vendor");
      break;
    default:
      break;
  }
  std::string domain = domain_of(item.from_address);
  if (!domain.empty() && std::find(ctx.client_domains.begin(), ctx.client_domains.end(), domain) !=
                             ctx.client_domains.end())
    add(Category::team, 4, "the sender writes from the client's own domain ", domain);

  std::string bulk_why;
  if (is_bulk(item, &bulk_why)) add(Category::newsletter, 4, bulk_why);
  for (const auto& a : item.attachments) {
    std::string t = lower(a.content_type);
    if (t.find("text/calendar") != std::string::npos || lower(a.filename).ends_with(".ics"))
      add(Category::scheduling, 4, "it carries a calendar invitation");
    if (lower(a.filename).find("invoice") != std::string::npos)
      add(Category::billing, 3, "it has an invoice attached");
  }

  auto& outreach_hits = hits[static_cast<int>(Category::cold_outreach)];
  score[static_cast<int>(Category::cold_outreach)] += score_cues<kOutreach>(phrases, outreach_hits);
  if (score[static_cast<int>(Category::cold_outreach)] > 0 && ctx.party.items_let_in == 0 &&
      ctx.party.relationship == Relationship::unknown)
    add(Category::cold_outreach, 1, "the sender has never written before");
  score[static_cast<int>(Category::scheduling)] +=
      score_cues<kScheduling>(phrases, hits[static_cast<int>(Category::scheduling)]);
  score[static_cast<int>(Category::billing)] +=
      score_cues<kBilling>(phrases, hits[static_cast<int>(Category::billing)]);
  score[static_cast<int>(Category::support)] +=
      score_cues<kSupport>(phrases, hits[static_cast<int>(Category::support)]);
  score[static_cast<int>(Category::personal)] +=
      score_cues<kPersonal>(phrases, hits[static_cast<int>(Category::personal)]);
  score[static_cast<int>(Category::newsletter)] +=
      score_cues<kNewsletter>(phrases, hits[static_cast<int>(Category::newsletter)]);

  // "Other" wins unless some kind has clear evidence.
  score[static_cast<int>(Category::other)] = 2.5;
  int best = static_cast<int>(Category::other);
  double total = 0;
  for (int c = 1; c < kCategoryCount; ++c) {
    total += score[c];
    if (score[c] > score[best]) best = c;
  }
  CategoryGuess g;
  g.category = static_cast<Category>(best);
  g.confidence = total > 0 ? score[best] / total : 0;
  auto& h = hits[best];
  std::stable_sort(h.begin(), h.end(),
                   [](const Hit& a, const Hit& b) { return a.weight > b.weight; });
  for (std::size_t i = 0; i < h.size() && i < 3; ++i) g.evidence.push_back(h[i].words());
  return g;
}

}  // namespace sk::triage
