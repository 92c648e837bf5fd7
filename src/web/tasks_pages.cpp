#include "web/tasks_pages.hpp"

#include <nlohmann/json.hpp>

#include "engine/tasks.hpp"
#include "store/repos.hpp"
#include "store/tasks.hpp"

namespace sk::web {
namespace {

using nlohmann::json;

constexpr std::size_t kDoneShown = 20;

json task_json(const store::Task& t, const std::string& zone, Timestamp now) {
  return {{"id", t.id},
          {"title", t.title},
          {"notes", t.notes},
          {"has_notes", !t.notes.empty()},
          {"item", t.item},
          {"has_item", !t.item.empty()},
          {"due", engine::describe_due(t, zone)},
          {"has_due", t.due_at != 0},
          {"due_at", t.due_at ? format_utc(t.due_at) : ""},
          {"overdue", !t.done && t.due_at != 0 && t.due_at <= now},
          {"done", t.done},
          {"done_at", t.done_at ? format_utc(t.done_at) : ""},
          {"done_by", t.done_by},
          {"created_by", t.created_by}};
}

Result<json> tasks_json(Call& call) {
  const ClientId& client = call.client();
  SK_ASSIGN(auto c, store::find_client(call.db, client));
  SK_ASSIGN(auto open, store::list_tasks(call.db, client));
  SK_ASSIGN(auto done, store::list_tasks(call.db, client, true));
  const Timestamp now = call.clock.now();
  json open_list = json::array(), done_list = json::array();
  for (const auto& t : open) open_list.push_back(task_json(t, c.timezone, now));
  for (std::size_t i = 0; i < done.size() && i < kDoneShown; ++i)
    done_list.push_back(task_json(done[i], c.timezone, now));
  return json{{"client", client},         {"client_name", c.name},     {"zone", c.timezone},
              {"open", open_list},        {"has_open", !open.empty()}, {"done", done_list},
              {"has_done", !done.empty()}};
}

Response finish(Call& call, bool done) {
  auto t = engine::finish_task(call.db, call.clock, call.client(), call.param("task"), call.actor(),
                               done);
  if (!t.ok()) return error_response(call, t.error());
  return changed(call, (done ? "done: " : "open again: ") + t->title, "reload",
                 json{{"id", t->id}, {"done", t->done}});
}

}  // namespace

void add_tasks_routes(Router& router, PageBase page_base) {
  const Roles staff = Roles::staff();
  router.add({"GET", "/c/{client}/tasks", staff,
              page_route(page_base, "tasks", "Tasks", tasks_json),
              "a client's tasks: open ones by their day, the latest done"});
  router.add({"GET", "/api/clients/{client}/tasks", staff, api_route(tasks_json),
              "a client's open tasks (soonest first) and the 20 latest done"});
  router.add({"POST", "/api/clients/{client}/tasks", staff,
              [](Call& call) {
                auto f = fields(call.request);
                engine::TaskRequest r{trim(field(f, "title")), unix_lines(field(f, "notes")),
                                      trim(field(f, "item")), trim(field(f, "due"))};
                auto t =
                    engine::add_task(call.db, call.clock, call.ids, call.client(), r, call.actor());
                if (!t.ok()) return error_response(call, t.error());
                return changed(call, "added the task " + t->title, "reload",
                               json{{"id", t->id}, {"due_at", t->due_at}});
              },
              "add a task: `title`, `notes`, `due` (YYYY-MM-DD [HH:MM] on the client's clock), "
              "`item` (staff)"});
  router.add({"POST", "/api/clients/{client}/tasks/{task}/done", staff,
              [](Call& call) { return finish(call, true); }, "mark a task done (staff)"});
  router.add({"POST", "/api/clients/{client}/tasks/{task}/reopen", staff,
              [](Call& call) { return finish(call, false); }, "open a done task again (staff)"});
}

}  // namespace sk::web
