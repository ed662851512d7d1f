// Live indexes under load (ann only: Annoy has no live index). Through ann.h:
//   1. upserts per second: one at a time in timer and in sync durability, and in batches, into
//      an empty directory; and one at a time into a compacted index of the whole set (whose
//      router then moves the writes into the segment's trees on another thread);
//   2. queries per second while another thread keeps upserting (replacing existing keys with
//      the same vectors, so the live set stays the dataset and recall is measured against its
//      exact neighbours), against the compacted index, at equal recall;
//   3. queries per second against the size of the delta.
//
//   live --base base.npy --queries query.npy --truth gt_angular_ids.npy --metric angular
//        [--trees 50] [--limit N] [--out live.md]
//   live --synthetic 4000,32,200 --metric euclidean          (the smoke run)
#include <atomic>
#include <cstdio>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "data.hpp"
#include "libraries.hpp"

using namespace bench;

namespace {

struct Options {
  std::string base, queries, truth, metric = "angular", out, work = "/tmp";
  size_t limit = 0, synthetic_rows = 0, synthetic_dim = 0, synthetic_queries = 0, n = 10;
  int trees = 50;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], v = argv[i + 1];
    if (flag == "--base") o.base = v;
    else if (flag == "--queries") o.queries = v;
    else if (flag == "--truth") o.truth = v;
    else if (flag == "--metric") o.metric = v;
    else if (flag == "--out") o.out = v;
    else if (flag == "--work") o.work = v;
    else if (flag == "--trees") o.trees = std::stoi(v);
    else if (flag == "--limit") o.limit = std::stoul(v);
    else if (flag == "--synthetic") {
      std::sscanf(v.c_str(), "%zu,%zu,%zu", &o.synthetic_rows, &o.synthetic_dim, &o.synthetic_queries);
    } else throw std::runtime_error("unknown option " + flag);
  }
  return o;
}

struct Point {
  int64_t search_k;
  double recall, qps;
};

Point pass(const ann_index* index, const Matrix<float>& queries, const Matrix<int32_t>& truth, size_t n, int64_t sk) {
  std::vector<uint64_t> ids(queries.rows * n);
  std::vector<size_t> counts(queries.rows);
  ann_search_options* options = nullptr;
  check(ann_search_options_new(&options), "options");
  check(ann_search_options_set_search_k(options, sk), "search_k");
  double start = now();
  for (size_t q = 0; q < queries.rows; q++)
    check(ann_search(index, queries.row(q), n, options, &ids[q * n], nullptr, &counts[q]), "ann_search");
  double seconds = now() - start;
  ann_search_options_free(options);
  size_t hits = 0;
  for (size_t q = 0; q < queries.rows; q++) {
    std::set<int32_t> expected(truth.row(q), truth.row(q) + n);
    for (size_t i = 0; i < counts[q]; i++) hits += expected.count(int32_t(ids[q * n + i]));
  }
  return {sk, double(hits) / double(queries.rows * n), double(queries.rows) / seconds};
}

// Passes over `a` and `b` in turn, `rounds` times, keeping each one's fastest: on a shared,
// noisy machine, the fastest of a few runs is the figure least disturbed by other work.
// `during_b` runs around each pass over `b` (starting and stopping a stream of writes).
template <typename Around>
std::pair<Point, Point> best_in_turn(const ann_index* a, const ann_index* b, const Matrix<float>& queries,
                                     const Matrix<int32_t>& truth, size_t n, int64_t sk, int rounds, Around during_b) {
  Point best_a{sk, 0, 0}, best_b{sk, 0, 0};
  for (int r = 0; r < rounds; r++) {
    Point pa = pass(a, queries, truth, n, sk);
    Point pb = during_b([&] { return pass(b, queries, truth, n, sk); });
    if (pa.qps > best_a.qps) best_a = pa;
    if (pb.qps > best_b.qps) best_b = pb;
  }
  return {best_a, best_b};
}

// QPS at `recall`, interpolated (log QPS linear in recall) on a sweep; 0 when not bracketed.
double qps_at(const std::vector<Point>& curve, double recall) {
  for (size_t i = 0; i + 1 < curve.size(); i++)
    if (curve[i].recall < recall && recall <= curve[i + 1].recall) {
      double t = (recall - curve[i].recall) / (curve[i + 1].recall - curve[i].recall);
      return std::exp(std::log(curve[i].qps) + t * (std::log(curve[i + 1].qps) - std::log(curve[i].qps)));
    }
  return curve.empty() || curve.front().recall < recall ? 0.0 : curve.front().qps;
}

ann_writer* open_writer(const std::string& dir, size_t dim, ann_metric metric, uint32_t durability, int trees) {
  ann_writer_options* options = nullptr;
  check(ann_writer_options_new(uint32_t(dim), metric, &options), "writer options");
  check(ann_writer_options_set_durability(options, durability), "durability");
  check(ann_writer_options_set_n_trees(options, trees), "n_trees");
  ann_writer* writer = nullptr;
  check(ann_writer_open(dir.c_str(), options, &writer), "ann_writer_open");
  ann_writer_options_free(options);
  return writer;
}

