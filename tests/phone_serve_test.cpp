// Texts and calls end to end: lines set up with the `sidekick` command, the running
// `sidekick serve` answering the provider's signed webhooks over real HTTP on loopback, as
// the provider would post them, with TwiML.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "app/cli.hpp"
#include "phone/signature.hpp"
#include "store/phone_lines.hpp"
#include "store/repos.hpp"
#include "support.hpp"
#include "web/http.hpp"

using namespace sk;

namespace {

constexpr const char* kPublic = "https://va.example";
constexpr const char* kToken = "provider-auth-token-0123456789";

struct PhoneServeTest : ::testing::Test {
  test::TempDir home;
  FixedClock clock{1'750'000'000};
  test::Serve serve;
  int port = 0;

  struct Out {
    int code;
    std::string out, err;
  };
  Out cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--home", home.str(), "--by", "va:kim"});
    std::ostringstream out, err;
    int code = app::run_cli(args, out, err, clock);
    return {code, out.str(), err.str()};
  }

  void SetUp() override {
    ::setenv("SK_PHONE_TEST_TOKEN", kToken, 1);
    ASSERT_EQ(
        cli({"client", "add", "acme", "--name", "Acme Plumbing", "--email", "owner@acme.example"})
            .code,
        0);
  }

  void start() {
    const std::string log = home.str() + "/serve.log";
    serve.pid = test::spawn_logged({SK_SIDEKICK_BIN, "--home", home.str(), "serve", "--port", "0",
                                    "--public-url", std::string(kPublic) + "/"},
                                   log);
    ASSERT_GT(serve.pid, 0);
    const std::string at = "console: http://127.0.0.1:";
    ASSERT_TRUE(test::eventually(
        [&] {
          const std::string text = test::file_text(log);
          auto p = text.find(at);
          if (p == std::string::npos || text.find('\n', p) == std::string::npos) return false;
          port = std::atoi(text.c_str() + p + at.size());
          return port > 0;
        },
        60))
        << test::file_text(log);
  }

  struct Reply {
    int status = 0;
    std::string body;
  };
  // A webhook as the provider posts it: form-encoded, signed over the public URL.
  Reply post(const std::string& path, const std::map<std::string, std::string>& params,
             const std::string& token = kToken, bool sign = true) {
    // Encoded as the provider does, spaces as '+'.
    auto encode = [](const std::string& v) {
      std::string e = web::url_encode(v);
      for (auto at = e.find("%20"); at != std::string::npos; at = e.find("%20", at))
        e.replace(at, 3, "+");
      return e;
    };
    std::string body;
    for (const auto& [k, v] : params)
      body += (body.empty() ? "" : "&") + encode(k) + "=" + encode(v);
    std::string req = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " +
                      std::to_string(body.size()) + "\r\n";
    if (sign)
      req +=
          "X-Twilio-Signature: " + phone::webhook_signature(token, kPublic + path, params) + "\r\n";
    const std::string raw = test::http_exchange(port, req + "\r\n" + body);
    Reply r;
    if (raw.rfind("HTTP/1.1 ", 0) == 0) r.status = std::atoi(raw.c_str() + 9);
    auto at = raw.find("\r\n\r\n");
    if (at != std::string::npos) r.body = raw.substr(at + 4);
    return r;
  }

