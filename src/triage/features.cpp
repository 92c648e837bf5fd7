#include "triage/features.hpp"

#include "triage/spam_model.hpp"

#include <algorithm>
#include <string_view>

namespace sk::triage {
namespace {

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

constexpr std::uint64_t fnv(std::uint64_t h, std::string_view s) {
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * kFnvPrime;
  return h;
}
constexpr std::uint64_t fnv(std::string_view s) {
  return fnv(kFnvOffset, s);
}

// Combines two hashes (a namespace and a token, or two tokens) into a well-mixed one.
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  std::uint64_t z = a * 0x9e3779b97f4a7c15ull + b;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

inline bool token_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '$' ||
         c == '\'' || c == '-' || c == '_' || c == '.' || c == '!' || c >= 0x80;
}

// Collects features as hashes; builds readable names only when explaining.
class Sink {
 public:
  explicit Sink(const FeatureOptions& o) : options_(o) {}

  bool naming() const { return options_.with_names || options_.name_spam_evidence; }

  // A feature in namespace `ns` with value `token`.
  void add(std::string_view ns, std::string_view token) {
    add_hashed(ns, fnv(ns), fnv(token), token);
  }

  // The same with the hashes already known (the hot path: words of the text).
  void add_hashed(std::string_view ns, std::uint64_t ns_hash, std::uint64_t token_hash,
                  std::string_view token_for_name) {
    auto id = static_cast<std::uint32_t>(mix(ns_hash, token_hash) & kFeatureMask);
    ids_.push_back(id);
    if (!naming()) return;
    bool want = options_.with_names || options_.name_spam_evidence->heavy_toward_spam(id);
    names_.emplace_back();
    if (want) {
      names_.back().assign(ns);
      names_.back() += " '";
      names_.back() += token_for_name;
      names_.back() += '\'';
    }
  }

  FeatureSet finish() {
    // Duplicates are dropped with a small open-addressing set sized to this message:
    // linear, where sorting a few thousand ids was a third of the extraction.
    std::size_t size = 64;
    while (size < ids_.size() * 2) size *= 2;
    std::vector<std::uint32_t> slots(size, 0);  // id + 1; 0 is empty
    const std::size_t mask = size - 1;
    FeatureSet fs;
    fs.ids.reserve(ids_.size());
    for (std::size_t i = 0; i < ids_.size(); ++i) {
      std::uint32_t id = ids_[i];
      std::size_t k = (id * 2654435761u) & mask;
      while (slots[k] != 0 && slots[k] != id + 1) k = (k + 1) & mask;
      if (slots[k] != 0) continue;
      slots[k] = id + 1;
      fs.ids.push_back(id);
      if (naming()) fs.names.push_back(std::move(names_[i]));
    }
    return fs;
  }

 private:
  const FeatureOptions& options_;
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
    char k = (c >= '0' && c <= '9')                               ? '9'
             : ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ? 'a'
                                                                  : c;
    if (out.empty() || out.back() != k) out += k;
  }
  return out;
}

bool digit(char c) {
  return c >= '0' && c <= '9';
}

// Host names that dial-up, DSL and cable pools give their customers: "dsl", "dial", or the
// address spelled out in digits.
bool looks_dynamic(std::string_view host) {
  static constexpr std::string_view kWords[] = {"dsl",  "dial", "cable",     "pool",    "dyn",
                                                "ppp",  "dhcp", "modem",     "client",  "cust",
                                                "user", "adsl", "broadband", "resident"};
  std::string h = lower(host);
  for (auto w : kWords)
    if (h.find(w) != std::string::npos) return true;
  int digit_runs = 0;
  for (std::size_t i = 0; i < h.size(); ++i)
    if (digit(h[i]) && (i == 0 || !digit(h[i - 1]))) ++digit_runs;
  return digit_runs >= 3;
}

bool is_ip_literal(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!digit(c) && c != '.' && c != '[' && c != ']') return false;
  return true;
}

// The registrable tail of a host name ("mail.example.co.uk" → "co.uk" is wrong, but two
// labels are enough to tell a host claiming to be someone else).
std::string_view last_two_labels(std::string_view host) {
  auto dot = host.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return host;
  auto dot2 = host.rfind('.', dot - 1);
  return dot2 == std::string_view::npos ? host : host.substr(dot2 + 1);
}

