#include "triage/features.hpp"

#include "triage/spam_model.hpp"
#include "triage/tokens.hpp"

#include <algorithm>
#include <array>
#include <string_view>

namespace sk::triage {
namespace {

using tokens::Capitals;
using tokens::token_char;
using tokens::tokenize;

constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
constexpr std::uint64_t kFnvPrime = 1099511628211ull;

constexpr std::uint64_t fnv(std::uint64_t h, std::string_view s) {
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * kFnvPrime;
  return h;
}
constexpr std::uint64_t fnv(std::string_view s) {
  return fnv(kFnvOffset, s);
}

// Combines two hashes (a namespace and a token, or two tokens) into a well-mixed one: the two
// halves of their 128-bit product, one multiplication where three in a row were a tenth of
// the extraction (it runs four times for every word).
inline std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  const unsigned __int128 p =
      static_cast<unsigned __int128>(a ^ 0x9e3779b97f4a7c15ull) * (b ^ 0xbf58476d1ce4e5b9ull);
  return static_cast<std::uint64_t>(p) ^ static_cast<std::uint64_t>(p >> 64);
}

// A table, not a comparison: the compiler branches on the comparison, and letters and other
// bytes alternate too irregularly for the branch to be predicted.
constexpr std::array<char, 256> kLowerAscii = [] {
  std::array<char, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[c] = static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
  return t;
}();

inline char lower_ascii(char c) {
  return kLowerAscii[static_cast<unsigned char>(c)];
}

// A word's or a pair's name, "ns 'first second'" (or "ns 'first'"), from the words' bytes in
// the item, lower-cased as the tokenizer lower-cases them.
std::string words_name(std::string_view ns, std::string_view first, std::string_view second) {
  std::string n;
  n.reserve(ns.size() + first.size() + second.size() + 4);
  n.append(ns).append(" '");
  for (char c : first) n += lower_ascii(c);
  if (!second.empty()) {
    n += ' ';
    for (char c : second) n += lower_ascii(c);
  }
  n += '\'';
  return n;
}

// A string and its hash, hashed once: a feature namespace (rather than for every feature in
// it), or one of the fixed values features take ("no reverse name"), hashed when compiled
// rather than for every message.
struct Ns {
  std::string_view name;
  std::uint64_t hash;
};

consteval Ns operator""_ns(const char* s, std::size_t n) {
  return {{s, n}, fnv({s, n})};
}
consteval Ns operator""_value(const char* s, std::size_t n) {
  return {{s, n}, fnv({s, n})};
}

// Collects features as hashes, dropping repeats as they come; builds readable names only when
// explaining, and then only for the features that are kept and wanted.
class Sink {
 public:
  // `expected`: about how many distinct features the item will give (a first size only).
  Sink(const FeatureOptions& o, std::size_t expected)
      : with_names_(o.with_names), evidence_(o.with_names ? nullptr : o.name_spam_evidence) {
    fs_.ids.resize(std::max<std::size_t>(expected, 64));
    // A spam names ~45, nearly all of them words of the item, named only if shown.
    if (evidence_) fs_.spam_evidence.reserve(64, 512);
    if (!seen_in_use_) {
      seen_in_use_ = true;
      seen_ = seen_bits_.data();
    } else {  // a Sink within a Sink on this thread: never so far, but not wrong
      own_seen_.assign(seen_bits_.size(), 0);
      seen_ = own_seen_.data();
    }
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;
  ~Sink() {
    clear_seen();
    if (seen_ == seen_bits_.data()) seen_in_use_ = false;
  }

  // A feature in namespace `ns` with value `token`. Out of line: called from many places, none
  // of them hot.
  [[gnu::noinline]] void add(const Ns& ns, std::string_view token) {
    add_hashed(ns, fnv(token), token);
  }
  // With a fixed value (a _value literal).
  [[gnu::noinline]] void add(const Ns& ns, const Ns& value) {
    add_hashed(ns, value.hash, value.name);
  }

  // The bias, a feature of every item: evidence of nothing, so never named as evidence.
  void add_bias() {
    if (evidence_)
      keep("bias"_ns, ""_value.hash);
    else
      add("bias"_ns, ""_value);
  }

  // The same with the token's hash already known.
  void add_hashed(const Ns& ns, std::uint64_t token_hash, std::string_view token) {
    const auto [id, fresh] = keep(ns, token_hash);
    if (evidence_ ? evidence_->heavy_toward_spam(id) && fresh : with_names_ && fresh)
      name(id, ns, token);
  }

  // A word or a pair of words of the item (the hot path: twice for every word of the text),
  // given as its bytes in the item, which are lower-cased only if the feature is named.
  [[gnu::always_inline]] void add_words(const Ns& ns, std::uint64_t hash, std::string_view first,
                                        std::string_view second = {}) {
    const auto [id, fresh] = keep(ns, hash);
    if (evidence_) {
      if (evidence_->heavy_toward_spam(id) && fresh)
        fs_.spam_evidence.add_words(id, ns.name, first, second);
    } else if (with_names_ && fresh) {
      fs_.names.push_back(words_name(ns.name, first, second));
    }
  }

  FeatureSet finish() {
    clear_seen();
    fs_.ids.resize(kept_);
    kept_ = 0;
    return std::move(fs_);
  }

 private:
  struct Kept {
    std::uint32_t id;
    bool fresh;  // the item's first feature with this id
  };
  // Always inlined: it runs twice for every word, and the compiler would rather call it.
  [[gnu::always_inline]] Kept keep(const Ns& ns, std::uint64_t token_hash) {
    auto id = static_cast<std::uint32_t>(mix(ns.hash, token_hash) & kFeatureMask);
    // Whether the feature is new decides nothing but how far the list advances: a branch on it
    // would be a coin toss for every word.
    std::uint64_t& word = seen_[id >> 6];
    const std::uint64_t bit = std::uint64_t{1} << (id & 63);
    const bool fresh = (word & bit) == 0;
    word |= bit;
    fs_.ids[kept_] = id;
    kept_ += fresh;
    if (kept_ == fs_.ids.size()) fs_.ids.resize(2 * kept_);
    if (evidence_) evidence_->prefetch(id);  // triage scores the features right after
    return {id, fresh};
  }

  void clear_seen() {
    for (std::size_t i = 0; i < kept_; ++i) seen_[fs_.ids[i] >> 6] = 0;
  }

  // Out of line: rare next to the hashing, which it would crowd.
  [[gnu::noinline]] void name(std::uint32_t id, const Ns& ns, std::string_view token) {
    if (with_names_)
      fs_.names.push_back(std::string(ns.name).append(" '").append(token).append("'"));
    else
      fs_.spam_evidence.add(id, {ns.name, " '", token, "'"});
  }

  bool with_names_;
  const SpamModel* evidence_;  // when naming only what this model weighs heavily toward spam
  FeatureSet fs_;              // ids: the first kept_ are the features, the rest room
  std::size_t kept_ = 0;
  // A bit per feature id: whether the item has it. 128 KiB, too much to clear for every item:
  // the words of the ids kept are cleared instead.
  std::uint64_t* seen_ = nullptr;
  std::vector<std::uint64_t> own_seen_;
  static thread_local std::array<std::uint64_t, (std::size_t{1} << kFeatureBits) / 64> seen_bits_;
  static thread_local bool seen_in_use_;
};

thread_local std::array<std::uint64_t, (std::size_t{1} << kFeatureBits) / 64> Sink::seen_bits_{};
thread_local bool Sink::seen_in_use_ = false;

Ns bucket(std::size_t n) {
  if (n == 0) return "0"_value;
  if (n == 1) return "1"_value;
  if (n <= 3) return "2-3"_value;
  if (n <= 7) return "4-7"_value;
  if (n <= 15) return "8-15"_value;
  if (n <= 40) return "16-40"_value;
  return "41+"_value;
}

// The shape of an id: letters → a, digits → 9, runs collapsed ("a9.a@a.a"). At most 64 bytes
// of the id are read, so the shape fits on the stack.
class Shape {
 public:
  explicit Shape(std::string_view s) {
    for (char c : s.substr(0, 64)) {
      char k = (c >= '0' && c <= '9')                               ? '9'
               : ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ? 'a'
                                                                    : c;
      if (len_ == 0 || buf_[len_ - 1] != k) buf_[len_++] = k;
    }
  }
  operator std::string_view() const { return {buf_, len_}; }

