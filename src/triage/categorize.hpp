#pragma once
// What kind of message a non-spam item is: header evidence first (lists, bulk, auto-submitted,
// calendar parts), then the words people use for each kind of request.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/domain.hpp"

namespace sk::triage {

struct CategoryGuess {
  Category category = Category::other;
  double confidence = 0;              // share of the evidence that points to this category
  std::vector<std::string> evidence;  // in words, strongest first
};

struct CategoryContext {
  const Item& item;
  const Party& party;
  const std::vector<std::string>& client_domains;  // the client's own domains (team mail)
  // FeatureSet::phrases of the item, extracted with FeatureOptions::watch = &category_cues().
  const std::vector<std::uint64_t>& phrases;
};

class PhraseSet;
// Every phrase the categories look for.
const PhraseSet& category_cues();

// The best non-spam category. Never returns spam.
CategoryGuess categorize(const CategoryContext& ctx);

// Whether the message was sent by a machine or to a list (RFC 3834 / RFC 2369 headers,
// Precedence), with the header that says so.
bool is_bulk(const Item& item, std::string* why = nullptr);

}  // namespace sk::triage
