#pragma once
// The console's bookings pages: a client's upcoming bookings in their zone, the ones waiting
// for a VA to confirm (also in the VA's queue), confirm, decline (the guest is told) and
// cancel. Registered on the console's Router like its own routes.
#include <string>

#include "web/respond.hpp"
#include "web/router.hpp"

namespace sk::web {

struct BookingsPagesOptions {
  // Where the public booking page is served and the key its links are signed with; empty:
  // invitations carry no move/cancel link (the page is not served).
  std::string link_key;
  std::string base_url;
};

void add_bookings_routes(Router& router, PageBase page_base, BookingsPagesOptions options);

}  // namespace sk::web
