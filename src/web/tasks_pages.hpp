#pragma once
// The console's tasks page: what a VA has to do for a client, with its day on the client's
// clock, added (by hand or from an item's page), done and reopened. Registered on the
// console's Router like its own routes.
#include "web/respond.hpp"
#include "web/router.hpp"

namespace sk::web {

void add_tasks_routes(Router& router, PageBase page_base);

}  // namespace sk::web
