#pragma once
// Turning an item into classifier features: hashed tokens from the words, the headers and the
// message's shape. Pure and allocation-light; this is the hot path of triage.
#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/domain.hpp"

namespace sk::triage {

inline constexpr unsigned kFeatureBits = 20;
inline constexpr std::uint32_t kFeatureMask = (1u << kFeatureBits) - 1;

// Some features with their names. Triage names the few dozen features of a spam that pull
// hardest toward spam and shows four: a word or pair of the text is kept as where its words are
// and named only when asked (building every name was a tenth of triage); other features are
// named at once, their names in one buffer.
class NamedFeatures {
 public:
  std::size_t size() const { return entries_.size(); }
  std::uint32_t id(std::size_t i) const { return entries_[i].id; }
  std::string name(std::size_t i) const;
  void reserve(std::size_t features, std::size_t bytes) {
    entries_.reserve(features);
    text_.reserve(bytes);
  }
  // Appends one feature; its name is the concatenation of `parts`, copied now.
  void add(std::uint32_t id, std::initializer_list<std::string_view> parts);
  // Appends a feature named `ns 'first second'` (or `ns 'first'`), the words lower-cased when
  // named. ns, first and second must outlive this: a namespace's literal, words of the item.
  void add_words(std::uint32_t id, std::string_view ns, std::string_view first,
                 std::string_view second) {
    entries_.push_back({id, 0, 0, ns, first, second});
  }

 private:
  struct Entry {
    std::uint32_t id;
    std::uint32_t begin, end;  // with an empty ns, the name copied into text_
    std::string_view ns, first, second;
  };
  std::vector<Entry> entries_;
  std::string text_;
};

struct FeatureSet {
  std::vector<std::uint32_t> ids;  // unique, in the order found, each < 2^kFeatureBits
  std::vector<std::string> names;  // parallel to ids, only with FeatureOptions::with_names
  // Without with_names, the features named for FeatureOptions::name_spam_evidence, in the
  // order of ids. Words of the text are named from the item's own bytes: the item must outlive
  // this.
  NamedFeatures spam_evidence;
  // The watched phrases (FeatureOptions::watch) that occur in the subject or text, unique.
  std::vector<std::uint64_t> phrases;
  // word_features(item), only with FeatureOptions::lesson_words.
  std::vector<std::uint32_t> words;
};

// A fixed set of phrases of one to three words to watch for while the text is tokenized: one
// probe per word instead of collecting and sorting every phrase. Found by phrase_hash.
class PhraseSet {
 public:
  explicit PhraseSet(const std::vector<std::string_view>& phrases);
  bool contains(std::uint64_t h) const {
    return ((filter_[(h >> 38) & 63] >> ((h >> 32) & 63)) & 1) && find(h);
  }
  // Whether a phrase may end with the word whose token hash is `word` (never a wrong no): most
  // words end none, and then neither the word nor the pair and triple it ends need a probe.
  bool may_end_with(std::uint64_t word) const {
    return (ends_[(word >> 20) & 63] >> ((word >> 26) & 63)) & 1;
  }

 private:
  bool find(std::uint64_t h) const;

  std::vector<std::uint64_t> slots_;  // open addressing; 0 is empty
  std::uint64_t mask_ = 0;
  // A bit per value of the hashes' bits 32-43 (not the slots' bits): three probes per word of
  // every message nearly all miss, and one bit says so without a search that mispredicts.
  std::array<std::uint64_t, 64> filter_{};
  std::array<std::uint64_t, 64> ends_{};  // a bit per value of bits 20-31 of last words
};

class SpamModel;

struct FeatureOptions {
  bool with_names = false;  // fill FeatureSet::names
  // Also name the features this model weighs heavily toward spam, whatever with_names says:
  // triage explains a spam verdict from them without a second pass over the message.
  const SpamModel* name_spam_evidence = nullptr;
  // Phrases of one to three words to report in FeatureSet::phrases.
  const PhraseSet* watch = nullptr;
  // Fill FeatureSet::words (what lessons compare) from the same pass over the text.
  bool lesson_words = false;
};

FeatureSet extract_features(const Item& item, const FeatureOptions& options = {});

// The hash of a phrase ("book a demo"), tokenized and lower-cased the same way as the text.
// Never 0.
std::uint64_t phrase_hash(std::string_view phrase);

// The words of the subject and text only, hashed; what lessons compare items by.
std::vector<std::uint32_t> word_features(const Item& item);

}  // namespace sk::triage
