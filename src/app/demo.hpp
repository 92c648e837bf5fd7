#pragma once
// `sidekick demo`: a client with a sample of real mail, a few relationships and rules, triaged.
#include <iosfwd>
#include <string>

#include "app/home.hpp"
#include "engine/engine.hpp"

namespace sk::app {

struct DemoOptions {
  std::string corpus;       // the SpamAssassin corpus folder
  std::string shared_data;  // ../shared/data (optional): malformed samples
  int sample = 300;
  std::string actor;
};

// Idempotent: run twice, the second run adds nothing and decides nothing new.
Result<void> run_demo(engine::Engine& engine, store::Db& db, IdSource& ids, const Clock& clock,
                      const Home& home, const DemoOptions& options, std::ostream& out);

}  // namespace sk::app
