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
};

// All features of the item. With `with_names`, also the readable name of each feature
// ("word 'viagra'", "header X-Mailer has 'outlook'") for explaining a decision.
FeatureSet extract_features(const Item& item, bool with_names = false);

// The words of the subject and text only, hashed; what lessons compare items by.
std::vector<std::uint32_t> word_features(const Item& item);

}  // namespace sk::triage
