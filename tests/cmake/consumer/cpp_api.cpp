// Exercises every method of ann.hpp through an installed (or vendored) libann, as C++17 and
// C++20. Prints "cpp ok: N checks" and exits 0, or prints each failed check and exits 1.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ann.hpp"

namespace {

int checks = 0;
int failures = 0;

void check(bool ok, const char* what, int line) {
  checks++;
  if (!ok) {
    failures++;
    std::fprintf(stderr, "line %d: check failed: %s\n", line, what);
  }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

// Runs `body`, which must throw ann::Error with `status`; returns the message.
template <typename Body>
std::string expect_error(ann_status status, Body body, int line) {
  try {
    body();
  } catch (const ann::Error& e) {
    check(e.status() == status, "the error has the expected status", line);
    check(std::strlen(e.what()) > 0, "the error has a message", line);
    return e.what();
  }
  check(false, "an ann::Error was thrown", line);
  return "";
}
#define EXPECT_ERROR(status, body) expect_error((status), [&] { body; }, __LINE__)

constexpr uint32_t kDim = 16;
constexpr uint64_t kItems = 500;

std::vector<std::vector<float>> random_vectors(size_t count, uint32_t dim, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<std::vector<float>> vectors(count, std::vector<float>(dim));
  for (auto& v : vectors)
    for (float& x : v) x = normal(rng);
  return vectors;
}

float euclidean(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); i++) sum += double(a[i] - b[i]) * double(a[i] - b[i]);
  return float(std::sqrt(sum));
}

bool same(const std::vector<ann::Neighbor>& a, const std::vector<ann::Neighbor>& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](const ann::Neighbor& x, const ann::Neighbor& y) {
           return x.id == y.id && x.distance == y.distance;
         });
}

void metrics_and_names() {
  static_assert(static_cast<uint32_t>(ann::Metric::Angular) == ANN_METRIC_ANGULAR, "code");
  static_assert(static_cast<uint32_t>(ann::Metric::Hamming) == ANN_METRIC_HAMMING, "code");
  for (ann::Metric m : {ann::Metric::Angular, ann::Metric::Euclidean, ann::Metric::Manhattan,
                        ann::Metric::Dot, ann::Metric::Hamming}) {
    CHECK(ann::metric_from_name(ann::metric_name(m)) == m);
    ann::Index index(8, m);
    CHECK(index.metric() == m);
  }
  CHECK(ann::metric_from_name("cosine") == ann::Metric::Angular);
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::metric_from_name("cosin"));
  CHECK(ann::abi_version() == ANN_ABI_VERSION);
  CHECK(!ann::version().empty());
}

void build_query_save_load() {
  auto vectors = random_vectors(kItems, kDim, 1);
  ann::Index index(kDim, ann::Metric::Euclidean);
  for (uint64_t id = 0; id < kItems; id++) index.add_item(id, vectors[id]);
  index.set_seed(99);
  CHECK(index.seed() == 99);
  CHECK(index.n_trees() == 0);
  index.build(20, 2);
  CHECK(index.n_items() == kItems && index.n_trees() == 20 && index.dim() == kDim);
  index.verify();

  // Recall against brute force: an exhaustive search_k finds the true 10 nearest.
  auto queries = random_vectors(20, kDim, 2);
  for (const auto& q : queries) {
    std::vector<std::pair<float, uint64_t>> truth;
    for (uint64_t id = 0; id < kItems; id++) truth.emplace_back(euclidean(q, vectors[id]), id);
    std::sort(truth.begin(), truth.end());
    auto found = index.get_nns_by_vector(q, 10, int64_t(kItems) * 20);
    CHECK(found.size() == 10);
    for (size_t i = 0; i < found.size(); i++) {
      CHECK(found[i].id == truth[i].second);
      CHECK(std::fabs(found[i].distance - truth[i].first) < 1e-4f);
    }
  }

  // A saved and loaded index answers identically, by vector and by item.
  index.save("cpp.ann");
  index.save_annoy("cpp.annoy");
  ann::Index loaded = ann::Index::load("cpp.ann", true);
  ann::Index annoy = ann::Index::load_annoy("cpp.annoy", kDim, ann::Metric::Euclidean);
  for (const auto& q : queries) {
    auto expected = index.get_nns_by_vector(q, 10);
    CHECK(same(loaded.get_nns_by_vector(q, 10), expected));
    CHECK(same(annoy.get_nns_by_vector(q.data(), 10), expected));
  }
  for (uint64_t id = 0; id < 10; id++) {
    auto by_item = loaded.get_nns_by_item(id, 5);
    CHECK(by_item.at(0).id == id && by_item[0].distance == 0.0f);
    CHECK(same(by_item, index.get_nns_by_item(id, 5)));
    CHECK(loaded.get_item_vector(id) == vectors[id]);
    CHECK(std::fabs(loaded.get_distance(id, id + 1) - euclidean(vectors[id], vectors[id + 1])) < 1e-5f);
  }
  CHECK(loaded.seed() == 99 && loaded.n_items() == kItems && loaded.n_trees() == 20);
  CHECK(loaded.get_nns_by_item(0, 1000000).size() == kItems);  // n beyond the items costs nothing

  ann::FileInfo info = ann::file_info("cpp.ann");
  CHECK(info.kind == ANN_FILE_NATIVE && info.dim == kDim && info.n_items == kItems);
  CHECK(info.metric == ANN_METRIC_EUCLIDEAN && info.seed == 99);
  CHECK(ann::file_info("cpp.annoy").kind == ANN_FILE_ANNOY);

  // Zero-copy queries write the same answers into caller buffers.
  std::vector<uint64_t> ids(10);
  std::vector<float> distances(10);
  size_t count = loaded.get_nns_by_vector_into(queries[0].data(), 10, -1, ids.data(), distances.data());
  auto expected = loaded.get_nns_by_vector(queries[0], 10);
  CHECK(count == expected.size());
  for (size_t i = 0; i < count; i++) CHECK(ids[i] == expected[i].id && distances[i] == expected[i].distance);
  count = loaded.get_nns_by_item_into(3, 10, -1, ids.data(), nullptr);
  CHECK(count == 10 && ids[0] == 3);

  // A batch answers each row as a single query would.
  std::vector<float> flat;
  for (const auto& q : queries) flat.insert(flat.end(), q.begin(), q.end());
  ann::BatchResult batch = loaded.get_nns_batch(flat, 10, -1, 2);
  CHECK(batch.counts.size() == queries.size());
  for (size_t q = 0; q < queries.size(); q++) CHECK(same(batch.row(q), loaded.get_nns_by_vector(queries[q], 10)));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, loaded.get_nns_batch(std::vector<float>(kDim + 1), 10));
}

