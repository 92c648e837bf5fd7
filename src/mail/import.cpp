// Finding messages in mbox files, Maildirs and folders of message files.
#include "mail/import.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace sk::mail {

namespace {

namespace fs = std::filesystem;

using Sink = std::function<Result<void>(RawMessage&&)>;

// Files up to this size are read whole; larger ones (a big mbox export) are streamed line
// by line so that memory stays at one message.
constexpr std::uintmax_t kReadWhole = 64 * 1024 * 1024;

bool starts_with_from(std::string_view line) {
  return line.substr(0, 5) == "From ";
}

// A From_ line as mbox writers make it: "From sender date", the date with a time of day and
// a year ("From MAILER-DAEMON Fri Jul  8 12:08:34 2011"). Prose that happens to start a
// paragraph with "From " rarely has both.
bool is_envelope(std::string_view line) {
  if (!starts_with_from(line)) return false;
  line.remove_prefix(5);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::size_t space = line.find(' ');
  if (space == 0 || space == std::string_view::npos) return false;
  const std::string_view date = line.substr(space + 1);
  auto digit = [&](std::size_t i) { return i < date.size() && date[i] >= '0' && date[i] <= '9'; };
  bool time = false, year = false;
  for (std::size_t i = 0; i < date.size(); ++i) {
    if (!digit(i) || (i > 0 && digit(i - 1))) continue;  // at the start of a number only
    std::size_t len = 0;
    while (digit(i + len)) ++len;
    if (len == 2 && i + 4 < date.size() && date[i + 2] == ':' && digit(i + 3) && digit(i + 4)) {
      time = true;
    }
    if (len == 4 && (i + 4 == date.size() || date[i + 4] == ' ')) year = true;
  }
  return time && year;
}

bool is_blank(std::string_view line) {
  return line.empty() || line == "\r";
}

// mboxrd: a body line ">From ", ">>From "... was escaped on write by one more '>'.
bool is_escaped_from(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && line[i] == '>') ++i;
  return i > 0 && line.substr(i, 5) == "From ";
}

bool hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// Files that sit next to messages but are not messages (the corpus's JSON twins, notes).
bool not_a_message(const fs::path& p) {
  if (hidden(p)) return true;
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".json" || ext == ".md";
}

Error io_error(const fs::path& p, std::string_view what) {
  return make_error(Errc::io, std::string(what) + ": " + p.string());
}

// An mbox is a file that starts with a "From " line and has another From_ line after a
// blank line. A single message with an envelope line is not: it stays byte for byte.
bool is_mbox(std::string_view data) {
  if (!starts_with_from(data)) return false;
  for (std::size_t at = data.find("\nFrom "); at != std::string_view::npos;
       at = data.find("\nFrom ", at + 1)) {
    const bool after_blank = (at >= 1 && data[at - 1] == '\n') ||
                             (at >= 2 && data[at - 1] == '\r' && data[at - 2] == '\n');
    if (!after_blank) continue;
    const std::size_t eol = data.find('\n', at + 1);
    if (is_envelope(data.substr(at + 1, eol == std::string_view::npos ? eol : eol - at - 1))) {
      return true;
    }
  }
  return false;
}

// Cuts an mbox into messages, one line at a time (without its '\n').
class MboxSplitter {
 public:
  MboxSplitter(std::string origin, const Sink& sink, ScanStats& stats)
      : origin_(std::move(origin)), sink_(sink), stats_(stats) {}

  Result<void> line(std::string_view line, bool ended) {
    if (!started_) {
      started_ = true;  // the first "From " line opens the first message
      return ok();
    }
    if (pending_blank_) {
      pending_blank_ = false;
      if (is_envelope(line)) return emit();
      current_ += blank_;
    }
    if (is_blank(line) && ended) {
      // Held back: before a "From " line it is the separator, not message content.
      pending_blank_ = true;
      blank_.assign(line);
      blank_.push_back('\n');
      return ok();
    }
    if (is_escaped_from(line)) line.remove_prefix(1);
    current_ += line;
    if (ended) current_.push_back('\n');
    return ok();
  }

  // The blank line after the last message is framing too, so a held one is dropped.
  Result<void> finish() { return emit(); }

