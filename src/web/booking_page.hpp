#pragma once
// The public booking page (no login): a client's booking type with its free times in the
// visitor's zone, the confirm form, the done page, and the guest's own page (from the signed
// link) to move or cancel. Registered on the console's router; the logic lives in
// engine/booking_links.
#include <string>

namespace sk::web {

class Console;

struct BookingPageOptions {
  std::string key;  // signs and checks the links (derived from the data folder's secret key)
  // Where guests reach the page; invitations then carry the guest's own link. Never taken
  // from a request's Host header: a visitor could make the client mail a link of theirs.
  std::string base_url;
  int days = 14;  // how far ahead the page lists free times
  int per_ip_per_hour = 10;
  int per_email_per_day = 3;
};

void add_booking_page(Console& console, BookingPageOptions options);

}  // namespace sk::web
