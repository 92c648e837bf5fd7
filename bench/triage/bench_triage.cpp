// Sidekick's side of bench/triage: train the default spam model on the training split, then
// parse, classify and decide every test message, timing that on one core; then time
// parse_message alone over the same messages.
//   bench_triage --train train.tsv --test test.tsv --scores OUT --timing OUT [--model OUT]
//   bench_triage --parse-only --test test.tsv   (just the parse timing)
#include <time.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "engine/training.hpp"
#include "mail/fast_reader.hpp"
#include "mail/message.hpp"
#include "split_io.hpp"
#include "triage/triage.hpp"

namespace {

// Microseconds of CPU per message for `parse` over the test messages: the best of a few
// passes, the machine being shared.
template <class Parse>
double parse_us(const std::vector<bench::Sample>& test, Parse parse) {
  double best = 0;
  std::size_t sink = 0;
  for (int pass = 0; pass < 5; ++pass) {
    const double c0 = bench::cpu_seconds();
    for (const auto& s : test) sink += parse(s.bytes).text.size();
    const double cpu = bench::cpu_seconds() - c0;
    if (pass == 0 || cpu < best) best = cpu;
  }
  if (sink == 0) std::fprintf(stderr, "sidekick: no text parsed?\n");
  return 1e6 * best / static_cast<double>(test.size());
}

// parse_message alone, the GMime path alone (what parse_message was before the single-pass
// reader), and how many messages that reader took.
void time_parse(const std::vector<bench::Sample>& test) {
  std::size_t accepted = 0;
  for (const auto& s : test) accepted += sk::mail::detail::read_fast(s.bytes).has_value();
  const double fast = parse_us(test, [](std::string_view m) { return sk::mail::parse_message(m); });
  const double gmime =
      parse_us(test, [](std::string_view m) { return sk::mail::detail::parse_with_gmime(m); });
  std::fprintf(stderr,
               "sidekick: parse_message alone: %.1f us per message, GMime path alone %.1f us "
               "(best of 5 passes); the single-pass reader took %zu of %zu (%.1f%%)\n",
               fast, gmime, accepted, test.size(),
               100.0 * static_cast<double>(accepted) / static_cast<double>(test.size()));
}

}  // namespace

int main(int argc, char** argv) {
  std::string train_tsv, test_tsv, scores_path, timing_path, model_path;
  sk::triage::TrainOptions options;
  double ham_cost = 2;
  bool parse_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--parse-only") == 0) {
      parse_only = true;
      continue;
    }
    if (i + 1 >= argc) break;
    const std::string k = argv[i];
    const char* v = argv[++i];
    if (k == "--train")
      train_tsv = v;
    else if (k == "--test")
      test_tsv = v;
    else if (k == "--scores")
      scores_path = v;
    else if (k == "--timing")
      timing_path = v;
    else if (k == "--model")
      model_path = v;
    else if (k == "--epochs")
      options.epochs = std::atoi(v);
    else if (k == "--rate")
      options.learning_rate = std::atof(v);
    else if (k == "--l2")
      options.l2 = std::atof(v);
    else if (k == "--orders")
      options.orders = std::atoi(v);
    else if (k == "--ham-cost")
      ham_cost = std::atof(v);
  }
  if (parse_only && !test_tsv.empty()) {
    time_parse(bench::read_split(test_tsv, true));
    return 0;
  }
  if (train_tsv.empty() || test_tsv.empty() || scores_path.empty()) {
    std::cerr << "usage: bench_triage --train TSV --test TSV --scores OUT [--timing OUT] "
                 "[--model OUT]\n"
                 "       bench_triage --parse-only --test TSV\n";
    return 2;
  }
  auto train = bench::read_split(train_tsv, false);
  // The test messages are read into memory first: the timed loop measures Sidekick, not disk.
  auto test = bench::read_split(test_tsv, true);

  // Trained exactly as `sidekick model train` does.
  double t0 = bench::wall_seconds();
  sk::engine::TrainingSet set;
  for (const auto& s : train) (s.spam ? set.spam : set.ham).push_back(s.path);
  auto trained = sk::engine::train_spam_model(set, nullptr, options, ham_cost);
  if (!trained.ok()) {
    std::cerr << "bench_triage: " << trained.error().message << "\n";
    return 1;
  }
  const auto& model = trained.value();
  std::fprintf(stderr, "sidekick: trained on %zu messages in %.2f s; threshold %.4f\n",
               train.size(), bench::wall_seconds() - t0, model.threshold());
  if (!model_path.empty()) {
    std::ofstream(model_path, std::ios::binary) << model.serialize();
  }

  sk::triage::Policy policy;
  policy.screener = false;  // the corpus has no sender history; measure the classifier's call
  std::vector<sk::triage::Lesson> lessons;
  sk::Party party;
  // What the scores file needs of each decision; a whole Decision per message kept for the
  // length of the run would measure the allocator's growth rather than triage.
  struct Verdict {
    double spam_score = 0;
    bool spam = false;
  };
  std::vector<Verdict> verdicts(test.size());
  double c0 = bench::cpu_seconds(), w0 = bench::wall_seconds();
  for (std::size_t i = 0; i < test.size(); ++i) {
    sk::Item item = sk::mail::parse_message(test[i].bytes);
    item.id = "itm";
    const sk::Decision d = sk::triage::triage({item, party, policy, model, lessons, 0});
    verdicts[i] = {d.spam_score, d.category == sk::Category::spam};
  }
  double cpu = bench::cpu_seconds() - c0, wall = bench::wall_seconds() - w0;

  std::ofstream out(scores_path);
  for (std::size_t i = 0; i < test.size(); ++i)
    out << (test[i].spam ? "spam" : "ham") << '\t' << verdicts[i].spam_score << '\t' << test[i].path
        << '\t' << (verdicts[i].spam ? 1 : 0) << '\n';
  if (!timing_path.empty())
    std::ofstream(timing_path) << "{\"messages\": " << test.size() << ", \"wall_seconds\": " << wall
                               << ", \"cpu_seconds\": " << cpu << "}\n";
  std::fprintf(stderr, "sidekick: decided %zu messages in %.3f s cpu (%.0f msg/s per core)\n",
               test.size(), cpu, static_cast<double>(test.size()) / cpu);
  time_parse(test);
  return 0;
}
