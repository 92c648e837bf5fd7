// Scheduling in the running assistant, end to end: `sidekick serve` with a real mailbox
// (Dovecot + Postfix) and a real CalDAV calendar (Radicale). A guest books through the public
// page in headless Chromium; the booking reaches the client's calendar and the invitation the
// guest's mailbox. A mailed scheduling request is answered with free times; the guest's
// iTIP REPLY updates the booking; due reminders go out. Screenshots: build/test-artifacts/booking.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "app/cli.hpp"
#include "calendar/caldav.hpp"
#include "engine/scheduling.hpp"
#include "mail/message.hpp"
#include "mailserver.hpp"
#include "radicale.hpp"
#include "store/db.hpp"
#include "store/outgoing.hpp"
#include "store/repos.hpp"
#include "store/scheduling.hpp"
#include "support.hpp"

extern char** environ;

using namespace sk;
using namespace std::chrono_literals;

namespace {

using test::eventually;
using test::file_text;
using test::Serve;

TEST(BookingServe, GuestBooksOnThePageEmailRequestsAndRepliesAreHandled) {
  const std::string playwright =
      std::string(SK_SOURCE_DIR) + "/.cache/web/node_modules/playwright-core";
  ASSERT_TRUE(std::filesystem::exists(playwright)) << "run scripts/setup: " << playwright;
  auto& mail = test::MailServer::shared();
  auto& radicale = test::Radicale::shared();
  const auto alice = mail.user("alice");  // the client's own mailbox
  const auto bob = mail.user("bob");      // the guest
  const auto carol = mail.user("carol");
  test::TempDir home;
  SystemClock clock;
  auto cli = [&](std::vector<std::string> args, const Clock& at) {
    args.insert(args.begin(), {"--home", home.str()});
    std::ostringstream out, err;
    int code = app::run_cli(args, out, err, at);
    EXPECT_EQ(code, 0) << err.str();
    return out.str();
  };

  // The client's calendar holds a whole day of other appointments: tomorrow (UTC).
  const Timestamp now = clock.now();
  const Timestamp tomorrow = (now / 86400 + 1) * 86400;
  const std::string cal_url = radicale.calendar_url("ann", "work");
  calendar::CaldavClient caldav({cal_url, "ann", radicale.password("ann"), 10});
  ASSERT_TRUE(caldav.make_calendar().ok()) << radicale.log();
  auto stamp = [](Timestamp t) {
    return calendar::format_civil(calendar::CivilTime::from_seconds(t, true));
  };
  ASSERT_TRUE(caldav
                  .put("offsite",
                       "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
                       "UID:offsite@test\r\nDTSTAMP:" +
                           stamp(now) + "\r\nDTSTART:" + stamp(tomorrow) +
                           "\r\nDTEND:" + stamp(tomorrow + 86400) +
                           "\r\nSUMMARY:Offsite\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
                       true)
                  .ok());

  ::setenv("SK_BOOKING_MAIL_PASSWORD", alice.password.c_str(), 1);
  ::setenv("SK_BOOKING_CAL_PASSWORD", radicale.password("ann").c_str(), 1);
  cli({"client", "add", "ann", "--name", "Ann Example", "--email", alice.address}, clock);
  cli({"account",
       "add",
       "--client",
       "ann",
       alice.address,
       "--imap-host",
       "127.0.0.1",
       "--imap-port",
       std::to_string(mail.imap_port()),
       "--imap-security",
       "starttls",
       "--smtp-host",
       "127.0.0.1",
       "--smtp-port",
       std::to_string(mail.smtp_port()),
       "--smtp-security",
       "starttls",
       "--username",
       alice.name,
       "--password-env",
       "SK_BOOKING_MAIL_PASSWORD",
       "--no-verify",
       "--first-pass-days",
       "1"},
      clock);
  {
    std::ofstream(home.str() + "/availability.json")
        << R"({"zone":"UTC","weekly":{"mon":["00:00-24:00"],"tue":["00:00-24:00"],
              "wed":["00:00-24:00"],"thu":["00:00-24:00"],"fri":["00:00-24:00"],
              "sat":["00:00-24:00"],"sun":["00:00-24:00"]},"min_notice_min":60,
              "horizon_days":7,"default_type":"intro"})";
    std::ofstream(home.str() + "/intro.json")
        << R"({"slug":"intro","name":"Intro call","duration_min":60,
              "questions":["What would you like to discuss?"]})";
  }
  cli({"calendar", "availability", "--client", "ann", home.str() + "/availability.json"}, clock);
  cli({"calendar", "type", "--client", "ann", home.str() + "/intro.json"}, clock);
  EXPECT_NE(cli({"calendar", "connect", "--client", "ann", cal_url, "--user", "ann",
                 "--password-env", "SK_BOOKING_CAL_PASSWORD"},
                clock)
                .find("calendar connected"),
            std::string::npos);
  // Scheduling requests are answered without the VA, from a known customer.
  cli({"client", "set", "ann", "--delegation", "scheduling=auto"}, clock);
  cli({"party", "set", "--client", "ann", bob.address, "--relationship", "customer"}, clock);

  // A scheduling request waits in the client's INBOX.
  mail.deliver("alice", "From: Bob <" + bob.address + ">\r\nTo: " + alice.address +
                            "\r\nSubject: Meeting next week?\r\nMessage-ID: <ask-" +
                            std::to_string(::getpid()) +
                            "@bob.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\n"
                            "Hello Ann, could we schedule a meeting next week? Is there a time "
                            "to meet that works for you? Let me know when you are available.\r\n");

  const std::string log = home.str() + "/serve.log";
  Serve serve;
  {
    std::vector<std::string> cmd{SK_SIDEKICK_BIN,
                                 "--home",
                                 home.str(),
                                 "serve",
                                 "--port",
                                 "0",
                                 "--public-url",
                                 "https://book.example",
                                 "--calendar-seconds",
                                 "1"};
    serve.pid = test::spawn_logged(cmd, log);
    ASSERT_GT(serve.pid, 0);
  }
  int port = 0;
  const std::string console_at = "console: http://127.0.0.1:";
  ASSERT_TRUE(eventually(
      [&] {
        const std::string text = file_text(log);
        auto at = text.find(console_at);
        if (at == std::string::npos || text.find('\n', at) == std::string::npos) return false;
        port = std::atoi(text.c_str() + at + console_at.size());
        return port > 0;
      },
      60))
      << file_text(log);
  auto db = store::open_sqlite(home.str() + "/sidekick.db").value();
  auto client = store::find_client(*db, "ann").value();
  // The calendar's busy time is read before the guest looks: tomorrow is taken.
  ASSERT_TRUE(eventually(
      [&] {
        auto ca = store::get_calendar_account(*db, client.id);
        return ca.ok() && *ca && (*ca)->synced_at > 0;
      },
      30))
      << file_text(log);
  EXPECT_EQ(store::get_calendar_account(*db, client.id).value()->last_error, "");
  auto free = engine::find_slots(*db, clock, client.id, "intro", 7);
  ASSERT_TRUE(free.ok()) << free.error().message;
  ASSERT_FALSE(free->empty());
  for (const auto& s : *free)
    EXPECT_FALSE(s.start >= tomorrow && s.start < tomorrow + 86400) << s.start;

  // The guest books in the browser.
  nlohmann::json w{{"client", "ann"},
                   {"type", "intro"},
                   {"guest_name", "Bob Guest"},
                   {"guest_email", bob.address}};
  const std::string artifacts = std::string(SK_BINARY_DIR) + "/test-artifacts/booking";
  ::setenv("SK_PLAYWRIGHT", playwright.c_str(), 1);
  ::setenv("SK_BASE", ("http://127.0.0.1:" + std::to_string(port)).c_str(), 1);
  ::setenv("SK_ARTIFACTS", artifacts.c_str(), 1);
  ::setenv("SK_WORLD", w.dump().c_str(), 1);
  int code = -1;
  std::string out = test::run_command(
      "node " + std::string(SK_SOURCE_DIR) + "/tests/browser/booking.test.js", &code);
  ASSERT_EQ(code, 0) << out;
  auto at = out.find("RESULT ");
  ASSERT_NE(at, std::string::npos) << out;
  auto report = nlohmann::json::parse(out.substr(at + 7, out.find('\n', at) - at - 7));
  for (const char* shot :
       {"booking-times.png", "booking-confirm.png", "booking-done.png", "booking-manage.png"})
    EXPECT_GT(std::filesystem::file_size(artifacts + "/" + shot), 1000u) << shot;

  auto bookings = store::list_bookings(*db, client.id).value();
  ASSERT_EQ(bookings.size(), 1u);
  const store::Booking booked = bookings[0];
  EXPECT_EQ(std::to_string(booked.starts_at), report["start"].get<std::string>());
  EXPECT_EQ(booked.guest_zone, "Australia/Adelaide");
  EXPECT_EQ(booked.status, store::BookingStatus::confirmed);

  // The invitation arrives in the guest's real mailbox, as iTIP.
  auto invites = mail.wait_for("bob", "Invitation: Intro call", 1, 60);
  ASSERT_EQ(invites.size(), 1u) << mail.logs() << file_text(log);
  auto ics = mail::calendar_parts(invites[0]);
  ASSERT_EQ(ics.size(), 1u) << invites[0];
  EXPECT_NE(ics[0].find("METHOD:REQUEST"), std::string::npos) << ics[0];
  EXPECT_NE(ics[0].find("UID:" + booked.uid), std::string::npos) << ics[0];
  EXPECT_EQ(
      mail::parse_message(invites[0]).subject.rfind("Invitation: Intro call with Ann Example", 0),
      0u);
  // And the booking is in the client's calendar.
  std::string in_calendar;
  ASSERT_TRUE(eventually(
      [&] {
        auto objs = caldav.events_between(booked.starts_at - 60, booked.ends_at + 60);
        if (!objs.ok()) return false;
        for (const auto& o : *objs)
          if (o.ics.find("UID:" + booked.uid) != std::string::npos) in_calendar = o.ics;
        return !in_calendar.empty();
      },
      30))
      << file_text(log);
  EXPECT_NE(in_calendar.find("Intro call (Bob Guest)"), std::string::npos) << in_calendar;

  // The mailed request was answered with three one-click times and the page.
  auto proposals = mail.wait_for("bob", "Subject: Re: Meeting next week?", 1, 60);
  ASSERT_EQ(proposals.size(), 1u) << file_text(log);
  const std::string text = mail::parse_message(proposals[0]).text;
  std::size_t links = 0;
  for (auto p = text.find("https://book.example/book/ann/intro/confirm?t="); p != std::string::npos;
       p = text.find("https://book.example/book/ann/intro/confirm?t=", p + 1))
    ++links;
  EXPECT_EQ(links, 3u) << text;
  EXPECT_NE(text.find("Or pick another time: https://book.example/book/ann/intro"),
            std::string::npos)
      << text;

  // The guest accepts from their calendar program: the REPLY updates the booking and is
  // filed as handled.
  mail.deliver(
      "alice",
      "From: Bob <" + bob.address + ">\r\nTo: " + alice.address +
          "\r\nSubject: Accepted: Intro call\r\nMessage-ID: <accept-" + std::to_string(::getpid()) +
          "@bob.test>\r\nDate: Tue, 24 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
          "Content-Type: text/calendar; charset=utf-8; method=REPLY\r\n\r\n"
          "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bob//EN\r\nMETHOD:REPLY\r\n"
          "BEGIN:VEVENT\r\nUID:" +
          booked.uid + "\r\nDTSTAMP:" + stamp(now) + "\r\nDTSTART:" + stamp(booked.starts_at) +
          "\r\nSEQUENCE:0\r\nORGANIZER:mailto:" + alice.address +
          "\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:" + bob.address +
          "\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
  ASSERT_TRUE(eventually(
      [&] {
        auto b = store::get_booking(*db, client.id, booked.id);
        return b.ok() && b->guest_partstat == "ACCEPTED";
      },
      60))
      << file_text(log);
  auto rows = db->query(
      "SELECT d.disposition, d.category FROM decisions d JOIN items i ON i.id = d.item_id "
      "WHERE i.subject = 'Accepted: Intro call'");
  ASSERT_TRUE(rows.ok());
  ASSERT_FALSE(rows->empty());
  EXPECT_EQ(rows->back().str(0), "handled");
  EXPECT_EQ(rows->back().str(1), "scheduling");
  // Read every second, the unchanged calendar was imported (and audited) once.
  auto imports = db->query("SELECT COUNT(*) FROM audit WHERE action = 'calendar imported'");
  ASSERT_TRUE(imports.ok());
  EXPECT_EQ(imports->at(0).i64(0), 1);
  serve.stop();

  // Reminders: a booking made two days ago for the current hour has both of its reminders
  // (a day and an hour before) due now; one round of serve queues them.
  FixedClock earlier{now - 2 * 86400};
  const Timestamp hour = now / 3600 * 3600;
  cli({"booking", "create", "--client", "ann", "--type", "intro", "--start", stamp(hour),
       "--guest-email", carol.address},
      earlier);
  // Carol's only: the browser's booking may have had its own reminder sent meanwhile.
  auto reminders = [&] {
    int n = 0;
    auto all = store::list_outgoing(*db, client.id).value();
    for (const auto& m : all) n += m.kind == "reminder" && m.to.at(0) == carol.address;
    return n;
  };
  EXPECT_EQ(reminders(), 0);
  cli({"serve", "--once"}, clock);
  EXPECT_EQ(reminders(), 2);
}

}  // namespace
