#pragma once
// Finding the knowledge-base entry a customer's question asks about. Built once from the
// entries (questions and variants), then asked many times; cheap to copy (shared, immutable).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "support/kb.hpp"

namespace sk::support {

enum class Method {
  overlap,   // shared distinct words with the entry's closest question (the bench baseline)
  bm25,      // Xapian BM25 over every question and variant; an entry scores its best one
  linear,    // a softmax model over word, word-pair and character n-gram features
  combined,  // the linear model, with BM25 added to its scores
};

struct MatcherOptions {
  Method method = Method::combined;
  double bm25_weight = 1.0;  // combined: how much BM25 (scaled to 0..1 per question) adds
  int epochs = 12;
  double l2 = 1e-5;
  // Fit the confidence on held-out variants (every fifth of each entry that has five or
  // more), so that a threshold means "right this often". Off: the raw softmax.
  bool calibrate = true;
};

struct Suggestion {
  std::size_t entry = 0;  // index into the entries the matcher was built from
  double score = 0;       // the method's own score (higher is better)
  double confidence = 0;  // 0..1: how likely this entry is the right one
};

class Matcher {
 public:
  Matcher();
  static Result<Matcher> build(const std::vector<Entry>& entries,
                               const MatcherOptions& options = {});

  // The best `k` entries for the question, best first. An empty KB, or a question sharing
  // nothing with it, gives suggestions with confidence 0 (or none).
  std::vector<Suggestion> match(std::string_view question, std::size_t k = 3) const;

  std::size_t size() const;
  // The softmax temperature the calibration chose (1 when not calibrated).
  double temperature() const;

 private:
  struct Impl;
  std::shared_ptr<const Impl> impl_;
};

// Xapian BM25 over short texts, each belonging to a group (an entry); Xapian stays in
// xapian_index.cpp.
class Bm25Index {
 public:
  Bm25Index();
  ~Bm25Index();
  Bm25Index(Bm25Index&&) noexcept;
  Bm25Index& operator=(Bm25Index&&) noexcept;
  Result<void> add(std::size_t group, const std::string& text);
  // Up to `k` groups scored by their best text, best first.
  std::vector<std::pair<std::size_t, double>> search(std::string_view query, std::size_t k,
                                                     std::size_t depth = 100) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sk::support
