// ann and Annoy 1.17.3 side by side: same vectors, same queries, same process, same timer.
//
//   side_by_side --name dev --metric angular --base base.npy --queries query.npy
//                [--truth gt_angular_ids.npy] [--trees 10,50,100] [--limit N] [--out results.jsonl]
//                [--filter-curve TREES]
//   side_by_side --name smoke --metric euclidean --synthetic 5000,32,200 --trees 10
//
// For each tree count: builds with each library on 1 and on 2 threads (each build in a forked
// child, for its own peak memory), saves, measures file size and load time, then sweeps
// search_k with one thread, measuring recall@10 and queries per second at every point for
// both libraries back to back, until both pass recall 0.995 or a pass gets too slow. Then
// queries on 2 threads at the search_k where each library first reaches recall 0.90. With
// --filter-curve, at that tree count, ann's filtered search under random allow-lists of every
// selectivity (ann only: Annoy has no filters). Prints
// progress to stderr and appends one JSON object per tree count to --out; bench/report.py
// turns those into the table and the plot. bench/run builds and runs this program.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <random>
#include <sstream>

#include "data.hpp"
#include "libraries.hpp"

using namespace bench;

namespace {

struct Options : DataSource {
  std::string out = "results.jsonl";
  std::vector<int> trees{10, 50, 100};
  std::vector<int64_t> search_ks{500, 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000, 256000};
  double max_pass_seconds = 25;
  int filter_curve_trees = 0;  // measure ann's filtered-search cost curve at this tree count
};

template <typename T>
std::vector<T> parse_list(const std::string& text) {
  std::vector<T> values;
  std::stringstream s(text);
  for (std::string item; std::getline(s, item, ',');) values.push_back(T(std::stoll(item)));
  return values;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string flag = argv[i];
    if (i + 1 >= argc) throw std::runtime_error("missing value after " + flag);
    std::string v = argv[++i];
    if (parse_source_flag(o, flag, v)) continue;
    if (flag == "--out") o.out = v;
    else if (flag == "--trees") o.trees = parse_list<int>(v);
    else if (flag == "--search-k") o.search_ks = parse_list<int64_t>(v);
    else if (flag == "--max-pass-seconds") o.max_pass_seconds = std::stod(v);
    else if (flag == "--filter-curve") o.filter_curve_trees = std::stoi(v);
    else throw std::runtime_error("unknown option " + flag);
  }
  if (o.name.empty() || o.metric.empty()) throw std::runtime_error("--name and --metric are required");
  return o;
}

std::unique_ptr<Library> annoy_for(const std::string& metric) {
  if (metric == "angular") return std::unique_ptr<Library>(new Annoy_<Annoy::Angular>());
  if (metric == "euclidean") return std::unique_ptr<Library>(new Annoy_<Annoy::Euclidean>());
  if (metric == "dot") return std::unique_ptr<Library>(new Annoy_<Annoy::DotProduct>());
  if (metric == "manhattan") return std::unique_ptr<Library>(new Annoy_<Annoy::Manhattan>());
  throw std::runtime_error("metric " + metric + " is not benchmarked");
}

// Queries per second with two threads sharing one loaded index, each taking every other query.
double two_thread_qps(const Loaded& index, const Matrix<float>& queries, size_t n, int64_t search_k) {
  double start = now();
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 2; t++)
    threads.emplace_back([&, t] {
      std::vector<int32_t> ids(n);
      for (size_t q = t; q < queries.rows; q += 2) index.query(queries.row(q), n, search_k, ids.data());
    });
  for (auto& t : threads) t.join();
  return double(queries.rows) / (now() - start);
}

// The fastest of a few loads (an mmap and a header check for both libraries), in seconds.
double load_seconds(const Library& lib, const std::string& path, size_t dim) {
  double best = 1e9;
  for (int i = 0; i < 5; i++) {
    double start = now();
    auto loaded = lib.load(path, dim);
    best = std::min(best, now() - start);
  }
  return best;
}

