// Exercises every method of ann.hpp through an installed (or vendored) libann, as C++17 and
// C++20. Prints "cpp ok: N checks" and exits 0, or prints each failed check and exits 1.
// POSIX: the live index test forks a reader process at the start of main (see
// fork_reader_process) and works in live index directories under the working directory.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_set>
#include <utility>
#include <vector>

#include "ann.hpp"

namespace {

int checks = 0;
int failures = 0;
const char* who = "";  // "reader process, " in the live index test's child

void check(bool ok, const char* what, int line) {
  checks++;
  if (!ok) {
    failures++;
    std::fprintf(stderr, "%sline %d: check failed: %s\n", who, line, what);
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


// ---- Keys, filtered search and shards ----

// Items under arbitrary 64-bit keys, with the vectors kept for brute force.
struct Keyed {
  std::vector<uint64_t> keys;
  std::vector<std::vector<float>> vectors;
};

uint64_t fnv1a(const char* text) {
  uint64_t hash = 14695981039346656037ull;
  for (; *text != '\0'; text++) hash = (hash ^ uint8_t(*text)) * 1099511628211ull;
  return hash;
}

// `count` distinct random keys (never ann::no_key), `extra` first, and random vectors.
Keyed random_keyed(size_t count, std::vector<uint64_t> extra, unsigned seed) {
  Keyed data;
  std::mt19937_64 rng(seed);
  std::set<uint64_t> seen;
  for (uint64_t key : extra)
    if (seen.insert(key).second) data.keys.push_back(key);
  while (data.keys.size() < count) {
    uint64_t key = rng();
    if (key != ann::no_key && seen.insert(key).second) data.keys.push_back(key);
  }
  data.vectors = random_vectors(count, kDim, seed + 1);
  return data;
}

ann::Index build_keyed(const Keyed& data, int32_t n_trees) {
  ann::Index index(kDim, ann::Metric::Euclidean);
  for (size_t i = 0; i < data.keys.size(); i++) index.add_item(data.keys[i], data.vectors[i]);
  index.build(n_trees, 2);
  return index;
}

// The keys of the `n` items nearest to `q` that `accept` accepts, by brute force.
std::vector<uint64_t> exact_top(const Keyed& data, const std::vector<float>& q, size_t n,
                                const std::function<bool(uint64_t)>& accept) {
  std::vector<std::pair<float, uint64_t>> all;
  for (size_t i = 0; i < data.keys.size(); i++)
    if (accept(data.keys[i])) all.emplace_back(euclidean(q, data.vectors[i]), data.keys[i]);
  std::sort(all.begin(), all.end());
  std::vector<uint64_t> keys;
  for (size_t i = 0; i < all.size() && i < n; i++) keys.push_back(all[i].second);
  return keys;
}

std::vector<uint64_t> ids_of(const std::vector<ann::Neighbor>& found) {
  std::vector<uint64_t> ids;
  for (const auto& hit : found) ids.push_back(hit.id);
  return ids;
}

// Exactly `expected` results, every one accepted, distinct, nearest first.
bool well_formed(const std::vector<ann::Neighbor>& found, size_t expected,
                 const std::unordered_set<uint64_t>& accepted) {
  std::set<uint64_t> distinct;
  for (size_t i = 0; i < found.size(); i++) {
    if (accepted.count(found[i].id) == 0 || !distinct.insert(found[i].id).second) return false;
    if (i > 0 && found[i].distance < found[i - 1].distance) return false;
  }
  return found.size() == expected;
}

void sparse_keys_round_trip() {
  const uint64_t big = (uint64_t(1) << 63) + 5;
  Keyed data = random_keyed(300, {uint64_t(1) << 40, big, 0, 7, ann::no_key - 1, fnv1a("hello"),
                                  fnv1a("world")}, 11);
  ann::Index index(kDim, ann::Metric::Euclidean);
  for (size_t i = 0; i < data.keys.size(); i++) index.add_item(data.keys[i], data.vectors[i]);
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.add_item(ann::no_key, data.vectors[0]));
  index.build(10, 2);
  CHECK(index.n_stored() == 300);
  CHECK(index.n_items() == ann::no_key);  // the largest key, no_key - 1, plus 1
  std::string annoy = EXPECT_ERROR(ANN_STATUS_INVALID_STATE, index.save_annoy("cpp-sparse.annoy"));
  CHECK(annoy.find("Annoy") != std::string::npos);
  index.save("cpp-sparse.ann");

  ann::Index loaded = ann::Index::load("cpp-sparse.ann");
  CHECK(loaded.n_stored() == 300 && loaded.n_items() == ann::no_key);
  CHECK(ann::file_info("cpp-sparse.ann").kind == ANN_FILE_NATIVE);
  for (size_t i = 0; i < data.keys.size(); i++) {
    uint64_t key = data.keys[i];
    CHECK(loaded.get_item_vector(key) == data.vectors[i]);
    auto by_item = loaded.get_nns_by_item(key, 5, 300 * 10 * 4);
    CHECK(by_item.size() == 5 && by_item[0].id == key && by_item[0].distance == 0.0f);
    CHECK(same(by_item, index.get_nns_by_item(key, 5, 300 * 10 * 4)));
    CHECK(ids_of(by_item) == exact_top(data, data.vectors[i], 5, [](uint64_t) { return true; }));
  }
  CHECK(std::fabs(loaded.get_distance(big, uint64_t(1) << 40) -
                  euclidean(data.vectors[1], data.vectors[0])) < 1e-5f);
  ann::SearchOptions exhaustive;
  exhaustive.search_k(300 * 10 * 4);
  for (const auto& q : random_vectors(5, kDim, 12)) {
    auto found = loaded.search(q, 10, exhaustive);
    CHECK(ids_of(found) == exact_top(data, q, 10, [](uint64_t) { return true; }));
    CHECK(same(found, index.search(q, 10, exhaustive)));
  }
}

void a_key_never_added_is_invalid_argument() {
  ann::Index index = ann::Index::load("cpp-sparse.ann");
  const uint64_t absent = 12345;
  std::string message = EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.get_item_vector(absent));
  CHECK(message.find("does not exist") != std::string::npos);
  CHECK(message.find("never added") != std::string::npos);
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.get_nns_by_item(absent, 3));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.search_by_item(absent, 3));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.get_distance(7, absent));
  // Holes in dense keys too: cpp.ann holds 0..499.
  ann::Index dense = ann::Index::load("cpp.ann");
  CHECK(dense.n_stored() == kItems);
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, dense.get_item_vector(kItems));
}