 private:
  char buf_[64];
  std::size_t len_ = 0;
};

// A lower-cased copy, on the stack when it is short (nearly always: host and header names).
class Lowered {
 public:
  explicit Lowered(std::string_view s) {
    char* out = buf_;
    if (s.size() > sizeof buf_) {
      long_.resize(s.size());
      out = long_.data();
    }
    for (std::size_t i = 0; i < s.size(); ++i) out[i] = lower_ascii(s[i]);
    view_ = {out, s.size()};
  }
  Lowered(const Lowered&) = delete;
  Lowered& operator=(const Lowered&) = delete;
  operator std::string_view() const { return view_; }

 private:
  char buf_[128];
  std::string long_;
  std::string_view view_;
};

bool digit(char c) {
  return c >= '0' && c <= '9';
}

// Host names that dial-up, DSL and cable pools give their customers: "dsl", "dial", or the
// address spelled out in digits. h: lower-cased.
bool looks_dynamic(std::string_view h) {
  // One pass that tries the words starting at each byte: fourteen searches over the name were
  // most of a Received header's cost.
  static constexpr std::string_view kWords[] = {"dsl",  "dial", "cable",     "pool",    "dyn",
                                                "ppp",  "dhcp", "modem",     "client",  "cust",
                                                "user", "adsl", "broadband", "resident"};
  static constexpr std::array<bool, 256> kFirst = [] {
    std::array<bool, 256> t{};
    for (auto w : kWords) t[static_cast<unsigned char>(w[0])] = true;
    return t;
  }();
  int digit_runs = 0;
  for (std::size_t i = 0; i < h.size(); ++i) {
    if (digit(h[i]) && (i == 0 || !digit(h[i - 1]))) ++digit_runs;
    if (!kFirst[static_cast<unsigned char>(h[i])]) continue;
    for (auto w : kWords)
      if (h.substr(i, w.size()) == w) return true;
  }
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
// hop: 1 to 6.
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
  static constexpr Ns kHop[] = {"hop 1"_ns, "hop 2"_ns, "hop 3"_ns,
                                "hop 4"_ns, "hop 5"_ns, "hop 6"_ns};
  const Ns& tag = kHop[hop - 1];
  auto emit = [&](const Ns& what) {
    sink.add(tag, what);
    sink.add("some hop"_ns, what);
  };
  const Lowered lowered_helo(helo), lowered_rdns(rdns);
  const std::string_view h = lowered_helo, r = lowered_rdns;
  if (h == "localhost" || r == "localhost" || h.find("127.0.0.1") != std::string_view::npos) {
    emit("local"_value);
    return;
  }
  if (is_ip_literal(h))
    emit("greets with a bare address"_value);
  else if (h.find('.') == std::string_view::npos)
    emit("greets with a short name"_value);
  if (r.empty() || r == "unknown" || is_ip_literal(r)) {
    emit("no reverse name"_value);
  } else {
    if (looks_dynamic(r)) emit("home connection"_value);
    if (!is_ip_literal(h) && last_two_labels(h) != last_two_labels(r))
      emit("claims a name that is not its own"_value);
    else if (h == r)
      emit("name matches"_value);
  }
}

// What a Received header says about the side that handed the message over: "from HELO (RDNS
// [IP])", without what the receiving side adds about itself ("by", "with", "id", "for" the
// recipient, the time). The receiving side is the client's own mail system, the same for ham
// and spam; learnt from a corpus, it is how that corpus was collected (its collector's host and
// name, the months it was gathered in), which says nothing about the next message.
std::string_view sending_side(std::string_view v) {
  if (!v.starts_with("from ")) return v.substr(0, v.find(';'));
  for (std::size_t p = 5; (p = v.find("by ", p)) != std::string_view::npos; p += 3)
    if (v[p - 1] == ' ' || v[p - 1] == '\t' || v[p - 1] == '\n' || v[p - 1] == '\r')
      return v.substr(0, p);
  return v.substr(0, v.find(';'));
}

// A hand-over within one machine, between its own programs (a content filter, list software,
// fetchmail's "by localhost with POP3"): from the loopback address or a local user, or
// fetched by the machine itself. It says nothing about where the message came from, wherever it
// is in the chain. A relay that only calls itself "localhost" from a real address is not one:
// that is evidence (received_hop).
bool local_hop(std::string_view sender_side, std::string_view receiving_side) {
  return sender_side.find("127.0.0.1") != std::string_view::npos ||
         sender_side.find("[::1]") != std::string_view::npos ||
         sender_side.find("@localhost)") != std::string_view::npos ||
         receiving_side.starts_with("by localhost");
}

// What header_features does with a header, by its lower-cased name.
enum class HeaderUse { presence, received, words, message_id, date, to, cc, mailbox };

struct KnownHeader {
  std::string_view name;
  HeaderUse use;
  std::uint64_t hash = fnv(name);
};

constexpr KnownHeader kKnownHeaders[] = {
    {"received", HeaderUse::received},
    {"x-mailer", HeaderUse::words},
    {"user-agent", HeaderUse::words},
    {"x-mimeole", HeaderUse::words},
    {"content-type", HeaderUse::words},
    {"precedence", HeaderUse::words},
    {"auto-submitted", HeaderUse::words},
    {"x-priority", HeaderUse::words},
    {"x-msmail-priority", HeaderUse::words},
    {"organization", HeaderUse::words},
    {"authentication-results", HeaderUse::words},
    {"received-spf", HeaderUse::words},
    {"content-transfer-encoding", HeaderUse::words},
    {"x-mailing-list", HeaderUse::words},
    {"mailing-list", HeaderUse::words},
    {"list-id", HeaderUse::words},
    {"errors-to", HeaderUse::words},
    {"reply-to", HeaderUse::words},
    {"return-path", HeaderUse::words},
    {"sender", HeaderUse::words},
    {"x-authentication-warning", HeaderUse::words},
    {"message-id", HeaderUse::message_id},
    {"date", HeaderUse::date},
    {"to", HeaderUse::to},
    {"cc", HeaderUse::cc},
    // Written on delivery or by the reader's mail program (an mbox's flags): how the message was
    // stored, the same for ham and spam; from a corpus, how it was collected.
    {"delivered-to", HeaderUse::mailbox},
    {"delivery-date", HeaderUse::mailbox},
    {"x-original-to", HeaderUse::mailbox},
    {"envelope-to", HeaderUse::mailbox},
    {"status", HeaderUse::mailbox},
    {"x-status", HeaderUse::mailbox},
    {"x-keywords", HeaderUse::mailbox},
    {"x-uid", HeaderUse::mailbox},
    {"x-uidl", HeaderUse::mailbox},
    {"lines", HeaderUse::mailbox},
    {"content-length", HeaderUse::mailbox},
};

// By the name's hash first: a header's name is hashed anyway, and every message has dozens of
// headers to look up. Null for a header that is only there.
const KnownHeader* known_header(const Ns& name) {
  for (const auto& k : kKnownHeaders)
    if (k.hash == name.hash && k.name == name.name) return &k;
  return nullptr;
}

void header_features(const Item& item, Sink& sink) {
  constexpr std::size_t kLongestName = 40;  // longer names are junk, not evidence
  std::size_t received = 0;
  bool message_id = false, date = false;
  for (const auto& h : item.headers) {
    if (h.name.size() > kLongestName) continue;
    // Lower-cased on the stack and hashed in the same pass: the name is both a feature's value
    // and, for the headers whose words count, their namespace.
    char buf[kLongestName];
    std::uint64_t hash = kFnvOffset;
    for (std::size_t k = 0; k < h.name.size(); ++k) {
      buf[k] = lower_ascii(h.name[k]);
      hash = (hash ^ static_cast<unsigned char>(buf[k])) * kFnvPrime;
    }
    const Ns name{std::string_view(buf, h.name.size()), hash};
    // Spam filters' own verdicts would be the answer key, not evidence.
    if (name.name.starts_with("x-spam")) continue;
    const KnownHeader* known = known_header(name);
    const HeaderUse use = known ? known->use : HeaderUse::presence;
    if (use == HeaderUse::mailbox) continue;
    sink.add_words("has-header"_ns, name.hash, h.name);
    std::string_view v = h.value;
    switch (use) {
      case HeaderUse::mailbox:
      case HeaderUse::presence:
        break;
      case HeaderUse::received: {
        const std::string_view sender_side = sending_side(v);
        if (local_hop(sender_side, v.substr(sender_side.size()))) break;
        if (++received > 6) break;
        received_hop(v, received, sink);
        tokenize(sender_side, [&](std::string_view, std::uint64_t th, std::string_view t) {
          sink.add_words("received"_ns, th, t);
        });
        break;
      }
      case HeaderUse::words:
        // In the namespace of the header's name as listed, which outlives the item's words.
        tokenize(v, [&, ns = Ns{known->name, known->hash}](std::string_view, std::uint64_t th,
                                                           std::string_view t) {
          sink.add_words(ns, th, t);
        });
        break;
      case HeaderUse::message_id: {
        message_id = true;
        auto at = v.rfind('@');
        sink.add("message-id shape"_ns,
                 Shape(v.substr(0, at == std::string_view::npos ? v.size() : at)));
        if (at != std::string_view::npos)
          sink.add("message-id domain"_ns, Lowered(v.substr(at + 1)));
        break;
      }
      case HeaderUse::date: {
        date = true;
        // Time zone style and weekday presence differ between real mailers and spamware.
        auto sp = v.find_last_of(' ');
        if (sp != std::string_view::npos) sink.add("date zone"_ns, Shape(v.substr(sp + 1)));
        sink.add("date shape"_ns, Shape(v));
        break;
      }
      case HeaderUse::to:
      case HeaderUse::cc: {
        std::size_t commas = static_cast<std::size_t>(std::count(v.begin(), v.end(), ','));
        sink.add(use == HeaderUse::to ? "to count"_ns : "cc count"_ns, bucket(commas + 1));
        break;
      }
    }
  }
  sink.add("received count"_ns, bucket(received));
  if (!message_id) sink.add("missing"_ns, "message-id"_value);
  if (!date) sink.add("missing"_ns, "date"_value);
}

void sender_features(const Item& item, Sink& sink) {
  const std::string& from = item.from_address;
  auto at = from.rfind('@');
  std::string_view local = std::string_view(from).substr(0, at == std::string::npos ? 0 : at);
  std::string domain = domain_of(from);
  sink.add("from domain"_ns, domain);
  sink.add("from user shape"_ns, Shape(local));
  tokenize(item.from_name, [&](std::string_view, std::uint64_t h, std::string_view t) {
    sink.add_words("from name"_ns, h, t);
  });
  if (item.from_name.empty()) sink.add("from name"_ns, "<none>"_value);
  if (const auto* rt = item.header("reply-to")) {
    if (rt->find(from) == std::string::npos) sink.add("reply-to"_ns, "differs from sender"_value);
  }
  bool to_self = false;
  for (const auto& t : item.to)
    if (t == from) to_self = true;
  if (to_self) sink.add("to"_ns, "sender writes to themselves"_value);
  if (item.to.empty()) sink.add("to"_ns, "<none>"_value);
}

// Texts (SMS) carry no headers; their spam shows in how numbers are written: premium-rate and
// short-code numbers to text or call, prices ("150p", "£1.50"), links. Each word with a digit
// or a currency sign gives its shape, readable by a VA: digits as '9' (at most 12 of a run),
// letter runs as one 'x', the rest as is ("09099726395" is "99999999999", "£1.50" is "£9.99",
// "2day" is "9x").
void text_message_features(const Item& item, Sink& sink) {
  std::string_view text = std::string_view(item.text).substr(0, 4096);
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\t') ++i;
    std::string_view word = text.substr(start, i - start);
    bool telling = word.find("\xc2\xa3") != std::string_view::npos ||    // £
                   word.find("\xe2\x82\xac") != std::string_view::npos;  // €
    for (char c : word) telling = telling || (c >= '0' && c <= '9') || c == '$';
    if (!telling || word.size() > 40) continue;
    char shape[48];
    std::size_t n = 0, digits = 0;
    for (char c : word) {
      if (n + 1 >= sizeof shape) break;
      const bool digit = c >= '0' && c <= '9';
      digits = digit ? digits + 1 : 0;
      if (digit) {
        if (digits <= 12) shape[n++] = '9';
        continue;
      }
      char kind = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) ? 'x' : c;
      if (kind != 'x' || n == 0 || shape[n - 1] != 'x') shape[n++] = kind;
    }
    sink.add("number written like"_ns, std::string_view(shape, n));
  }
}