// ann's filtered search (ann_search with a random allow-list) at `search_k`, for selectivities
// from every item to one: queries per second, recall@n against the exact filtered answer, and
// whether every answer had exactly min(n, accepted) results. Returns a JSON array.
std::string filter_curve(const ann_index* index, const Matrix<float>& base, const Matrix<float>& queries,
                         const Matrix<int32_t>& truth, const Options& o, int64_t search_k) {
  std::ostringstream json;
  json << "[";
  std::mt19937_64 rng(7);
  std::vector<int32_t> all(base.rows);
  for (size_t i = 0; i < base.rows; i++) all[i] = int32_t(i);
  std::shuffle(all.begin(), all.end(), rng);
  const double selectivities[] = {1.0, 0.1, 0.01, 0.001, 0.0};
  for (double s : selectivities) {
    size_t accepted = std::max<size_t>(1, size_t(s * double(base.rows)));
    std::vector<int32_t> subset(all.begin(), all.begin() + long(accepted));
    std::sort(subset.begin(), subset.end());
    Matrix<int32_t> exact = accepted == base.rows ? truth : brute_force(base, queries, o.metric, o.n, subset);
    std::vector<uint64_t> keys(subset.begin(), subset.end());
    ann_search_options* options = nullptr;
    check(ann_search_options_new(&options), "ann_search_options_new");
    check(ann_search_options_set_search_k(options, search_k), "set_search_k");
    check(ann_search_options_set_allow_list(options, keys.data(), keys.size()), "set_allow_list");
    std::vector<uint64_t> ids(queries.rows * o.n);
    std::vector<size_t> counts(queries.rows);
    double start = now();
    for (size_t q = 0; q < queries.rows; q++)
      check(ann_search(index, queries.row(q), o.n, options, &ids[q * o.n], nullptr, &counts[q]), "ann_search");
    double qps = double(queries.rows) / (now() - start);
    ann_search_options_free(options);
    size_t hits = 0, complete = 0;
    for (size_t q = 0; q < queries.rows; q++) {
      complete += counts[q] == std::min(o.n, accepted);
      std::set<int32_t> expected(exact.row(q), exact.row(q) + std::min(o.n, accepted));
      for (size_t i = 0; i < counts[q]; i++) hits += expected.count(int32_t(ids[q * o.n + i]));
    }
    double recall = double(hits) / double(queries.rows * std::min(o.n, accepted));
    std::fprintf(stderr, "[%s filtered] %zu accepted (%.3f%%): recall %.4f, %.1f QPS, %zu/%zu complete\n",
                 o.name.c_str(), accepted, 100.0 * double(accepted) / double(base.rows), recall, qps, complete,
                 queries.rows);
    json << (s == 1.0 ? "" : ",") << "{\"accepted\":" << accepted << ",\"search_k\":" << search_k
         << ",\"qps\":" << qps << ",\"recall\":" << recall << ",\"complete\":" << complete << "}";
  }
  return json.str() + "]";
}

int64_t first_reaching(const std::vector<Pass>& passes, double recall) {
  for (const Pass& p : passes)
    if (p.recall >= recall) return p.effort;
  return passes.empty() ? -1 : passes.back().effort;
}

