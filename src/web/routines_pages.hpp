#pragma once
// The console's routines page: a client's routines (mail written on a schedule) with their
// next time on the client's clock, added, replaced and removed by a VA. Registered on the
// console's Router like its own routes.
#include "web/respond.hpp"
#include "web/router.hpp"

namespace sk::web {

void add_routines_routes(Router& router, PageBase page_base);

}  // namespace sk::web
