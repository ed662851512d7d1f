// What every benchmark program measures with: a clock, ann's status check, resident memory
// (now, and the peak of work run in a forked child), and a timed pass of queries against the
// truth through one small interface every library under test implements.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "ann.h"
#include "data.hpp"

namespace bench {

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline void check(ann_status status, const char* what) {
  if (status == ANN_STATUS_OK) return;
  char message[512];
  ann_last_error_message(message, sizeof message);
  throw std::runtime_error(std::string(what) + ": " + message);
}

// This process's resident set now, in bytes (Linux).
inline double rss_bytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return double(resident) * double(sysconf(_SC_PAGESIZE));
}

// A field of /proc/self/status in bytes (RssAnon: heap and stacks; RssFile: mapped files), or
// 0 when the kernel does not report it.
inline double status_bytes(const char* field) {
  double kb = 0;
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    size_t len = std::strlen(field);
    while (std::fgets(line, sizeof line, f))
      if (std::strncmp(line, field, len) == 0 && line[len] == ':') kb = std::atof(line + len + 1);
    std::fclose(f);
  }
  return kb * 1024.0;
}

// Runs `work` in a forked child, so that its peak memory is its own: returns the value `work`
// returns, and the child's peak resident set above this process's at the fork, in bytes.
inline std::pair<double, double> in_child(const std::function<double()>& work) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  double base = rss_bytes();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    double value = -1;
    try {
      value = work();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "benchmark (child): %s\n", e.what());
    }
    ssize_t written = write(fds[1], &value, sizeof value);
    _exit(written == sizeof value && value >= 0 ? 0 : 1);
  }
  close(fds[1]);
  double value = -1;
  ssize_t got = read(fds[0], &value, sizeof value);
  close(fds[0]);
  int status = 0;
  struct rusage usage {};
  wait4(pid, &status, 0, &usage);
  if (got != sizeof value || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("a measurement in a child process failed");
  return {value, std::max(0.0, double(usage.ru_maxrss) * 1024.0 - base)};
}

// A loaded (memory-mapped) index that answers queries; one per library.
class Loaded {
 public:
  virtual ~Loaded() = default;
  // Writes up to n ids of the nearest items to `query` into `ids`; returns how many. `effort`
  // is search_k for a forest, the beam width ef for a graph.
  virtual size_t query(const float* query, size_t n, int64_t effort, int32_t* ids) const = 0;
};

struct Pass {
  int64_t effort;  // search_k or ef
  double recall, qps;
};

// One single-threaded pass over every query: recall@n against the truth, and queries per second.
inline Pass run_pass(const Loaded& index, const Matrix<float>& queries, const Matrix<int32_t>& truth, size_t n,
                     int64_t effort) {
  std::vector<int32_t> found(queries.rows * n, -1);
  double start = now();
  for (size_t q = 0; q < queries.rows; q++) index.query(queries.row(q), n, effort, &found[q * n]);
  double seconds = now() - start;
  size_t hits = 0;
  for (size_t q = 0; q < queries.rows; q++) {
    std::set<int32_t> expected(truth.row(q), truth.row(q) + std::min(n, truth.cols));
    for (size_t i = 0; i < n; i++) hits += expected.count(found[q * n + i]);
  }
  return {effort, double(hits) / double(queries.rows * n), double(queries.rows) / seconds};
}

// A sweep as a JSON array of {<effort_key>: effort, "recall", "qps"}, for bench/report.py.
inline std::string json_curve(const std::vector<Pass>& passes, const char* effort_key) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < passes.size(); i++)
    s << (i ? "," : "") << "{\"" << effort_key << "\":" << passes[i].effort << ",\"recall\":" << passes[i].recall
      << ",\"qps\":" << passes[i].qps << "}";
  return s.str() + "]";
}

}  // namespace bench
