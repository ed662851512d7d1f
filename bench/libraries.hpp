// The two libraries under test behind one small interface: ann through its C API (ann.h) and
// Annoy 1.17.3 through its header-only C++ library, in the same process, timed the same way.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "ann.h"
#include "annoylib.h"
#include "kissrandom.h"

namespace bench {

inline double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A loaded (memory-mapped) index that answers queries; one per library.
class Loaded {
 public:
  virtual ~Loaded() = default;
  // Writes up to n ids of the nearest items to `query` into `ids`; returns how many.
  virtual size_t query(const float* query, size_t n, int64_t search_k, int32_t* ids) const = 0;
};

// One library: builds into a file, loads files.
class Library {
 public:
  virtual ~Library() = default;
  virtual std::string name() const = 0;
  // Adds rows 0..rows-1 of `vectors`, builds `trees` trees on `threads` threads and returns the
  // build's seconds (build only, not adding); saves to `path` when it is not empty.
  virtual double build(const float* vectors, size_t rows, size_t dim, int trees, int threads,
                       const std::string& path) const = 0;
  virtual std::unique_ptr<Loaded> load(const std::string& path, size_t dim) const = 0;
};

inline void check(ann_status status, const char* what) {
  if (status == ANN_STATUS_OK) return;
  char message[512];
  ann_last_error_message(message, sizeof message);
  throw std::runtime_error(std::string(what) + ": " + message);
}

class AnnLoaded : public Loaded {
 public:
  explicit AnnLoaded(ann_index* index) : index_(index) {}
  ~AnnLoaded() override { ann_free(index_); }
  size_t query(const float* query, size_t n, int64_t search_k, int32_t* ids) const override {
    uint64_t found[256];
    float distances[256];
    size_t count = 0;
    check(ann_get_nns(index_, query, n, search_k, found, distances, &count), "ann_get_nns");
    for (size_t i = 0; i < count; i++) ids[i] = int32_t(found[i]);
    return count;
  }
  ann_index* get() const { return index_; }

 private:
  ann_index* index_;
};

class Ann : public Library {
 public:
  explicit Ann(ann_metric metric) : metric_(metric) {}
  std::string name() const override { return "ann"; }
  double build(const float* vectors, size_t rows, size_t dim, int trees, int threads,
               const std::string& path) const override {
    ann_index* index = nullptr;
    check(ann_new(uint32_t(dim), metric_, &index), "ann_new");
    for (size_t i = 0; i < rows; i++) check(ann_add_item(index, i, vectors + i * dim), "ann_add_item");
    double start = now();
    check(ann_build(index, trees, threads), "ann_build");
    double seconds = now() - start;
    if (!path.empty()) check(ann_save(index, path.c_str()), "ann_save");
    ann_free(index);
    return seconds;
  }
  std::unique_ptr<Loaded> load(const std::string& path, size_t) const override {
    ann_index* index = nullptr;
    check(ann_load(path.c_str(), false, &index), "ann_load");
    return std::unique_ptr<Loaded>(new AnnLoaded(index));
  }

 private:
  ann_metric metric_;
};

template <typename Distance>
using AnnoyIndex = Annoy::AnnoyIndex<int32_t, float, Distance, Annoy::Kiss64Random,
                                     Annoy::AnnoyIndexMultiThreadedBuildPolicy>;

template <typename Distance>
class AnnoyLoaded : public Loaded {
 public:
  explicit AnnoyLoaded(size_t dim) : index_(int(dim)) {}
  size_t query(const float* query, size_t n, int64_t search_k, int32_t* ids) const override {
    // Annoy's query allocates its result vectors; that is part of what its users pay.
    std::vector<int32_t> found;
    std::vector<float> distances;
    index_.get_nns_by_vector(query, n, int(search_k), &found, &distances);
    for (size_t i = 0; i < found.size(); i++) ids[i] = found[i];
    return found.size();
  }
  AnnoyIndex<Distance> index_;
};

template <typename Distance>
class Annoy_ : public Library {
 public:
  std::string name() const override { return "annoy"; }
  double build(const float* vectors, size_t rows, size_t dim, int trees, int threads,
               const std::string& path) const override {
    AnnoyIndex<Distance> index(static_cast<int>(dim));
    char* error = nullptr;
    for (size_t i = 0; i < rows; i++) index.add_item(int32_t(i), vectors + i * dim);
    double start = now();
    if (!index.build(trees, threads, &error)) throw std::runtime_error(std::string("annoy build: ") + error);
    double seconds = now() - start;
    if (!path.empty() && !index.save(path.c_str(), false, &error))
      throw std::runtime_error(std::string("annoy save: ") + error);
    return seconds;
  }
  std::unique_ptr<Loaded> load(const std::string& path, size_t dim) const override {
    auto loaded = std::unique_ptr<AnnoyLoaded<Distance>>(new AnnoyLoaded<Distance>(dim));
    char* error = nullptr;
    if (!loaded->index_.load(path.c_str(), false, &error))
      throw std::runtime_error("annoy load " + path + ": " + error);
    return loaded;
  }
};

// This process's resident set now, in bytes (Linux).
inline double rss_bytes() {
  long pages = 0, resident = 0;
  if (FILE* f = std::fopen("/proc/self/statm", "r")) {
    if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    std::fclose(f);
  }
  return double(resident) * double(sysconf(_SC_PAGESIZE));
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
      std::fprintf(stderr, "side_by_side (child): %s\n", e.what());
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

}  // namespace bench