// Words of free text: each word, each pair of neighbours, and the one- to three-word phrases
// the category cues look for.
class TextFeatures {
 public:
  TextFeatures(Sink& sink, const PhraseSet* watch, std::vector<std::uint64_t>* phrases)
      : sink_(sink), watch_(watch), phrases_(phrases) {}

  // Starts a text whose words are features in `ns`, with pairs if asked.
  void start(const Ns& ns, bool pairs) {
    ns_ = ns;
    pairs_ = pairs;
    h1_ = h2_ = prev_pair_ = 0;
    prev_ = {};
  }

  // The next part of the text, bytes of the item (they name its words); parts are cut where no
  // token spans the cut. Counts words in capitals into `caps`, and puts the word_features ids
  // of the part into `words`, when given.
  void feed(std::string_view part, Capitals* caps = nullptr,
            std::vector<std::uint32_t>* words = nullptr) {
    tokenize(
        part,
        [&](std::string_view, std::uint64_t h, std::string_view t) __attribute__((always_inline)) {
          sink_.add_words(ns_, h, t);
          if (words) words->push_back(word_id(h));
          std::uint64_t pair = mix(h1_, h);
          if (pairs_ && h1_) sink_.add_words("pair"_ns, pair, prev_, t);
          if (watch_ && watch_->may_end_with(h)) {
            if (watch_->contains(h | 1)) seen(h | 1);
            if (h1_ && watch_->contains(pair | 1)) seen(pair | 1);
            if (h2_) {
              std::uint64_t triple = mix(prev_pair_, h) | 1;
              if (watch_->contains(triple)) seen(triple);
            }
          }
          h2_ = h1_;
          h1_ = h;
          prev_pair_ = pair;
          prev_ = t;
        },
        caps);
  }