void filters_return_exactly_min_n_accepted() {
  const size_t count = 2000;
  Keyed data = random_keyed(count, {}, 21);
  ann::Index index = build_keyed(data, 10);
  const int64_t exhaustive = int64_t(count) * 10 * 4;
  auto queries = random_vectors(4, kDim, 22);
  std::mt19937 rng(23);
  for (size_t accepted_count : {size_t(1), count / 1000, count / 10, count}) {
    std::vector<uint64_t> shuffled = data.keys;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    std::vector<uint64_t> allowed(shuffled.begin(), shuffled.begin() + long(accepted_count));
    std::vector<uint64_t> denied(shuffled.begin() + long(accepted_count), shuffled.end());
    std::unordered_set<uint64_t> accepted(allowed.begin(), allowed.end());
    auto accept = [&accepted](uint64_t key) { return accepted.count(key) != 0; };

    ann::SearchOptions by_allow, by_deny, by_predicate;
    by_allow.allow_list(allowed);
    by_deny.deny_list(denied.data(), denied.size());
    by_predicate.filter(accept);
    for (ann::SearchOptions* options : {&by_allow, &by_deny, &by_predicate}) {
      for (size_t n : {size_t(10), accepted_count + 7}) {
        size_t expected = std::min(n, accepted_count);
        options->search_k(-1);
        for (const auto& q : queries) CHECK(well_formed(index.search(q, n, options), expected, accepted));
        CHECK(well_formed(index.search_by_item(data.keys[0], n, *options), expected, accepted));
        options->search_k(exhaustive);
        for (const auto& q : queries)
          CHECK(ids_of(index.search(q.data(), n, *options)) == exact_top(data, q, n, accept));
      }
    }
  }

  // Allow-list, deny-list and predicate together: their intersection.
  std::vector<uint64_t> first_half(data.keys.begin(), data.keys.begin() + count / 2);
  std::unordered_set<uint64_t> both;
  for (size_t i = 0; i < count / 2; i++)
    if (i % 4 != 0 && data.keys[i] % 2 == 0) both.insert(data.keys[i]);
  std::vector<uint64_t> every_fourth;
  for (size_t i = 0; i < count; i += 4) every_fourth.push_back(data.keys[i]);
  ann::SearchOptions combined;
  combined.allow_list(first_half).deny_list(every_fourth).filter([](uint64_t key) {
    return key % 2 == 0;
  });
  CHECK(well_formed(index.search(queries[0], count, combined), both.size(), both));

  // An empty allow-list accepts nothing; n = 0 asks for nothing; nullptr options: defaults.
  ann::SearchOptions nothing;
  nothing.allow_list(std::vector<uint64_t>{});
  CHECK(index.search(queries[0], 10, nothing).empty());
  CHECK(index.search(queries[0], 0).empty());
  std::unordered_set<uint64_t> all(data.keys.begin(), data.keys.end());
  CHECK(well_formed(index.search(queries[0], 10, nullptr), 10, all));
  CHECK(well_formed(index.search(queries[0], count + 100), count, all));  // n beyond the items
}

struct NotAnException {
  uint64_t key;
};

void a_throwing_filter_is_rethrown() {
  ann::Index index = ann::Index::load("cpp.ann");
  auto queries = random_vectors(16, kDim, 31);
  ann::SearchOptions options;
  options.filter([](uint64_t key) -> bool {
    if (key % 3 == 0) throw std::invalid_argument("filter failed on purpose");
    return true;
  });
  for (int round = 0; round < 2; round++) {  // the same options throw again: nothing stale
    bool rethrown = false;
    try {
      index.search(queries[0], 10, options);
    } catch (const ann::Error&) {
    } catch (const std::invalid_argument& e) {
      rethrown = std::string(e.what()) == "filter failed on purpose";
    }
    CHECK(rethrown);
  }
  // Any type, from any search form, batch threads included.
  options.filter([](uint64_t key) -> bool {
    if (key == 42) throw NotAnException{key};
    return true;
  });
  bool by_item = false, batch = false;
  try {
    index.search_by_item(42, 10, options);
  } catch (const NotAnException& e) {
    by_item = e.key == 42;
  }
  CHECK(by_item);
  std::vector<float> flat;
  for (const auto& q : queries) flat.insert(flat.end(), q.begin(), q.end());
  try {
    // search_k covers every item, so every row meets key 42.
    options.search_k(int64_t(kItems) * 20 * 4);
    index.search_batch(flat, 10, options, 2);
  } catch (const NotAnException& e) {
    batch = e.key == 42;
  }
  CHECK(batch);
  // Once rethrown, the exception is gone: a filter that stops throwing gives plain results.
  std::atomic<bool> thrown{false};
  options.filter([&thrown](uint64_t) -> bool {
    if (!thrown.exchange(true)) throw std::runtime_error("only once");
    return true;
  });
  bool once = false;
  try {
    index.search(queries[0], 10, options);
  } catch (const std::runtime_error& e) {
    once = std::string(e.what()) == "only once";
  }
  CHECK(once);
  std::unordered_set<uint64_t> all;
  for (uint64_t key = 0; key < kItems; key++) all.insert(key);
  CHECK(well_formed(index.search(queries[0], 10, options), 10, all));
  CHECK(index.search_batch(flat, 10, options, 2).counts == std::vector<size_t>(queries.size(), 10));
}

void batch_filter_on_threads() {
  ann::Index index = ann::Index::load("cpp.ann");
  auto queries = random_vectors(64, kDim, 41);
  std::vector<float> flat;
  for (const auto& q : queries) flat.insert(flat.end(), q.begin(), q.end());
  std::unordered_set<uint64_t> accepted;
  for (uint64_t key = 0; key < kItems; key += 10) accepted.insert(key);  // 10%
  std::atomic<size_t> calls{0};
  std::mutex mutex;
  std::set<std::thread::id> callers;
  ann::SearchOptions options;
  options.filter([&](uint64_t key) {
    calls++;
    {
      std::lock_guard<std::mutex> lock(mutex);
      callers.insert(std::this_thread::get_id());
    }
    return accepted.count(key) != 0;
  });
  for (int32_t threads : {2, 4}) {
    ann::BatchResult batch = index.search_batch(flat.data(), queries.size(), 10, &options, threads);
    CHECK(batch.n == 10 && batch.counts.size() == queries.size());
    for (size_t q = 0; q < queries.size(); q++) {
      CHECK(batch.counts[q] == 10 && well_formed(batch.row(q), 10, accepted));
      CHECK(same(batch.row(q), index.search(queries[q], 10, options)));
    }
  }
  CHECK(calls.load() > 0 && !callers.empty());
  // More slots than accepted items: unused slots are no_key and NaN.
  ann::BatchResult wide = index.search_batch(flat, accepted.size() + 3, options, 2);
  CHECK(wide.counts[0] == accepted.size());
  CHECK(wide.ids[accepted.size()] == ann::no_key && std::isnan(wide.distances[accepted.size()]));
  // Zero-copy into caller buffers, distances optional.
  std::vector<uint64_t> ids(queries.size() * 10);
  std::vector<size_t> counts(queries.size());
  index.search_batch_into(flat.data(), queries.size(), 10, &options, 2, ids.data(), nullptr,
                          counts.data());
  CHECK(counts[5] == 10 && ids[50] == index.search(queries[5], 10, options)[0].id);

  // Threads of our own sharing one SearchOptions and one index.
  std::vector<std::vector<ann::Neighbor>> expected;
  for (const auto& q : queries) expected.push_back(index.search(q, 10, options));
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++)
    threads.emplace_back([&, t] {
      for (size_t q = 0; q < queries.size(); q++)
        if (!same(index.search(queries[q], 10, options), expected[q])) mismatches[t]++;
    });
  for (auto& thread : threads) thread.join();
  for (int m : mismatches) CHECK(m == 0);
}

// Options made elsewhere: the predicate (and what it captured) travels with the object.
ann::SearchOptions even_keys_only() {
  std::vector<uint64_t> unused(100, 1);
  ann::SearchOptions options;
  options.filter([unused](uint64_t key) { return key % 2 == 0 && !unused.empty(); });
  return options;
}