void run(const Options& o) {
  Dataset data = load_dataset(o);
  const Matrix<float>& base = data.base;
  const Matrix<float>& queries = data.queries;
  const Matrix<int32_t>& truth = data.truth;

  ann_metric metric_code;
  check(ann_metric_from_name(o.metric.c_str(), &metric_code), "metric");
  Ann ann(metric_code);
  auto annoy = annoy_for(o.metric);
  const Library* libs[2] = {&ann, annoy.get()};
  size_t dim = base.cols;

  for (int trees : o.trees) {
    std::map<std::string, double> figures;
    std::map<std::string, std::string> paths;
    for (int threads : {1, 2}) {
      for (const Library* lib : libs) {
        std::string path = threads == 1 ? o.work + "/" + o.name + "-" + std::to_string(trees) + "." + lib->name() : "";
        auto result = in_child([&] { return lib->build(base.data.data(), base.rows, dim, trees, threads, path); });
        std::string key = lib->name() + "_build_s_" + std::to_string(threads) + "t";
        figures[key] = result.first;
        if (threads == 1) {
          figures[lib->name() + "_build_peak_rss_mb"] = result.second / 1e6;
          paths[lib->name()] = path;
        }
        std::fprintf(stderr, "[%s %d trees] %s build on %d thread(s): %.2f s\n", o.name.c_str(), trees,
                     lib->name().c_str(), threads, result.first);
      }
    }
    std::map<std::string, std::unique_ptr<Loaded>> loaded;
    std::map<std::string, std::vector<Pass>> curves;
    for (const Library* lib : libs) {
      struct stat st {};
      stat(paths[lib->name()].c_str(), &st);
      figures[lib->name() + "_file_mb"] = double(st.st_size) / 1e6;
      figures[lib->name() + "_load_ms"] = load_seconds(*lib, paths[lib->name()], dim) * 1e3;
      loaded[lib->name()] = lib->load(paths[lib->name()], dim);
      run_pass(*loaded[lib->name()], queries, truth, o.n, o.search_ks.front());  // warm the page cache
    }
    bool slow = false;
    for (int64_t sk : o.search_ks) {
      bool done = true;
      for (const Library* lib : libs) {
        Pass p = run_pass(*loaded[lib->name()], queries, truth, o.n, sk);
        curves[lib->name()].push_back(p);
        done = done && p.recall >= 0.995;
        slow = slow || double(queries.rows) / p.qps > o.max_pass_seconds;
        std::fprintf(stderr, "[%s %d trees] %-5s search_k %7lld: recall %.4f, %8.1f QPS\n", o.name.c_str(), trees,
                     lib->name().c_str(), (long long)sk, p.recall, p.qps);
      }
      if (done || slow) break;
    }
    for (const Library* lib : libs) {
      const std::string& name = lib->name();
      int64_t sk = first_reaching(curves[name], 0.90);
      figures[name + "_batch2_search_k"] = double(sk);
      figures[name + "_batch2_qps"] = two_thread_qps(*loaded[name], queries, o.n, sk);
      // Resident memory the queries add, in a fresh process-image: the mapped pages they touch.
      auto rss = in_child([&] {
        double before = rss_bytes();
        auto index = lib->load(paths[name], dim);
        run_pass(*index, queries, truth, o.n, sk);
        return std::max(0.0, rss_bytes() - before);
      });
      figures[name + "_query_rss_mb"] = rss.first / 1e6;
    }
    std::string filter_json = "[]";
    if (trees == o.filter_curve_trees) {
      auto* ann_loaded = static_cast<AnnLoaded*>(loaded["ann"].get());
      filter_json = filter_curve(ann_loaded->get(), base, queries, truth, o, first_reaching(curves["ann"], 0.90));
    }
    loaded.clear();
    for (auto& path : paths) std::remove(path.second.c_str());

    std::FILE* out = std::fopen(o.out.c_str(), "a");
    if (!out) throw std::runtime_error("cannot open " + o.out);
    std::fprintf(out, "{\"dataset\":\"%s\",\"metric\":\"%s\",\"n_items\":%zu,\"dim\":%zu,\"n_queries\":%zu,\"trees\":%d",
                 o.name.c_str(), o.metric.c_str(), base.rows, dim, queries.rows, trees);
    for (auto& f : figures) std::fprintf(out, ",\"%s\":%.6g", f.first.c_str(), f.second);
    for (auto& c : curves) std::fprintf(out, ",\"%s_curve\":%s", c.first.c_str(), json_curve(c.second, "search_k").c_str());
    std::fprintf(out, ",\"ann_filter_curve\":%s", filter_json.c_str());
    std::fprintf(out, "}\n");
    std::fclose(out);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    run(parse(argc, argv));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "side_by_side: %s\n", e.what());
    return 1;
  }
}
