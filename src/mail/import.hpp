#pragma once
// Finding messages in mail stores on disk: mbox, Maildir, a folder of message files.
#include <functional>
#include <string>

#include "core/result.hpp"

namespace sk::mail {

struct RawMessage {
  std::string origin;  // where it came from: a file path, or "path#N" for the Nth mbox message
  std::string bytes;   // exactly as stored (mboxrd ">From " un-escaped)
};

struct ScanStats {
  std::size_t messages = 0;
  std::size_t skipped_files = 0;  // files that are not messages (e.g. the corpus's .json twins)
};

// Calls `sink` for every message under `path`, in a stable order (sorted by name):
//  - a Maildir (a folder with cur/ and new/): every file in cur/ and new/;
//  - an mbox file (first line starts with "From "): every message in it;
//  - a folder: every regular file in it and its sub-folders that is not obviously something
//    else (.json, .md, dot-files), each as one message or, when it is an mbox, its messages;
//  - any other file: one message.
// Stops at the first error the sink returns. A path that does not exist is invalid_input.
Result<ScanStats> scan_mail(const std::string& path,
                            const std::function<Result<void>(RawMessage&&)>& sink);

}  // namespace sk::mail
