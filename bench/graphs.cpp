// ann's graph and hnswlib 0.8 side by side: same vectors, same queries, same process, same timer.
//
//   graphs --name dev --metric angular --base base.npy --queries query.npy [--truth gt_angular_ids.npy]
//          [--trees 10] [--degree 0] [--out results.jsonl] [--work DIR]
//   graphs --name smoke --metric euclidean --synthetic 4000,32,200
//
// ann builds a forest of --trees trees, then a graph of --degree (0: the default) through the C
// API; hnswlib (its header-only C++ library, fetched from the Python registry by bench/run)
// builds with M = 16 and ef_construction = 200, the settings its users publish, adding items
// from as many threads as ann builds with, as its Python binding does. For each library: the
// build on 1 and on 2 threads (each in a forked child, for its own peak memory), the saved
// file's size, the load time, then a sweep of the beam width ef with one thread, both
// libraries back to back at each ef and each pass the fastest of 3, and the resident memory a
// fresh process adds to load the file and answer every query at ef 64 (mapped and heap). Appends one JSON
// object to --out ("kind":"graph"); bench/report.py adds it to the table and the plot.
#include <sys/stat.h>

#include <atomic>
#include <cmath>
#include <map>
#include <memory>
#include <queue>
#include <sstream>
#include <thread>
#include <vector>

#include "data.hpp"
#include "hnswlib/hnswlib.h"
#include "measure.hpp"

using namespace bench;

namespace {

struct Options : DataSource {
  std::string out = "results.jsonl";
  int trees = 5;
  uint32_t degree = 0;
  std::vector<int64_t> efs{10, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256};
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string flag = argv[i];
    if (i + 1 >= argc) throw std::runtime_error("missing value after " + flag);
    std::string v = argv[++i];
    if (parse_source_flag(o, flag, v)) continue;
    if (flag == "--out") o.out = v;
    else if (flag == "--trees") o.trees = std::stoi(v);
    else if (flag == "--degree") o.degree = uint32_t(std::stoul(v));
    else throw std::runtime_error("unknown option " + flag);
  }
  if (o.name.empty() || o.metric.empty()) throw std::runtime_error("--name and --metric are required");
  return o;
}

// A graph library: builds into a file (returning seconds of the build's parts), loads files.
class GraphLibrary {
 public:
  virtual ~GraphLibrary() = default;
  virtual std::string name() const = 0;
  virtual double build(const Matrix<float>& base, int threads, const std::string& path) const = 0;
  virtual std::unique_ptr<Loaded> load(const std::string& path) const = 0;
};

class AnnGraphLoaded : public Loaded {
 public:
  explicit AnnGraphLoaded(ann_index* index) : index_(index) {
    check(ann_search_options_new(&options_), "ann_search_options_new");
  }
  ~AnnGraphLoaded() override {
    ann_search_options_free(options_);
    ann_free(index_);
  }
  size_t query(const float* query, size_t n, int64_t ef, int32_t* ids) const override {
    uint64_t found[256];
    float distances[256];
    size_t count = 0;
    if (ef != ef_) {
      check(ann_search_options_set_ef(options_, size_t(ef)), "ann_search_options_set_ef");
      ef_ = ef;
    }
    check(ann_search(index_, query, n, options_, found, distances, &count), "ann_search");
    for (size_t i = 0; i < count; i++) ids[i] = int32_t(found[i]);
    return count;
  }

 private:
  ann_index* index_;
  ann_search_options* options_ = nullptr;
  mutable int64_t ef_ = 0;
};

class AnnGraph : public GraphLibrary {
 public:
  AnnGraph(ann_metric metric, int trees, uint32_t degree) : metric_(metric), trees_(trees), degree_(degree) {}
  std::string name() const override { return "ann_graph"; }
  double build(const Matrix<float>& base, int threads, const std::string& path) const override {
    ann_index* index = nullptr;
    check(ann_new(uint32_t(base.cols), metric_, &index), "ann_new");
    for (size_t i = 0; i < base.rows; i++) check(ann_add_item(index, i, base.row(i)), "ann_add_item");
    double start = now();
    check(ann_build(index, trees_, threads), "ann_build");
    check(ann_build_graph(index, degree_, threads), "ann_build_graph");
    double seconds = now() - start;
    if (!path.empty()) check(ann_save(index, path.c_str()), "ann_save");
    ann_free(index);
    return seconds;
  }
  std::unique_ptr<Loaded> load(const std::string& path) const override {
    ann_index* index = nullptr;
    check(ann_load(path.c_str(), false, &index), "ann_load");
    return std::unique_ptr<Loaded>(new AnnGraphLoaded(index));
  }

