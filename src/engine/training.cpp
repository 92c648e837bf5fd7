#include "engine/training.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "engine/phone.hpp"
#include "mail/import.hpp"
#include "mail/message.hpp"
#include "triage/features.hpp"

namespace sk::engine {
namespace {

namespace fs = std::filesystem;

Result<std::vector<std::string>> messages_in(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return make_error(Errc::invalid_input, "corpus folder " + dir + " not found");
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".txt") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

Result<TrainingSet> split(const std::string& corpus, bool training) {
  TrainingSet set;
  SK_ASSIGN(auto easy1, messages_in(corpus + "/easy-ham-1"));
  SK_ASSIGN(auto easy2, messages_in(corpus + "/easy-ham-2"));
  SK_ASSIGN(auto hard, messages_in(corpus + "/hard-ham-1"));
  SK_ASSIGN(auto spam1, messages_in(corpus + "/spam-1"));
  SK_ASSIGN(auto spam2, messages_in(corpus + "/spam-2"));
  if (easy1.size() != 2500 || easy2.size() != 1400 || hard.size() != 250 || spam1.size() != 500 ||
      spam2.size() != 1396)
    return make_error(Errc::invalid_input, "corpus at " + corpus +
                                               " is incomplete (expected 2500/1400/250/500/1396 "
                                               "messages)");
  auto half = hard.begin() + 125;
  if (training) {
    set.ham = easy1;
    set.ham.insert(set.ham.end(), hard.begin(), half);
    set.spam = spam1;
  } else {
    set.ham = easy2;
    set.ham.insert(set.ham.end(), half, hard.end());
    set.spam = spam2;
  }
  return set;
}

}  // namespace

Result<TrainingSet> spamassassin_training_split(const std::string& corpus_dir) {
  return split(corpus_dir, true);
}
Result<TrainingSet> spamassassin_test_split(const std::string& corpus_dir) {
  return split(corpus_dir, false);
}

Result<triage::SpamModel> train_spam_model(const TrainingSet& set, TrainingReport* report,
                                           const triage::TrainOptions& options, double ham_cost) {
  std::vector<triage::LabelledFeatures> examples;
  TrainingReport counts;
  for (bool spam : {false, true}) {
    for (const auto& path : spam ? set.spam : set.ham) {
      SK_TRY(mail::scan_mail(path, [&](mail::RawMessage&& m) -> Result<void> {
        examples.push_back({triage::extract_features(mail::parse_message(m.bytes)).ids, spam});
        ++(spam ? counts.spam : counts.ham);
        return ok();
      }));
    }
  }
  if (counts.spam == 0 || counts.ham == 0)
    return make_error(Errc::invalid_input, "training needs both ham and spam messages");
  if (report) *report = counts;
  return triage::SpamModel::train_calibrated(examples, options, 5, ham_cost);
}

Result<TextSet> sms_collection_split(const std::string& tsv_path, bool test) {
  std::ifstream in(tsv_path, std::ios::binary);
  if (!in) return make_error(Errc::invalid_input, "cannot read " + tsv_path);
  TextSet set;
  std::string line;
  std::size_t n = 0, number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto tab = line.find('\t');
    const std::string label = tab == std::string::npos ? "" : line.substr(0, tab);
    if (label != "ham" && label != "spam")
      return make_error(Errc::invalid_input, tsv_path + ":" + std::to_string(number) +
                                                 ": expected ham or spam, a tab, then the text");
    if ((++n % 5 == 0) != test) continue;
    (label == "spam" ? set.spam : set.ham).push_back(line.substr(tab + 1));
  }
  if (set.ham.empty() || set.spam.empty())
    return make_error(Errc::invalid_input, tsv_path + " has no ham or no spam");
  return set;
}

Result<triage::SpamModel> train_text_model(const TextSet& set, TrainingReport* report,
                                           const triage::TrainOptions& options, double ham_cost) {
  if (set.ham.empty() || set.spam.empty())
    return make_error(Errc::invalid_input, "training needs both ham and spam texts");
  std::vector<triage::LabelledFeatures> examples;
  examples.reserve(set.ham.size() + set.spam.size());
  for (bool spam : {false, true})
    for (const auto& body : spam ? set.spam : set.ham)
      examples.push_back({triage::extract_features(text_message(body, 0)).ids, spam});
  if (report) *report = {set.ham.size(), set.spam.size()};
  return triage::SpamModel::train_calibrated(examples, options, 5, ham_cost);
}

}  // namespace sk::engine
