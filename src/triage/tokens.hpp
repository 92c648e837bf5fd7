#pragma once
// Splitting text into lower-cased, hashed tokens: the inner loop of feature extraction, which
// sees every byte of every message. Internal to triage (features.cpp and its tests).
//
// A token is a run of letters, digits, bytes >= 0x80 and $ ' - _ . !, with the sentence's
// . ' - trimmed from its ends; tokens of one byte are dropped and runs longer than 28 bytes
// stand for their length only. Where the run's edges are is found 64 bytes at a time (SSE2),
// and a token is lower-cased and hashed 8 bytes at a time: a byte at a time, with a branch at
// each token's edge that no predictor learns, was a quarter of triage's time.
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sk::triage::tokens {

static_assert(std::endian::native == std::endian::little, "tokens are read as little-endian words");

// What each byte is to the tokenizer: not part of tokens (0), an ASCII letter by case, or
// another token character.
inline constexpr unsigned kUpper = 1, kLower = 2, kOtherToken = 4;
inline constexpr std::array<unsigned char, 256> kClass = [] {
  std::array<unsigned char, 256> t{};
  for (int c = 0; c < 256; ++c)
    if ((c >= '0' && c <= '9') || c == '$' || c == '\'' || c == '-' || c == '_' || c == '.' ||
        c == '!' || c >= 0x80)
      t[c] = kOtherToken;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kUpper;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kLower;
  return t;
}();

inline unsigned char_class(char c) {
  return kClass[static_cast<unsigned char>(c)];
}

inline bool token_char(char c) {
  return char_class(c) != 0;
}

// Words in capitals, for the message's shape: runs of three or more ASCII letters, and how many
// of them have no lower-case letter. Counted by the tokenizer (a letter run never crosses a
// token's edge); a pass of its own over the text cost as much as the tokenizer's.
struct Capitals {
  std::size_t words = 0, upper = 0;

  // One letter run; cases: kUpper | kLower, the cases it has.
  void run(std::size_t len, unsigned cases) {
    if (len < 3) return;
    ++words;
    if (cases == kUpper) ++upper;
  }

  // Every letter run in `s`.
  void scan(std::string_view s) {
    std::size_t i = 0, n = s.size();
    auto letter = [](char c) { return char_class(c) & (kUpper | kLower); };
    while (i < n) {
      while (i < n && !letter(s[i])) ++i;
      std::size_t start = i;
      unsigned cases = 0;
      for (unsigned c; i < n && (c = letter(s[i])) != 0; ++i) cases |= c;
      run(i - start, cases);
    }
  }
};

// Bit i of block b: whether byte 64 * b + i is a token character (0 past the end).
class TokenBits {
 public:
  explicit TokenBits(std::string_view text) : text_(text) {}

  std::size_t blocks() const { return (text_.size() + 63) / 64; }

  [[gnu::always_inline]] std::uint64_t block(std::size_t b) const {
    const char* p = text_.data() + b * 64;
    if ((b + 1) * 64 <= text_.size()) return bits(p);
    alignas(16) char tail[64] = {};  // 0 is not a token character
    std::memcpy(tail, p, text_.size() - b * 64);
    return bits(tail);
  }

 private:
  static std::uint64_t bits(const char* p) {
#if defined(__SSE2__)
    std::uint64_t out = 0;
    for (int k = 0; k < 4; ++k) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      auto in_range = [](__m128i x, char lo, char hi) {
        __m128i d = _mm_sub_epi8(x, _mm_set1_epi8(lo));
        return _mm_cmpeq_epi8(_mm_subs_epu8(d, _mm_set1_epi8(static_cast<char>(hi - lo))),
                              _mm_setzero_si128());
      };
      auto is = [&](char c) { return _mm_cmpeq_epi8(v, _mm_set1_epi8(c)); };
      // Letters of both cases in one range: | 0x20 takes no other byte into a-z.
      __m128i t = _mm_or_si128(in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 'z'),
                               in_range(v, '0', '9'));
      t = _mm_or_si128(t, _mm_or_si128(_mm_or_si128(is('$'), is('\'')), is('-')));
      t = _mm_or_si128(t, _mm_or_si128(_mm_or_si128(is('_'), is('.')), is('!')));
      t = _mm_or_si128(t, _mm_cmplt_epi8(v, _mm_setzero_si128()));  // >= 0x80
      out |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(t)))
             << (16 * k);
    }
    return out;
#else
    std::uint64_t out = 0;
    for (int i = 0; i < 64; ++i) out |= std::uint64_t{token_char(p[i])} << i;
    return out;
#endif
  }

  std::string_view text_;
};

// A token of 2 to 28 bytes, lower-cased and hashed in 8-byte words. The hash is injective on
// tokens of up to 8 bytes (a bijection of the word and the length), and well mixed after
// namespaces are mixed in (features.cpp's mix).
struct Word {
  std::uint64_t hash = 0;
  unsigned cases = 0;  // kUpper | kLower | kOtherToken, the kinds of byte it has
};