// "from HELO (RDNS [IP]) by ..." says whether the relay told the truth about its name and
// whether it is a home connection; spamware rarely gets that right, real mail servers do.
void received_hop(std::string_view v, std::size_t hop, Sink& sink) {
  if (v.rfind("from ", 0) != 0) return;
  std::string_view rest = v.substr(5);
  auto sp = rest.find_first_of(" \t\r\n");
  std::string_view helo = rest.substr(0, sp);
  std::string_view inner;
  auto open = rest.find('(');
  auto by = rest.find(" by ");
  if (open != std::string_view::npos && (by == std::string_view::npos || open < by)) {
    auto close = rest.find(')', open);
    inner = rest.substr(
        open + 1, close == std::string_view::npos ? std::string_view::npos : close - open - 1);
  }
  // inner: "rdns [ip]" or "[ip]" or "helo=... " or "user@host"
  std::string_view rdns = inner.substr(0, inner.find_first_of(" ["));
  if (auto at = rdns.find('@'); at != std::string_view::npos) rdns = rdns.substr(at + 1);
  std::string tag = "hop " + std::to_string(hop);
  auto emit = [&](std::string_view what) {
    sink.add(tag, what);
    sink.add("some hop", what);
  };
  std::string h = lower(helo), r = lower(rdns);
  if (h == "localhost" || r == "localhost" || h.find("127.0.0.1") != std::string::npos) {
    emit("local");
    return;
  }
  if (is_ip_literal(h))
    emit("greets with a bare address");
  else if (h.find('.') == std::string::npos)
    emit("greets with a short name");
  if (r.empty() || r == "unknown" || is_ip_literal(r)) {
    emit("no reverse name");
  } else {
    if (looks_dynamic(r)) emit("home connection");
    if (!is_ip_literal(h) && last_two_labels(h) != last_two_labels(r))
      emit("claims a name that is not its own");
    else if (h == r)
      emit("name matches");
  }
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
      if (++received > 6) continue;
      received_hop(v, received, sink);
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
      sink.add("message-id shape",
               shape(v.substr(0, at == std::string_view::npos ? v.size() : at)));
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

// Words of free text: each word, each pair of neighbours, and the one- to three-word phrases
// the category cues look for.
class TextFeatures {
 public:
  TextFeatures(Sink& sink, const PhraseSet* watch, std::vector<std::uint64_t>* phrases)
      : sink_(sink), watch_(watch), phrases_(phrases) {}

  void run(std::string_view ns, std::string_view text, bool pairs) {
    std::uint64_t ns_hash = fnv(ns), pair_ns = fnv("pair");
    std::uint64_t h1 = 0, h2 = 0;  // the previous two words' hashes
    std::string prev;              // the previous word, only for names
    tokenize(text, [&](std::string_view t) {
      std::uint64_t h = fnv(t);
      sink_.add_hashed(ns, ns_hash, h, t);
      if (pairs && h1) {
        std::string pair_name;
        if (sink_.naming()) pair_name = prev + " " + std::string(t);
        sink_.add_hashed("pair", pair_ns, mix(h1, h), pair_name);
      }
      if (watch_) {
        auto seen = [&](std::uint64_t p) {
          if (watch_->contains(p) &&
              std::find(phrases_->begin(), phrases_->end(), p) == phrases_->end())
            phrases_->push_back(p);
        };
        seen(h | 1);
        if (h1) seen(mix(h1, h) | 1);
        if (h2) seen(mix(mix(h2, h1), h) | 1);
      }
      h2 = h1;
      h1 = h;
      if (sink_.naming()) prev.assign(t);
    });
  }

 private:
  Sink& sink_;
  const PhraseSet* watch_;
  std::vector<std::uint64_t>* phrases_;
};

void body_features(const Item& item, Sink& sink, const PhraseSet* watch,
                   std::vector<std::uint64_t>* phrases) {
  TextFeatures words(sink, watch, phrases);
  words.run("subject", item.subject, false);
  // Subject shouting and punctuation.
  std::size_t subj_upper = 0, subj_alpha = 0;
  for (char c : item.subject) {
    if ((c >= 'A' && c <= 'Z')) ++subj_upper;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) ++subj_alpha;
  }
  if (subj_alpha >= 6 && subj_upper * 10 >= subj_alpha * 7)
    sink.add("subject", "<mostly capitals>");
  if (item.subject.empty()) sink.add("subject", "<empty>");

  std::string_view text = item.text;
  if (text.size() > 64 * 1024) text = text.substr(0, 64 * 1024);
  std::size_t links = 0;
  for (std::size_t p = text.find("://"); p != std::string_view::npos; p = text.find("://", p + 3))
    ++links;
  // Upper-case words are counted on the raw text, before the tokenizer lower-cases them.
  std::size_t words_seen = 0, upper_words = 0;
  {
    std::size_t i = 0, n = text.size();
    auto alpha = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    while (i < n) {
      while (i < n && !alpha(text[i])) ++i;
      std::size_t s = i;
      bool all_upper = true;
      while (i < n && alpha(text[i])) {
        if (text[i] >= 'a') all_upper = false;
        ++i;
      }
      if (i - s >= 3) {
        ++words_seen;
        if (all_upper) ++upper_words;
      }
    }
  }
  words.run("word", text, true);
  sink.add("links", bucket(links));
  sink.add("length", bucket(text.size() / 256));
  if (words_seen >= 20) {
    std::size_t pct = upper_words * 100 / words_seen;
    sink.add("capitals", pct >= 30 ? "30%+" : pct >= 10 ? "10-30%" : "<10%");
  }
  if (item.html_only) sink.add("shape", "HTML only");
  for (const auto& tag : item.html_tags) sink.add("html element", tag);
  for (const auto& host : item.link_hosts) {
    if (is_ip_literal(host)) {
      sink.add("links to", "a bare address");
      continue;
    }
    sink.add("links to host", host);
    sink.add("links to domain", last_two_labels(host));
  }
  sink.add("linked hosts", bucket(item.link_hosts.size()));
  for (const auto& a : item.attachments) sink.add("attachment type", lower(a.content_type));
  sink.add("attachments", bucket(item.attachments.size()));
  if (item.parse_status != ParseStatus::ok) sink.add("shape", "malformed");
}

}  // namespace

