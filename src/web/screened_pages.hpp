#pragma once
// The console's screened-senders page: everyone the screener holds for a client, by domain,
// and the VA's verdict on many of them at once (let in, keep out). A first pass over a big
// mailbox leaves hundreds of first-time senders; one click per message is not a way to work.
// Registered on the console's Router like its own routes.
#include "web/respond.hpp"
#include "web/router.hpp"

namespace sk::web {

struct ScreenedPagesOptions {
  std::size_t domains_shown = 200;  // on the page; the API lists them all
};

void add_screened_routes(Router& router, PageBase page_base, ScreenedPagesOptions options = {});

}  // namespace sk::web
