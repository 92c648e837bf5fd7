#pragma once
// Training the default spam model from labelled mail on disk.
#include <string>
#include <vector>

#include "core/result.hpp"
#include "triage/spam_model.hpp"

namespace sk::engine {

struct TrainingSet {
  std::vector<std::string> ham;  // files, folders, mboxes
  std::vector<std::string> spam;
};

// The DESIGN.md standard split of the SpamAssassin corpus (the npm package's data folder):
// train on easy-ham-1, the first 125 of hard-ham-1 by file name, and spam-1.
Result<TrainingSet> spamassassin_training_split(const std::string& corpus_dir);
// The matching test split: easy-ham-2, the other 125 of hard-ham-1, spam-2.
Result<TrainingSet> spamassassin_test_split(const std::string& corpus_dir);

struct TrainingReport {
  std::size_t ham = 0;
  std::size_t spam = 0;
};

// Parses every message, extracts its features and trains; the threshold comes from
// cross-validation (see SpamModel::train_calibrated).
Result<triage::SpamModel> train_spam_model(const TrainingSet& set, TrainingReport* report = nullptr,
                                           const triage::TrainOptions& options = {},
                                           double ham_cost = 2);

// Text messages (SMS) as the phone line takes them in, labelled.
struct TextSet {
  std::vector<std::string> ham;  // the texts themselves
  std::vector<std::string> spam;
};

// The UCI SMS Spam Collection ("ham|spam<TAB>text" lines, ../shared/data/sms): every fifth
// text (the 5th, 10th, ...) is the test split, the others the training split.
Result<TextSet> sms_collection_split(const std::string& tsv_path, bool test);

// The classifier for texts: the same features and training as mail's, on texts built the way
// a phone line takes them in (engine/phone.hpp).
Result<triage::SpamModel> train_text_model(const TextSet& set, TrainingReport* report = nullptr,
                                           const triage::TrainOptions& options = {},
                                           double ham_cost = 2);

}  // namespace sk::engine