 private:
  ann_metric metric_;
  int trees_;
  uint32_t degree_;
};

// hnswlib as its Python binding drives it: cosine is the inner product of normalised vectors.
class HnswLoaded : public Loaded {
 public:
  HnswLoaded(std::unique_ptr<hnswlib::SpaceInterface<float>> space, bool normalise, size_t dim)
      : space_(std::move(space)), normalise_(normalise), dim_(dim) {}
  size_t query(const float* query, size_t n, int64_t ef, int32_t* ids) const override {
    std::vector<float> unit;
    if (normalise_) query = normalised(query, dim_, unit);
    index_->setEf(size_t(ef));
    auto found = index_->searchKnn(query, n);
    size_t count = found.size();
    for (size_t i = count; i-- > 0; found.pop()) ids[i] = int32_t(found.top().second);
    return count;
  }
  static const float* normalised(const float* v, size_t dim, std::vector<float>& out) {
    double s = 0;
    for (size_t j = 0; j < dim; j++) s += double(v[j]) * v[j];
    float scale = s > 0 ? float(1.0 / std::sqrt(s)) : 0.0f;
    out.resize(dim);
    for (size_t j = 0; j < dim; j++) out[j] = v[j] * scale;
    return out.data();
  }
  std::unique_ptr<hnswlib::SpaceInterface<float>> space_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
  bool normalise_;
  size_t dim_;
};

class Hnsw : public GraphLibrary {
 public:
  explicit Hnsw(const std::string& metric) : metric_(metric) {
    if (metric != "angular" && metric != "euclidean" && metric != "dot")
      throw std::runtime_error("hnswlib has no " + metric + " metric");
  }
  std::string name() const override { return "hnswlib"; }
  std::unique_ptr<hnswlib::SpaceInterface<float>> space(size_t dim) const {
    if (metric_ == "euclidean") return std::unique_ptr<hnswlib::SpaceInterface<float>>(new hnswlib::L2Space(dim));
    return std::unique_ptr<hnswlib::SpaceInterface<float>>(new hnswlib::InnerProductSpace(dim));
  }
  double build(const Matrix<float>& base, int threads, const std::string& path) const override {
    auto s = space(base.cols);
    hnswlib::HierarchicalNSW<float> index(s.get(), base.rows, 16, 200, 100);
    bool normalise = metric_ == "angular";
    double start = now();
    std::atomic<size_t> next{0};
    auto add = [&] {
      std::vector<float> unit;
      for (size_t i; (i = next++) < base.rows;) {
        const float* v = normalise ? HnswLoaded::normalised(base.row(i), base.cols, unit) : base.row(i);
        index.addPoint(v, i);
      }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) pool.emplace_back(add);
    for (auto& t : pool) t.join();
    double seconds = now() - start;
    if (!path.empty()) index.saveIndex(path);
    return seconds;
  }
  std::unique_ptr<Loaded> load(const std::string& path) const override {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) throw std::runtime_error("cannot stat " + path);
    // The dimension is not in the file: the space gives it; the data size checks it.
    auto loaded = std::unique_ptr<HnswLoaded>(new HnswLoaded(space(dim_), metric_ == "angular", dim_));
    loaded->index_.reset(new hnswlib::HierarchicalNSW<float>(loaded->space_.get(), path));
    return std::unique_ptr<Loaded>(loaded.release());
  }
  size_t dim_ = 0;

 private:
  std::string metric_;
};

double load_seconds(const GraphLibrary& lib, const std::string& path) {
  double best = 1e9;
  for (int i = 0; i < 3; i++) {
    double start = now();
    auto loaded = lib.load(path);
    best = std::min(best, now() - start);
  }
  return best;
}

