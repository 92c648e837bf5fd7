#include "triage/lessons.hpp"

#include <algorithm>
#include <charconv>

#include "triage/features.hpp"

namespace sk::triage {
namespace {

// Jaccard similarity of two sorted id lists.
double similarity(const std::vector<std::uint32_t>& a, const std::vector<std::uint32_t>& b) {
  if (a.empty() || b.empty()) return 0;
  // Without branches: which list advances is a coin toss, and each item meets every lesson.
  std::size_t i = 0, j = 0, common = 0;
  while (i < a.size() && j < b.size()) {
    std::uint32_t x = a[i], y = b[j];
    common += x == y;
    i += x <= y;
    j += y <= x;
  }
  return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

constexpr double kSameWords = 0.5;

}  // namespace

std::string list_id_of(const Item& item) {
  const std::string* v = item.header("list-id");
  if (!v) return {};
  auto lt = v->rfind('<');
  auto gt = v->rfind('>');
  if (lt != std::string::npos && gt != std::string::npos && gt > lt)
    return lower(v->substr(lt + 1, gt - lt - 1));
  return lower(*v);
}

Lesson lesson_from(const Item& item, Category category) {
  return Lesson{category, lower(item.from_address), list_id_of(item), item.subject,
                word_features(item)};
}

namespace {

// words: the item's word_features, or null to compute them if they are needed.
std::optional<LessonMatch> match(const std::vector<Lesson>& lessons, const Item& item,
                                 const std::vector<std::uint32_t>* words) {
  if (lessons.empty()) return std::nullopt;
  std::string sender = lower(item.from_address);
  std::string list = list_id_of(item);
  // Most specific evidence first: the sender, then the list, then the words.
  for (auto it = lessons.rbegin(); it != lessons.rend(); ++it)
    if (!sender.empty() && it->sender == sender)
      return LessonMatch{
          it->category, 0.95,
          "you taught me that mail from " + sender + " is " + std::string(label(it->category))};
  if (!list.empty())
    for (auto it = lessons.rbegin(); it != lessons.rend(); ++it)
      if (it->list_id == list)
        return LessonMatch{
            it->category, 0.9,
            "you taught me that the list " + list + " is " + std::string(label(it->category))};
  std::vector<std::uint32_t> computed;
  if (!words) {
    computed = word_features(item);
    words = &computed;
  }
  const Lesson* best = nullptr;
  double best_sim = kSameWords;
  for (auto it = lessons.rbegin(); it != lessons.rend(); ++it) {
    double s = similarity(*words, it->words);
    if (s > best_sim) {
      best_sim = s;
      best = &*it;
    }
  }
  if (!best) return std::nullopt;
  return LessonMatch{best->category, std::min(0.95, best_sim),
                     "it reads much like \"" + best->subject + "\", which you taught me is " +
                         std::string(label(best->category))};
}

}  // namespace

std::optional<LessonMatch> apply_lessons(const std::vector<Lesson>& lessons, const Item& item) {
  return match(lessons, item, nullptr);
}

std::optional<LessonMatch> apply_lessons(const std::vector<Lesson>& lessons, const Item& item,
                                         const std::vector<std::uint32_t>& words) {
  return match(lessons, item, &words);
}

namespace {
// Word ids are hashes of the tokens: the tag names the tokenizer's hash that made them, so that
// lessons stored by an older one are known to compare with nothing and are made again.
constexpr std::string_view kWordsTag = "w3";
}  // namespace

std::string encode_words(const std::vector<std::uint32_t>& words) {
  std::string out(kWordsTag);
  for (auto w : words) {
    out += ' ';
    out += std::to_string(w);
  }
  return out;
}

std::optional<std::vector<std::uint32_t>> decode_words(const std::string& text) {
  if (!text.starts_with(kWordsTag) ||
      (text.size() > kWordsTag.size() && text[kWordsTag.size()] != ' '))
    return std::nullopt;
  std::vector<std::uint32_t> out;
  const char* p = text.data() + kWordsTag.size();
  const char* end = text.data() + text.size();
  while (p < end) {
    while (p < end && *p == ' ') ++p;
    std::uint32_t v = 0;
    auto r = std::from_chars(p, end, v);
    if (r.ec != std::errc()) break;
    out.push_back(v);
    p = r.ptr;
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sk::triage
