// The Xapian adapter: BM25 ranking and the English stemmer. Xapian's exceptions stop here.
#include <xapian.h>

#include <algorithm>
#include <unordered_map>

#include "support/matcher.hpp"
#include "support/text.hpp"

namespace sk::support {

std::string stem(const std::string& word) {
  // Xapian::Stem is cheap to copy but not free to construct; one per thread.
  thread_local Xapian::Stem stemmer("english");
  try {
    return stemmer(word);
  } catch (const Xapian::Error&) {
    return word;
  }
}

struct Bm25Index::Impl {
  Xapian::WritableDatabase db{std::string(), Xapian::DB_BACKEND_INMEMORY};
  std::vector<std::size_t> group_of;  // by docid - 1
};

Bm25Index::Bm25Index() : impl_(std::make_unique<Impl>()) {}
Bm25Index::~Bm25Index() = default;
Bm25Index::Bm25Index(Bm25Index&&) noexcept = default;
Bm25Index& Bm25Index::operator=(Bm25Index&&) noexcept = default;

Result<void> Bm25Index::add(std::size_t group, const std::string& text) {
  try {
    Xapian::Document doc;
    Xapian::termpos pos = 0;
    for (const auto& w : words(text)) doc.add_posting(stem(w), ++pos);
    impl_->db.add_document(doc);
    impl_->group_of.push_back(group);
    return ok();
  } catch (const Xapian::Error& e) {
    return make_error(Errc::internal, "search index: " + e.get_description());
  }
}

std::vector<std::pair<std::size_t, double>> Bm25Index::search(std::string_view query, std::size_t k,
                                                              std::size_t depth) const {
  std::vector<std::pair<std::size_t, double>> out;
  try {
    std::vector<std::string> terms, content;
    for (const auto& w : words(query)) {
      terms.push_back(stem(w));
      if (!is_stopword(terms.back())) content.push_back(terms.back());
    }
    // Words in every other question weigh almost nothing in BM25 but cost the most to
    // rank (their posting lists are the longest): leave them out when there is more.
    if (!content.empty()) terms = std::move(content);
    if (terms.empty() || impl_->group_of.empty()) return out;
    Xapian::Query q(Xapian::Query::OP_OR, terms.begin(), terms.end());
    Xapian::Enquire enquire(impl_->db);
    enquire.set_query(q);
    enquire.set_weighting_scheme(Xapian::BM25Weight());
    Xapian::MSet mset = enquire.get_mset(0, static_cast<Xapian::doccount>(depth));
    std::unordered_map<std::size_t, double> best;
    for (auto it = mset.begin(); it != mset.end(); ++it) {
      std::size_t g = impl_->group_of.at(*it - 1);
      auto [pos, inserted] = best.emplace(g, it.get_weight());
      if (!inserted) pos->second = std::max(pos->second, it.get_weight());
    }
    out.assign(best.begin(), best.end());
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (out.size() > k) out.resize(k);
  } catch (const Xapian::Error&) {
    out.clear();  // a broken query finds nothing; the other methods still answer
  }
  return out;
}

}  // namespace sk::support