  void run(const Ns& ns, std::string_view text, bool pairs) {
    start(ns, pairs);
    feed(text);
  }

  static std::uint32_t word_id(std::uint64_t token_hash) {
    return static_cast<std::uint32_t>(mix("word"_ns.hash, token_hash) & kFeatureMask);
  }

 private:
  void seen(std::uint64_t phrase) {
    if (std::find(phrases_->begin(), phrases_->end(), phrase) == phrases_->end())
      phrases_->push_back(phrase);
  }

  Sink& sink_;
  const PhraseSet* watch_;
  std::vector<std::uint64_t>* phrases_;
  Ns ns_{};
  bool pairs_ = false;
  std::uint64_t h1_ = 0, h2_ = 0;  // the previous two words' hashes
  std::uint64_t prev_pair_ = 0;    // mix(h2_, h1_): a three-word phrase extends it
  std::string_view prev_;          // the previous word's bytes in the item, for naming pairs
};

// Lessons compare items by the words of the subject and of the text's first 16 KiB.
constexpr std::size_t kLessonText = 16 * 1024;

// words: when given, gets word_features(item), unsorted and with repeats, from the same pass.
void body_features(const Item& item, Sink& sink, const PhraseSet* watch,
                   std::vector<std::uint64_t>* phrases, std::vector<std::uint32_t>* words) {
  TextFeatures text_features(sink, watch, phrases);
  text_features.start("subject"_ns, false);
  text_features.feed(item.subject, nullptr, words);
  // Subject shouting and punctuation.
  std::size_t subj_upper = 0, subj_alpha = 0;
  for (char c : item.subject) {
    if ((c >= 'A' && c <= 'Z')) ++subj_upper;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) ++subj_alpha;
  }
  if (subj_alpha >= 6 && subj_upper * 10 >= subj_alpha * 7)
    sink.add("subject"_ns, "<mostly capitals>"_value);
  if (item.subject.empty()) sink.add("subject"_ns, "<empty>"_value);

  std::string_view text = item.text;
  if (text.size() > 64 * 1024) text = text.substr(0, 64 * 1024);
  std::size_t links = 0;
  for (std::size_t p = text.find("://"); p != std::string_view::npos; p = text.find("://", p + 3))
    ++links;
  // Words in capitals are counted by the tokenizer, from the bytes before it lower-cases them.
  Capitals caps;
  text_features.start("word"_ns, true);
  if (!words) {
    text_features.feed(text, &caps);
  } else {
    // The words of the first 16 KiB come from the features' own pass: the text is fed in two
    // parts, cut before the token that the limit splits, if one does, which is then tokenized
    // apart up to the limit, as word_features sees it.
    std::size_t limit = std::min(text.size(), kLessonText), cut = limit;
    while (cut > 0 && cut < text.size() && token_char(text[cut - 1]) && token_char(text[cut]))
      --cut;
    text_features.feed(text.substr(0, cut), &caps, words);
    text_features.feed(text.substr(cut), &caps);
    tokenize(text.substr(cut, limit - cut), [&](std::string_view, std::uint64_t h) {
      words->push_back(TextFeatures::word_id(h));
    });
  }
  sink.add("links"_ns, bucket(links));
  sink.add("length"_ns, bucket(text.size() / 256));
  if (caps.words >= 20) {
    std::size_t pct = caps.upper * 100 / caps.words;
    sink.add("capitals"_ns, pct >= 30 ? "30%+"_value : pct >= 10 ? "10-30%"_value : "<10%"_value);
  }
  if (item.html_only) sink.add("shape"_ns, "HTML only"_value);
  for (const auto& tag : item.html_tags) sink.add("html element"_ns, tag);
  for (const auto& host : item.link_hosts) {
    if (is_ip_literal(host)) {
      sink.add("links to"_ns, "a bare address"_value);
      continue;
    }
    sink.add("links to host"_ns, host);
    sink.add("links to domain"_ns, last_two_labels(host));
  }
  sink.add("linked hosts"_ns, bucket(item.link_hosts.size()));
  for (const auto& a : item.attachments) sink.add("attachment type"_ns, lower(a.content_type));
  sink.add("attachments"_ns, bucket(item.attachments.size()));
  if (item.parse_status != ParseStatus::ok) sink.add("shape"_ns, "malformed"_value);
}

}  // namespace