void errors_carry_status_and_message() {
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Index(0, ann::Metric::Angular));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Index(4, static_cast<ann::Metric>(9)));
  std::string missing = EXPECT_ERROR(ANN_STATUS_IO, ann::Index::load("no/such/file.ann"));
  CHECK(missing.find("no/such/file.ann") != std::string::npos);

  ann::Index index(4, ann::Metric::Angular);
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.add_item(0, std::vector<float>{1, 2, 3}));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.add_item(0, {1, NAN, 0, 0}));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, index.get_nns_by_vector({1, 0, 0, 0}, 3));
  index.add_item(0, {1, 0, 0, 0});
  index.add_item(1, {0, 1, 0, 0});
  index.build(2);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, index.build(2));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, index.add_item(2, {0, 0, 1, 0}));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.get_item_vector(7));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.get_nns_by_vector({1, 0, 0}, 3));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.get_nns_by_vector({1, 0, 0, 0}, 3, -2));
  EXPECT_ERROR(ANN_STATUS_IO, index.save(""));  // an empty path
  // unbuild returns to adding; the index builds again with more items.
  index.unbuild();
  index.add_item(2, {0, 0, 1, 0});
  index.build(2);
  CHECK(index.n_items() == 3);
  index.unload();
  CHECK(index.n_items() == 0 && index.dim() == 4);

  ann::Index loaded = ann::Index::load("cpp.ann");
  std::string refused = EXPECT_ERROR(ANN_STATUS_INVALID_STATE, loaded.add_item(0, std::vector<float>(kDim)));
  CHECK(refused.find("ann_add_item") != std::string::npos);
  EXPECT_ERROR(ANN_STATUS_CORRUPT_FILE, ann::Index::load("cpp.annoy"));  // no header
}

void ownership() {
  ann::Index a(3, ann::Metric::Dot);
  ann_index* raw = a.get();
  ann::Index b(std::move(a));
  CHECK(b.get() == raw && a.get() == nullptr);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, a.dim());  // moved from: an error, not a crash
  a = std::move(b);
  CHECK(a.get() == raw && a.dim() == 3);
  ann_index* released = a.release();
  CHECK(released == raw && a.get() == nullptr);
  ann::Index adopted(released);  // back under RAII
  CHECK(adopted.metric() == ann::Metric::Dot);

  ann_index* from_c = nullptr;
  CHECK(ann_new(5, ANN_METRIC_MANHATTAN, &from_c) == ANN_STATUS_OK);
  ann::Index wrapped(from_c);
  CHECK(wrapped.dim() == 5 && wrapped.metric() == ann::Metric::Manhattan);
}

void hamming_packed_words() {
  ann::Index index(128, ann::Metric::Hamming);
  std::mt19937_64 rng(3);
  std::vector<std::vector<uint64_t>> items(100, std::vector<uint64_t>(2));
  for (uint64_t id = 0; id < items.size(); id++) {
    for (uint64_t& w : items[id]) w = rng();
    index.add_item_packed(id, items[id]);
  }
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.add_item_packed(100, {1}));
  index.build(10);
  CHECK(index.get_item_packed(42) == items[42]);
  auto found = index.get_nns_packed(items[42], 3, 100000);
  CHECK(found.at(0).id == 42 && found[0].distance == 0.0f);
  auto bits = index.get_item_vector(42);
  CHECK(bits.size() == 128 && bits[0] == float(items[42][0] & 1));
}

void threads_share_one_index() {
  ann::Index index = ann::Index::load("cpp.ann");
  auto queries = random_vectors(64, kDim, 4);
  std::vector<std::vector<ann::Neighbor>> expected;
  for (const auto& q : queries) expected.push_back(index.get_nns_by_vector(q, 10));
  const ann::Index& shared = index;  // const methods may run concurrently
  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++)
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; round++)
        for (size_t q = 0; q < queries.size(); q++)
          if (!same(shared.get_nns_by_vector(queries[q], 10), expected[q])) mismatches[t]++;
    });
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) CHECK(m == 0);
}

}  // namespace

int main() {
  try {
    metrics_and_names();
    build_query_save_load();
    errors_carry_status_and_message();
    ownership();
    hamming_packed_words();
    threads_share_one_index();
  } catch (const ann::Error& e) {
    std::fprintf(stderr, "unexpected ann::Error (%s): %s\n", e.status_name(), e.what());
    return 1;
  }
  if (failures != 0) {
    std::fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  std::printf("cpp ok: %d checks\n", checks);
  return 0;
}