PhraseSet::PhraseSet(const std::vector<std::uint64_t>& hashes) {
  std::size_t size = 16;
  while (size < hashes.size() * 4) size *= 2;
  slots_.assign(size, 0);
  mask_ = size - 1;
  for (auto h : hashes) {
    std::size_t i = static_cast<std::size_t>(h & mask_);
    while (slots_[i] != 0 && slots_[i] != h) i = (i + 1) & mask_;
    slots_[i] = h;
  }
}

bool PhraseSet::contains(std::uint64_t h) const {
  for (std::size_t i = static_cast<std::size_t>(h & mask_);; i = (i + 1) & mask_) {
    if (slots_[i] == h) return true;
    if (slots_[i] == 0) return false;
  }
}

FeatureSet extract_features(const Item& item, const FeatureOptions& options) {
  Sink sink(options);
  std::vector<std::uint64_t> phrases;
  sink.add("bias", "");
  header_features(item, sink);
  sender_features(item, sink);
  body_features(item, sink, options.watch, &phrases);
  FeatureSet fs = sink.finish();
  fs.phrases = std::move(phrases);
  return fs;
}

std::uint64_t phrase_hash(std::string_view phrase) {
  std::uint64_t h1 = 0, h2 = 0, out = 0;
  tokenize(phrase, [&](std::string_view t) {
    std::uint64_t h = fnv(t);
    out = (h2 ? mix(mix(h2, h1), h) : h1 ? mix(h1, h) : h) | 1;
    h2 = h1;
    h1 = h;
  });
  return out;
}

std::vector<std::uint32_t> word_features(const Item& item) {
  FeatureOptions options;
  Sink sink(options);
  std::string_view text = item.text;
  if (text.size() > 16 * 1024) text = text.substr(0, 16 * 1024);
  TextFeatures words(sink, nullptr, nullptr);
  words.run("word", item.subject, false);
  words.run("word", text, false);
  auto ids = sink.finish().ids;
  std::sort(ids.begin(), ids.end());  // lessons compare sorted lists
  return ids;
}

}  // namespace sk::triage
