// The public booking page over the console's router: free times in the visitor's zone, the
// confirm form, the done page, the guest's own page to move or cancel; refusals for bad,
// expired and foreign links, cross-site posts and too many bookings.
#include <gtest/gtest.h>

#include "engine/booking_links.hpp"
#include "store/repos.hpp"
#include "store/scheduling.hpp"
#include "web/booking_page.hpp"
#include "web/render.hpp"
#include "web_world.hpp"

namespace sk {
namespace {

std::string unescape(std::string s) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"&amp;", "&"},
                          {"&#x2F;", "/"},
                          {"&#47;", "/"},
                          {"&#x3D;", "="},
                          {"&#61;", "="}}) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at))
      s.replace(at, from.size(), to);
  }
  return s;
}

// The values of `attr="..."` after each `marker` in the page.
std::vector<std::string> attrs(const std::string& html, const std::string& marker,
                               const std::string& attr) {
  std::vector<std::string> out;
  for (auto at = html.find(marker); at != std::string::npos; at = html.find(marker, at + 1)) {
    auto a = html.find(attr + "=\"", at);
    if (a == std::string::npos) break;
    a += attr.size() + 2;
    out.push_back(unescape(html.substr(a, html.find('"', a) - a)));
  }
  return out;
}

std::string header(const web::Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return {};
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    out += (out.empty() ? "" : "&") + k + "=";
    for (unsigned char ch : v) {
      if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
        out += static_cast<char>(ch);
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", ch);
        out += buf;
      }
    }
  }
  return out;
}

struct BookingPageTest : ::testing::Test {
  static inline std::unique_ptr<test::WebWorld> world;
  static void SetUpTestSuite() {
    world = std::make_unique<test::WebWorld>();
    auto& db = *world->db;
    // The world's clock is Sunday 15 June 2025, 15:06 UTC (11:06 in Toronto).
    ASSERT_TRUE(store::set_availability(db, world->acme.id, R"({"zone":"America/Toronto",
        "weekly":{"mon":["09:00-12:00"],"tue":["09:00-12:00"],"wed":["09:00-12:00"],
                  "thu":["09:00-12:00"],"fri":["09:00-12:00"]},"horizon_days":14})",
                                        world->clock.now())
                    .ok());
    ASSERT_TRUE(store::put_booking_type(db, world->acme.id, "intro",
                                        R"({"slug":"intro","name":"Intro call","duration_min":60,
        "location":{"kind":"video","value":"https://meet.example/acme"},
        "questions":["What would you like to discuss?"]})")
                    .ok());
    ASSERT_TRUE(store::set_availability(db, world->globex.id, R"({"zone":"Europe/London",
        "weekly":{"mon":["10:00-16:00"]},"horizon_days":14})",
                                        world->clock.now())
                    .ok());
    ASSERT_TRUE(store::put_booking_type(db, world->globex.id, "demo",
                                        R"({"slug":"demo","name":"Globex demo","duration_min":30})")
                    .ok());
  }
  static void TearDownTestSuite() { world.reset(); }

  std::unique_ptr<web::Console> console = world->console();

  web::Response call(const std::string& method, const std::string& target,
                     const std::string& body = "",
                     std::vector<std::pair<std::string, std::string>> headers = {},
                     web::Console* on = nullptr) {
    web::Request r = test::request_for(method, target, body);
    r.remote = "192.0.2.7";
    r.headers = std::move(headers);
    r.headers.emplace_back("host", "book.test");
    if (!body.empty()) r.headers.emplace_back("content-type", "application/x-www-form-urlencoded");
    return (on ? on : console.get())->handle(r);
  }
  web::Response post(const std::string& target,
                     const std::vector<std::pair<std::string, std::string>>& fields,
                     web::Console* on = nullptr) {
    return call("POST", target, form_encode(fields),
                {{"origin", "https://book.test"}, {"sec-fetch-site", "same-origin"}}, on);
  }
  std::vector<store::Booking> bookings(const ClientId& c) {
    return store::list_bookings(*world->db, c).value();
  }
  std::string token_of(const std::string& url) {
    auto at = url.find("t=");
    return url.substr(at + 2, url.find('&', at) - at - 2);
  }
};