void search_options_lifetime_and_errors() {
  ann::Index index = ann::Index::load("cpp.ann");
  auto q = random_vectors(1, kDim, 51)[0];
  std::unordered_set<uint64_t> even;
  for (uint64_t key = 0; key < kItems; key += 2) even.insert(key);
  ann::SearchOptions options = even_keys_only();
  CHECK(options.get() != nullptr);
  CHECK(well_formed(index.search(q, 10, options), 10, even));
  ann::SearchOptions moved(std::move(options));
  CHECK(options.get() == nullptr && moved.get() != nullptr);
  CHECK(well_formed(index.search(q, 10, moved), 10, even));
  // Moved-from options: an error, not a crash, and never silently the defaults.
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, options.search_k(5));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, options.ef(50));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, options.filter([](uint64_t) { return true; }));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, index.search(q, 10, options));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, index.search_by_item(1, 10, options));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, index.search_batch(q, 10, options));
  options = ann::SearchOptions();  // assigned again, usable again
  CHECK(index.search(q, 10, options).size() == 10);
  options = std::move(moved);  // replaces live options that had no filter
  CHECK(well_formed(index.search(q, 10, options), 10, even));
  // An empty function removes the predicate.
  options.filter(nullptr);
  CHECK(index.search(q, 10, options).size() == 10 && !well_formed(index.search(q, 10, options), 10, even));

  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, options.search_k(-2));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.search(std::vector<float>(kDim - 1), 10));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.search_batch(std::vector<float>(kDim + 1), 10));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.search_batch(q, 10, nullptr, 0));  // n_threads
  ann::Index unbuilt(kDim, ann::Metric::Euclidean);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, unbuilt.search(q, 10, options));
}

float angular(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); i++) {
    dot += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return float(std::sqrt(std::max(0.0, 2 - 2 * dot / std::sqrt(aa * bb))));
}

void graph_search_finds_the_nearest() {
  const uint64_t count = 2000;
  auto vectors = random_vectors(count, kDim, 71);
  ann::Index index(kDim, ann::Metric::Angular);
  for (uint64_t id = 0; id < count; id++) index.add_item(id, vectors[id]);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, index.build_graph());  // not built yet
  CHECK(!index.has_graph());
  index.set_seed(5);
  index.build(5);
  CHECK(!index.has_graph());
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.build_graph(1000));  // degree above 256
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.build_graph(0, 0));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, index.build_graph(0, -2));
  CHECK(!index.has_graph());
  index.build_graph();
  CHECK(index.has_graph());

  // Recall against brute force, averaged over 20 queries.
  ann::SearchOptions options;
  options.ef(200);
  auto queries = random_vectors(20, kDim, 72);
  size_t hits = 0;
  for (const auto& q : queries) {
    std::vector<std::pair<float, uint64_t>> truth;
    for (uint64_t id = 0; id < count; id++) truth.emplace_back(angular(q, vectors[id]), id);
    std::sort(truth.begin(), truth.end());
    std::set<uint64_t> top;
    for (size_t i = 0; i < 10; i++) top.insert(truth[i].second);
    auto found = index.search(q, 10, options);
    CHECK(found.size() == 10);
    for (const auto& hit : found) {
      hits += top.count(hit.id);
      CHECK(std::fabs(hit.distance - angular(q, vectors[hit.id])) < 1e-4f);
    }
  }
  double recall = double(hits) / (10.0 * queries.size());
  CHECK(recall >= 0.95);
  CHECK(index.search(queries[0], 10, options.ef(0)).size() == 10);  // 0: derived from search_k
  options.ef(200);

  // The graph is saved in the file and mapped back with it.
  index.save("cpp-graph.ann");
  ann::Index loaded = ann::Index::load("cpp-graph.ann");
  CHECK(loaded.has_graph());
  for (const auto& q : queries) CHECK(same(loaded.search(q, 10, options), index.search(q, 10, options)));
  ann::BatchResult batch = loaded.search_batch(queries[0], 10, options, 2);
  CHECK(same(batch.row(0), index.search(queries[0], 10, options)));

  ann::Index unbuilt(kDim, ann::Metric::Angular);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, unbuilt.build_graph());
  CHECK(!unbuilt.has_graph());
}

void shards_equal_one_index() {
  const size_t count = 1200;
  Keyed data = random_keyed(count, {uint64_t(1) << 40, (uint64_t(1) << 63) + 5}, 61);
  ann::Index whole = build_keyed(data, 10);
  std::vector<std::string> paths;
  for (size_t s = 0; s < 3; s++) {
    Keyed part;
    for (size_t i = s; i < count; i += 3) {
      part.keys.push_back(data.keys[i]);
      part.vectors.push_back(data.vectors[i]);
    }
    paths.push_back("cpp-shard" + std::to_string(s) + ".ann");
    build_keyed(part, 10).save(paths.back());
  }
  ann::Index sharded = ann::Index::open_shards(paths, true);
  CHECK(sharded.n_stored() == count && sharded.n_trees() == 30);
  CHECK(sharded.n_items() == whole.n_items() && sharded.dim() == kDim);
  CHECK(sharded.metric() == ann::Metric::Euclidean);

  ann::SearchOptions exhaustive;
  exhaustive.search_k(int64_t(sharded.n_stored() * sharded.n_trees() * 4));
  std::unordered_set<uint64_t> tenth;
  for (size_t i = 0; i < count; i += 10) tenth.insert(data.keys[i]);
  ann::SearchOptions filtered;
  filtered.search_k(int64_t(count * 30 * 4)).filter([&tenth](uint64_t key) {
    return tenth.count(key) != 0;
  });
  auto queries = random_vectors(8, kDim, 62);
  std::vector<float> flat;
  for (const auto& q : queries) flat.insert(flat.end(), q.begin(), q.end());
  for (const auto& q : queries) {
    auto found = sharded.search(q, 10, exhaustive);
    CHECK(same(found, whole.search(q, 10, exhaustive)));
    CHECK(ids_of(found) == exact_top(data, q, 10, [](uint64_t) { return true; }));
    CHECK(same(sharded.get_nns_by_vector(q, 10, count * 120), whole.get_nns_by_vector(q, 10, count * 120)));
    CHECK(same(sharded.search(q, 10, filtered), whole.search(q, 10, filtered)));
  }
  ann::BatchResult a = sharded.search_batch(flat, 10, exhaustive, 2);
  ann::BatchResult b = whole.search_batch(flat, 10, exhaustive, 2);
  CHECK(a.ids == b.ids && a.counts == b.counts);
  for (size_t i : {size_t(0), size_t(1), size_t(500)}) {
    uint64_t key = data.keys[i];
    CHECK(same(sharded.search_by_item(key, 10, exhaustive), whole.search_by_item(key, 10, exhaustive)));
    CHECK(same(sharded.get_nns_by_item(key, 10, count * 120), whole.get_nns_by_item(key, 10, count * 120)));
    CHECK(sharded.get_item_vector(key) == data.vectors[i]);
    CHECK(sharded.get_distance(key, data.keys[i + 1]) == whole.get_distance(key, data.keys[i + 1]));
  }
  // Read-only: adding, building and saving are refused.
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, sharded.add_item(3, data.vectors[0]));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, sharded.build(2));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, sharded.build_graph());
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, sharded.save("cpp-sharded.ann"));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, sharded.save_annoy("cpp-sharded.annoy"));
}

void bad_shard_input() {
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Index::open_shards({}));
  EXPECT_ERROR(ANN_STATUS_IO, ann::Index::open_shards({"cpp-shard0.ann", "no/such/shard.ann"}));
  EXPECT_ERROR(ANN_STATUS_CORRUPT_FILE, ann::Index::open_shards({"cpp.annoy"}));
  // Another dim, another metric.
  ann::Index narrow(kDim / 2, ann::Metric::Euclidean);
  narrow.add_item(uint64_t(1) << 50, std::vector<float>(kDim / 2, 1.0f));
  narrow.build(2);
  narrow.save("cpp-narrow.ann");
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Index::open_shards({"cpp-shard0.ann", "cpp-narrow.ann"}));
  ann::Index angular(kDim, ann::Metric::Angular);
  angular.add_item(uint64_t(1) << 50, std::vector<float>(kDim, 1.0f));
  angular.build(2);
  angular.save("cpp-angular.ann");
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Index::open_shards({"cpp-shard0.ann", "cpp-angular.ann"}));
  // A key in two shards: the same file twice, and two files sharing one key.
  std::string twice =
      EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Index::open_shards({"cpp-shard1.ann", "cpp-shard1.ann"}));
  CHECK(!twice.empty());
  ann::Index shard0 = ann::Index::load("cpp-shard0.ann");
  uint64_t shared_key = shard0.search(std::vector<float>(kDim, 0.0f), 1).at(0).id;
  ann::Index overlap(kDim, ann::Metric::Euclidean);
  overlap.add_item(shared_key, std::vector<float>(kDim, 0.5f));
  overlap.add_item(shared_key + 1, std::vector<float>(kDim, 0.25f));
  overlap.build(2);
  overlap.save("cpp-overlap.ann");
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Index::open_shards({"cpp-shard0.ann", "cpp-overlap.ann"}));
  // One shard is a plain index.
  ann::Index single = ann::Index::open_shards({"cpp-shard2.ann"});
  CHECK(single.n_stored() == ann::Index::load("cpp-shard2.ann").n_stored());
}


