// Triage without parsing: every test message is parsed first, then only
// sk::triage::extract_features and sk::triage::triage are timed (CPU time, one core, best and
// median of --repeat passes), so that their cost is not lost in the parser's.
//   bench_features --test test.tsv (--model FILE | --train train.tsv) [--repeat N] [--dump OUT]
//                  [--only PASS]
// --dump writes, per message, everything triage decides and every feature (id and name): two
// builds that must behave the same must write the same file. --only runs one timed pass
// (extract, triage, lessons, parse+triage, parse), e.g. under callgrind.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/training.hpp"
#include "mail/message.hpp"
#include "split_io.hpp"
#include "triage/categorize.hpp"
#include "triage/features.hpp"
#include "triage/triage.hpp"

namespace {

std::string only;  // --only: the one pass to run

// Best and median of `repeat` timed passes over all items, in µs per item.
template <class Fn>
void time_passes(const char* name, const char* what, int repeat, std::size_t items, Fn&& pass) {
  if (!only.empty() && only != name) return;
  std::vector<double> us;
  for (int r = 0; r < repeat; ++r) {
    double c0 = bench::cpu_seconds();
    pass();
    us.push_back((bench::cpu_seconds() - c0) * 1e6 / static_cast<double>(items));
  }
  std::sort(us.begin(), us.end());
  std::printf("%-13s %-34s best %7.2f us/msg   median %7.2f us/msg\n", name, what, us.front(),
              us[us.size() / 2]);
}

void dump_decision(std::ostream& out, const char* policy, const sk::Decision& d) {
  char score[64];
  std::snprintf(score, sizeof score, "%.17g %.17g", d.spam_score, d.confidence);
  out << "  " << policy << ": " << score << ' ' << sk::to_string(d.category) << ' '
      << sk::to_string(d.disposition) << '\n';
  for (const auto& r : d.reasons) out << "    reason " << r.code << ": " << r.text << '\n';
  for (const auto& e : d.effects)
    out << "    effect " << sk::to_string(e.kind) << ": " << e.target << '\n';
  for (const auto& l : d.labels) out << "    label " << l << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  std::string test_tsv, train_tsv, model_path, dump_path;
  int repeat = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--test")
      test_tsv = argv[i + 1];
    else if (k == "--train")
      train_tsv = argv[i + 1];
    else if (k == "--model")
      model_path = argv[i + 1];
    else if (k == "--repeat")
      repeat = std::max(1, std::atoi(argv[i + 1]));
    else if (k == "--dump")
      dump_path = argv[i + 1];
    else if (k == "--only")
      only = argv[i + 1];
  }
  if (test_tsv.empty() || (model_path.empty() && train_tsv.empty())) {
    std::cerr << "usage: bench_features --test TSV (--model FILE | --train TSV) [--repeat N] "
                 "[--dump OUT]\n";
    return 2;
  }

  sk::triage::SpamModel model;
  if (!model_path.empty()) {
    auto m = sk::triage::SpamModel::deserialize(bench::read_bytes(model_path));
    if (!m.ok()) {
      std::cerr << "bench_features: " << m.error().message << "\n";
      return 1;
    }
    model = std::move(m.value());
  } else {
    sk::engine::TrainingSet set;
    for (const auto& s : bench::read_split(train_tsv, false))
      (s.spam ? set.spam : set.ham).push_back(s.path);
    auto m = sk::engine::train_spam_model(set);
    if (!m.ok()) {
      std::cerr << "bench_features: " << m.error().message << "\n";
      return 1;
    }
    model = std::move(m.value());
  }

  auto test = bench::read_split(test_tsv, false);
  std::vector<std::string> raw;
  std::vector<sk::Item> items;
  items.reserve(test.size());
  for (const auto& s : test) {
    raw.push_back(bench::read_bytes(s.path));
    items.push_back(sk::mail::parse_message(raw.back()));
    items.back().id = "itm";
  }

  // As bench_triage decides: no screener, no sender history, no lessons.
  sk::triage::Policy policy;
  policy.screener = false;
  std::vector<sk::triage::Lesson> lessons;
  sk::Party party;
  sk::triage::FeatureOptions options;  // as triage() asks for them
  options.watch = &sk::triage::category_cues();
  options.name_spam_evidence = &model;

  std::size_t sink = 0;  // keeps the optimizer from dropping the work
  time_passes("extract", "extract_features (triage's options)", repeat, items.size(), [&] {
    for (const auto& item : items) sink += sk::triage::extract_features(item, options).ids.size();
  });
  time_passes("triage", "triage()", repeat, items.size(), [&] {
    for (const auto& item : items)
      sink += sk::triage::triage({item, party, policy, model, lessons, 0}).reasons.size();
  });
  // A client who corrected a few decisions: lessons by sender, list and words.
  std::vector<sk::triage::Lesson> taught;
  for (std::size_t i = 0; i < items.size(); i += 97)
    taught.push_back(sk::triage::lesson_from(
        items[i], static_cast<sk::Category>(1 + (i / 97) % (sk::kCategoryCount - 1))));
  time_passes("lessons", "triage() with 31 lessons", repeat, items.size(), [&] {
    for (const auto& item : items)
      sink += sk::triage::triage({item, party, policy, model, taught, 0}).reasons.size();
  });
  // As bench_triage runs: each message parsed, then decided, with what parsing leaves in the
  // cache; triage's share is the difference between the two.
  time_passes("parse+triage", "parse + triage() (bench_triage)", repeat, items.size(), [&] {
    for (const auto& bytes : raw) {
      sk::Item item = sk::mail::parse_message(bytes);
      sink += sk::triage::triage({item, party, policy, model, lessons, 0}).reasons.size();
    }
  });
  time_passes("parse", "parse alone", repeat, items.size(), [&] {
    for (const auto& bytes : raw) sink += sk::mail::parse_message(bytes).headers.size();
  });
  std::printf("(%zu messages; %zu)\n", items.size(), sink);

  if (!dump_path.empty()) {
    std::ofstream out(dump_path);
    sk::triage::Policy screening;  // the default policy: the screener's reasons too
    sk::Party regular;
    regular.items_seen = regular.items_let_in = 2;
    sk::triage::FeatureOptions named = options;
    named.with_names = true;
    for (std::size_t i = 0; i < items.size(); ++i) {
      const auto& item = items[i];
      out << test[i].path << '\n';
      auto plain = sk::triage::extract_features(item, options);
      auto fs = sk::triage::extract_features(item, named);
      out << "  features " << plain.ids.size() << (plain.ids == fs.ids ? "" : " NAMED DIFFER")
          << '\n';
      for (std::size_t k = 0; k < fs.ids.size(); ++k)
        out << "    " << fs.ids[k] << ' ' << fs.names[k] << '\n';
      for (auto p : plain.phrases) out << "    phrase " << p << '\n';
      dump_decision(out, "bench", sk::triage::triage({item, party, policy, model, lessons, 0}));
      dump_decision(out, "screener",
                    sk::triage::triage({item, party, screening, model, lessons, 0}));
      dump_decision(out, "regular",
                    sk::triage::triage({item, regular, screening, model, lessons, 0}));
      dump_decision(out, "taught",
                    sk::triage::triage({item, regular, screening, model, taught, 0}));
      auto words = sk::triage::word_features(item);
      std::uint64_t sum = 0;
      for (auto w : words) sum = sum * 1000003 + w;
      out << "  words " << words.size() << ' ' << sum << '\n';
    }
  }
  return 0;
}
