#pragma once
// Turning an item into classifier features: hashed tokens from the words, the headers and the
// message's shape. Pure and allocation-light; this is the hot path of triage.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/domain.hpp"

namespace sk::triage {

inline constexpr unsigned kFeatureBits = 20;
inline constexpr std::uint32_t kFeatureMask = (1u << kFeatureBits) - 1;

struct FeatureSet {
  std::vector<std::uint32_t> ids;  // unique, in the order found, each < 2^kFeatureBits
  std::vector<std::string> names;  // parallel to ids, only with FeatureOptions::with_names
  // Without with_names, the features named for FeatureOptions::name_spam_evidence: (id, name),
  // in the order of ids. Few, so that naming them costs nothing on the hot path.
  std::vector<std::pair<std::uint32_t, std::string>> spam_evidence;
  // The watched phrases (FeatureOptions::watch) that occur in the subject or text, unique.
  std::vector<std::uint64_t> phrases;
};

// A fixed set of phrase hashes (see phrase_hash) to watch for while the text is tokenized:
// one probe per word instead of collecting and sorting every phrase.
class PhraseSet {
 public:
  explicit PhraseSet(const std::vector<std::uint64_t>& hashes);
  bool contains(std::uint64_t h) const;

 private:
  std::vector<std::uint64_t> slots_;  // open addressing; 0 is empty
  std::uint64_t mask_ = 0;
};

class SpamModel;

struct FeatureOptions {
  bool with_names = false;  // fill FeatureSet::names
  // Also name the features this model weighs heavily toward spam, whatever with_names says:
  // triage explains a spam verdict from them without a second pass over the message.
  const SpamModel* name_spam_evidence = nullptr;
  // Phrases of one to three words to report in FeatureSet::phrases.
  const PhraseSet* watch = nullptr;
};

FeatureSet extract_features(const Item& item, const FeatureOptions& options = {});

// The hash of a phrase ("book a demo"), tokenized and lower-cased the same way as the text.
// Never 0.
std::uint64_t phrase_hash(std::string_view phrase);

// The words of the subject and text only, hashed; what lessons compare items by.
std::vector<std::uint32_t> word_features(const Item& item);

}  // namespace sk::triage