void NamedFeatures::add(std::uint32_t id, std::initializer_list<std::string_view> parts) {
  const auto begin = static_cast<std::uint32_t>(text_.size());
  for (auto p : parts) text_.append(p);
  entries_.push_back({id, begin, static_cast<std::uint32_t>(text_.size()), {}, {}, {}});
}

std::string NamedFeatures::name(std::size_t i) const {
  const Entry& e = entries_[i];
  if (e.ns.empty()) return text_.substr(e.begin, e.end - e.begin);
  return words_name(e.ns, e.first, e.second);
}

PhraseSet::PhraseSet(const std::vector<std::string_view>& phrases) {
  std::size_t size = 16;
  while (size < phrases.size() * 4) size *= 2;
  slots_.assign(size, 0);
  mask_ = size - 1;
  for (std::string_view phrase : phrases) {
    std::uint64_t last = 0;
    tokenize(phrase, [&](std::string_view, std::uint64_t word) { last = word; });
    ends_[(last >> 20) & 63] |= std::uint64_t{1} << ((last >> 26) & 63);
    const std::uint64_t h = phrase_hash(phrase);
    std::size_t i = static_cast<std::size_t>(h & mask_);
    while (slots_[i] != 0 && slots_[i] != h) i = (i + 1) & mask_;
    slots_[i] = h;
    filter_[(h >> 38) & 63] |= std::uint64_t{1} << ((h >> 32) & 63);
  }
}