// ---- Live indexes ----

// A live index directory in the working directory, removed first if a previous run left it.
std::string fresh_dir(const std::string& name) {
  std::filesystem::remove_all(name);
  return name;
}

// What a live index must hold: key -> vector.
using LiveModel = std::map<uint64_t, std::vector<float>>;

// Options whose search_k covers every item of a small live index.
ann::SearchOptions live_exhaustive(size_t items) {
  ann::SearchOptions options;
  options.search_k(int64_t(items + 10) * 400);
  return options;
}

// Checks that `index` holds exactly `model`: the item count, every vector, no key of `gone`
// (never added or deleted) found or returned, and exhaustive searches equal brute force.
void check_live(const ann::Index& index, const LiveModel& model, const std::vector<uint64_t>& gone,
                int line) {
  Keyed data;
  for (const auto& item : model) {
    data.keys.push_back(item.first);
    data.vectors.push_back(item.second);
  }
  check(index.n_stored() == model.size(), "n_stored() is the number of live items", line);
  bool vectors_match = true;
  for (const auto& item : model) vectors_match = vectors_match && index.get_item_vector(item.first) == item.second;
  check(vectors_match, "every live item has its latest vector", line);
  for (uint64_t key : gone) expect_error(ANN_STATUS_INVALID_ARGUMENT, [&] { index.get_item_vector(key); }, line);
  ann::SearchOptions exhaustive = live_exhaustive(model.size());
  auto queries = random_vectors(3, kDim, 79);
  if (!data.vectors.empty()) queries.push_back(data.vectors[data.vectors.size() / 2]);
  for (const auto& q : queries)
    check(ids_of(index.search(q, 10, exhaustive)) == exact_top(data, q, 10, [](uint64_t) { return true; }),
          "an exhaustive search of the live index equals brute force", line);
  // Every live item, none twice, no deleted one, nearest first: exactly min(n, live items).
  std::unordered_set<uint64_t> live(data.keys.begin(), data.keys.end());
  check(well_formed(index.search(queries[0], model.size() + 5, exhaustive), model.size(), live),
        "search returns exactly the live items", line);
}
#define CHECK_LIVE(index, model, gone) check_live(index, model, gone, __LINE__)

void live_writes_are_visible_at_once() {
  const std::string dir = fresh_dir("cpp-live-visible");
  ann::Writer writer = ann::Writer::open(dir, kDim, ann::Metric::Euclidean);
  CHECK(writer.is_open() && writer.get() != nullptr);
  CHECK(writer.dim() == kDim && writer.metric() == ann::Metric::Euclidean);
  ann::Index view = writer.index();
  CHECK(view.n_stored() == 0 && view.dim() == kDim && view.metric() == ann::Metric::Euclidean);
  auto query = random_vectors(1, kDim, 70)[0];
  CHECK(view.search(query, 10).empty());

  // Each upsert is returned by the very next query: no build step.
  auto vectors = random_vectors(200, kDim, 71);
  LiveModel model;
  std::vector<uint64_t> gone;
  for (uint64_t i = 0; i < 40; i++) {
    uint64_t key = (uint64_t(1) << 40) + i * 1000003;
    writer.upsert(key, vectors[i]);
    model[key] = vectors[i];
    auto found = view.search(vectors[i], 1);
    CHECK(found.size() == 1 && found.at(0).id == key && found[0].distance == 0.0f);
    CHECK(view.n_stored() == i + 1);
  }
  std::vector<uint64_t> keys;
  std::vector<float> rows;
  for (uint64_t i = 40; i < 200; i++) {
    keys.push_back(i);
    rows.insert(rows.end(), vectors[i].begin(), vectors[i].end());
    model[i] = vectors[i];
  }
  writer.upsert_batch(keys.data(), rows.data(), keys.size());
  CHECK(view.n_stored() == 200);
  CHECK(view.get_nns_by_item(199, 1, 1000000).at(0).id == 199);
  CHECK_LIVE(view, model, gone);

  // Upserting a key that exists replaces its vector.
  auto replacement = random_vectors(1, kDim, 72)[0];
  writer.upsert(100, replacement.data());
  model[100] = replacement;
  CHECK(view.n_stored() == 200 && view.get_item_vector(100) == replacement);
  auto found = view.search(replacement, 1);
  CHECK(found.at(0).id == 100 && found[0].distance == 0.0f);
  CHECK(view.search(vectors[100], 1).at(0).distance > 0.0f);

  // A deleted key is never returned; deleting it again, or a key never added, says false.
  CHECK(writer.remove(100));
  model.erase(100);
  gone.push_back(100);
  for (const auto& hit : view.search(replacement, 300)) CHECK(hit.id != 100);
  CHECK(view.search(replacement, 300).size() == 199);
  CHECK(!writer.remove(100));
  CHECK(!writer.remove(123456789));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.remove(ann::no_key));  // reserved, never a key
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.remove_batch({101, ann::no_key}));  // refused whole
  CHECK(writer.remove_batch({101, 102, 987654321}) == 2);
  const uint64_t more[] = {103, 103, 104};
  CHECK(writer.remove_batch(more, 3) == 2);
  CHECK(writer.remove_batch(std::vector<uint64_t>{}) == 0);
  for (uint64_t key : {101, 102, 103, 104}) {
    model.erase(key);
    gone.push_back(key);
  }
  gone.push_back(987654321);
  CHECK_LIVE(view, model, gone);
  CHECK_LIVE(writer.index(), model, gone);  // a second view sees the same
  writer.upsert_batch(std::vector<uint64_t>{}, std::vector<float>{});  // nothing to do

  // Filters work on live indexes: exactly min(n, live accepted), deleted keys never.
  ann::SearchOptions allow;
  allow.allow_list({100, 101, 105, 106, 987654321});
  CHECK(well_formed(view.search(query, 10, allow), 2, {105, 106}));
  ann::SearchOptions even;
  std::unordered_set<uint64_t> even_live;
  for (const auto& item : model)
    if (item.first % 2 == 0) even_live.insert(item.first);
  even.filter([](uint64_t key) { return key % 2 == 0; });
  CHECK(well_formed(view.search(query, 500, even), even_live.size(), even_live));
  std::vector<float> flat;
  for (const auto& q : random_vectors(8, kDim, 73)) flat.insert(flat.end(), q.begin(), q.end());
  ann::BatchResult batch = view.search_batch(flat, 10, even, 2);
  for (size_t q = 0; q < 8; q++) CHECK(well_formed(batch.row(q), 10, even_live));

  // Read-only: adding, building and saving are refused; export_to writes a plain file.
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, view.add_item(7, vectors[0]));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, view.build(2));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, view.save("cpp-live-visible.ann"));
  CHECK(!view.refresh());  // a writer's view is always current
  view.export_to("cpp-live-visible.ann");
  ann::Index exported = ann::Index::load("cpp-live-visible.ann");
  CHECK(ann::file_info("cpp-live-visible.ann").kind == ANN_FILE_NATIVE);
  CHECK_LIVE(exported, model, gone);
  CHECK(exported.n_trees() > 0);
}