TEST_F(BookingPageTest, FreeTimesInTheVisitorsZoneWithTheClientsAsFallback) {
  // No zone yet: the page asks the browser (data-zone-auto, booking.js) and meanwhile shows
  // the client's zone.
  auto plain = call("GET", "/book/acme/intro");
  ASSERT_EQ(plain.status, 200) << plain.body;
  EXPECT_NE(plain.body.find("data-zone-auto"), std::string::npos);
  EXPECT_NE(plain.body.find("/static/booking.js"), std::string::npos);
  EXPECT_NE(plain.body.find("value=\"America/Toronto\""), std::string::npos);
  EXPECT_NE(plain.body.find("Monday 16 June 2025"), std::string::npos);
  auto times = attrs(plain.body, "class=\"slot\"", "href");
  ASSERT_FALSE(times.empty());
  // Monday 09:00 in Toronto is 13:00Z, 18:30 in Kolkata.
  EXPECT_NE(plain.body.find(">09:00<"), std::string::npos);
  auto kolkata = call("GET", "/book/acme/intro?zone=Asia%2FKolkata");
  ASSERT_EQ(kolkata.status, 200);
  EXPECT_EQ(kolkata.body.find("data-zone-auto"), std::string::npos);
  EXPECT_NE(kolkata.body.find(">18:30<"), std::string::npos);
  EXPECT_EQ(kolkata.body.find(">09:00<"), std::string::npos);
  EXPECT_EQ(attrs(kolkata.body, "class=\"slot\"", "data-start"),
            attrs(plain.body, "class=\"slot\"", "data-start"));
  // Five mornings a week for two weeks, three hour-long times each.
  EXPECT_EQ(attrs(plain.body, "class=\"slot\"", "data-start").size(), 30u);
  // An unknown zone falls back to the client's, and says so.
  auto odd = call("GET", "/book/acme/intro?zone=Mars%2FOlympus");
  ASSERT_EQ(odd.status, 200);
  EXPECT_NE(odd.body.find("That time zone is unknown"), std::string::npos);
  EXPECT_NE(odd.body.find(">09:00<"), std::string::npos);
  // The page's script and the strict policy it runs under.
  auto js = call("GET", "/static/booking.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_NE(js.body.find("Intl.DateTimeFormat"), std::string::npos);
  EXPECT_NE(header(plain, "Content-Security-Policy").find("script-src 'self'"), std::string::npos);
  EXPECT_NE(plain.body.find("name=\"viewport\""), std::string::npos);
  // No such client or type: one answer, nothing about who exists.
  EXPECT_EQ(call("GET", "/book/nobody/intro").status, 404);
  EXPECT_EQ(call("GET", "/book/acme/nothing").status, 404);
  EXPECT_EQ(call("GET", "/book/" + world->acme.id + "/intro").status, 404);  // ids are not slugs
}

TEST_F(BookingPageTest, GuestBooksThenMovesThenCancelsByTheirOwnLink) {
  const std::size_t before = bookings(world->acme.id).size();
  auto page = call("GET", "/book/acme/intro?zone=Europe%2FParis");
  auto links = attrs(page.body, "class=\"slot\"", "href");
  auto starts = attrs(page.body, "class=\"slot\"", "data-start");
  ASSERT_GE(links.size(), 3u);
  auto confirm = call("GET", links[0]);
  ASSERT_EQ(confirm.status, 200) << confirm.body;
  EXPECT_NE(confirm.body.find("Monday 16 June 2025, 15:00 (Europe/Paris)"), std::string::npos)
      << confirm.body;
  EXPECT_NE(confirm.body.find("What would you like to discuss?"), std::string::npos);
  EXPECT_NE(confirm.body.find("name=\"q0\""), std::string::npos);

  auto done = post("/book/acme/intro/confirm", {{"t", token_of(links[0])},
                                                {"zone", "Europe/Paris"},
                                                {"name", "Gus Guest"},
                                                {"email", "gus@guest.example"},
                                                {"q0", "Widgets in bulk"}});
  ASSERT_EQ(done.status, 303) << done.body;
  const std::string where = header(done, "Location");
  ASSERT_EQ(where.rfind("/book/acme/done?t=", 0), 0u) << where;
  auto all = bookings(world->acme.id);
  ASSERT_EQ(all.size(), before + 1);
  const store::Booking b = all.back().guest_email == "gus@guest.example" ? all.back() : all.front();
  EXPECT_EQ(b.guest_email, "gus@guest.example");
  EXPECT_EQ(b.guest_zone, "Europe/Paris");
  EXPECT_EQ(std::to_string(b.starts_at), starts[0]);
  EXPECT_NE(b.answers_json.find("Widgets in bulk"), std::string::npos);
  EXPECT_EQ(b.source, "page");
  // The invitation to the guest is queued.
  auto out = store::list_outgoing(*world->db, world->acme.id).value();
  bool invited = false;
  for (const auto& m : out) {
    if (m.kind != "invitation" || m.to.empty() || m.to[0] != "gus@guest.example") continue;
    invited = true;
    // With the guest's own link to move or cancel, on the configured address.
    EXPECT_NE(m.body.find("To move or cancel it: https://book.test/book/acme/manage?t="),
              std::string::npos)
        << m.body;
  }
  EXPECT_TRUE(invited);
  // The time is gone from the page.
  auto again = call("GET", "/book/acme/intro?zone=Europe%2FParis");
  EXPECT_EQ(again.body.find("data-start=\"" + starts[0] + "\""), std::string::npos);

  auto done_page = call("GET", where);
  ASSERT_EQ(done_page.status, 200);
  EXPECT_NE(done_page.body.find("You are booked"), std::string::npos);
  EXPECT_NE(done_page.body.find("Monday 16 June 2025, 15:00 (Europe/Paris)"), std::string::npos);
  auto manage_url = attrs(done_page.body, "id=\"manage\"", "href");
  ASSERT_EQ(manage_url.size(), 1u);
  const std::string manage_token = token_of(manage_url[0]);

  auto manage = call("GET", manage_url[0]);
  ASSERT_EQ(manage.status, 200) << manage.body;
  EXPECT_NE(manage.body.find("Cancel this booking"), std::string::npos);
  auto move_to = attrs(manage.body, "class=\"slot\"", "value");
  ASSERT_FALSE(move_to.empty());
  EXPECT_EQ(std::find(move_to.begin(), move_to.end(), starts[0]), move_to.end());

  auto moved = post("/book/acme/manage/reschedule", {{"t", manage_token}, {"start", move_to[1]}});
  ASSERT_EQ(moved.status, 303) << moved.body;
  auto now_b = store::get_booking(*world->db, world->acme.id, b.id).value();
  EXPECT_EQ(std::to_string(now_b.starts_at), move_to[1]);
  EXPECT_EQ(now_b.sequence, 1);
  EXPECT_NE(call("GET", header(moved, "Location")).body.find("Your booking was moved."),
            std::string::npos);
  // A time that is not free is refused, and nothing changes.
  auto taken = post("/book/acme/manage/reschedule", {{"t", manage_token}, {"start", "12345"}});
  EXPECT_EQ(taken.status, 409) << taken.body;
  EXPECT_EQ(store::get_booking(*world->db, world->acme.id, b.id)->starts_at, now_b.starts_at);

  auto cancelled = post("/book/acme/manage/cancel", {{"t", manage_token}});
  ASSERT_EQ(cancelled.status, 303);
  EXPECT_EQ(store::get_booking(*world->db, world->acme.id, b.id)->status,
            store::BookingStatus::cancelled);
  auto after = call("GET", header(cancelled, "Location"));
  EXPECT_NE(after.body.find("Your booking is cancelled."), std::string::npos);
  EXPECT_EQ(after.body.find("Cancel this booking"), std::string::npos);
  EXPECT_EQ(post("/book/acme/manage/cancel", {{"t", manage_token}}).status, 409);
}

TEST_F(BookingPageTest, BadExpiredAndForeignLinksAreRefusedWithAReason) {
  const std::string& key = world->link_key;
  const Timestamp now = world->clock.now();
  const std::size_t acme_before = bookings(world->acme.id).size();
  const std::size_t globex_before = bookings(world->globex.id).size();
  auto garbage = call("GET", "/book/acme/intro/confirm?t=garbage");
  EXPECT_EQ(garbage.status, 400);
  EXPECT_NE(garbage.body.find("This link does not work"), std::string::npos);
  EXPECT_EQ(call("GET", "/book/acme/intro/confirm").status, 400);
  // Altered: another key signed it.
  auto forged = engine::sign_link(std::string(32, 'x'),
                                  {world->acme.id, "book", "intro", now + 86400, now + 86400});
  EXPECT_EQ(call("GET", "/book/acme/intro/confirm?t=" + forged).status, 400);
  auto expired = engine::sign_link(key, {world->acme.id, "book", "intro", now + 86400, now - 1});
  auto late = call("GET", "/book/acme/intro/confirm?t=" + expired);
  EXPECT_EQ(late.status, 410);
  EXPECT_NE(late.body.find("expired"), std::string::npos);

  // A valid acme link on globex's page: refused, and globex's page says nothing of acme.
  auto page = call("GET", "/book/acme/intro");
  auto acme_link = attrs(page.body, "class=\"slot\"", "href").at(0);
  const std::string acme_token = token_of(acme_link);
  auto foreign = call("GET", "/book/globex/demo/confirm?t=" + acme_token);
  EXPECT_EQ(foreign.status, 400);
  EXPECT_NE(foreign.body.find("another booking page"), std::string::npos);
  EXPECT_EQ(foreign.body.find("Acme"), std::string::npos);
  EXPECT_EQ(foreign.body.find("Intro call"), std::string::npos);
  auto foreign_post = post("/book/globex/demo/confirm",
                           {{"t", acme_token}, {"name", "Eve"}, {"email", "eve@evil.example"}});
  EXPECT_EQ(foreign_post.status, 400);
  // The same client, another type: refused too.
  EXPECT_EQ(call("GET", "/book/acme/other/confirm?t=" + acme_token).status, 400);
  // A booking link is not a manage link, and a manage link works only on its own client's page.
  EXPECT_EQ(call("GET", "/book/acme/manage?t=" + acme_token).status, 400);
  store::Booking fake;
  fake.id = "bkg_999";
  fake.client = world->acme.id;
  fake.ends_at = now + 86400;
  EXPECT_EQ(call("GET", "/book/globex/manage?t=" + engine::manage_token(key, fake)).status, 400);
  EXPECT_EQ(call("GET", "/book/acme/manage?t=" + engine::manage_token(key, fake)).status, 404);
  EXPECT_EQ(bookings(world->acme.id).size(), acme_before);
  EXPECT_EQ(bookings(world->globex.id).size(), globex_before);
}

TEST_F(BookingPageTest, PostsMustComeFromThePageAndAreLimited) {
  auto page = call("GET", "/book/globex/demo");
  auto links = attrs(page.body, "class=\"slot\"", "href");
  ASSERT_GE(links.size(), 4u);
  const std::size_t before = bookings(world->globex.id).size();
  const std::string body =
      form_encode({{"t", token_of(links[0])}, {"name", "Mal"}, {"email", "mal@guest.example"}});
  // Another site's form, or a script on it: refused before anything is looked at.
  auto cross =
      call("POST", "/book/globex/demo/confirm", body, {{"origin", "https://evil.example"}});
  EXPECT_EQ(cross.status, 403);
  auto cross2 = call("POST", "/book/globex/demo/confirm", body, {{"sec-fetch-site", "cross-site"}});
  EXPECT_EQ(cross2.status, 403);
  EXPECT_EQ(bookings(world->globex.id).size(), before);
  // A bad address: the form again, with the reason, nothing booked.
  auto bad = post("/book/globex/demo/confirm",
                  {{"t", token_of(links[0])}, {"name", "Mal"}, {"email", "not-an-address"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("valid email address"), std::string::npos);
  EXPECT_NE(bad.body.find("value=\"Mal\""), std::string::npos);
  EXPECT_EQ(bookings(world->globex.id).size(), before);

  // Two bookings an hour from one IP: the third is refused.
  auto fresh =
      std::make_unique<web::Console>([path = world->db_path] { return store::open_database(path); },
                                     world->clock, triage::SpamModel{}, web::ConsoleOptions{});
  web::add_booking_page(*fresh, {world->link_key, "", 14, 2, 3});
  for (int i = 0; i < 2; ++i) {
    auto r = post("/book/globex/demo/confirm",
                  {{"t", token_of(links[i])},
                   {"name", "Guest"},
                   {"email", "g" + std::to_string(i) + "@guest.example"}},
                  fresh.get());
    EXPECT_EQ(r.status, 303) << r.body;
  }
  auto third = post("/book/globex/demo/confirm",
                    {{"t", token_of(links[2])}, {"name", "Guest"}, {"email", "g3@guest.example"}},
                    fresh.get());
  EXPECT_EQ(third.status, 429);
  // A second process behind the same load balancer counts the same bookings.
  auto other =
      std::make_unique<web::Console>([path = world->db_path] { return store::open_database(path); },
                                     world->clock, triage::SpamModel{}, web::ConsoleOptions{});
  web::add_booking_page(*other, {world->link_key, "", 14, 2, 3});
  auto fourth = post("/book/globex/demo/confirm",
                     {{"t", token_of(links[3])}, {"name", "Guest"}, {"email", "g4@guest.example"}},
                     other.get());
  EXPECT_EQ(fourth.status, 429);
  EXPECT_EQ(bookings(world->globex.id).size(), before + 2);
  // The same token twice: the time is taken.
  auto twice = post("/book/globex/demo/confirm",
                    {{"t", token_of(links[0])}, {"name", "Guest"}, {"email", "g9@guest.example"}});
  EXPECT_EQ(twice.status, 409) << twice.body;
}

TEST_F(BookingPageTest, EveryBookingRouteIsDescribedInOpenApi) {
  const std::string spec(web::asset("openapi.yaml"));
  int n = 0;
  for (const auto& route : console->router().routes()) {
    if (route.pattern.rfind("/book/", 0) != 0) continue;
    ++n;
    EXPECT_TRUE(route.roles.anyone) << route.pattern;
    EXPECT_NE(spec.find("  " + route.pattern + ":"), std::string::npos) << route.pattern;
  }
  EXPECT_EQ(n, 7);
}

}  // namespace
}  // namespace sk
