#pragma once
// The console's customer-support pages: the client's knowledge base (list, search, add, edit,
// delete, import, export, settings) and, on a support item, the suggestions, the
// conversation and what the VA does with them (send one, edit it first, dismiss them, mark
// the conversation solved). Registered on the console's Router like its own routes.
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/result.hpp"
#include "web/respond.hpp"
#include "web/router.hpp"

namespace sk::web {

void add_support_routes(Router& router, PageBase page_base);

}  // namespace sk::web
