// The two libraries under test behind one small interface: ann through its C API (ann.h) and
// Annoy 1.17.3 through its header-only C++ library, in the same process, timed the same way.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "annoylib.h"
#include "kissrandom.h"
#include "measure.hpp"

namespace bench {

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

}  // namespace bench
