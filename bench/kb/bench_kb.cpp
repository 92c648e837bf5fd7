// bench_kb: Banking77 as a knowledge base. One entry per intent, its questions taken from
// the training set; every test question is asked; top-1 / top-3 accuracy, answers per
// second, and how the confidence behaves as a threshold, for each matching method.
//
//   bench_kb --data DIR [--methods overlap,bm25,linear,combined] [--validate]
//            [--bm25-weight W] [--epochs N] [--markdown]
//
// --validate holds out every fifth training question instead of using the test set, for
// choosing settings without looking at the test set.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "support/kb.hpp"
#include "support/matcher.hpp"

using namespace sk::support;

namespace {

struct Example {
  std::string text, intent;
};

std::vector<Example> read_split(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "bench_kb: cannot read %s\n", path.c_str());
    std::exit(1);
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto rows = parse_csv(ss.str(), path);
  if (!rows.ok()) {
    std::fprintf(stderr, "bench_kb: %s\n", rows.error().message.c_str());
    std::exit(1);
  }
  std::vector<Example> out;
  for (std::size_t i = 1; i < rows->size(); ++i)
    if ((*rows)[i].fields.size() == 2) out.push_back({(*rows)[i].fields[0], (*rows)[i].fields[1]});
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

const char* name_of(Method m) {
  switch (m) {
    case Method::overlap:
      return "overlap";
    case Method::bm25:
      return "bm25";
    case Method::linear:
      return "linear";
    case Method::combined:
      return "combined";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  std::string data;
  std::string methods = "overlap,bm25,linear,combined";
  bool validate = false, markdown = false;
  MatcherOptions base;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_kb: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--data")
      data = next();
    else if (a == "--methods")
      methods = next();
    else if (a == "--validate")
      validate = true;
    else if (a == "--markdown")
      markdown = true;
    else if (a == "--bm25-weight")
      base.bm25_weight = std::stod(next());
    else if (a == "--epochs")
      base.epochs = std::stoi(next());
    else if (a == "--l2")
      base.l2 = std::stod(next());
    else {
      std::fprintf(stderr, "bench_kb: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (data.empty()) {
    std::fprintf(stderr, "usage: bench_kb --data DIR (train.csv, test.csv)\n");
    return 2;
  }
  auto train = read_split(data + "/train.csv");
  std::vector<Example> test;
  if (validate) {
    std::vector<Example> kept;
    std::map<std::string, int> seen;
    for (auto& e : train) (seen[e.intent]++ % 5 == 4 ? test : kept).push_back(e);
    train = std::move(kept);
  } else {
    test = read_split(data + "/test.csv");
  }
  // One entry per intent, in the order intents first appear.
  std::vector<Entry> entries;
  std::map<std::string, std::size_t> entry_of;
  for (const auto& e : train) {
    auto [it, inserted] = entry_of.emplace(e.intent, entries.size());
    if (inserted) {
      Entry en;
      en.key = e.intent;
      en.question = e.text;
      en.answer = "(the answer about " + e.intent + ")";
      entries.push_back(std::move(en));
    } else {
      entries[it->second].variants.push_back(e.text);
    }
  }
  std::printf("knowledge base: %zu entries from %zu %s questions; %zu %s questions asked\n",
              entries.size(), train.size(), validate ? "training (4/5)" : "training", test.size(),
              validate ? "held-out training" : "test");

  struct Row {
    std::string method;
    double top1, top3, per_second, build_seconds, temperature;
  };
  std::vector<Row> rows;
  std::stringstream ms(methods);
  std::string mname;
  while (std::getline(ms, mname, ',')) {
    MatcherOptions o = base;
    if (mname == "overlap")
      o.method = Method::overlap;
    else if (mname == "bm25")
      o.method = Method::bm25;
    else if (mname == "linear")
      o.method = Method::linear;
    else if (mname == "combined")
      o.method = Method::combined;
    else {
      std::fprintf(stderr, "bench_kb: unknown method %s\n", mname.c_str());
      return 2;
    }
    auto t0 = std::chrono::steady_clock::now();
    auto matcher = Matcher::build(entries, o);
    double build = seconds_since(t0);
    if (!matcher.ok()) {
      std::fprintf(stderr, "bench_kb: %s\n", matcher.error().message.c_str());
      return 1;
    }
    std::size_t hit1 = 0, hit3 = 0;
    std::vector<std::pair<double, bool>> conf;  // confidence of the top answer, right?
    auto t1 = std::chrono::steady_clock::now();
    for (const auto& q : test) {
      auto s = matcher->match(q.text, 3);
      std::size_t want = entry_of.count(q.intent) ? entry_of[q.intent] : SIZE_MAX;
      if (!s.empty() && s[0].entry == want) ++hit1;
      for (const auto& x : s)
        if (x.entry == want) ++hit3;
      conf.emplace_back(s.empty() ? 0 : s[0].confidence, !s.empty() && s[0].entry == want);
    }
    double secs = seconds_since(t1);
    double n = static_cast<double>(test.size());
    rows.push_back(
        {name_of(o.method), hit1 / n, hit3 / n, n / secs, build, matcher->temperature()});
    std::printf("%-9s top-1 %5.1f%%  top-3 %5.1f%%  %9.0f answers/s  built in %.2f s (T=%.3f)\n",
                name_of(o.method), 100.0 * hit1 / n, 100.0 * hit3 / n, n / secs, build,
                matcher->temperature());
    // A threshold should mean what it says: of the questions answered at or above it, about
    // that share (or more) should be right.
    std::printf("          threshold: answered / right among answered:");
    for (double t : {0.5, 0.7, 0.8, 0.9, 0.95}) {
      std::size_t answered = 0, right = 0;
      for (const auto& [c, ok] : conf)
        if (c >= t) {
          ++answered;
          right += ok;
        }
      std::printf("  %.2f: %.0f%% / %.1f%%", t, 100.0 * answered / n,
                  answered ? 100.0 * right / answered : 0.0);
    }
    std::printf("\n");
  }
  const Row* baseline = nullptr;
  for (const auto& r : rows)
    if (r.method == "overlap") baseline = &r;
  if (baseline) {
    std::printf("\nratios to the term-overlap baseline:\n");
    for (const auto& r : rows) {
      if (&r == baseline) continue;
      std::printf("  %-9s top-1 x%.2f  top-3 x%.2f  speed x%.2f\n", r.method.c_str(),
                  r.top1 / baseline->top1, r.top3 / baseline->top3,
                  r.per_second / baseline->per_second);
    }
  }
  if (markdown) {
    std::printf(
        "\n| method | top-1 | top-3 | answers/s | build (s) |\n| --- | --- | --- | --- | --- |\n");
    for (const auto& r : rows)
      std::printf("| %s | %.1f%% | %.1f%% | %.0f | %.2f |\n", r.method.c_str(), 100 * r.top1,
                  100 * r.top3, r.per_second, r.build_seconds);
  }
  return 0;
}