void live_writes_are_durable() {
  const std::string dir = fresh_dir("cpp-live-durable");
  auto vectors = random_vectors(300, kDim, 74);
  LiveModel model;
  std::vector<uint64_t> gone;
  ann::Writer writer = ann::Writer::open(dir, kDim, ann::Metric::Euclidean);
  std::vector<uint64_t> keys;
  std::vector<float> rows;
  for (uint64_t i = 0; i < 290; i++) {
    keys.push_back(i * 7);
    rows.insert(rows.end(), vectors[i].begin(), vectors[i].end());
    model[i * 7] = vectors[i];
  }
  writer.upsert_batch(keys, rows);
  for (uint64_t i = 290; i < 300; i++) {
    writer.upsert((uint64_t(1) << 63) + i, vectors[i]);
    model[(uint64_t(1) << 63) + i] = vectors[i];
  }
  for (uint64_t i = 0; i < 5; i++) {  // replaced
    writer.upsert(i * 7, vectors[299 - i]);
    model[i * 7] = vectors[299 - i];
  }
  for (uint64_t key : {70, 77, 84}) {
    CHECK(writer.remove(key));
    model.erase(key);
    gone.push_back(key);
  }
  ann::Index view = writer.index();

  // close() releases the directory; a second close does nothing; any other use is an error.
  writer.close();
  CHECK(!writer.is_open() && writer.get() == nullptr);
  writer.close();
  std::string closed = EXPECT_ERROR(ANN_STATUS_INVALID_STATE, writer.upsert(1, vectors[0]));
  CHECK(closed.find("closed") != std::string::npos);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, writer.upsert(1, vectors[0].data()));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, writer.upsert_batch(keys, rows));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, writer.remove(7));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, writer.remove_batch({7}));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, writer.sync());
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, writer.compact());
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, writer.index());
  CHECK_LIVE(view, model, gone);  // a view outlives its writer

  // Reopened, everything acknowledged is there, for the writer and for a reader.
  ann::Writer reopened = ann::Writer::open(dir, kDim, ann::Metric::Euclidean);
  CHECK_LIVE(reopened.index(), model, gone);
  CHECK_LIVE(ann::Index::open(dir), model, gone);
  CHECK_LIVE(ann::Index::open(dir, true), model, gone);  // prefault
  reopened.upsert(1, vectors[0]);
  model[1] = vectors[0];
  // The destructor closes too: the directory opens again at once.
  { ann::Writer scoped = std::move(reopened); }
  CHECK(!reopened.is_open());
  ann::Writer third = ann::Writer::open(dir, kDim, ann::Metric::Euclidean);
  CHECK_LIVE(third.index(), model, gone);
}

void live_timer_mode_and_threads() {
  const std::string dir = fresh_dir("cpp-live-timer");
  ann::WriterOptions options;
  options.durability = ann::Durability::Timer;
  options.flush_ms = 20;
  ann::Writer writer = ann::Writer::open(dir, kDim, ann::Metric::Euclidean, options);
  ann::Index view = writer.index();
  // Writers on 4 threads, a reader on a fifth: the writer is internally synchronised.
  auto vectors = random_vectors(400, kDim, 75);
  std::atomic<bool> writing{true};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    while (writing.load()) {
      auto found = view.search(vectors[0], 5);
      for (size_t i = 1; i < found.size(); i++)
        if (found[i].distance < found[i - 1].distance) bad_reads++;
    }
  });
  std::vector<std::thread> writers;
  for (uint64_t t = 0; t < 4; t++)
    writers.emplace_back([&, t] {
      for (uint64_t i = t; i < 400; i += 4) writer.upsert(i, vectors[i]);
    });
  for (auto& thread : writers) thread.join();
  writing = false;
  reader.join();
  CHECK(bad_reads.load() == 0);
  writer.sync();
  LiveModel model;
  for (uint64_t i = 0; i < 400; i++) model[i] = vectors[i];
  CHECK_LIVE(view, model, std::vector<uint64_t>{});
  CHECK_LIVE(ann::Index::open(dir), model, std::vector<uint64_t>{});
  writer.close();
  // Reopened with the default (sync) durability: the timer mode's writes are all there.
  ann::Writer reopened = ann::Writer::open(dir, kDim, ann::Metric::Euclidean);
  CHECK_LIVE(reopened.index(), model, std::vector<uint64_t>{});

  // Bad options are refused before the directory is made.
  const std::string bad = fresh_dir("cpp-live-bad-options");
  ann::WriterOptions zero_flush;
  zero_flush.flush_ms = 0;
  ann::WriterOptions long_flush;
  long_flush.flush_ms = 60001;
  ann::WriterOptions zero_trees;
  zero_trees.n_trees = 0;
  ann::WriterOptions minus_two_trees;
  minus_two_trees.n_trees = -2;
  ann::WriterOptions unknown_durability;
  unknown_durability.durability = static_cast<ann::Durability>(7);
  ann::WriterOptions wide_graph;
  wide_graph.graph = true;
  wide_graph.graph_degree = 257;
  for (const ann::WriterOptions& o :
       {zero_flush, long_flush, zero_trees, minus_two_trees, unknown_durability, wide_graph})
    EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Writer::open(bad, kDim, ann::Metric::Euclidean, o));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Writer::open(bad, 0, ann::Metric::Euclidean));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Writer::open(bad, kDim, static_cast<ann::Metric>(9)));
  CHECK(!std::filesystem::exists(bad));
  ann::WriterOptions automatic_trees;  // -1 and the other bounds are accepted
  automatic_trees.n_trees = -1;
  automatic_trees.flush_ms = 60000;
  automatic_trees.durability = ann::Durability::Timer;
  ann::Writer::open(bad, kDim, ann::Metric::Euclidean, automatic_trees).close();
  CHECK(std::filesystem::is_directory(bad));
}