  std::unique_ptr<store::Db> open() {
    return std::move(store::open_sqlite(home.str() + "/sidekick.db")).value();
  }
};

TEST_F(PhoneServeTest, ALineIsSetUpWithTheCommandAndMistakesAreRefused) {
  auto bad = cli({"phone", "add", "--client", "acme", "555", "--token-env", "SK_PHONE_TEST_TOKEN"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("'555' is"), std::string::npos) << bad.err;
  auto no_token = cli({"phone", "add", "--client", "acme", "(416) 555-0100"});
  EXPECT_EQ(no_token.code, 2);
  EXPECT_NE(no_token.err.find("--token-file"), std::string::npos) << no_token.err;
  auto self = cli({"phone", "add", "--client", "acme", "(416) 555-0100", "--forward-to",
                   "416 555 0100", "--token-env", "SK_PHONE_TEST_TOKEN"});
  EXPECT_EQ(self.code, 2);

  auto added = cli({"phone", "add", "--client", "acme", "(416) 555-0100", "--region", "ca",
                    "--forward-to", "416-555-0199", "--token-env", "SK_PHONE_TEST_TOKEN"});
  ASSERT_EQ(added.code, 0) << added.err;
  EXPECT_NE(added.out.find("line +1 416-555-0100 for acme: calls the client takes ring "
                           "+1 416-555-0199"),
            std::string::npos)
      << added.out;
  auto list = cli({"phone", "list", "--client", "acme"});
  EXPECT_NE(list.out.find("+1 416-555-0100"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("rings +1 416-555-0199"), std::string::npos) << list.out;
  // The token is sealed, never stored as it was given.
  auto db = open();
  auto line = store::phone_line_by_number(*db, "+14165550100");
  ASSERT_TRUE(line.ok() && *line);
  EXPECT_EQ((*line)->sealed_token.find(kToken), std::string::npos);

  // Another client cannot take the number.
  ASSERT_EQ(cli({"client", "add", "globex"}).code, 0);
  auto taken = cli({"phone", "add", "--client", "globex", "+1 416 555 0100", "--token-env",
                    "SK_PHONE_TEST_TOKEN"});
  EXPECT_NE(taken.code, 0);
  EXPECT_NE(taken.err.find("another client's line"), std::string::npos) << taken.err;

  // Numbers are people's identities however they are written.
  auto sister =
      cli({"party", "set", "--client", "acme", "(647) 555-0111", "--relationship", "family"});
  ASSERT_EQ(sister.code, 0) << sister.err;
  EXPECT_NE(sister.out.find("+16475550111 is now family"), std::string::npos) << sister.out;
  EXPECT_NE(cli({"party", "set", "--client", "globex", "647 555 0111", "--relationship", "vip"})
                .err.find("country code"),
            std::string::npos);

  auto removed = cli({"phone", "remove", "--client", "acme", "416-555-0100"});
  EXPECT_EQ(removed.code, 0) << removed.err;
  // Gone; and with no line left, a number without its country code cannot be read.
  EXPECT_EQ(cli({"phone", "remove", "--client", "acme", "+1 416-555-0100"}).code, 3);
  EXPECT_EQ(cli({"phone", "remove", "--client", "acme", "416-555-0100"}).code, 2);
  auto audit = cli({"audit", "--client", "acme"});
  EXPECT_NE(audit.out.find("phone line set"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("line removed"), std::string::npos) << audit.out;
}

TEST_F(PhoneServeTest, TheTextClassifierIsTrainedWithTheCommand) {
  const std::string collection =
      std::string(SK_SOURCE_DIR) + "/../shared/data/sms/SMSSpamCollection.tsv";
  auto mixed = cli({"model", "train", "--texts", collection, "--corpus", "x"});
  EXPECT_EQ(mixed.code, 2);
  EXPECT_NE(mixed.err.find("apart"), std::string::npos) << mixed.err;
  EXPECT_EQ(cli({"model", "train", "--texts", home.str() + "/none.tsv"}).code, 2);
  auto trained = cli({"model", "train", "--texts", collection});
  ASSERT_EQ(trained.code, 0) << trained.err;
  EXPECT_NE(trained.out.find("trained on 3878 ham and 582 spam texts"), std::string::npos)
      << trained.out;
  EXPECT_TRUE(std::filesystem::exists(home.str() + "/models/text.model"));
}

TEST_F(PhoneServeTest, TheRunningAssistantAnswersTextsAndCalls) {
  ASSERT_EQ(cli({"phone", "add", "--client", "acme", "+14165550100", "--forward-to", "+14165550199",
                 "--token-env", "SK_PHONE_TEST_TOKEN"})
                .code,
            0);
  ASSERT_EQ(
      cli({"party", "set", "--client", "acme", "+1 647 555 0111", "--relationship", "family"}).code,
      0);
  ASSERT_EQ(cli({"party", "set", "--client", "acme", "+1 647 555 0666", "--relationship",
                 "protected-from"})
                .code,
            0);
  const std::string rules = home.str() + "/rules.toml";
  {
    std::ofstream(rules) << "[[rule]]\nname = \"heaters\"\nwhen.words = [\"heater\"]\n"
                            "then.disposition = \"awaiting_va\"\nthen.reply = \"acknowledge\"\n";
  }
  ASSERT_EQ(cli({"rules", "import", "--client", "acme", rules}).code, 0);
  start();

  const std::map<std::string, std::string> hello{{"MessageSid", "SM1"},
                                                 {"From", "+16475550123"},
                                                 {"To", "+14165550100"},
                                                 {"Body", "Hi, are you open on Saturday?"},
                                                 {"NumMedia", "0"}};
  // Not signed, signed with another token, or for a line that is not here: refused, nothing kept.
  EXPECT_EQ(post("/hooks/phone/text", hello, kToken, false).status, 403);
  EXPECT_EQ(post("/hooks/phone/text", hello, "not-the-token").status, 403);
  auto db = open();
  // The two refused for the line are counted, not yet shown: one bad request is anyone's.
  auto health = [&] {
    return store::phone_line_health(*db, {store::find_client(*db, "acme")->id}).value().at(0).reach;
  };
  EXPECT_EQ(health().failures, 2);
  EXPECT_FALSE(health().failing());
  EXPECT_EQ(health().last_error, "the signature does not match this line's token and address");
  EXPECT_NE(cli({"phone", "list", "--client", "acme"}).out.find("not called yet"),
            std::string::npos);
  EXPECT_EQ(post("/hooks/phone/text", hello, "still-not-the-token").status, 403);
  EXPECT_TRUE(health().failing());
  EXPECT_NE(cli({"phone", "list", "--client", "acme"}).out.find("refused since"),
            std::string::npos);
  auto elsewhere = hello;
  elsewhere["To"] = "+14165550177";
  EXPECT_EQ(post("/hooks/phone/text", elsewhere).status, 404);
  auto no_to = hello;
  no_to.erase("To");
  auto r400 = post("/hooks/phone/text", no_to);
  EXPECT_EQ(r400.status, 400);
  EXPECT_NE(r400.body.find("To"), std::string::npos);
  auto bad_media = hello;
  bad_media["NumMedia"] = "lots";
  EXPECT_EQ(post("/hooks/phone/text", bad_media).status, 400);
  EXPECT_EQ(db->query("SELECT COUNT(*) FROM items")->at(0).i64(0), 0);

  // A first-time number: taken, screened, nothing texted back.
  auto first = post("/hooks/phone/text", hello);
  EXPECT_EQ(first.status, 200) << first.body;
  EXPECT_NE(first.body.find("<Response></Response>"), std::string::npos) << first.body;
  EXPECT_EQ(post("/hooks/phone/text", hello).status, 200);  // the provider retried
  // One that gets through clears the count.
  EXPECT_EQ(health().failures, 0);
  EXPECT_GT(health().last_ok_at, 0);
  EXPECT_NE(cli({"phone", "list", "--client", "acme"}).out.find("answered "), std::string::npos);
  auto items = db->query("SELECT id, channel, from_address, subject FROM items");
  ASSERT_EQ(items->size(), 1u);
  EXPECT_EQ(items->at(0).str(1), "sms");
  EXPECT_EQ(items->at(0).str(2), "+16475550123");
  EXPECT_EQ(items->at(0).str(3), "Hi, are you open on Saturday?");
  auto client = store::find_client(*db, "acme").value();
  EXPECT_EQ(store::current_decision(*db, client.id, items->at(0).str(0)).value()->disposition,
            Disposition::screened);

  // A rule answers with a template, in the webhook's answer.
  auto heater = post("/hooks/phone/text", {{"MessageSid", "SM2"},
                                           {"From", "+16475550124"},
                                           {"To", "+14165550100"},
                                           {"Body", "My water heater & pipes <leak>"}});
  EXPECT_EQ(heater.status, 200);
  EXPECT_NE(heater.body.find("<Message>"), std::string::npos) << heater.body;

  // Family rings the client's own phone; if they do not pick up, a voicemail.
  auto jo = post("/hooks/phone/call",
                 {{"CallSid", "CA1"}, {"From", "+16475550111"}, {"To", "+14165550100"}});
  EXPECT_NE(jo.body.find("<Dial timeout=\"20\" action=\"https://va.example/hooks/phone/call/"
                         "after\"><Number>+14165550199</Number></Dial>"),
            std::string::npos)
      << jo.body;
  auto missed = post("/hooks/phone/call/after", {{"CallSid", "CA1"},
                                                 {"From", "+16475550111"},
                                                 {"To", "+14165550100"},
                                                 {"DialCallStatus", "no-answer"}});
  EXPECT_NE(missed.body.find("<Record action=\"https://va.example/hooks/phone/voicemail\""),
            std::string::npos)
      << missed.body;
  auto taken = post("/hooks/phone/call/after", {{"CallSid", "CA1"},
                                                {"From", "+16475550111"},
                                                {"To", "+14165550100"},
                                                {"DialCallStatus", "completed"}});
  EXPECT_NE(taken.body.find("<Hangup/>"), std::string::npos) << taken.body;

  // The protected-from hear busy, and it is evidence.
  auto ex = post("/hooks/phone/call",
                 {{"CallSid", "CA2"}, {"From", "+16475550666"}, {"To", "+14165550100"}});
  EXPECT_NE(ex.body.find("<Reject reason=\"busy\"/>"), std::string::npos) << ex.body;
  EXPECT_EQ(store::list_evidence(*db, client.id)->size(), 1u);

  // A stranger's call goes to voicemail with the client's name, and the voicemail is kept.
  auto stranger = post("/hooks/phone/call",
                       {{"CallSid", "CA3"}, {"From", "+16475550123"}, {"To", "+14165550100"}});
  EXPECT_NE(stranger.body.find("<Say>You have reached Acme Plumbing."), std::string::npos)
      << stranger.body;
  auto vm = post("/hooks/phone/voicemail", {{"CallSid", "CA3"},
                                            {"From", "+16475550123"},
                                            {"To", "+14165550100"},
                                            {"RecordingUrl", "https://api.phone.example/RE3"},
                                            {"RecordingDuration", "75"}});
  EXPECT_EQ(vm.status, 200) << vm.body;
  EXPECT_NE(vm.body.find("<Hangup/>"), std::string::npos);
  auto words = post("/hooks/phone/transcription",
                    {{"CallSid", "CA3"},
                     {"To", "+14165550100"},
                     {"TranscriptionStatus", "completed"},
                     {"TranscriptionText", "Please call me back about the invoice."}});
  EXPECT_EQ(words.status, 200);
  auto call_item = db->query("SELECT text FROM items WHERE source_key = 'call:CA3'");
  ASSERT_EQ(call_item->size(), 1u);
  EXPECT_NE(call_item->at(0).str(0).find("Voicemail, 1:15: https://api.phone.example/RE3\nWhat "
                                         "they said: Please call me back about the invoice."),
            std::string::npos)
      << call_item->at(0).str(0);
  EXPECT_EQ(post("/hooks/phone/voicemail",
                 {{"CallSid", "CA404"}, {"To", "+14165550100"}, {"RecordingUrl", "u"}})
                .status,
            404);

  // All of it is in the client's audit log with the reasons.
  serve.stop();
  auto audit = cli({"audit", "--client", "acme"});
  EXPECT_NE(audit.out.find("texted back"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("rang the client at +1 416-555-0199"), std::string::npos);
  EXPECT_NE(audit.out.find("refused"), std::string::npos);
  EXPECT_NE(audit.out.find("voicemail"), std::string::npos);
}

}  // namespace
