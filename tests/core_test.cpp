#include <gtest/gtest.h>

#include "core/clock.hpp"
#include "core/domain.hpp"
#include "core/hash.hpp"
#include "core/result.hpp"

using namespace sk;

TEST(Domain, NamesRoundTrip) {
  for (int i = 0; i < kCategoryCount; ++i) {
    auto c = static_cast<Category>(i);
    EXPECT_EQ(category_from(to_string(c)), c);
  }
  EXPECT_EQ(relationship_from("protected-from"), Relationship::protected_from);
  EXPECT_EQ(disposition_from("awaiting-va"), Disposition::awaiting_va);
  EXPECT_FALSE(category_from("nonsense").has_value());
}

TEST(Domain, AddressHelpers) {
  EXPECT_EQ(domain_of("Alice@Example.COM"), "example.com");
  EXPECT_EQ(domain_of("nobody"), "");
  EXPECT_TRUE(iequals("List-Id", "list-id"));
}

TEST(Ids, SequentialIsDeterministic) {
  SequentialIds a, b;
  EXPECT_EQ(a.next("itm"), "itm_1");
  EXPECT_EQ(a.next("itm"), "itm_2");
  EXPECT_EQ(b.next("itm"), "itm_1");
  RandomIds r;
  EXPECT_NE(r.next("x"), r.next("x"));
}

TEST(Hash, Sha256KnownVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// In pieces, as a backup hashes a database a block at a time: the same digest.
TEST(Hash, Sha256InPieces) {
  Sha256 pieces;
  pieces.add("a");
  pieces.add("");
  pieces.add("bc");
  EXPECT_EQ(pieces.hex(), sha256_hex("abc"));
  std::string big(3'000'001, 'x');
  Sha256 blocks;
  for (std::size_t at = 0; at < big.size(); at += 1 << 20)
    blocks.add(std::string_view(big).substr(at, 1 << 20));
  EXPECT_EQ(blocks.hex(), sha256_hex(big));
}

TEST(Time, FormatsUtc) {
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
}

static Result<int> half(int x) {
  if (x % 2) return make_error(Errc::invalid_input, "odd");
  return x / 2;
}
static Result<int> quarter(int x) {
  SK_ASSIGN(int h, half(x));
  return half(h);
}
TEST(Result, PropagatesErrors) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "odd");
}

#include "core/secrets.hpp"

TEST(Secrets, SealAndOpen) {
  SecretKey key = SecretKey::generate();
  std::string sealed = key.seal("hunter2");
  EXPECT_EQ(sealed.find("hunter2"), std::string::npos);
  EXPECT_NE(key.seal("hunter2"), sealed);  // fresh nonce each time
  EXPECT_EQ(*key.open(sealed), "hunter2");
  // Another key, or one flipped bit, and it will not open.
  EXPECT_FALSE(SecretKey::generate().open(sealed).ok());
  sealed[sealed.size() - 1] ^= 1;
  EXPECT_FALSE(key.open(sealed).ok());
  EXPECT_FALSE(key.open("short").ok());
  auto copy = SecretKey::from_bytes(key.bytes());
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(*copy->open(key.seal("x")), "x");
  EXPECT_FALSE(SecretKey::from_bytes("too short").ok());
}
