// Phone numbers, webhook signatures (the provider's published vectors in
// ../shared/data/phone) and TwiML answers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "phone/number.hpp"
#include "phone/signature.hpp"
#include "phone/twiml.hpp"

namespace fs = std::filesystem;
using namespace sk;

namespace {

const fs::path kVectors =
    fs::path(SK_SOURCE_DIR) / ".." / "shared" / "data" / "phone" / "webhook-signature-vectors.json";

}  // namespace

TEST(PhoneNumber, WrittenAnyUsualWayBecomesE164) {
  EXPECT_EQ(*phone::to_e164("(416) 555-0100", "CA"), "+14165550100");
  EXPECT_EQ(*phone::to_e164("416.555.0100", "US"), "+14165550100");
  EXPECT_EQ(*phone::to_e164("+1 416 555 0100", "GB"), "+14165550100");
  EXPECT_EQ(*phone::to_e164("020 7946 0958", "GB"), "+442079460958");
  EXPECT_EQ(*phone::to_e164("+44 (0)20 7946 0958", "US"), "+442079460958");
  EXPECT_EQ(*phone::to_e164("0049 30 12345678", "FR"), "+493012345678");
  EXPECT_EQ(*phone::to_e164("+14165550100", ""), "+14165550100");
}

TEST(PhoneNumber, WhatIsNotANumberIsRefusedWithTheReason) {
  auto no_country = phone::to_e164("416 555 0100", "");
  ASSERT_FALSE(no_country.ok());
  EXPECT_EQ(no_country.error().code, Errc::invalid_input);
  EXPECT_NE(no_country.error().message.find("country code"), std::string::npos);
  EXPECT_FALSE(phone::to_e164("hello", "US").ok());
  EXPECT_FALSE(phone::to_e164("12", "US").ok());
  EXPECT_FALSE(phone::to_e164("+1 416 555 01000000000", "US").ok());
  EXPECT_FALSE(phone::to_e164("+1 011 555 0100", "US").ok());  // no such area code
  EXPECT_FALSE(phone::to_e164("", "US").ok());

  EXPECT_TRUE(phone::looks_like_number("+1 (416) 555-0100"));
  EXPECT_FALSE(phone::looks_like_number("owner@acme.example"));
  EXPECT_FALSE(phone::looks_like_number("ACME"));
  EXPECT_EQ(phone::for_display("+14165550100"), "+1 416-555-0100");
}

TEST(WebhookSignature, ThePublishedVectorsHold) {
  std::ifstream in(kVectors);
  ASSERT_TRUE(in) << kVectors;
  std::stringstream ss;
  ss << in.rdbuf();
  const auto doc = nlohmann::json::parse(ss.str());
  const auto& vectors = doc.at("vectors");
  ASSERT_GE(vectors.size(), 3u);
  int valid = 0, invalid = 0;
  for (const auto& v : vectors) {
    phone::Params params;
    for (const auto& [k, val] : v.at("params").items()) params[k] = val.get<std::string>();
    const std::string token = v.at("auth_token"), url = v.at("url"), sig = v.at("signature");
    const bool expected = v.value("valid", true);
    EXPECT_EQ(phone::signature_valid(token, url, params, sig), expected) << url;
    if (expected) {
      EXPECT_EQ(phone::webhook_signature(token, url, params), sig) << url;
      ++valid;
    } else {
      ++invalid;
    }
  }
  EXPECT_GE(valid, 2);
  EXPECT_GE(invalid, 1);
  // The first vector is the value the provider publishes.
  EXPECT_EQ(vectors[0].at("signature"), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

TEST(WebhookSignature, EitherSpellingOfTheDefaultPortButNothingElse) {
  phone::Params p{{"From", "+14165550100"}, {"Body", "hi"}};
  const std::string sig = phone::webhook_signature("secret", "https://va.example/hooks/text", p);
  EXPECT_TRUE(phone::signature_valid("secret", "https://va.example/hooks/text", p, sig));
  EXPECT_TRUE(phone::signature_valid("secret", "https://va.example:443/hooks/text", p, sig));
  EXPECT_FALSE(phone::signature_valid("secret", "https://va.example:8443/hooks/text", p, sig));
  EXPECT_FALSE(phone::signature_valid("other", "https://va.example/hooks/text", p, sig));
  EXPECT_FALSE(phone::signature_valid("", "https://va.example/hooks/text", p, sig));
  EXPECT_FALSE(phone::signature_valid("secret", "https://va.example/hooks/text", p, ""));
  p["Body"] = "hi!";
  EXPECT_FALSE(phone::signature_valid("secret", "https://va.example/hooks/text", p, sig));
}

TEST(Twiml, VerbsInOrderAndEveryValueEscaped) {
  phone::Twiml t;
  t.say("You've reached <Acme> & co").record("/hooks/phone/voicemail?x=1&y=2", 120, "/t");
  const std::string xml = t.str();
  EXPECT_NE(xml.find("<Response><Say>You&#39;ve reached &lt;Acme&gt; &amp; co</Say>"
                     "<Record action=\"/hooks/phone/voicemail?x=1&amp;y=2\" maxLength=\"120\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("transcribe=\"true\" transcribeCallback=\"/t\"/></Response>"),
            std::string::npos);
  EXPECT_EQ(phone::Twiml().str(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response></Response>\n");
  EXPECT_NE(phone::Twiml().reject(true).str().find("<Reject reason=\"busy\"/>"), std::string::npos);
  EXPECT_NE(
      phone::Twiml()
          .dial("+14165550100", 20, "/after")
          .str()
          .find("<Dial timeout=\"20\" action=\"/after\"><Number>+14165550100</Number></Dial>"),
      std::string::npos);
  EXPECT_EQ(phone::xml_escape(std::string("a\x01"
                                          "b\n",
                                          4)),
            "ab\n");
}
