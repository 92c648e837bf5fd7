#pragma once
// Turning an item into classifier features: hashed tokens from the words, the headers and the
// message's shape. Pure and allocation-light; this is the hot path of triage.
#include <cstdint>
#include <string>
#include <vector>

#include "core/domain.hpp"

namespace sk::triage {

inline constexpr unsigned kFeatureBits = 20;
inline constexpr std::uint32_t kFeatureMask = (1u << kFeatureBits) - 1;

struct FeatureSet {
  std::vector<std::uint32_t> ids;   // sorted, unique, each < 2^kFeatureBits
  std::vector<std::string> names;   // parallel to ids, only when asked for (explain)
  // Hashes of every one-, two- and three-word phrase of the subject and text, sorted; what
  // category cues are looked up in (see phrase_hash).
  std::vector<std::uint64_t> phrases;
};

struct FeatureOptions {
  bool with_names = false;  // fill FeatureSet::names
  // With names: name only these ids (sorted), leave the others' names empty. Naming every
  // feature costs more than finding them all.
  const std::vector<std::uint32_t>* name_only = nullptr;
};

FeatureSet extract_features(const Item& item, const FeatureOptions& options = {});

// The hash a phrase ("book a demo") has in FeatureSet::phrases: tokenized and lower-cased
// the same way as the text.
std::uint64_t phrase_hash(std::string_view phrase);

// The words of the subject and text only, hashed; what lessons compare items by.
std::vector<std::uint32_t> word_features(const Item& item);

}  // namespace sk::triage
