// bench_sms: the text classifier on the UCI SMS Spam Collection's split (split.py). Trains as
// `sidekick model train --texts` does, then builds and decides every test text (the full
// triage() with a default policy, screener off) as a phone line takes it in, timing that on
// one core.
//   bench_sms --train train.tsv --test test.tsv --scores OUT [--timing OUT]
#include <time.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "engine/phone.hpp"
#include "engine/training.hpp"
#include "split_io.hpp"
#include "triage/triage.hpp"

namespace {

// split.py writes a text as a message without headers: a blank line, the text, a line break.
std::string text_of(const std::string& bytes) {
  std::string t = bytes.starts_with("\n") ? bytes.substr(1) : bytes;
  if (t.ends_with("\n")) t.pop_back();
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::string train_tsv, test_tsv, scores_path, timing_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--train")
      train_tsv = v;
    else if (k == "--test")
      test_tsv = v;
    else if (k == "--scores")
      scores_path = v;
    else if (k == "--timing")
      timing_path = v;
  }
  if (train_tsv.empty() || test_tsv.empty() || scores_path.empty()) {
    std::cerr << "usage: bench_sms --train TSV --test TSV --scores OUT [--timing OUT]\n";
    return 2;
  }
  auto train = bench::read_split(train_tsv, true);
  auto test = bench::read_split(test_tsv, true);
  sk::engine::TextSet set;
  for (const auto& s : train) (s.spam ? set.spam : set.ham).push_back(text_of(s.bytes));
  double t0 = bench::wall_seconds();
  auto trained = sk::engine::train_text_model(set);
  if (!trained.ok()) {
    std::cerr << "bench_sms: " << trained.error().message << "\n";
    return 1;
  }
  const auto& model = trained.value();
  std::fprintf(stderr, "sidekick: trained on %zu texts in %.2f s; threshold %.4f\n", train.size(),
               bench::wall_seconds() - t0, model.threshold());

  std::vector<std::string> bodies;
  for (const auto& s : test) bodies.push_back(text_of(s.bytes));
  sk::triage::Policy policy;
  policy.screener = false;  // no sender history in the collection: measure the classifier's call
  std::vector<sk::triage::Lesson> lessons;
  sk::Party party;
  std::vector<sk::Decision> decisions(test.size());
  // A pass over the test split takes milliseconds: repeated for a stable per-core rate.
  constexpr int kPasses = 100;
  double c0 = bench::cpu_seconds(), w0 = bench::wall_seconds();
  for (int pass = 0; pass < kPasses; ++pass) {
    for (std::size_t i = 0; i < test.size(); ++i) {
      sk::Item item = sk::engine::text_message(bodies[i], 0);
      item.id = "itm";
      item.from_address = "+14165550100";
      decisions[i] = sk::triage::triage({item, party, policy, model, lessons, 0});
    }
  }
  double cpu = bench::cpu_seconds() - c0, wall = bench::wall_seconds() - w0;
  const std::size_t decided = test.size() * kPasses;

  std::ofstream out(scores_path);
  for (std::size_t i = 0; i < test.size(); ++i)
    out << (test[i].spam ? "spam" : "ham") << '\t' << decisions[i].spam_score << '\t'
        << test[i].path << '\t' << (decisions[i].category == sk::Category::spam ? 1 : 0) << '\n';
  if (!timing_path.empty())
    std::ofstream(timing_path) << "{\"messages\": " << decided << ", \"passes\": " << kPasses
                               << ", \"wall_seconds\": " << wall << ", \"cpu_seconds\": " << cpu
                               << "}\n";
  std::fprintf(stderr, "sidekick: decided %zu texts in %.3f s cpu (%.0f texts/s per core)\n",
               decided, cpu, static_cast<double>(decided) / cpu);
  return 0;
}