bool PhraseSet::find(std::uint64_t h) const {
  for (std::size_t i = static_cast<std::size_t>(h & mask_);; i = (i + 1) & mask_) {
    if (slots_[i] == h) return true;
    if (slots_[i] == 0) return false;
  }
}

FeatureSet extract_features(const Item& item, const FeatureOptions& options) {
  // Sized so that few messages outgrow it: up to one distinct feature per 6 bytes of text.
  std::size_t text = std::min<std::size_t>(item.text.size(), 64 * 1024);
  Sink sink(options, 64 + item.headers.size() * 4 + text / 6);
  std::vector<std::uint64_t> phrases;
  std::vector<std::uint32_t> words;
  sink.add_bias();
  header_features(item, sink);
  sender_features(item, sink);
  body_features(item, sink, options.watch, &phrases, options.lesson_words ? &words : nullptr);
  if (item.channel == Channel::sms) text_message_features(item, sink);
  FeatureSet fs = sink.finish();
  fs.phrases = std::move(phrases);
  if (options.lesson_words) {
    std::sort(words.begin(), words.end());
    words.erase(std::unique(words.begin(), words.end()), words.end());
    fs.words = std::move(words);
  }
  return fs;
}

std::uint64_t phrase_hash(std::string_view phrase) {
  std::uint64_t h1 = 0, h2 = 0, out = 0;
  tokenize(phrase, [&](std::string_view, std::uint64_t h) {
    out = (h2 ? mix(mix(h2, h1), h) : h1 ? mix(h1, h) : h) | 1;
    h2 = h1;
    h1 = h;
  });
  return out;
}

std::vector<std::uint32_t> word_features(const Item& item) {
  FeatureOptions options;
  std::string_view text = item.text;
  if (text.size() > kLessonText) text = text.substr(0, kLessonText);
  Sink sink(options, 32 + text.size() / 24);
  TextFeatures words(sink, nullptr, nullptr);
  words.run("word"_ns, item.subject, false);
  words.run("word"_ns, text, false);
  auto ids = sink.finish().ids;
  std::sort(ids.begin(), ids.end());  // lessons compare sorted lists
  return ids;
}

}  // namespace sk::triage
