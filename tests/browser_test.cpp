// The console in a real browser (Debian's chromium through playwright-core): a VA works the
// queue by keyboard, a client reads only their own digest, and hostile mail neither runs nor
// loads anything. A loopback listener stands where the hostile mail points; it must hear
// nothing. Screenshots go to build/test-artifacts/browser.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>

#include "engine/replies.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "store/tasks.hpp"
#include "support/repo.hpp"
#include "web/server.hpp"
#include "web_world.hpp"

using namespace sk;

namespace {

// Counts every connection made to it, and what was asked.
class Trap {
 public:
  Trap() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        char buf[512];
        timeval tv{0, 200'000};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        std::lock_guard lock(mutex_);
        heard_.push_back({now_ms(), std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0)});
        ::close(c);
      }
    });
  }
  ~Trap() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  struct Heard {
    std::int64_t at_ms;  // Unix time, as the browser script's Date.now()
    std::string request;
  };
  std::vector<Heard> heard() {
    std::lock_guard lock(mutex_);
    return heard_;
  }
  static std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::vector<Heard> heard_;
};

TEST(Browser, VaWorksTheQueueClientSeesOwnDigestHostileMailIsInert) {
  const std::string playwright =
      std::string(SK_SOURCE_DIR) + "/.cache/web/node_modules/playwright-core";
  ASSERT_TRUE(std::filesystem::exists(playwright)) << "run scripts/setup: " << playwright;
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/chromium")) << "run scripts/setup (chromium)";
  Trap trap;
  test::WebWorld world(trap.port());
  auto console = world.console();
  auto* c = console.get();
  auto server = web::Server::start({}, [c](const web::Request& r) { return c->handle(r); });
  ASSERT_TRUE(server.ok()) << server.error().message;
  c->set_stopping(&(*server)->stopping());

  const std::string inline_item = world.add_mail(
      world.globex, "inline",
      test::file_text(test::shared_data() + "/mime/enmime/mail/html-mime-inline.raw"));
  // First-time senders for the screened page: two at one domain, one to keep out.
  for (const auto& [label, from] : {std::pair{"lead1", "Lee <lee@leads.example>"},
                                    {"lead2", "Lee <lee@leads.example>"},
                                    {"lead3", "Max <max@leads.example>"},
                                    {"pest", "pest@pushy.example"}})
    world.add_mail(world.acme, label,
                   std::string("From: ") + from +
                       "\r\nTo: owner@acme.example\r\nSubject: " + label + "\r\nMessage-ID: <" +
                       label + "@leads.example>\r\n\r\nWe would like to order.\r\n");
  ASSERT_TRUE(world.engine->triage_pending(world.acme.id).ok());
  // A reply of globex's the server refused: it waits in the queue to be sent again.
  engine::MessageRequest refused{
      .to = {"old@partner.example"}, .subject = "The contract", .body = "Hello.", .send_now = true};
  auto unsent =
      engine::queue_message(*world.db, world.clock, *world.ids, world.globex.id, refused, "va");
  ASSERT_TRUE(unsent.ok());
  unsent->status = store::OutgoingStatus::failed;
  unsent->last_error = "550 5.1.1 <old@partner.example>: no such user";
  ASSERT_TRUE(store::update_outgoing(*world.db, *unsent).ok());
  nlohmann::json w{{"passwords", world.passwords},
                   {"unsent", unsent->id},
                   {"acme", world.acme.id},
                   {"draft", world.drafts["acme"]},
                   {"globex", world.globex.id},
                   {"foreign_items", {world.items["globex1"], world.items["globex2"]}},
                   {"hostile_url", "/c/" + world.acme.id + "/items/" + world.items["hostile"]},
                   {"support_item", world.items["support"]},
                   {"support_url", "/c/" + world.acme.id + "/items/" + world.items["support"]},
                   {"inline_url", "/c/" + world.globex.id + "/items/" + inline_item}};
  const std::string artifacts = std::string(SK_BINARY_DIR) + "/test-artifacts/browser";
  ::setenv("SK_PLAYWRIGHT", playwright.c_str(), 1);
  ::setenv("SK_BASE", ("http://127.0.0.1:" + std::to_string((*server)->port())).c_str(), 1);
  ::setenv("SK_ARTIFACTS", artifacts.c_str(), 1);
  ::setenv("SK_WORLD", w.dump().c_str(), 1);
  int code = -1;
  std::string out = test::run_command(
      "node " + std::string(SK_SOURCE_DIR) + "/tests/browser/console.test.js", &code);
  (*server)->stop();
  ASSERT_EQ(code, 0) << out;

  auto at = out.find("RESULT ");
  ASSERT_NE(at, std::string::npos) << out;
  auto report = nlohmann::json::parse(out.substr(at + 7, out.find('\n', at) - at - 7));
  // What the browser did is in the store: the approval, the correction (with its lesson),
  // the sender let in, each by the person who did it.
  auto approved = store::current_decision(*world.db, world.acme.id, report["approved"]).value();
  ASSERT_TRUE(approved);
  EXPECT_EQ(approved->decided_by, "va");
  auto corrected = store::current_decision(*world.db, world.acme.id, report["corrected"]).value();
  ASSERT_TRUE(corrected);
  EXPECT_EQ(corrected->category, Category::support);
  EXPECT_EQ(corrected->disposition, Disposition::to_client);
  EXPECT_EQ(store::load_lessons(*world.db, world.acme.id).value().size(), 2u);  // + let in
  auto let_in = store::current_decision(*world.db, world.acme.id, report["let_in"]).value();
  ASSERT_TRUE(let_in);
  EXPECT_EQ(let_in->decided_by, "acme-owner");

  // The refused reply, mended in the browser, is queued to go again.
  auto again = store::get_outgoing(*world.db, world.globex.id, report["unsent"]).value();
  EXPECT_EQ(again.status, store::OutgoingStatus::queued);
  EXPECT_EQ(again.last_error, "");

  // The VA's verdicts on the screened page: a domain let in, a sender kept out.
  ASSERT_EQ(report["screened"]["let_in"], "leads.example");
  for (const char* label : {"lead1", "lead2", "lead3"}) {
    auto d = store::current_decision(*world.db, world.acme.id, world.items[label]).value();
    ASSERT_TRUE(d);
    EXPECT_EQ(d->disposition, Disposition::to_client) << label;
    EXPECT_EQ(d->decided_by, "va");
  }
  auto pest = store::find_party(*world.db, world.acme.id, "pest@pushy.example").value();
  ASSERT_TRUE(pest);
  EXPECT_EQ(pest->relationship, Relationship::blocked);

  // The task added with the form and done from its page.
  auto done = store::list_tasks(*world.db, world.acme.id, true).value();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].title, report["task"]);
  EXPECT_EQ(done[0].done_by, "va");
  EXPECT_EQ(done[0].created_by, "va");

  auto draft = store::get_outgoing(*world.db, world.acme.id, report["draft"]).value();
  EXPECT_EQ(draft.status, store::OutgoingStatus::queued);
  EXPECT_NE(draft.body.find("Tuesday at 10?\nBest regards, Vera (assistant)"), std::string::npos)
      << draft.body;

  // The rule the VA wrote in the form is stored as they filled it in.
  auto rules = world.engine->load_policy(world.acme.id).value().rules;
  auto rule = std::find_if(rules.begin(), rules.end(),
                           [&](const triage::Rule& r) { return r.name == report["rule"]; });
  ASSERT_NE(rule, rules.end());
  EXPECT_EQ(rule->when.subject_words, (std::vector<std::string>{"order", "refund"}));
  EXPECT_EQ(rule->when.relationships, std::vector<Relationship>{Relationship::customer});
  EXPECT_EQ(rule->when.hour_from, 8);
  EXPECT_EQ(rule->when.weekdays, std::vector<int>{1});
  EXPECT_EQ(rule->then.disposition, Disposition::awaiting_va);
  EXPECT_EQ(rule->then.labels, std::vector<std::string>{"orders"});

  // The VA's knowledge-base entry is stored, and the answer chosen from it, edited, waits in
  // the outgoing queue as a threaded reply to the customer; the conversation is solved.
  auto entries = support::load_entries(*world.db, world.acme.id).value();
  auto added = std::find_if(entries.begin(), entries.end(),
                            [&](const support::Entry& e) { return e.key == report["kb_entry"]; });
  ASSERT_NE(added, entries.end());
  EXPECT_EQ(added->variants.size(), 2u);
  auto answer = support::get_answer(*world.db, world.acme.id, report["support_item"]).value();
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->action, "sent");
  auto reply = store::get_outgoing(*world.db, world.acme.id, answer->outgoing_id).value();
  EXPECT_EQ(reply.status, store::OutgoingStatus::queued);
  EXPECT_EQ(reply.answers, world.items["support"]);
  EXPECT_EQ(reply.created_by, "va");
  EXPECT_NE(reply.body.find("send it back within 30 days for a full refund."), std::string::npos)
      << reply.body;
  EXPECT_NE(reply.body.find("PS: keep the box, please."), std::string::npos) << reply.body;
  EXPECT_NE(reply.raw.find("In-Reply-To: <support1@shopper.example>"), std::string::npos);
  auto conversation =
      support::get_conversation(*world.db, world.acme.id, answer->conversation).value();
  ASSERT_TRUE(conversation);
  EXPECT_EQ(conversation->status, support::Status::solved);
  int kb_audits = 0;
  auto audit = store::list_audit(*world.db, world.acme.id, 500);
  ASSERT_TRUE(audit.ok());
  for (const auto& e : *audit)
    if (e.actor == "va" && (e.action == "kb entry added" || e.action == "support answered"))
      ++kb_audits;
  EXPECT_EQ(kb_audits, 2);

  // Nothing in the hostile message reached the network until the VA asked for its images;
  // then only its photo did.
  const std::int64_t asked = report["images_shown_at"];
  std::string before, after;
  int photos = 0;
  for (const auto& h : trap.heard()) {
    std::string line = h.request.substr(0, h.request.find('\n')) + "\n";
    if (h.at_ms < asked) {
      before += line;
    } else if (line.rfind("GET /photo.png ", 0) == 0) {
      ++photos;
    } else {
      after += line;
    }
  }
  EXPECT_TRUE(before.empty()) << "the hostile message reached the trap:\n" << before;
  EXPECT_TRUE(after.empty()) << "more than the photo loaded:\n" << after;
  EXPECT_GE(photos, 1);
  for (const char* shot :
       {"va-queue.png", "va-corrected.png", "va-hostile-message.png", "va-images-shown.png",
        "client-digest.png", "va-kb.png", "va-support-sent.png"})
    EXPECT_GT(std::filesystem::file_size(artifacts + "/" + shot), 1000u) << shot;
}

}  // namespace
