#include "triage/spam_model.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace sk::triage {
namespace {

// The weights are indexed by hashed features: a model is only good for the features that made
// them, and the format's number changes with them (03: tokens hashed 8 bytes at a time and mixed
// with one multiplication; 04: Received headers read for the sending side only, hops counted
// without the local ones, delivery headers left out).
constexpr char kMagic[8] = {'S', 'K', 'S', 'P', 'A', 'M', '0', '4'};

inline double sigmoid(double z) {
  return 1.0 / (1.0 + std::exp(-z));
}

// splitmix64: a tiny deterministic generator for shuffling.
std::uint64_t next_random(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

SpamModel::SpamModel()
    : weights_(std::size_t{1} << kFeatureBits, 0.0f), heavy_bits_(weights_.size() / 64, 0) {}

double SpamModel::logit(const std::vector<std::uint32_t>& ids) const {
  // Features are scaled by 1/sqrt(n): a long message is not more certain for being long.
  double z = 0;
  for (auto id : ids) z += weights_[id];
  return ids.empty() ? 0 : z / std::sqrt(static_cast<double>(ids.size()));
}

double SpamModel::score(const std::vector<std::uint32_t>& ids) const {
  return sigmoid(logit(ids));
}

SpamModel SpamModel::train(const std::vector<LabelledFeatures>& examples,
                           const TrainOptions& options) {
  // Several passes in different orders, averaged: the logit is linear in the weights, so the
  // average model scores as the average of the models (a free ensemble), and is steadier.
  if (options.orders > 1) {
    SpamModel avg;
    TrainOptions one = options;
    one.orders = 1;
    for (int k = 0; k < options.orders; ++k) {
      one.seed = options.seed + static_cast<std::uint64_t>(k) * 7919;
      SpamModel m = train(examples, one);
      for (std::size_t i = 0; i < avg.weights_.size(); ++i)
        avg.weights_[i] += m.weights_[i] / static_cast<float>(options.orders);
    }
    avg.trained_examples_ = examples.size();
    avg.find_heavy_weight();
    return avg;
  }
  SpamModel m;
  // Adagrad: rare tokens keep a large step, common ones settle; suits sparse text features.
  std::vector<float> g2(m.weights_.size(), 0.0f);
  std::vector<std::size_t> order(examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::uint64_t rng = options.seed;
  for (int epoch = 0; epoch < options.epochs; ++epoch) {
    for (std::size_t i = order.size(); i > 1; --i)
      std::swap(order[i - 1], order[next_random(rng) % i]);
    for (std::size_t idx : order) {
      const auto& ex = examples[idx];
      double p = m.score(ex.ids);
      double grad = p - (ex.spam ? 1.0 : 0.0);
      double x = ex.ids.empty() ? 0 : 1.0 / std::sqrt(static_cast<double>(ex.ids.size()));
      for (auto id : ex.ids) {
        double g = grad * x + options.l2 * m.weights_[id];
        g2[id] += static_cast<float>(g * g);
        m.weights_[id] -=
            static_cast<float>(options.learning_rate * g / (std::sqrt(g2[id]) + 1e-6));
      }
    }
  }
  m.trained_examples_ = examples.size();
  m.find_heavy_weight();
  return m;
}

SpamModel SpamModel::train_calibrated(const std::vector<LabelledFeatures>& examples,
                                      const TrainOptions& options, int folds, double ham_cost) {
  std::vector<std::pair<double, bool>> oof;  // (score, spam) for every example, unseen
  oof.reserve(examples.size());
  for (int f = 0; f < folds; ++f) {
    std::vector<LabelledFeatures> part;
    part.reserve(examples.size());
    for (std::size_t i = 0; i < examples.size(); ++i)
      if (static_cast<int>(i % static_cast<std::size_t>(folds)) != f) part.push_back(examples[i]);
    // Trained as the final model is (averaged over as many orders): a single order's scores
    // spread wider, and a threshold chosen on them did not fit the average's.
    SpamModel m = train(part, options);
    for (std::size_t i = static_cast<std::size_t>(f); i < examples.size();
         i += static_cast<std::size_t>(folds))
      oof.emplace_back(m.score(examples[i].ids), examples[i].spam);
  }
  SpamModel m = train(examples, options);
  m.threshold_ = threshold_for(std::move(oof), ham_cost);
  return m;
}

double SpamModel::threshold_for(std::vector<std::pair<double, bool>> oof, double ham_cost) {
  std::sort(oof.begin(), oof.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  // Walk the threshold down from the top; flagged = everything above it. costs[k]: the cost of
  // the k-th threshold, thresholds[k] (the first flags nothing).
  std::size_t spam_total = 0;
  for (const auto& [s, spam] : oof) spam_total += spam ? 1 : 0;
  std::vector<double> costs{static_cast<double>(spam_total)}, thresholds{1.0};
  std::size_t fp = 0, tp = 0;
  for (std::size_t i = 0; i < oof.size(); ++i) {
    (oof[i].second ? tp : fp) += 1;
    if (i + 1 < oof.size() && oof[i + 1].first == oof[i].first) continue;
    costs.push_back(ham_cost * static_cast<double>(fp) + static_cast<double>(spam_total - tp));
    thresholds.push_back(i + 1 < oof.size() ? (oof[i].first + oof[i + 1].first) / 2 : oof[i].first);
  }
  // The lowest threshold whose cost is within counting noise of the least (the square root of
  // a count of errors is its standard error). The cost is flat over a wide range, one ham fewer
  // for two spams more, and its lowest point wandered from 0.3 to 0.8 between two models that
  // rank alike; new spam drifts below what the training spam scored, while the hams that score
  // high do so for good (commercial mail): of thresholds as good, the lowest.
  const double least = *std::min_element(costs.begin(), costs.end());
  double best_threshold = 1.0;
  for (std::size_t k = 0; k < costs.size(); ++k)
    if (costs[k] <= least + std::sqrt(least)) best_threshold = thresholds[k];
  return best_threshold;
}

void SpamModel::find_heavy_weight() {
  std::vector<float> positive;
  for (float w : weights_)
    if (w > 0) positive.push_back(w);
  if (!positive.empty()) {
    auto k = positive.size() - 1 - positive.size() * 3 / 100;
    std::nth_element(positive.begin(), positive.begin() + static_cast<std::ptrdiff_t>(k),
                     positive.end());
    heavy_ = positive[k];
  }
  std::fill(heavy_bits_.begin(), heavy_bits_.end(), 0);
  for (std::size_t i = 0; i < weights_.size(); ++i)
    if (weights_[i] >= heavy_) heavy_bits_[i >> 6] |= std::uint64_t{1} << (i & 63);
}

std::vector<Contribution> SpamModel::explain(const FeatureSet& fs, std::size_t top) const {
  // Ranked by reference and named only for the top: a spam verdict names four of dozens.
  struct Ranked {
    std::size_t index;
    double weight;
  };
  std::vector<Ranked> ranked;
  const bool all_named = !fs.names.empty();
  if (all_named) {
    ranked.reserve(fs.names.size());
    for (std::size_t i = 0; i < fs.ids.size() && i < fs.names.size(); ++i) {
      double w = weights_[fs.ids[i]];
      if (w == 0 || fs.names[i].empty() || fs.names[i].starts_with("bias")) continue;
      ranked.push_back({i, w});
    }
  } else {  // extraction names no bias as evidence
    ranked.reserve(fs.spam_evidence.size());
    for (std::size_t i = 0; i < fs.spam_evidence.size(); ++i)
      if (double w = weights_[fs.spam_evidence.id(i)]; w != 0) ranked.push_back({i, w});
  }
  const auto shown = ranked.begin() + static_cast<std::ptrdiff_t>(std::min(top, ranked.size()));
  std::partial_sort(ranked.begin(), shown, ranked.end(), [](const Ranked& a, const Ranked& b) {
    return std::abs(a.weight) > std::abs(b.weight);
  });
  std::vector<Contribution> out;
  for (auto r = ranked.begin(); r != shown; ++r)
    out.push_back({all_named ? fs.names[r->index] : fs.spam_evidence.name(r->index), r->weight});
  return out;
}

std::string SpamModel::serialize() const {
  // Sparse: most of the 2^20 slots stay zero.
  std::string out(kMagic, sizeof kMagic);
  auto put = [&](const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); };
  std::uint64_t examples = trained_examples_;
  put(&examples, sizeof examples);
  put(&threshold_, sizeof threshold_);
  std::uint32_t bits = kFeatureBits;
  put(&bits, sizeof bits);
  std::uint32_t count = 0;
  for (float w : weights_)
    if (w != 0) ++count;
  put(&count, sizeof count);
  for (std::uint32_t i = 0; i < weights_.size(); ++i) {
    if (weights_[i] == 0) continue;
    put(&i, sizeof i);
    put(&weights_[i], sizeof(float));
  }
  return out;
}

bool SpamModel::outdated(std::string_view bytes) {
  // The same format with an earlier number: "SKSPAM" and two digits below ours.
  constexpr std::size_t kStem = sizeof kMagic - 2;
  return bytes.size() >= sizeof kMagic && std::memcmp(bytes.data(), kMagic, kStem) == 0 &&
         std::string_view(bytes.data() + kStem, 2) < std::string_view(kMagic + kStem, 2);
}

Result<SpamModel> SpamModel::deserialize(std::string_view bytes) {
  auto bad = [](const char* why) {
    return make_error(Errc::parse, std::string("model file is not usable: ") + why);
  };
  if (outdated(bytes))
    return make_error(Errc::conflict,
                      "model file was trained by an earlier Sidekick, which read mail into "
                      "features otherwise: train it again (`sidekick model train`)");
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    return bad("wrong format");
  std::size_t pos = sizeof kMagic;
  auto get = [&](void* p, std::size_t n) {
    if (pos + n > bytes.size()) return false;
    std::memcpy(p, bytes.data() + pos, n);
    pos += n;
    return true;
  };
  SpamModel m;
  std::uint64_t examples = 0;
  std::uint32_t bits = 0, count = 0;
  if (!get(&examples, sizeof examples) || !get(&m.threshold_, sizeof m.threshold_) ||
      !get(&bits, sizeof bits) || !get(&count, sizeof count))
    return bad("truncated header");
  if (bits != kFeatureBits) return bad("built for a different feature size");
  for (std::uint32_t k = 0; k < count; ++k) {
    std::uint32_t i = 0;
    float w = 0;
    if (!get(&i, sizeof i) || !get(&w, sizeof w)) return bad("truncated weights");
    if (i >= m.weights_.size() || !std::isfinite(w)) return bad("corrupt weight");
    m.weights_[i] = w;
  }
  m.trained_examples_ = examples;
  m.find_heavy_weight();
  return m;
}

}  // namespace sk::triage