// Lower-cases `len` (2..28) bytes at `p` into `out` (32 bytes), hashing them. `readable`: how
// many bytes may be read at p (reading a whole word past the token is cheaper than stopping).
inline Word lower_and_hash(const char* p, std::size_t len, std::size_t readable, char* out) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  alignas(8) char padded[32] = {};  // the bytes past the token are masked off, but read
  if (readable < 32) {
    std::memcpy(padded, p, len);
    p = padded;
  }
  Word w;
  std::uint64_t h = 0x9e3779b97f4a7c15ull ^ len, any_upper = 0, any_lower = 0, any_other = 0;
  const std::size_t words = (len + 7) / 8;
  for (std::size_t k = 0; k < words; ++k) {
    std::uint64_t x;
    std::memcpy(&x, p + 8 * k, 8);
    std::size_t left = len - 8 * k;
    // The high bit of each of the token's bytes in this word.
    std::uint64_t in_token = kHigh;
    if (left < 8) {
      x &= (std::uint64_t{1} << (8 * left)) - 1;
      in_token &= (std::uint64_t{1} << (8 * left)) - 1;
    }
    // Per byte, without carries between bytes: the high bit says whether the low seven bits
    // are at least 'A' (and more than 'Z'), for bytes below 0x80.
    const std::uint64_t low7 = x & ~kHigh, ascii = ~x & kHigh;
    const std::uint64_t upper =
        (low7 + (0x80 - 'A') * kOnes) & ~(low7 + (0x80 - 'Z' - 1) * kOnes) & ascii;
    const std::uint64_t lower =
        (low7 + (0x80 - 'a') * kOnes) & ~(low7 + (0x80 - 'z' - 1) * kOnes) & ascii;
    x |= upper >> 2;  // 0x80 >> 2 is the case bit
    std::memcpy(out + 8 * k, &x, 8);
    any_other |= in_token & ~(upper | lower);
    any_upper |= upper;
    any_lower |= lower;
    h = (h ^ x) * 0xff51afd7ed558ccdull;
    h ^= h >> 29;
  }
  w.hash = h;
  w.cases = (any_upper ? kUpper : 0) | (any_lower ? kLower : 0) | (any_other ? kOtherToken : 0);
  return w;
}

inline constexpr std::string_view kLong = "<long>", kVeryLong = "<very long>";
inline constexpr std::uint64_t kLongHash = 0x6c6f6e673e3c0000ull,  // any fixed values
    kVeryLongHash = 0x766c6f6e673e3c00ull;

// Splits text into lower-cased tokens; calls fn(token, hash) for each, or fn(token, hash,
// source) where fn takes it: the token's bytes in `text` before lower-casing (for a long run,
// its stand-in), which outlive the call (the lower-cased token does not). Counts words in
// capitals into `caps` when given.
template <class Fn>
void tokenize(std::string_view text, Fn&& fn, Capitals* caps = nullptr) {
  alignas(8) char buf[32];
  const TokenBits bits(text);
  const std::size_t blocks = bits.blocks(), n = text.size();
  std::size_t b = 0;
  std::uint64_t m = blocks ? bits.block(0) : 0;  // block b's token bits not yet consumed
  for (;;) {
    while (m == 0) {
      if (++b >= blocks) return;
      m = bits.block(b);
    }
    std::size_t start = b * 64 + static_cast<std::size_t>(std::countr_zero(m)), end = n;
    // The run ends at the first 0 bit from its start, in this block or a later one.
    std::uint64_t rest = ~m & (~std::uint64_t{0} << std::countr_zero(m));
    while (rest == 0) {
      if (++b >= blocks) break;
      m = bits.block(b);
      rest = ~m;
    }
    if (rest != 0) {
      const int e = std::countr_zero(rest);
      end = b * 64 + static_cast<std::size_t>(e);
      m &= ~std::uint64_t{0} << e;
    } else {
      m = 0;
    }
    std::size_t len = end - start;
    // Trim punctuation that ends sentences or quotes.
    while (len > 0 && (text[start + len - 1] == '.' || text[start + len - 1] == '\'' ||
                       text[start + len - 1] == '-'))
      --len;
    while (len > 0 && (text[start] == '\'' || text[start] == '-' || text[start] == '.')) {
      ++start;
      --len;
    }
    if (len < 2) continue;
    // (Trimmed ends are not letters: the token has all the run's letters, at most one if it
    // is shorter than 2, so no word for Capitals.)
    std::string_view token, source;
    std::uint64_t hash;
    if (len > 28) {
      if (caps) caps->scan(text.substr(start, len));
      // Long runs (base64 leftovers, tracking ids) say something by their length only.
      token = source = len > 60 ? kVeryLong : kLong;
      hash = len > 60 ? kVeryLongHash : kLongHash;
    } else {
      const Word w = lower_and_hash(text.data() + start, len, n - start, buf);
      if (caps) {
        if (w.cases & kOtherToken)
          caps->scan(text.substr(start, len));  // "don't", "e-mail", "mp3": runs within
        else
          caps->run(len, w.cases);  // the usual: one word, all letters
      }
      token = std::string_view(buf, len);
      source = std::string_view(text.data() + start, len);
      hash = w.hash;
    }
    // One call, so that fn is inlined once.
    if constexpr (std::is_invocable_v<Fn&, std::string_view, std::uint64_t, std::string_view>)
      fn(token, hash, source);
    else
      fn(token, hash);
  }
}

}  // namespace sk::triage::tokens