 private:
  Result<void> emit() {
    ++index_;
    ++stats_.messages;
    std::string bytes;
    bytes.swap(current_);
    return sink_(RawMessage{origin_ + "#" + std::to_string(index_), std::move(bytes)});
  }

  std::string origin_;
  const Sink& sink_;
  ScanStats& stats_;
  std::string current_;
  std::string blank_;
  bool started_ = false;
  bool pending_blank_ = false;
  std::size_t index_ = 0;
};

Result<void> split_mbox(std::string_view data, const std::string& origin, const Sink& sink,
                        ScanStats& stats) {
  MboxSplitter splitter(origin, sink, stats);
  std::size_t pos = 0;
  while (pos < data.size()) {
    const std::size_t nl = data.find('\n', pos);
    const bool ended = nl != std::string_view::npos;
    const std::size_t end = ended ? nl : data.size();
    SK_TRY(splitter.line(data.substr(pos, end - pos), ended));
    pos = end + 1;
  }
  return splitter.finish();
}

bool file_starts_with_from(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  char head[5] = {};
  in.read(head, sizeof head);
  return in.gcount() == 5 && std::string_view(head, 5) == "From ";
}

// A big mbox is split as it streams by.
Result<void> stream_mbox(const fs::path& path, const Sink& sink, ScanStats& stats) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path, "cannot open");
  MboxSplitter splitter(path.string(), sink, stats);
  std::string line;
  while (std::getline(in, line)) {
    SK_TRY(splitter.line(line, !in.eof()));
  }
  if (in.bad()) return io_error(path, "cannot read");
  return splitter.finish();
}

Result<std::string> read_whole(const fs::path& path, std::uintmax_t size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return io_error(path, "cannot open");
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.bad()) return io_error(path, "cannot read");
  bytes.resize(static_cast<std::size_t>(in.gcount()));  // it may have shrunk meanwhile
  return bytes;
}

// One file: an mbox gives its messages; anything else is one message, byte for byte.
Result<void> scan_file(const fs::path& path, bool may_be_mbox, const Sink& sink, ScanStats& stats) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) return io_error(path, "cannot read");
  if (size > kReadWhole && may_be_mbox && file_starts_with_from(path)) {
    return stream_mbox(path, sink, stats);
  }
  SK_ASSIGN(std::string bytes, read_whole(path, size));
  if (may_be_mbox && is_mbox(bytes)) return split_mbox(bytes, path.string(), sink, stats);
  ++stats.messages;
  return sink(RawMessage{path.string(), std::move(bytes)});
}

}  // namespace

Result<ScanStats> scan_mail(const std::string& path, const Sink& sink) {
  ScanStats stats;
  std::error_code ec;
  const fs::path root(path);
  const fs::file_status st = fs::status(root, ec);
  if (ec || !fs::exists(st)) {
    return make_error(Errc::invalid_input, "no such file or folder: " + path);
  }
  if (!fs::is_directory(st)) {
    SK_TRY(scan_file(root, true, sink, stats));
    return stats;
  }

  std::vector<fs::path> files;
  const bool maildir = fs::is_directory(root / "cur", ec) && fs::is_directory(root / "new", ec);
  if (maildir) {
    for (const char* sub : {"cur", "new"}) {
      for (fs::directory_iterator it(root / sub, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        if (hidden(it->path())) {
          ++stats.skipped_files;
          continue;
        }
        files.push_back(it->path());
      }
      if (ec) return io_error(root / sub, "cannot list");
    }
  } else {
    fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (hidden(it->path())) {
        if (it->is_directory(ec)) {
          it.disable_recursion_pending();
        } else {
          ++stats.skipped_files;
        }
        continue;
      }
      if (!it->is_regular_file(ec)) continue;
      if (not_a_message(it->path())) {
        ++stats.skipped_files;
        continue;
      }
      files.push_back(it->path());
    }
    if (ec) return io_error(root, "cannot list");
  }
  std::sort(files.begin(), files.end());

  // Maildir files are single messages, whatever their first line says.
  for (const fs::path& f : files) SK_TRY(scan_file(f, !maildir, sink, stats));
  return stats;
}

}  // namespace sk::mail