// The bad-input matrix through ann.hpp (the C-level table is include/ann_errors.md): each bad
// call throws ann::Error with its documented status and a message, and the index answers as
// before afterwards.
void bad_input_matrix() {
  auto vectors = random_vectors(kItems, kDim, 91);
  ann::Index index(kDim, ann::Metric::Euclidean);
  for (uint64_t i = 0; i < kItems; i++) index.add_item(i, vectors[i]);
  index.build(4);
  ann::Index fresh(kDim, ann::Metric::Euclidean);
  fresh.add_item(0, vectors[0]);
  const std::string path = fresh_dir("cpp-bad-input") + ".ann";
  index.save(path);
  ann::Index loaded = ann::Index::load(path);
  const std::vector<float> q = vectors[7];
  const auto baseline = index.get_nns_by_vector(q, 10, 2000);
  std::vector<float> nan_q = q, inf_q = q, short_q(kDim - 1, 0.5f);
  nan_q[3] = std::nanf("");
  inf_q[5] = INFINITY;
  struct Case {
    const char* what;
    ann_status status;
    std::function<void()> call;
  };
  const std::vector<Case> cases = {
      {"dim 0", ANN_STATUS_INVALID_ARGUMENT, [] { ann::Index(0, ann::Metric::Euclidean); }},
      {"dim above 2^24", ANN_STATUS_INVALID_ARGUMENT,
       [] { ann::Index((1u << 24) + 1, ann::Metric::Euclidean); }},
      {"metric out of range", ANN_STATUS_INVALID_ARGUMENT, [] { ann::Index(4, static_cast<ann::Metric>(99)); }},
      {"unknown metric name", ANN_STATUS_INVALID_ARGUMENT, [] { ann::metric_from_name("cosinus"); }},
      {"vector of the wrong length", ANN_STATUS_INVALID_ARGUMENT, [&] { fresh.add_item(1, short_q); }},
      {"NaN in a vector", ANN_STATUS_INVALID_ARGUMENT, [&] { fresh.add_item(1, nan_q); }},
      {"infinity in a vector", ANN_STATUS_INVALID_ARGUMENT, [&] { fresh.add_item(1, inf_q); }},
      {"the reserved key", ANN_STATUS_INVALID_ARGUMENT, [&] { fresh.add_item(UINT64_MAX, q); }},
      {"n_trees 0", ANN_STATUS_INVALID_ARGUMENT, [&] { fresh.build(0); }},
      {"n_trees -2", ANN_STATUS_INVALID_ARGUMENT, [&] { fresh.build(-2); }},
      {"n_threads 0", ANN_STATUS_INVALID_ARGUMENT, [&] { fresh.build(2, 0); }},
      {"graph before the forest", ANN_STATUS_INVALID_STATE, [&] { fresh.build_graph(); }},
      {"graph degree 257", ANN_STATUS_INVALID_ARGUMENT, [&] { index.build_graph(257); }},
      {"query before build", ANN_STATUS_INVALID_STATE, [&] { fresh.get_nns_by_vector(q, 3); }},
      {"save before build", ANN_STATUS_INVALID_STATE, [&] { fresh.save(path + ".unbuilt"); }},
      {"add to a built index", ANN_STATUS_INVALID_STATE, [&] { index.add_item(kItems, q); }},
      {"build twice", ANN_STATUS_INVALID_STATE, [&] { index.build(2); }},
      {"add to a loaded index", ANN_STATUS_INVALID_STATE, [&] { loaded.add_item(kItems, q); }},
      {"unbuild a loaded index", ANN_STATUS_INVALID_STATE, [&] { loaded.unbuild(); }},
      {"query of the wrong length", ANN_STATUS_INVALID_ARGUMENT, [&] { index.get_nns_by_vector(short_q, 3); }},
      {"NaN in a query", ANN_STATUS_INVALID_ARGUMENT, [&] { index.get_nns_by_vector(nan_q, 3); }},
      {"infinity in a query", ANN_STATUS_INVALID_ARGUMENT, [&] { index.search(inf_q, 3); }},
      {"search_k -2", ANN_STATUS_INVALID_ARGUMENT, [&] { index.get_nns_by_vector(q, 3, -2); }},
      {"an item never added", ANN_STATUS_INVALID_ARGUMENT, [&] { index.get_nns_by_item(kItems + 5, 3); }},
      {"its vector", ANN_STATUS_INVALID_ARGUMENT, [&] { index.get_item_vector(kItems + 5); }},
      {"a distance to it", ANN_STATUS_INVALID_ARGUMENT, [&] { index.get_distance(0, kItems + 5); }},
      {"packed words on a float index", ANN_STATUS_INVALID_ARGUMENT,
       [&] { index.get_nns_packed({1, 2}, 3); }},
      {"a batch that is not whole rows", ANN_STATUS_INVALID_ARGUMENT,
       [&] { index.get_nns_batch(short_q, 3); }},
      {"a missing file", ANN_STATUS_IO, [&] { ann::Index::load(path + ".missing"); }},
      {"a file that is no index", ANN_STATUS_CORRUPT_FILE, [&] {
         std::FILE* f = std::fopen((path + ".junk").c_str(), "wb");
         std::fputs("not an index, just some text that is long enough to have a header", f);
         std::fclose(f);
         ann::Index::load(path + ".junk");
       }},
  };
  for (const Case& c : cases) {
    std::string message = expect_error(c.status, c.call, __LINE__);
    if (message.empty()) std::fprintf(stderr, "bad input \"%s\": an empty message\n", c.what);
    CHECK(!message.empty());
    CHECK(same(index.get_nns_by_vector(q, 10, 2000), baseline));  // still answers as before
  }
  // Edge values that work.
  CHECK(index.get_nns_by_vector(q, 0).empty());
  CHECK(index.get_nns_by_vector(q, SIZE_MAX, 2000).size() == kItems);  // huge n: every item
  CHECK(same(index.get_nns_by_vector(q, 10, INT64_MAX), index.get_nns_by_vector(q, 10, 1 << 30)));
  ann::Index(1, ann::Metric::Euclidean);
  ann::Index(65536, ann::Metric::Angular);
  // Moved-from and closed handles are errors, not crashes.
  ann::Index moved = std::move(fresh);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, fresh.get_nns_by_vector(q, 3));
  CHECK(same(index.get_nns_by_vector(q, 10, 2000), baseline));
}

void live_compaction_builds_a_graph() {
  const std::string dir = fresh_dir("cpp-live-graph");
  ann::WriterOptions options;
  options.n_trees = 4;
  options.graph = true;
  options.graph_degree = 12;
  ann::Writer writer = ann::Writer::open(dir, kDim, ann::Metric::Euclidean, options);
  auto vectors = random_vectors(600, kDim, 81);
  for (uint64_t i = 0; i < 600; i++) writer.upsert(i * 7, vectors[i]);
  ann::Index view = writer.index();
  CHECK(!view.has_graph());  // the delta has none
  writer.compact(2);
  CHECK(view.has_graph());
  CHECK(ann::Index::open(dir).has_graph());
  for (uint64_t i = 0; i < 600; i += 50) CHECK(view.search(vectors[i], 1).at(0).id == i * 7);
  const std::string exported = dir + "-export.ann";
  view.export_to(exported);
  ann::Index file = ann::Index::load(exported);
  CHECK(file.has_graph());
  file.verify();
  writer.close();
  // Reopened without the option, the next compaction builds a forest only.
  ann::Writer plain = ann::Writer::open(dir, kDim, ann::Metric::Euclidean);
  plain.compact(1);
  CHECK(!plain.index().has_graph());
}

void live_compaction_keeps_answers() {
  const std::string dir = fresh_dir("cpp-live-compact");
  ann::WriterOptions options;
  options.n_trees = 10;
  ann::Writer writer = ann::Writer::open(dir, kDim, ann::Metric::Euclidean, options);
  Keyed data = random_keyed(1000, {uint64_t(1) << 40, (uint64_t(1) << 63) + 5}, 76);
  std::vector<float> rows;
  for (const auto& v : data.vectors) rows.insert(rows.end(), v.begin(), v.end());
  writer.upsert_batch(data.keys, rows);
  LiveModel model;
  for (size_t i = 0; i < data.keys.size(); i++) model[data.keys[i]] = data.vectors[i];
  std::vector<uint64_t> gone(data.keys.begin(), data.keys.begin() + 100);
  CHECK(writer.remove_batch(gone) == 100);
  for (uint64_t key : gone) model.erase(key);
  auto replacements = random_vectors(50, kDim, 77);
  for (size_t i = 0; i < 50; i++) {
    writer.upsert(data.keys[500 + i], replacements[i]);
    model[data.keys[500 + i]] = replacements[i];
  }

  ann::Index view = writer.index();
  ann::Index reader = ann::Index::open(dir);
  ann::SearchOptions exhaustive = live_exhaustive(model.size());
  auto queries = random_vectors(8, kDim, 78);
  std::vector<std::vector<ann::Neighbor>> before;
  for (const auto& q : queries) before.push_back(view.search(q, 10, exhaustive));
  CHECK_LIVE(view, model, gone);

  writer.compact(2);
  for (size_t q = 0; q < queries.size(); q++) {
    CHECK(same(view.search(queries[q], 10, exhaustive), before[q]));
    CHECK(same(reader.search(queries[q], 10, exhaustive), before[q]));  // old files still mapped
  }
  CHECK_LIVE(view, model, gone);
  CHECK_LIVE(reader, model, gone);
  CHECK(reader.refresh());  // the new generation
  CHECK(!reader.refresh());
  CHECK_LIVE(reader, model, gone);
  for (size_t q = 0; q < queries.size(); q++) CHECK(same(reader.search(queries[q], 10, exhaustive), before[q]));

  // A compaction on another thread while this one writes and queries.
  auto extra = random_vectors(60, kDim, 79);
  std::thread compactor([&] { writer.compact(2); });
  for (uint64_t i = 0; i < 60; i += 10) {
    std::vector<uint64_t> keys;
    std::vector<float> batch;
    for (uint64_t j = i; j < i + 10; j++) {
      keys.push_back(5000000 + j);
      batch.insert(batch.end(), extra[j].begin(), extra[j].end());
      model[5000000 + j] = extra[j];
    }
    writer.upsert_batch(keys, batch);
    CHECK(view.search(extra[i], 1).at(0).id == 5000000 + i);
  }
  CHECK(writer.remove(data.keys[200]));
  model.erase(data.keys[200]);
  gone.push_back(data.keys[200]);
  compactor.join();
  CHECK_LIVE(view, model, gone);
  CHECK(reader.refresh());
  CHECK_LIVE(reader, model, gone);
  writer.compact();  // and once more, everything in one segment
  CHECK_LIVE(view, model, gone);
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.compact(0));
  writer.close();
  CHECK_LIVE(ann::Writer::open(dir, kDim, ann::Metric::Euclidean).index(), model, gone);
  reader.export_to("cpp-live-compact.ann");
  CHECK_LIVE(ann::Index::load("cpp-live-compact.ann"), model, gone);
}

