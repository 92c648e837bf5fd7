#pragma once
// The `sidekick` command line. main() only calls this, so tests can run any command in-process
// and read what it printed and its exit code.
#include <iosfwd>
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace sk::app {

// Exit codes: 0 done; 1 failure inside Sidekick (storage, I/O); 2 bad input (arguments, a
// rules file with a mistake, an unknown category); 3 something named does not exist;
// 4 conflict (it exists already).
int run_cli(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
            const Clock& clock);

}  // namespace sk::app
