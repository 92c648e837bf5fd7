#include "triage/features.hpp"

#include <algorithm>
#include <string_view>

namespace sk::triage {
namespace {

constexpr std::uint32_t kFnvOffset = 2166136261u;
constexpr std::uint32_t kFnvPrime = 16777619u;

inline std::uint32_t fnv(std::uint32_t h, std::string_view s) {
  for (unsigned char c : s) h = (h ^ c) * kFnvPrime;
  return h;
}

inline char lower_ascii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline bool token_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '$' || c == '\'' || c == '-' || c == '_' || c == '.' || c == '!' || c >= 0x80;
}

// Collects features; names only when explaining.
class Sink {
 public:
  explicit Sink(bool with_names) : with_names_(with_names) {}

  // A feature in namespace `ns` (a short fixed tag) with value `token`.
  void add(std::string_view ns, std::string_view token) {
    std::uint32_t h = fnv(fnv(kFnvOffset, ns), token);
    h ^= h >> 15;  // FNV's low bits mix poorly; fold the high ones in
    ids_.push_back(h & kFeatureMask);
    if (with_names_) {
      names_.emplace_back(ns);
      names_.back() += ' ';
      names_.back() += token;
    }
  }

  FeatureSet finish() {
    FeatureSet fs;
    if (!with_names_) {
      std::sort(ids_.begin(), ids_.end());
      ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
      fs.ids = std::move(ids_);
      return fs;
    }
    std::vector<std::size_t> order(ids_.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return ids_[a] < ids_[b]; });
    for (std::size_t i : order) {
      if (!fs.ids.empty() && fs.ids.back() == ids_[i]) continue;
      fs.ids.push_back(ids_[i]);
      fs.names.push_back(std::move(names_[i]));
    }
    return fs;
  }

 private:
  bool with_names_;
  std::vector<std::uint32_t> ids_;
  std::vector<std::string> names_;
};