void run(const Options& o) {
  Dataset data = load_dataset(o);
  ann_metric metric_code;
  check(ann_metric_from_name(o.metric.c_str(), &metric_code), "metric");
  AnnGraph ann(metric_code, o.trees, o.degree);
  Hnsw hnsw(o.metric);
  hnsw.dim_ = data.base.cols;
  const GraphLibrary* libs[2] = {&ann, &hnsw};
  std::map<std::string, double> figures;
  std::map<std::string, std::string> paths;
  for (int threads : {1, 2}) {
    for (const GraphLibrary* lib : libs) {
      std::string path = threads == 1 ? o.work + "/" + o.name + "-graph." + lib->name() : "";
      auto result = in_child([&] { return lib->build(data.base, threads, path); });
      figures[lib->name() + "_build_s_" + std::to_string(threads) + "t"] = result.first;
      if (threads == 1) {
        figures[lib->name() + "_build_peak_rss_mb"] = result.second / 1e6;
        paths[lib->name()] = path;
      }
      std::fprintf(stderr, "[%s graph] %s build on %d thread(s): %.2f s\n", o.name.c_str(), lib->name().c_str(),
                   threads, result.first);
    }
  }
  std::map<std::string, std::unique_ptr<Loaded>> loaded;
  std::map<std::string, std::vector<Pass>> curves;
  for (const GraphLibrary* lib : libs) {
    struct stat st {};
    stat(paths[lib->name()].c_str(), &st);
    figures[lib->name() + "_file_mb"] = double(st.st_size) / 1e6;
    figures[lib->name() + "_load_ms"] = load_seconds(*lib, paths[lib->name()]) * 1e3;
    loaded[lib->name()] = lib->load(paths[lib->name()]);
    run_pass(*loaded[lib->name()], data.queries, data.truth, o.n, o.efs.front());  // warm the page cache
  }
  for (int64_t ef : o.efs) {
    for (const GraphLibrary* lib : libs) {
      Pass best{ef, 0, 0};
      for (int i = 0; i < 3; i++) {
        Pass p = run_pass(*loaded[lib->name()], data.queries, data.truth, o.n, ef);
        if (p.qps > best.qps) best = p;
      }
      curves[lib->name()].push_back(best);
      std::fprintf(stderr, "[%s graph] %-9s ef %4lld: recall %.4f, %8.1f QPS\n", o.name.c_str(),
                   lib->name().c_str(), (long long)ef, best.recall, best.qps);
    }
  }
  loaded.clear();
  for (const GraphLibrary* lib : libs) {
    // Resident memory a fresh process adds to load the file and answer every query at ef 64,
    // split into mapped file pages (for ann, the pages the queries touch, shared with every
    // other process mapping the file) and anonymous memory (for hnswlib, the copy it reads
    // into its heap; for ann, its query scratch).
    for (const char* field : {"RssFile", "RssAnon"}) {
      auto grown = in_child([&] {
        double before = status_bytes(field);
        auto index = lib->load(paths[lib->name()]);
        run_pass(*index, data.queries, data.truth, o.n, 64);
        return std::max(0.0, status_bytes(field) - before);
      });
      figures[lib->name() + (field[3] == 'F' ? "_query_rss_file_mb" : "_query_rss_anon_mb")] = grown.first / 1e6;
    }
    figures[lib->name() + "_query_rss_mb"] =
        figures[lib->name() + "_query_rss_file_mb"] + figures[lib->name() + "_query_rss_anon_mb"];
    std::remove(paths[lib->name()].c_str());
  }

  std::FILE* out = std::fopen(o.out.c_str(), "a");
  if (!out) throw std::runtime_error("cannot open " + o.out);
  std::fprintf(out,
               "{\"kind\":\"graph\",\"dataset\":\"%s\",\"metric\":\"%s\",\"n_items\":%zu,\"dim\":%zu,"
               "\"n_queries\":%zu,\"trees\":%d,\"degree\":%u",
               o.name.c_str(), o.metric.c_str(), data.base.rows, data.base.cols, data.queries.rows, o.trees, o.degree);
  for (auto& f : figures) std::fprintf(out, ",\"%s\":%.6g", f.first.c_str(), f.second);
  for (auto& c : curves) std::fprintf(out, ",\"%s_curve\":%s", c.first.c_str(), json_curve(c.second, "ef").c_str());
  std::fprintf(out, "}\n");
  std::fclose(out);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    run(parse(argc, argv));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "graphs: %s\n", e.what());
    return 1;
  }
}
