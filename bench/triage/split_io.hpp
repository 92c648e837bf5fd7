#pragma once
// What bench_triage, bench_features and bench_sms read: split.py's train/test lists, the messages
// they name, and the process's CPU and wall clocks.
#include <time.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace bench {

struct Sample {
  std::string path;
  bool spam = false;
  std::string bytes;  // the message, when read
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Lines "ham|spam<TAB>path"; with `load`, each message is read into memory too.
inline std::vector<Sample> read_split(const std::string& tsv, bool load) {
  std::vector<Sample> out;
  std::ifstream in(tsv);
  if (!in) {
    std::cerr << "cannot read " << tsv << "\n";
    std::exit(2);
  }
  std::string line;
  while (std::getline(in, line)) {
    auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    Sample s;
    s.spam = line.substr(0, tab) == "spam";
    s.path = line.substr(tab + 1);
    if (load) s.bytes = read_bytes(s.path);
    out.push_back(std::move(s));
  }
  return out;
}

inline double wall_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

inline double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace bench