// Splits text into lower-cased tokens; calls fn(token) for each.
template <class Fn>
void tokenize(std::string_view text, Fn&& fn) {
  char buf[32];
  std::size_t i = 0, n = text.size();
  while (i < n) {
    while (i < n && !token_char(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t start = i;
    while (i < n && token_char(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t len = i - start;
    // Trim punctuation that ends sentences or quotes.
    while (len > 0 && (text[start + len - 1] == '.' || text[start + len - 1] == '\'' ||
                       text[start + len - 1] == '-'))
      --len;
    while (len > 0 && (text[start] == '\'' || text[start] == '-' || text[start] == '.')) {
      ++start;
      --len;
    }
    if (len < 2) continue;
    if (len > 28) {
      // Long runs (base64 leftovers, tracking ids) say something by their length only.
      fn(std::string_view(len > 60 ? "<very long>" : "<long>"));
      continue;
    }
    for (std::size_t k = 0; k < len; ++k) buf[k] = lower_ascii(text[start + k]);
    fn(std::string_view(buf, len));
  }
}

std::string_view bucket(std::size_t n) {
  if (n == 0) return "0";
  if (n == 1) return "1";
  if (n <= 3) return "2-3";
  if (n <= 7) return "4-7";
  if (n <= 15) return "8-15";
  if (n <= 40) return "16-40";
  return "41+";
}

// The shape of an id: letters → a, digits → 9, runs collapsed ("a9.a@a.a").
std::string shape(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 64)) {
    char k = (c >= '0' && c <= '9') ? '9'
             : ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ? 'a'
                                                                  : c;
    if (out.empty() || out.back() != k) out += k;
  }
  return out;
}

void header_features(const Item& item, Sink& sink) {
  std::size_t received = 0;
  for (const auto& h : item.headers) {
    std::string name = lower(h.name);
    // Spam filters' own verdicts would be the answer key, not evidence.
    if (name.rfind("x-spam", 0) == 0 || name.size() > 40) continue;
    sink.add("has-header", name);
    std::string_view v = h.value;
    if (name == "received") {
      if (++received > 4) continue;
      tokenize(v, [&](std::string_view t) { sink.add("received", t); });
    } else if (name == "x-mailer" || name == "user-agent" || name == "x-mimeole" ||
               name == "content-type" || name == "precedence" || name == "auto-submitted" ||
               name == "x-priority" || name == "x-msmail-priority" || name == "organization" ||
               name == "authentication-results" || name == "received-spf" ||
               name == "content-transfer-encoding" || name == "x-mailing-list" ||
               name == "mailing-list" || name == "list-id" || name == "errors-to" ||
               name == "reply-to" || name == "return-path" || name == "sender" ||
               name == "x-authentication-warning") {
      tokenize(v, [&](std::string_view t) { sink.add(name, t); });
    } else if (name == "message-id") {
      auto at = v.rfind('@');
      sink.add("message-id shape", shape(v.substr(0, at == std::string_view::npos ? v.size() : at)));
      if (at != std::string_view::npos) sink.add("message-id domain", lower(v.substr(at + 1)));
    } else if (name == "date") {
      // Time zone style and weekday presence differ between real mailers and spamware.
      auto sp = v.find_last_of(' ');
      if (sp != std::string_view::npos) sink.add("date zone", shape(v.substr(sp + 1)));
      sink.add("date shape", shape(v));
    } else if (name == "to" || name == "cc") {
      std::size_t commas = static_cast<std::size_t>(std::count(v.begin(), v.end(), ','));
      sink.add(name == "to" ? "to count" : "cc count", bucket(commas + 1));
    }
  }
  sink.add("received count", bucket(received));
  if (!item.header("message-id")) sink.add("missing", "message-id");
  if (!item.header("date")) sink.add("missing", "date");
}

void sender_features(const Item& item, Sink& sink) {
  const std::string& from = item.from_address;
  auto at = from.rfind('@');
  std::string_view local = std::string_view(from).substr(0, at == std::string::npos ? 0 : at);
  std::string domain = domain_of(from);
  sink.add("from domain", domain);
  sink.add("from user shape", shape(local));
  tokenize(item.from_name, [&](std::string_view t) { sink.add("from name", t); });
  if (item.from_name.empty()) sink.add("from name", "<none>");
  if (const auto* rt = item.header("reply-to")) {
    if (rt->find(from) == std::string::npos) sink.add("reply-to", "differs from sender");
  }
  bool to_self = false;
  for (const auto& t : item.to)
    if (t == from) to_self = true;
  if (to_self) sink.add("to", "sender writes to themselves");
  if (item.to.empty()) sink.add("to", "<none>");
}

void body_features(const Item& item, Sink& sink) {
  std::size_t words = 0, upper_words = 0;
  std::string_view prev;
  std::string prev_buf;
  tokenize(item.subject, [&](std::string_view t) { sink.add("subject", t); });
  // Subject shouting and punctuation.
  std::size_t subj_upper = 0, subj_alpha = 0;
  for (char c : item.subject) {
    if ((c >= 'A' && c <= 'Z')) ++subj_upper;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) ++subj_alpha;
  }
  if (subj_alpha >= 6 && subj_upper * 10 >= subj_alpha * 7) sink.add("subject", "<mostly capitals>");
  if (item.subject.empty()) sink.add("subject", "<empty>");

  std::string_view text = item.text;
  if (text.size() > 64 * 1024) text = text.substr(0, 64 * 1024);
  std::size_t links = 0;
  for (std::size_t p = text.find("://"); p != std::string_view::npos; p = text.find("://", p + 3))
    ++links;
  // Upper-case words are counted on the raw text, before the tokenizer lower-cases them.
  {
    std::size_t i = 0, n = text.size();
    while (i < n) {
      while (i < n && !((text[i] >= 'A' && text[i] <= 'Z') || (text[i] >= 'a' && text[i] <= 'z')))
        ++i;
      std::size_t s = i;
      bool all_upper = true;
      while (i < n && ((text[i] >= 'A' && text[i] <= 'Z') || (text[i] >= 'a' && text[i] <= 'z'))) {
        if (text[i] >= 'a') all_upper = false;
        ++i;
      }
      if (i - s >= 3) {
        ++words;
        if (all_upper) ++upper_words;
      }
    }
  }
  tokenize(text, [&](std::string_view t) {
    sink.add("word", t);
    if (!prev.empty()) {
      prev_buf.assign(prev);
      prev_buf += ' ';
      prev_buf += t;
      sink.add("pair", prev_buf);
    }
    prev_buf.assign(t);
    prev = prev_buf;
  });
  sink.add("links", bucket(links));
  sink.add("length", bucket(text.size() / 256));
  if (words >= 20) {
    std::size_t pct = upper_words * 100 / words;
    sink.add("capitals", pct >= 30 ? "30%+" : pct >= 10 ? "10-30%" : "<10%");
  }
  if (item.html_only) sink.add("shape", "HTML only");
  for (const auto& a : item.attachments) {
    sink.add("attachment type", lower(a.content_type));
  }
  sink.add("attachments", bucket(item.attachments.size()));
  if (item.parse_status != ParseStatus::ok) sink.add("shape", "malformed");
}

}  // namespace

FeatureSet extract_features(const Item& item, bool with_names) {
  Sink sink(with_names);
  sink.add("bias", "");
  header_features(item, sink);
  sender_features(item, sink);
  body_features(item, sink);
  return sink.finish();
}

std::vector<std::uint32_t> word_features(const Item& item) {
  Sink sink(false);
  tokenize(item.subject, [&](std::string_view t) { sink.add("word", t); });
  std::string_view text = item.text;
  if (text.size() > 16 * 1024) text = text.substr(0, 16 * 1024);
  tokenize(text, [&](std::string_view t) { sink.add("word", t); });
  return sink.finish().ids;
}

}  // namespace sk::triage