double upserts_per_second(ann_writer* writer, const Matrix<float>& base, size_t count, size_t batch) {
  double start = now();
  std::vector<uint64_t> keys(batch);
  for (size_t i = 0; i < count; i += batch) {
    size_t m = std::min(batch, count - i);
    if (m == 1) {
      check(ann_upsert(writer, i, base.row(i % base.rows)), "ann_upsert");
    } else {
      for (size_t j = 0; j < m; j++) keys[j] = i + j;
      check(ann_upsert_batch(writer, keys.data(), base.row(i), m), "ann_upsert_batch");
    }
  }
  return double(count) / (now() - start);
}

void run(const Options& o) {
  Matrix<float> base, queries;
  if (o.synthetic_rows) {
    base = synthetic(o.synthetic_rows, o.synthetic_dim, 1);
    queries = synthetic(o.synthetic_queries, o.synthetic_dim, 2);
  } else {
    base = load_matrix<float>(o.base);
    queries = load_matrix<float>(o.queries);
  }
  if (o.limit && o.limit < base.rows) {
    base.rows = o.limit;
    base.data.resize(base.rows * base.cols);
  }
  Matrix<int32_t> truth = !o.truth.empty() && !o.limit && !o.synthetic_rows ? load_matrix<int32_t>(o.truth)
                                                                           : brute_force(base, queries, o.metric, o.n);
  ann_metric metric;
  check(ann_metric_from_name(o.metric.c_str(), &metric), "metric");
  size_t dim = base.cols, rows = base.rows;
  std::ostringstream md;
  char line[512];

  // 1. Upserts per second.
  std::string dir = o.work + "/live-bench";
  std::string rm = "rm -rf '" + dir + "'";
  auto fresh = [&] {
    if (std::system(rm.c_str()) != 0) throw std::runtime_error("cannot clear " + dir);
  };
  fresh();
  ann_writer* writer = open_writer(dir + "-timer", dim, metric, ANN_DURABILITY_TIMER, o.trees);
  double timer_rate = upserts_per_second(writer, base, rows, 1);
  ann_writer_free(writer);
  writer = open_writer(dir + "-batch", dim, metric, ANN_DURABILITY_SYNC, o.trees);
  double batch_rate = upserts_per_second(writer, base, rows, 1000);
  ann_writer_free(writer);
  writer = open_writer(dir + "-sync", dim, metric, ANN_DURABILITY_SYNC, o.trees);
  size_t sync_count = std::min<size_t>(rows, 2000);
  double sync_rate = upserts_per_second(writer, base, sync_count, 1);
  ann_writer_free(writer);
  std::string rm_all = "rm -rf '" + dir + "-timer' '" + dir + "-batch' '" + dir + "-sync'";
  if (std::system(rm_all.c_str()) != 0) throw std::runtime_error("cannot clean up");
  std::snprintf(line, sizeof line,
                "| upserts/s, one at a time, timer durability (synced every 100 ms) | %.0f |\n"
                "| upserts/s, batches of 1,000, sync durability | %.0f |\n"
                "| upserts/s, one at a time, sync durability (a log sync each) | %.0f |\n",
                timer_rate, batch_rate, sync_rate);
  md << "| " << rows << " x " << dim << " " << o.metric << " | |\n|---|---:|\n" << line;
  std::fprintf(stderr, "[live] upserts/s: timer %.0f, batches %.0f, sync %.0f\n", timer_rate, batch_rate, sync_rate);

  // 2. Queries during a stream of upserts, against the compacted index.
  fresh();
  writer = open_writer(dir, dim, metric, ANN_DURABILITY_TIMER, o.trees);
  upserts_per_second(writer, base, rows, 1000);
  check(ann_compact(writer, -1), "ann_compact");
  {
    // Upserts into the compacted index: replacements of a fifth of the keys, one at a time.
    size_t count = rows / 5;
    double start = now();
    for (size_t i = 0; i < count; i++) {
      size_t key = (i * 7919) % rows;
      check(ann_upsert(writer, key, base.row(key)), "ann_upsert");
    }
    double rate = double(count) / (now() - start);
    std::snprintf(line, sizeof line,
                  "| upserts/s, one at a time, timer durability, into a compacted index of the %zu items | %.0f |\n",
                  rows, rate);
    md << line;
    std::fprintf(stderr, "[live] upserts/s into the compacted index: %.0f\n", rate);
    check(ann_compact(writer, -1), "ann_compact");
  }
  ann_index* index = nullptr;
  check(ann_writer_index(writer, &index), "ann_writer_index");
  // The same items compacted, exported and opened as a second index: the reference, queried
  // in turn with the live index so that both see the same machine.
  std::string reference_path = dir + ".compacted.ann";
  check(ann_export(index, reference_path.c_str()), "ann_export");
  ann_index* reference = nullptr;
  check(ann_open(reference_path.c_str(), true, &reference), "ann_open");
  const int64_t sks[] = {500, 1000, 2000, 4000, 8000, 16000, 32000};
  std::vector<Point> compacted, streaming;
  std::atomic<bool> stop(false), running(false);
  std::atomic<size_t> streamed(0);
  std::thread stream([&] {
    std::mt19937_64 rng(3);
    while (!stop.load()) {
      if (!running.load()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
      size_t key = rng() % rows;
      check(ann_upsert(writer, key, base.row(key)), "stream upsert");  // same vector: same live set
      streamed++;
      std::this_thread::sleep_for(std::chrono::microseconds(200));     // about 5,000 upserts/s
    }
  });
  double stream_seconds = 0;
  for (int64_t sk : sks) {
    auto points = best_in_turn(reference, index, queries, truth, o.n, sk, 3, [&](auto query_pass) {
      running = true;
      double start = now();
      Point p = query_pass();
      stream_seconds += now() - start;
      running = false;
      return p;
    });
    compacted.push_back(points.first);
    streaming.push_back(points.second);
  }
  stop = true;
  stream.join();
  md << "\n**Queries while another thread upserts** (" << size_t(double(streamed) / stream_seconds)
     << " upserts/s, " << streamed << " in all; 1 query thread; recall@10 against the exact neighbours)\n\n"
     << "| search_k | compacted: recall, QPS | during upserts: recall, QPS |\n|---:|---|---|\n";
  for (size_t i = 0; i < compacted.size(); i++) {
    std::snprintf(line, sizeof line, "| %lld | %.4f, %.0f | %.4f, %.0f |\n", (long long)compacted[i].search_k,
                  compacted[i].recall, compacted[i].qps, streaming[i].recall, streaming[i].qps);
    md << line;
  }
  for (double r : {0.90, 0.95}) {
    double a = qps_at(streaming, r), b = qps_at(compacted, r);
    std::snprintf(line, sizeof line, "\nAt recall %.2f: %.0f QPS during upserts, %.0f compacted (**%.2fx**).\n", r, a,
                  b, b > 0 ? a / b : 0.0);
    md << line;
    std::fprintf(stderr, "[live] recall %.2f: %.0f QPS during upserts vs %.0f compacted\n", r, a, b);
  }

  // 3. Queries against the size of the delta (keys replaced with the same vectors).
  md << "\n**Queries against the delta's size** (search_k 4,000; the compacted index queried in turn, the fastest of 3 passes each; "
        "measured right after the writes, while the router still moves them into the segment's trees, and again after a pause of a "
        "second per 10,000 items in the delta)\n\n"
     << "| items in the delta | recall@10 | QPS | compacted QPS | ratio | after the pause: recall@10, QPS, ratio |\n"
        "|---:|---:|---:|---:|---:|---|\n";
  check(ann_compact(writer, -1), "ann_compact");
  size_t in_delta = 0;
  std::mt19937_64 rng(5);
  for (size_t target : {size_t(0), size_t(1000), size_t(4000), size_t(16000), rows / 2}) {
    while (in_delta < std::min(target, rows)) {
      std::vector<uint64_t> keys;
      std::vector<float> vectors;
      for (size_t j = 0; j < 1000 && in_delta + keys.size() < target; j++) {
        size_t key = in_delta + keys.size();  // distinct keys: each moves into the delta once
        keys.push_back(key);
        vectors.insert(vectors.end(), base.row(key), base.row(key) + dim);
      }
      check(ann_upsert_batch(writer, keys.data(), vectors.data(), keys.size()), "upsert batch");
      in_delta += keys.size();
    }
    auto points = best_in_turn(reference, index, queries, truth, o.n, 4000, 3, [](auto query_pass) { return query_pass(); });
    Point c = points.first, p = points.second;
    std::this_thread::sleep_for(std::chrono::milliseconds(100 * (in_delta / 1000)));
    auto later = best_in_turn(reference, index, queries, truth, o.n, 4000, 3, [](auto query_pass) { return query_pass(); });
    std::snprintf(line, sizeof line, "| %zu | %.4f | %.0f | %.0f | %.2f | %.4f, %.0f, %.2f |\n", in_delta, p.recall,
                  p.qps, c.qps, p.qps / c.qps, later.second.recall, later.second.qps,
                  later.second.qps / later.first.qps);
    md << line;
    std::fprintf(stderr, "[live] delta %zu: recall %.4f, %.0f QPS\n", in_delta, p.recall, p.qps);
  }
  (void)rng;
  ann_free(reference);
  std::remove(reference_path.c_str());
  ann_free(index);
  ann_writer_free(writer);
  fresh();
  std::printf("%s", md.str().c_str());
  if (!o.out.empty()) {
    std::FILE* f = std::fopen(o.out.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write " + o.out);
    std::fputs(md.str().c_str(), f);
    std::fclose(f);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    run(parse(argc, argv));
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "live: %s\n", e.what());
    return 1;
  }
}
