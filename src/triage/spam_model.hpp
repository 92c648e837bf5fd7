#pragma once
// The spam classifier: logistic regression over hashed features, trained offline on a
// labelled corpus. Scoring is a sum of weights: a few hundred memory reads per message.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "triage/features.hpp"

namespace sk::triage {

struct LabelledFeatures {
  std::vector<std::uint32_t> ids;
  bool spam = false;
};

struct TrainOptions {
  int epochs = 12;
  double learning_rate = 0.5;
  double l2 = 1e-6;
  std::uint64_t seed = 42;  // shuffling order; fixed so a model is reproducible
  int orders = 5;           // models trained in different orders and averaged
};

struct Contribution {
  std::string feature;  // readable name
  double weight = 0;    // > 0 pushes toward spam
};

class SpamModel {
 public:
  SpamModel();

  static SpamModel train(const std::vector<LabelledFeatures>& examples,
                         const TrainOptions& options = {});
  // Trains on everything, and sets the threshold from out-of-fold scores (k-fold cross
  // validation) so that a false positive costs as much as `ham_cost` missed spams.
  static SpamModel train_calibrated(const std::vector<LabelledFeatures>& examples,
                                    const TrainOptions& options = {}, int folds = 5,
                                    double ham_cost = 2);

  // The threshold that scores of messages unseen in training call for, a false positive
  // costing as much as `ham_cost` missed spams: the lowest whose cost is within counting noise
  // of the least. scored: (score, spam) pairs.
  static double threshold_for(std::vector<std::pair<double, bool>> scored, double ham_cost);

  // Probability that the message is spam, 0..1.
  double score(const std::vector<std::uint32_t>& ids) const;
  // Raw log-odds; score() is its logistic.
  double logit(const std::vector<std::uint32_t>& ids) const;
  // Whether one feature alone pulls hard toward spam (worth naming to a VA).
  bool heavy_toward_spam(std::uint32_t id) const { return (heavy_bits_[id >> 6] >> (id & 63)) & 1; }

  // Starts reading a feature's weight into the cache, for a score() or logit() soon after: the
  // 4 MiB of weights are read at random, and extraction has other work to overlap the wait.
  void prefetch(std::uint32_t id) const { __builtin_prefetch(&weights_[id]); }

  // The named features with the largest pull either way, strongest first.
  std::vector<Contribution> explain(const FeatureSet& fs, std::size_t top) const;

  // The score above which a message is called spam. Chosen at training time to keep ham
  // false positives rare; a client's policy may override it.
  double threshold() const { return threshold_; }
  void set_threshold(double t) { threshold_ = t; }
  bool empty() const { return trained_examples_ == 0; }
  std::size_t trained_examples() const { return trained_examples_; }

  std::string serialize() const;
  // Errc::conflict for a model an earlier version wrote (see outdated), parse for anything else
  // that is not a model.
  static Result<SpamModel> deserialize(std::string_view bytes);
  // Whether `bytes` are a model in an earlier format: its weights are for features hashed
  // otherwise, and it must be trained again.
  static bool outdated(std::string_view bytes);

 private:
  // Sets heavy_: the weight the strongest 3% of spam-leaning features reach, and heavy_bits_.
  void find_heavy_weight();

  std::vector<float> weights_;
  float heavy_ = 1.0f;
  // Bit i: weights_[i] >= heavy_. Extraction asks for every feature of a message; 128 KiB stay
  // in cache where the 4 MiB of weights do not.
  std::vector<std::uint64_t> heavy_bits_;
  double threshold_ = 0.5;
  std::size_t trained_examples_ = 0;
};

}  // namespace sk::triage
