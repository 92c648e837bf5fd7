#pragma once
// What a client taught by correcting decisions. A lesson applies at once to the next message
// of the same kind: the same sender, the same mailing list, or much the same words.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/domain.hpp"

namespace sk::triage {

struct Lesson {
  Category category = Category::other;
  std::string sender;                // lower-cased address
  std::string list_id;               // List-Id header, if any
  std::string subject;               // of the corrected item, for explaining
  std::vector<std::uint32_t> words;  // sorted word features of the corrected item
};

struct LessonMatch {
  Category category;
  double confidence;
  std::string reason;
};

// Builds the lesson a correction of `item` to `category` teaches.
Lesson lesson_from(const Item& item, Category category);

// The most specific lesson that applies; later lessons win over earlier ones.
std::optional<LessonMatch> apply_lessons(const std::vector<Lesson>& lessons, const Item& item);
// The same with the item's word_features at hand (FeatureSet::words): not computed again.
std::optional<LessonMatch> apply_lessons(const std::vector<Lesson>& lessons, const Item& item,
                                         const std::vector<std::uint32_t>& words);

// Lessons are stored as text; these turn the word features into it and back. Text written for
// another tokenizer's word ids decodes to nothing: the lesson's words are to be made again from
// its item (word_features).
std::string encode_words(const std::vector<std::uint32_t>& words);
std::optional<std::vector<std::uint32_t>> decode_words(const std::string& text);

// The List-Id of an item, normalized ("<list.example.org>" → "list.example.org").
std::string list_id_of(const Item& item);

}  // namespace sk::triage
