#include "support/matcher.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "support/text.hpp"

namespace sk::support {
namespace {

std::uint64_t fnv(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

enum Block : std::uint64_t { kWord = 1, kPair = 2, kChar = 3 };

std::uint64_t feature_id(Block b, std::string_view s) {
  return fnv(s, 1469598103934665603ull ^ (b * 0x9E3779B97F4A7C15ull));
}

// A text's raw features: (id, block) with their counts.
struct RawFeatures {
  std::unordered_map<std::uint64_t, std::pair<int, Block>> counts;
  std::vector<std::string> stems;
  std::vector<std::string> words;
};

RawFeatures raw_features(std::string_view text) {
  RawFeatures r;
  r.words = support::words(text);
  auto add = [&](Block b, std::string_view s) {
    auto& slot = r.counts[feature_id(b, s)];
    ++slot.first;
    slot.second = b;
  };
  r.stems.reserve(r.words.size());
  for (const auto& w : r.words) {
    r.stems.push_back(stem(w));
    add(kWord, r.stems.back());
  }
  for (std::size_t i = 0; i + 1 < r.stems.size(); ++i)
    add(kPair, r.stems[i] + " " + r.stems[i + 1]);
  // Character 3- to 5-grams inside each word (with its edges marked) catch typos and forms
  // the stemmer does not join ("recieve", "verification" / "verify").
  for (const auto& w : r.words) {
    std::string p = " " + w + " ";
    for (std::size_t n = 3; n <= 5; ++n)
      for (std::size_t i = 0; i + n <= p.size(); ++i) add(kChar, std::string_view(p).substr(i, n));
  }
  return r;
}

struct SparseVec {
  std::vector<std::uint32_t> idx;
  std::vector<float> val;
  bool has_word = false;  // shares at least one word with the KB
};

// Linear softmax model over TF-IDF features, features indexed densely.
struct Linear {
  std::size_t classes = 0;
  std::vector<float> w;  // feature-major: w[f * classes + c]
  std::vector<float> b;

  void logits(const SparseVec& x, std::vector<double>& z) const {
    z.assign(b.begin(), b.end());
    for (std::size_t k = 0; k < x.idx.size(); ++k) {
      const float* row = &w[static_cast<std::size_t>(x.idx[k]) * classes];
      float v = x.val[k];
      for (std::size_t c = 0; c < classes; ++c) z[c] += v * row[c];
    }
  }
};

void softmax(std::vector<double>& z, double t) {
  double m = *std::max_element(z.begin(), z.end());
  double sum = 0;
  for (auto& v : z) {
    v = std::exp((v - m) / t);
    sum += v;
  }
  for (auto& v : z) v /= sum;
}

Linear train_linear(const std::vector<SparseVec>& xs, const std::vector<std::size_t>& ys,
                    std::size_t features, std::size_t classes, const MatcherOptions& o) {
  Linear m;
  m.classes = classes;
  m.w.assign(features * classes, 0.f);
  m.b.assign(classes, 0.f);
  std::vector<std::size_t> order(xs.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(42);  // the same KB always trains the same model
  double scale = 1;      // w_true = scale * w: L2 decay without touching every weight
  const double eta0 = 0.5;
  std::size_t t = 0;
  std::vector<double> z(classes);
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
    for (std::size_t n : order) {
      const SparseVec& x = xs[n];
      double eta = eta0 / (1 + eta0 * o.l2 * static_cast<double>(t++) * 50);
      // logits with the current scale
      z.assign(m.b.begin(), m.b.end());
      for (std::size_t k = 0; k < x.idx.size(); ++k) {
        const float* row = &m.w[static_cast<std::size_t>(x.idx[k]) * classes];
        double v = x.val[k] * scale;
        for (std::size_t c = 0; c < classes; ++c) z[c] += v * row[c];
      }
      softmax(z, 1);
      z[ys[n]] -= 1;  // gradient of the log loss: p - y
      scale *= (1 - eta * o.l2);
      double step = eta / scale;
      for (std::size_t k = 0; k < x.idx.size(); ++k) {
        float* row = &m.w[static_cast<std::size_t>(x.idx[k]) * classes];
        double v = x.val[k] * step;
        for (std::size_t c = 0; c < classes; ++c)
          if (z[c] > 1e-7 || z[c] < -1e-7) row[c] -= static_cast<float>(v * z[c]);
      }
      for (std::size_t c = 0; c < classes; ++c) m.b[c] -= static_cast<float>(eta * z[c] * 0.1);
      if (scale < 1e-3) {
        for (auto& v : m.w) v = static_cast<float>(v * scale);
        scale = 1;
      }
    }
  }
  for (auto& v : m.w) v = static_cast<float>(v * scale);
  return m;
}

// Everything learnt from one set of texts: the feature dictionary, idf, and the models.
struct Model {
  Method method = Method::combined;
  double bm25_weight = 1;
  std::size_t classes = 0;
  std::unordered_map<std::uint64_t, std::uint32_t> index;  // feature id → dense index
  std::vector<float> idf;
  std::vector<Block> block;
  Linear linear;
  Bm25Index bm25;
  // Content stems of each class's questions: a suggestion must share one to be trusted.
  std::vector<std::unordered_set<std::string>> content;
  // overlap: distinct words of each text, and an inverted index
  std::vector<std::size_t> text_class;
  std::vector<std::size_t> text_words;
  std::unordered_map<std::string, std::vector<std::uint32_t>> postings;

  SparseVec vectorize(const RawFeatures& r) const {
    SparseVec v;
    double norm[4] = {0, 0, 0, 0};
    for (const auto& [id, cb] : r.counts) {
      auto it = index.find(id);
      if (it == index.end()) continue;
      float x = static_cast<float>((1 + std::log(cb.first)) * idf[it->second]);
      v.idx.push_back(it->second);
      v.val.push_back(x);
      norm[cb.second] += static_cast<double>(x) * x;
      if (cb.second == kWord) v.has_word = true;
    }
    // Each block counts once, however many character n-grams a long word brings.
    for (std::size_t k = 0; k < v.idx.size(); ++k) {
      double n = norm[block[v.idx[k]]];
      if (n > 0) v.val[k] = static_cast<float>(v.val[k] / std::sqrt(n));
    }
    return v;
  }

  // One score per class (higher is better); false when the question shares nothing.
  bool scores(std::string_view question, std::vector<double>& z) const {
    RawFeatures r = raw_features(question);
    z.assign(classes, 0.0);
    if (method == Method::overlap) {
      std::unordered_set<std::string> q(r.words.begin(), r.words.end());
      std::unordered_map<std::uint32_t, int> inter;
      for (const auto& w : q) {
        auto it = postings.find(w);
        if (it == postings.end()) continue;
        for (auto t : it->second) ++inter[t];
      }
      for (const auto& [t, n] : inter) {
        double j = n / static_cast<double>(q.size() + text_words[t] - n);
        z[text_class[t]] = std::max(z[text_class[t]], j);
      }
      return !inter.empty();
    }
    bool any = false;
    if (method == Method::linear || method == Method::combined) {
      SparseVec v = vectorize(r);
      linear.logits(v, z);
      any = v.has_word;
    }
    if (method == Method::bm25 || method == Method::combined) {
      auto hits = bm25.search(question, classes);
      double top = hits.empty() ? 0 : hits.front().second;
      double w = method == Method::bm25 ? 1 : bm25_weight;
      for (const auto& [c, s] : hits) z[c] += w * (method == Method::bm25 ? s : s / top);
      any = any || !hits.empty();
    }
    return any;
  }
};

Result<std::unique_ptr<Model>> train(const std::vector<std::string>& texts,
                                     const std::vector<std::size_t>& labels, std::size_t classes,
                                     const MatcherOptions& o) {
  auto m = std::make_unique<Model>();
  m->method = o.method;
  m->bm25_weight = o.bm25_weight;
  m->classes = classes;
  m->content.resize(classes);
  for (std::size_t t = 0; t < texts.size(); ++t)
    for (const auto& w : words(texts[t])) {
      std::string s = stem(w);
      if (!is_stopword(s)) m->content[labels[t]].insert(std::move(s));
    }
  if (o.method == Method::overlap) {
    for (std::size_t t = 0; t < texts.size(); ++t) {
      auto ws = words(texts[t]);
      std::unordered_set<std::string> distinct(ws.begin(), ws.end());
      for (const auto& w : distinct) m->postings[w].push_back(static_cast<std::uint32_t>(t));
      m->text_class.push_back(labels[t]);
      m->text_words.push_back(distinct.size());
    }
    return m;
  }
  if (o.method == Method::bm25 || o.method == Method::combined)
    for (std::size_t t = 0; t < texts.size(); ++t) SK_TRY(m->bm25.add(labels[t], texts[t]));
  if (o.method == Method::bm25) return m;

  std::vector<RawFeatures> raws;
  raws.reserve(texts.size());
  std::vector<int> df;
  for (const auto& t : texts) {
    raws.push_back(raw_features(t));
    for (const auto& [id, cb] : raws.back().counts) {
      auto [it, inserted] = m->index.emplace(id, static_cast<std::uint32_t>(df.size()));
      if (inserted) {
        df.push_back(0);
        m->block.push_back(cb.second);
      }
      ++df[it->second];
    }
  }
  double n = static_cast<double>(texts.size());
  m->idf.resize(df.size());
  for (std::size_t f = 0; f < df.size(); ++f)
    m->idf[f] = static_cast<float>(std::log((n + 1) / (df[f] + 1)) + 1);
  std::vector<SparseVec> xs;
  xs.reserve(raws.size());
  for (const auto& r : raws) xs.push_back(m->vectorize(r));
  m->linear = train_linear(xs, labels, df.size(), classes, o);
  return m;
}

}  // namespace

struct Matcher::Impl {
  std::unique_ptr<Model> model;
  double temperature = 1;
  std::size_t entries = 0;
};

Matcher::Matcher() : impl_(std::make_shared<Impl>()) {}

std::size_t Matcher::size() const {
  return impl_->entries;
}
double Matcher::temperature() const {
  return impl_->temperature;
}

Result<Matcher> Matcher::build(const std::vector<Entry>& entries, const MatcherOptions& options) {
  auto impl = std::make_shared<Impl>();
  impl->entries = entries.size();
  std::vector<std::string> texts;
  std::vector<std::size_t> labels;
  std::vector<bool> held_out;
  for (std::size_t e = 0; e < entries.size(); ++e) {
    std::size_t count = 1 + entries[e].variants.size();
    auto add = [&](const std::string& t, std::size_t i) {
      texts.push_back(t);
      labels.push_back(e);
      held_out.push_back(count >= 5 && i % 5 == 4);
    };
    add(entries[e].question, 0);
    for (std::size_t i = 0; i < entries[e].variants.size(); ++i) add(entries[e].variants[i], i + 1);
  }
  if (options.calibrate && std::count(held_out.begin(), held_out.end(), true) >= 20) {
    // Fit the temperature on questions the fold's model never saw.
    std::vector<std::string> fit_texts;
    std::vector<std::size_t> fit_labels;
    for (std::size_t t = 0; t < texts.size(); ++t)
      if (!held_out[t]) {
        fit_texts.push_back(texts[t]);
        fit_labels.push_back(labels[t]);
      }
    SK_ASSIGN(auto fold, train(fit_texts, fit_labels, entries.size(), options));
    std::vector<std::vector<double>> zs;
    std::vector<std::size_t> ys;
    std::vector<double> z;
    for (std::size_t t = 0; t < texts.size(); ++t) {
      if (!held_out[t]) continue;
      fold->scores(texts[t], z);
      zs.push_back(z);
      ys.push_back(labels[t]);
    }
    double best_t = 1, best_nll = 1e300;
    for (double t = 0.02; t < 20; t *= 1.1) {
      double nll = 0;
      for (std::size_t i = 0; i < zs.size(); ++i) {
        std::vector<double> p = zs[i];
        softmax(p, t);
        nll -= std::log(std::max(p[ys[i]], 1e-12));
      }
      if (nll < best_nll) {
        best_nll = nll;
        best_t = t;
      }
    }
    impl->temperature = best_t;
  }
  SK_ASSIGN(impl->model, train(texts, labels, entries.size(), options));
  Matcher m;
  m.impl_ = std::move(impl);
  return m;
}

std::vector<Suggestion> Matcher::match(std::string_view question, std::size_t k) const {
  std::vector<Suggestion> out;
  if (!impl_->model || impl_->entries == 0) return out;
  std::vector<double> z;
  bool any = impl_->model->scores(question, z);
  std::vector<double> p = z;
  softmax(p, impl_->temperature);
  // A question that shares no word that matters with an entry's questions is not about it,
  // however the probabilities fall (the model only chooses among the entries it knows).
  std::vector<std::string> asked;
  for (const auto& w : words(question)) {
    std::string s = stem(w);
    if (!is_stopword(s)) asked.push_back(std::move(s));
  }
  auto shares = [&](std::size_t e) {
    for (const auto& s : asked)
      if (impl_->model->content[e].count(s)) return true;
    return false;
  };
  std::vector<std::size_t> order(z.size());
  std::iota(order.begin(), order.end(), 0);
  k = std::min(k, order.size());
  std::partial_sort(
      order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
      [&](std::size_t a, std::size_t b) { return z[a] != z[b] ? z[a] > z[b] : a < b; });
  for (std::size_t i = 0; i < k; ++i)
    out.push_back({order[i], z[order[i]], any && shares(order[i]) ? p[order[i]] : 0.0});
  return out;
}

}  // namespace sk::support