void live_one_writer_per_directory() {
  const std::string dir = fresh_dir("cpp-live-lock");
  ann::Writer first = ann::Writer::open(dir, kDim, ann::Metric::Euclidean);
  std::string busy = EXPECT_ERROR(ANN_STATUS_INVALID_STATE, ann::Writer::open(dir, kDim, ann::Metric::Euclidean));
  CHECK(!busy.empty());
  first.upsert(1, std::vector<float>(kDim, 1.0f));
  first.close();
  ann::Writer second = ann::Writer::open(dir, kDim, ann::Metric::Euclidean);
  // A move hands the directory over; the moved-from writer is closed, not a second writer.
  ann::Writer moved(std::move(second));
  CHECK(second.get() == nullptr && !second.is_open() && moved.is_open());
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, second.upsert(2, std::vector<float>(kDim, 2.0f)));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, ann::Writer::open(dir, kDim, ann::Metric::Euclidean));
  second = std::move(moved);
  CHECK(second.is_open() && !moved.is_open());
  // release() and adoption: the C handle goes back under RAII with its dim and metric.
  ann_writer* raw = second.release();
  CHECK(raw != nullptr && second.get() == nullptr);
  ann::Writer adopted(raw);
  CHECK(adopted.dim() == kDim && adopted.metric() == ann::Metric::Euclidean);
  adopted.upsert(2, std::vector<float>(kDim, 2.0f));
  CHECK(adopted.index().n_stored() == 2);
  ann::Writer none(nullptr);
  CHECK(!none.is_open());
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, none.sync());
}

void live_bad_input() {
  const std::string dir = fresh_dir("cpp-live-bad");
  ann::Writer writer = ann::Writer::open(dir, kDim, ann::Metric::Euclidean);
  std::vector<float> good(kDim, 0.5f);
  writer.upsert(1, good);
  std::vector<float> nan = good, inf = good;
  nan[3] = NAN;
  inf[kDim - 1] = INFINITY;
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.upsert(2, nan));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.upsert(2, inf.data()));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.upsert(ann::no_key, good));
  std::string length = EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.upsert(2, std::vector<float>(kDim - 1)));
  CHECK(length.find("dim") != std::string::npos);
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.upsert(2, std::vector<float>(kDim + 1)));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.upsert_batch({2, 3}, std::vector<float>(kDim * 3)));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.upsert_batch({2, 3}, std::vector<float>(kDim * 2 - 1)));
  // A batch with one bad row changes nothing: all or none.
  std::vector<float> rows(good);
  rows.insert(rows.end(), nan.begin(), nan.end());
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.upsert_batch({2, 3}, rows));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, writer.upsert_batch({2, ann::no_key}, std::vector<float>(kDim * 2)));
  ann::Index view = writer.index();
  CHECK(view.n_stored() == 1 && view.get_item_vector(1) == good);
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, view.get_item_vector(2));
  writer.close();

  // Reopening with another dim or metric is refused, and the directory is untouched.
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Writer::open(dir, kDim + 1, ann::Metric::Euclidean));
  EXPECT_ERROR(ANN_STATUS_INVALID_ARGUMENT, ann::Writer::open(dir, kDim, ann::Metric::Angular));
  CHECK(ann::Writer::open(dir, kDim, ann::Metric::Euclidean).index().get_item_vector(1) == good);

  // Readers: missing paths and directories that are not live indexes.
  std::string missing = EXPECT_ERROR(ANN_STATUS_IO, ann::Index::open("no/such/live/dir"));
  CHECK(missing.find("no/such/live/dir") != std::string::npos);
  const std::string empty = fresh_dir("cpp-live-empty");
  std::filesystem::create_directory(empty);
  std::string manifest = EXPECT_ERROR(ANN_STATUS_IO, ann::Index::open(empty));
  CHECK(manifest.find("MANIFEST") != std::string::npos);
  EXPECT_ERROR(ANN_STATUS_CORRUPT_FILE, ann::Index::open("cpp.annoy"));  // no header
  // A reader of the directory is read-only.
  ann::Index reader = ann::Index::open(dir);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, reader.add_item(5, good));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, reader.build(2));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, reader.save("cpp-live-bad.ann"));
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, reader.save_annoy("cpp-live-bad.annoy"));
  EXPECT_ERROR(ANN_STATUS_IO, reader.export_to(""));
  // Exporting a live index with no items is refused.
  ann::Writer empty_writer = ann::Writer::open(fresh_dir("cpp-live-no-items"), kDim, ann::Metric::Euclidean);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, empty_writer.index().export_to("cpp-live-no-items.ann"));
  ann::Index moved_from = std::move(reader);
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, reader.refresh());
  EXPECT_ERROR(ANN_STATUS_INVALID_STATE, reader.export_to("cpp-live-bad.ann"));
}

void index_open_reads_files_too() {
  ann::Index opened = ann::Index::open("cpp.ann");
  ann::Index loaded = ann::Index::load("cpp.ann");
  CHECK(opened.n_stored() == kItems && opened.n_trees() == loaded.n_trees());
  for (const auto& q : random_vectors(5, kDim, 80)) CHECK(same(opened.get_nns_by_vector(q, 10), loaded.get_nns_by_vector(q, 10)));
  CHECK(!opened.refresh());  // a file never changes
  opened.export_to("cpp-exported.ann");
  CHECK(ann::Index::load("cpp-exported.ann").get_nns_by_item(3, 10).size() == 10);
  CHECK(same(ann::Index::load("cpp-exported.ann").get_nns_by_item(3, 10), loaded.get_nns_by_item(3, 10)));
  ann::Index sharded = ann::Index::open_shards({"cpp-shard0.ann", "cpp-shard1.ann"});
  CHECK(!sharded.refresh());
  sharded.export_to("cpp-shards-exported.ann");
  CHECK(ann::Index::open("cpp-shards-exported.ann").n_stored() == sharded.n_stored());
}

// ---- A reader in another process ----
//
// main() forks the reader first, while this process has one thread and no library state, so
// the child is a clean single-threaded process (a fork later would copy the writer's lock file
// and threads stopped mid-call). It waits on a pipe for each step, runs it, and answers with
// its failed checks so far; at the end of the pipe (the parent done or gone) it exits.

const char* const kSharedDir = "cpp-live-shared";

// The writes of step 1 to 4 of the two-process test, the same in both processes.
struct LiveStep {
  std::vector<uint64_t> keys;
  std::vector<float> rows;
  std::vector<uint64_t> deletes;
};

LiveStep live_step(int step) {
  LiveStep writes;
  if (step == 3) return writes;  // step 3 is a compaction alone
  size_t count = step == 1 ? 300 : 40;
  auto vectors = random_vectors(count, kDim, unsigned(90 + step));
  for (size_t i = 0; i < count; i++) {
    uint64_t key = step == 1 ? i : step == 2 ? 300 + i : (uint64_t(1) << 40) + i;
    if (step == 2 && i == 0) key = 1;  // a replacement
    writes.keys.push_back(key);
    writes.rows.insert(writes.rows.end(), vectors[i].begin(), vectors[i].end());
  }
  if (step == 1) writes.deletes = {5, 6};
  if (step == 2) writes.deletes = {10, 11, 12, 13, 301, 99999};
  if (step == 4) writes.deletes = {20, 302};
  return writes;
}

// What the live index holds after steps 1..step, and the keys deleted (or never added).
std::pair<LiveModel, std::vector<uint64_t>> live_state_after(int step) {
  LiveModel model;
  std::vector<uint64_t> gone;
  for (int s = 1; s <= step; s++) {
    LiveStep writes = live_step(s);
    for (size_t i = 0; i < writes.keys.size(); i++)
      model[writes.keys[i]] = std::vector<float>(writes.rows.begin() + long(i * kDim),
                                                 writes.rows.begin() + long((i + 1) * kDim));
    for (uint64_t key : writes.deletes) {
      model.erase(key);
      gone.push_back(key);
    }
  }
  return {model, gone};
}

// The child: step 1 opens the directory; 2 and 4 refresh after writes, 3 after a compaction
// (the reader still answers from the old files first); 5 opens a writer once the parent's
// is closed.
int live_reader_process(int commands, int replies) {
  std::unique_ptr<ann::Index> reader;
  char step = 0;
  while (read(commands, &step, 1) == 1) {
    try {
      auto state = live_state_after(step == 5 ? 4 : step);
      const LiveModel& model = state.first;
      const std::vector<uint64_t>& gone = state.second;
      if (step == 1) {
        reader = std::make_unique<ann::Index>(ann::Index::open(kSharedDir));
        CHECK_LIVE(*reader, model, gone);
        CHECK(!reader->refresh());
        // The parent's writer holds the directory: this process cannot write.
        EXPECT_ERROR(ANN_STATUS_INVALID_STATE, ann::Writer::open(kSharedDir, kDim, ann::Metric::Euclidean));
      } else if (step == 2 || step == 4) {
        CHECK(reader->refresh());
        CHECK_LIVE(*reader, model, gone);
        CHECK(!reader->refresh());
      } else if (step == 3) {
        CHECK_LIVE(*reader, model, gone);  // the compacted-away files are still mapped here
        CHECK(reader->refresh());
        CHECK_LIVE(*reader, model, gone);
        CHECK(!reader->refresh());
      } else if (step == 5) {
        ann::Writer writer = ann::Writer::open(kSharedDir, kDim, ann::Metric::Euclidean);
        CHECK_LIVE(writer.index(), model, gone);
        writer.close();
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "reader process, step %d: unexpected exception: %s\n", step, e.what());
      failures++;
    }
    unsigned char answer = static_cast<unsigned char>(std::min(failures, 255));
    if (write(replies, &answer, 1) != 1) break;
  }
  return failures == 0 ? 0 : 1;
}

struct ReaderProcess {
  pid_t pid = -1;
  int commands = -1;  // parent -> child
  int replies = -1;   // child -> parent
};

// Forks the reader; call before anything else runs. In the child it never returns.
ReaderProcess fork_reader_process() {
  int down[2], up[2];
  if (pipe(down) != 0 || pipe(up) != 0) {
    std::perror("pipe");
    std::exit(1);
  }
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    who = "reader process, ";
    int status = live_reader_process(down[0], up[1]);
    std::fflush(stderr);
    _exit(status);  // no destructors or atexit handlers of the parent's copy
  }
  close(down[0]);
  close(up[1]);
  signal(SIGPIPE, SIG_IGN);  // a dead child shows as a failed write, not a killed parent
  return ReaderProcess{pid, down[1], up[0]};
}

// Runs `step` in the reader; returns its failed checks so far, or -1 if it did not answer
// within 60 seconds.
int ask_reader(const ReaderProcess& child, char step) {
  if (write(child.commands, &step, 1) != 1) return -1;
  pollfd ready{child.replies, POLLIN, 0};
  if (poll(&ready, 1, 60000) != 1) return -1;
  unsigned char answer = 0;
  return read(child.replies, &answer, 1) == 1 ? int(answer) : -1;
}

void live_reader_in_another_process(const ReaderProcess& child) {
  const std::string dir = fresh_dir(kSharedDir);
  ann::WriterOptions options;
  options.n_trees = 10;
  ann::Writer writer = ann::Writer::open(dir, kDim, ann::Metric::Euclidean, options);
  auto write_step = [&writer](int step) {
    LiveStep writes = live_step(step);
    writer.upsert_batch(writes.keys, writes.rows);
    writer.remove_batch(writes.deletes);
  };
  write_step(1);
  CHECK(ask_reader(child, 1) == 0);  // opens, sees step 1, cannot open a writer
  write_step(2);
  CHECK(ask_reader(child, 2) == 0);  // refresh: sees step 2
  writer.compact(2);
  CHECK(ask_reader(child, 3) == 0);  // refresh: the compacted generation
  write_step(4);
  CHECK(ask_reader(child, 4) == 0);  // refresh: writes after the compaction
  auto state = live_state_after(4);
  CHECK_LIVE(writer.index(), state.first, state.second);
  writer.close();
  CHECK(ask_reader(child, 5) == 0);  // the directory is free: the reader opens a writer
}

void finish_reader_process(ReaderProcess& child) {
  close(child.commands);  // end of the pipe: the child exits
  int status = 0;
  CHECK(waitpid(child.pid, &status, 0) == child.pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  close(child.replies);
}

}  // namespace

int main() {
  // First, while this process has one thread: the reader process of the live index test.
  ReaderProcess reader = fork_reader_process();
  try {
    metrics_and_names();
    build_query_save_load();
    errors_carry_status_and_message();
    ownership();
    hamming_packed_words();
    threads_share_one_index();
    sparse_keys_round_trip();
    a_key_never_added_is_invalid_argument();
    filters_return_exactly_min_n_accepted();
    a_throwing_filter_is_rethrown();
    batch_filter_on_threads();
    search_options_lifetime_and_errors();
    graph_search_finds_the_nearest();
    shards_equal_one_index();
    bad_shard_input();
    live_writes_are_visible_at_once();
    live_writes_are_durable();
    live_timer_mode_and_threads();
    live_compaction_keeps_answers();
    live_compaction_builds_a_graph();
    bad_input_matrix();
    live_one_writer_per_directory();
    live_bad_input();
    index_open_reads_files_too();
    live_reader_in_another_process(reader);
    finish_reader_process(reader);
  } catch (const ann::Error& e) {
    std::fprintf(stderr, "unexpected ann::Error (%s): %s\n", e.status_name(), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected exception: %s\n", e.what());
    return 1;
  } catch (...) {
    std::fprintf(stderr, "unexpected exception of unknown type\n");
    return 1;
  }
  if (failures != 0) {
    std::fprintf(stderr, "%d of %d checks failed\n", failures, checks);
    return 1;
  }
  std::printf("cpp ok: %d checks\n", checks);
  return 0;
}
