/*
 * ann.hpp: the C++17 API of ann, header-only, over the C API in ann.h.
 *
 * The conventions of ann.h hold here too, translated once:
 *  - Ownership: an ann::Index owns one ann_index* and frees it in its destructor. It is
 *    move-only; get() lends the handle to C code, release() gives it away.
 *  - Errors: every failing call throws ann::Error, whose what() is the library's message (what
 *    was wrong and what to do) and whose status() is the ann_status. Nothing is written to an
 *    output on failure.
 *  - Threads: const methods may run concurrently from any number of threads on one index;
 *    non-const methods need exclusive access, as the C functions they call do. (ann::Writer
 *    is the exception: it is internally synchronised, see "Live indexes" below.)
 *  - Vectors are dim() floats; for Metric::Hamming dim() counts bits, and the *_packed methods
 *    take 64-bit words, bit j of word i being bit 64*i + j.
 * Link with ann::ann (or ann::ann_static) from CMake, or `pkg-config --libs ann`.
 *
 * Keys, filtered search and shards:
 *  - Keys: every item id is a 64-bit key, any value but ann::no_key (UINT64_MAX): 2^40,
 *    2^63 + 5, string hashes. Memory and files grow with the item count, not the largest key.
 *    n_stored() counts the items; n_items() is the largest key + 1 (Annoy's meaning for keys
 *    added densely from 0). A key never added is ann::Error ANN_STATUS_INVALID_ARGUMENT.
 *    save_annoy() refuses (ANN_STATUS_INVALID_STATE) keys that do not fit Annoy's layout.
 *  - ann::SearchOptions (move-only, frees its handle in its destructor): search_k(k), ef(n),
 *    allow_list(keys), deny_list(keys) and filter(std::function<bool(uint64_t)>), chainable.
 *    A key is accepted when it is in the allow-list (if any), not in the deny-list, and the
 *    filter (if any) returns true. The lists are copied; the std::function is owned by the
 *    options object and may be called from several threads at once (batch searches, or
 *    concurrent searches sharing the options), so it must allow that. Setters need exclusive
 *    access; while none runs, one SearchOptions may serve any number of concurrent searches.
 *  - Index::search / search_by_item / search_batch (and the zero-copy *_into forms) take
 *    options (nullptr: defaults) and return exactly min(n, stored items the filter accepts)
 *    results, every one accepted, nearest first (the get_nns_* methods keep Annoy's meaning).
 *  - An exception thrown by the filter never crosses into the library: the key is refused,
 *    the first such exception is kept in the options, and the search call that returns next
 *    with those options rethrows it (when concurrent searches share the options, one of them
 *    rethrows it; the search's own results are then discarded).
 *  - Index::open_shards(paths) maps several native files (one metric and dim, no key in two
 *    files) as one read-only index whose queries merge as one index holding every item would.
 *    Adding, building and saving it are ANN_STATUS_INVALID_STATE.
 *
 *      ann::Index index = ann::Index::open_shards({"a.ann", "b.ann"});
 *      ann::SearchOptions options;
 *      options.search_k(5000).filter([](uint64_t key) { return key % 2 == 0; });
 *      for (const ann::Neighbor& hit : index.search(query, 10, options)) use(hit.id);
 *
 * Live indexes (add, replace and delete after build, durably, while other processes read):
 *  - A live index is a directory. ann::Writer::open(dir, dim, metric, ann::WriterOptions)
 *    creates it when missing; an existing one must have that dim and metric (else
 *    ANN_STATUS_INVALID_ARGUMENT). One writer per directory: a second one, in any process,
 *    gets ANN_STATUS_INVALID_STATE until the first is closed.
 *  - ann::Writer (move-only; its destructor closes it): upsert(key, vector) adds or replaces,
 *    upsert_batch(keys, vectors) logs many as one record (all or none after a crash),
 *    remove(key) -> whether the key was there (an unknown key is not an error),
 *    remove_batch(keys) -> how many were there, sync(), compact(n_threads), index(), close().
 *    Every method but close(), release() and assignment may run on several threads at once
 *    (concurrent writes share one log sync). After close() (idempotent), a move or release(),
 *    the methods throw ANN_STATUS_INVALID_STATE.
 *  - Durability::Sync (the default): a write returns once it is in the log and synced; it
 *    survives a crash and a power loss. Durability::Timer: a write returns once it is in the
 *    log, which is synced every flush_ms; it survives a process crash, a power loss can lose
 *    the last flush_ms of writes; sync() (and close()) make everything durable.
 *  - Writer::index() is a read-only ann::Index that sees each write as soon as the call
 *    returns, and may outlive the writer. ann::Index::open(dir) is a reader of the directory
 *    (any process, no lock): it sees every write acknowledged before the open, and the later
 *    ones (or the new segment after a compaction) after refresh(), which returns whether
 *    anything changed. refresh() is const: it may run while other threads query the same
 *    index, and their queries finish on the state they started with. Every query form works
 *    on both; a deleted key is never returned; search() returns exactly min(n, live accepted
 *    items). add_item, build and save throw ANN_STATUS_INVALID_STATE; export_to(path) writes
 *    the live items as one immutable index file (a fresh build).
 *  - compact(n_threads) folds the log and the deletions into one new segment on the calling
 *    thread; writes and queries on other threads go on meanwhile. On failure (a full disk)
 *    the directory keeps its last good state and the error says why.
 *  - fork(): the directory lock is an flock on a close-on-exec descriptor, so a child forked
 *    while a Writer is open keeps the directory locked until it exits or execs, even after the
 *    parent closes its writer. Fork reader processes before opening the writer, or exec.
 *
 *      ann::Writer writer = ann::Writer::open("items.live", 64, ann::Metric::Angular);
 *      writer.upsert(42, vector);                  // durable and visible when it returns
 *      bool existed = writer.remove(7);
 *      ann::Index reader = ann::Index::open("items.live");  // in any process
 *      if (reader.refresh()) use(reader.search(query, 10));
 */
#ifndef ANN_HPP
#define ANN_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ann.h"

namespace ann {

/** A distance metric; the values are the ANN_METRIC_* codes. */
enum class Metric : uint32_t {
  Angular = ANN_METRIC_ANGULAR,     /**< sqrt(2 - 2 cos); also known as cosine */
  Euclidean = ANN_METRIC_EUCLIDEAN, /**< L2 */
  Manhattan = ANN_METRIC_MANHATTAN, /**< L1 */
  Dot = ANN_METRIC_DOT,             /**< inner product; larger is nearer */
  Hamming = ANN_METRIC_HAMMING,     /**< differing bits; dim counts bits */
};

/** The one 64-bit value that is not a key: the id of unused batch slots. */
constexpr uint64_t no_key = UINT64_MAX;

/** One query result: an item's key and its distance to the query. */
struct Neighbor {
  uint64_t id;
  float distance;
};

/** A failed call: what() is the library's message, status() its ann_status. */
class Error : public std::runtime_error {
 public:
  Error(ann_status status, const std::string& message)
      : std::runtime_error(message), status_(status) {}
  /** The ANN_STATUS_* code of the failure. */
  ann_status status() const noexcept { return status_; }
  /** The status's name, e.g. "ANN_STATUS_IO". */
  const char* status_name() const noexcept { return ann_status_name(status_); }

 private:
  ann_status status_;
};

namespace detail {

/** The calling thread's last error message; read right after the failing call. */
inline std::string last_error_message() {
  std::string message(ann_last_error_message(nullptr, 0), '\0');
  ann_last_error_message(&message[0], message.size());
  message.resize(message.size() - 1);  // the terminating NUL
  return message;
}

inline void check(ann_status status) {
  if (status != ANN_STATUS_OK) throw Error(status, last_error_message());
}

/** An argument error found on the C++ side, where ann.h cannot see a container's size. */
[[noreturn]] inline void invalid(const std::string& message) {
  throw Error(ANN_STATUS_INVALID_ARGUMENT, message);
}

/** Turns the C outputs of a query into neighbours. */
inline std::vector<Neighbor> neighbors(const std::vector<uint64_t>& ids,
                                       const std::vector<float>& distances, size_t count) {
  std::vector<Neighbor> result(count);
  for (size_t i = 0; i < count; i++) result[i] = Neighbor{ids[i], distances[i]};
  return result;
}

}  // namespace detail

/** The library's version, e.g. "0.1.0". */
inline std::string version() { return ann_version(); }

/** The ABI version of the library actually loaded (ANN_ABI_VERSION is the header's). */
inline uint32_t abi_version() noexcept { return ann_abi_version(); }

/** The metric named "angular" (or "cosine"), "euclidean", "manhattan", "dot" or "hamming". */
inline Metric metric_from_name(const std::string& name) {
  ann_metric code = 0;
  detail::check(ann_metric_from_name(name.c_str(), &code));
  return static_cast<Metric>(code);
}

/** The canonical name of a metric, e.g. "angular". */
inline std::string metric_name(Metric metric) {
  const char* name = ann_metric_name(static_cast<ann_metric>(metric));
  return name != nullptr ? name : "unknown";
}

/** What a file is (ANN_FILE_NATIVE, ANN_FILE_ANNOY or ANN_FILE_UNKNOWN) without loading it. */
using FileInfo = ann_file_summary;

/** Reads what the file at `path` is; a native file's header is validated in full. */
inline FileInfo file_info(const std::string& path) {
  FileInfo info{};
  detail::check(ann_file_info(path.c_str(), &info));
  return info;
}

/** The results of a batch query: row q holds counts[q] neighbours of query q. */
struct BatchResult {
  size_t n = 0;                  /**< slots per row */
  std::vector<uint64_t> ids;     /**< n_queries * n ids; unused slots are UINT64_MAX */
  std::vector<float> distances;  /**< n_queries * n distances; unused slots are NaN */
  std::vector<size_t> counts;    /**< neighbours found per query */

  /** The neighbours of query `q`, nearest first. */
  std::vector<Neighbor> row(size_t q) const {
    std::vector<Neighbor> result(counts.at(q));
    for (size_t i = 0; i < result.size(); i++)
      result[i] = Neighbor{ids[q * n + i], distances[q * n + i]};
    return result;
  }
};

class Index;

/**
 * How a search runs: search_k, ef and a filter (allow-list, deny-list, predicate). Move-only; owns
 * its ann_search_options* and the predicate, so it must outlive the searches that use it.
 * Setters return *this for chaining and need exclusive access; searches only read it.
 */
class SearchOptions {
 public:
  /** The defaults: search_k -1 (n * n_trees), ef 0 (from search_k), every key accepted. */
  SearchOptions() { detail::check(ann_search_options_new(&handle_)); }

  SearchOptions(const SearchOptions&) = delete;
  SearchOptions& operator=(const SearchOptions&) = delete;
  SearchOptions(SearchOptions&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)), filter_(std::move(other.filter_)) {}
  SearchOptions& operator=(SearchOptions&& other) noexcept {
    if (this != &other) {
      ann_search_options_free(handle_);  // before the predicate it may point to
      handle_ = std::exchange(other.handle_, nullptr);
      filter_ = std::move(other.filter_);
    }
    return *this;
  }
  ~SearchOptions() { ann_search_options_free(handle_); }  // filter_ goes after, as declared

  /** Accepted candidates to collect: larger is better recall, slower; -1: n * n_trees. */
  SearchOptions& search_k(int64_t search_k) {
    detail::check(ann_search_options_set_search_k(handle(), search_k));
    return *this;
  }

  /**
   * Beam width of a graph search (Index::build_graph): nodes the walk keeps, at least n; larger
   * is better recall, slower. 0: max(n, 32, search_k / 16). Indexes without a graph ignore it.
   */
  SearchOptions& ef(size_t ef) {
    detail::check(ann_search_options_set_ef(handle(), ef));
    return *this;
  }

  /** Only these keys may be returned (copied; order and repeats ignored; empty: none). */
  SearchOptions& allow_list(const uint64_t* keys, size_t n) {
    detail::check(ann_search_options_set_allow_list(handle(), keys, n));
    return *this;
  }
  SearchOptions& allow_list(const std::vector<uint64_t>& keys) {
    return allow_list(keys.data(), keys.size());
  }

  /** These keys may not be returned (copied; order and repeats ignored; empty: denies none). */
  SearchOptions& deny_list(const uint64_t* keys, size_t n) {
    detail::check(ann_search_options_set_deny_list(handle(), keys, n));
    return *this;
  }
  SearchOptions& deny_list(const std::vector<uint64_t>& keys) {
    return deny_list(keys.data(), keys.size());
  }

  /**
   * Only keys for which `accept(key)` returns true may be returned; an empty function removes
   * the predicate. `accept` is kept in this object and may be called from several threads at
   * once. If it throws, the key is refused and the search call rethrows the first exception.
   */
  SearchOptions& filter(std::function<bool(uint64_t)> accept) {
    ann_search_options* options = handle();
    if (!accept) {
      detail::check(ann_search_options_set_filter(options, nullptr, nullptr));
      filter_.reset();
      return *this;
    }
    auto state = std::make_unique<FilterState>();
    state->accept = std::move(accept);
    detail::check(ann_search_options_set_filter(options, &FilterState::trampoline, state.get()));
    filter_ = std::move(state);  // the C side points at the new state now, not the old
    return *this;
  }

  /** The C handle, still owned by this object (nullptr after a move). */
  ann_search_options* get() const noexcept { return handle_; }

 private:
  friend class Index;

  /** The predicate and the first exception it threw; its address is the C context. */
  struct FilterState {
    std::function<bool(uint64_t)> accept;
    std::atomic<bool> failed{false};
    std::mutex mutex;
    std::exception_ptr error;

    static bool trampoline(uint64_t key, void* context) noexcept {
      auto* state = static_cast<FilterState*>(context);
      try {
        return state->accept(key);
      } catch (...) {
        std::lock_guard<std::mutex> lock(state->mutex);
        if (!state->error) state->error = std::current_exception();
        state->failed.store(true, std::memory_order_release);
        return false;
      }
    }
  };

  ann_search_options* handle() const {
    if (handle_ == nullptr)
      throw Error(ANN_STATUS_INVALID_STATE,
                  "ann::SearchOptions: these options have no handle (they were moved from)");
    return handle_;
  }

  /** Rethrows (once) the exception the predicate threw during a search, if any. */
  void rethrow_filter_exception() const {
    if (!filter_ || !filter_->failed.load(std::memory_order_acquire)) return;
    std::exception_ptr error;
    {
      std::lock_guard<std::mutex> lock(filter_->mutex);
      error = std::exchange(filter_->error, nullptr);
      filter_->failed.store(false, std::memory_order_relaxed);
    }
    if (error) std::rethrow_exception(error);
  }

  ann_search_options* handle_ = nullptr;
  std::unique_ptr<FilterState> filter_;
};

/**
 * An index: built in memory, memory-mapped from a file or from several (open_shards), or a
 * read-only view of a live index (Writer::index(), Index::open of a directory). Move-only;
 * owns its handle.
 */
class Index {
 public:
  /** An empty index for vectors of `dim` values (bits, for hamming). */
  Index(uint32_t dim, Metric metric) { detail::check(ann_new(dim, code(metric), &handle_)); }

  /** Takes ownership of a handle from the C API (ann_new, ann_load...). */
  explicit Index(ann_index* handle) noexcept : handle_(handle) {}

  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;
  Index(Index&& other) noexcept : handle_(other.release()) {}
  Index& operator=(Index&& other) noexcept {
    if (this != &other) {
      ann_free(handle_);
      handle_ = other.release();
    }
    return *this;
  }
  ~Index() { ann_free(handle_); }

  /** Memory-maps a file written by save(): O(1), shared by every process that loads it. */
  static Index load(const std::string& path, bool prefault = false) {
    ann_index* handle = nullptr;
    detail::check(ann_load(path.c_str(), prefault, &handle));
    return Index(handle);
  }

  /** Memory-maps a header-less Annoy 1.17.3 file, built with this dim and metric. */
  static Index load_annoy(const std::string& path, uint32_t dim, Metric metric,
                          bool prefault = false) {
    ann_index* handle = nullptr;
    detail::check(ann_load_annoy(path.c_str(), dim, code(metric), prefault, &handle));
    return Index(handle);
  }

  /**
   * Maps several files written by save() (one metric and dim, no key in two of them) as one
   * read-only index: every query merges the shards' results as one index holding all their
   * items would order them (by distance, ties to the smaller key). n_items() is the largest
   * key + 1, n_stored() and n_trees() the sums. Adding, building and saving throw
   * ANN_STATUS_INVALID_STATE. Reads every shard's keys to check that none repeats.
   */
  static Index open_shards(const std::vector<std::string>& paths, bool prefault = false) {
    std::vector<const char*> c_paths;
    c_paths.reserve(paths.size());
    for (const std::string& path : paths) c_paths.push_back(path.c_str());
    ann_index* handle = nullptr;
    detail::check(ann_open_shards(c_paths.data(), c_paths.size(), prefault, &handle));
    return Index(handle);
  }

  /**
   * Opens `path` read-only: an index file (as load()), or a live index directory, read without
   * a lock from any process. A directory reader sees every write acknowledged before the open
   * and the later ones after refresh(). A directory with no MANIFEST is ANN_STATUS_IO.
   */
  static Index open(const std::string& path, bool prefault = false) {
    ann_index* handle = nullptr;
    detail::check(ann_open(path.c_str(), prefault, &handle));
    return Index(handle);
  }

  /**
   * Adds or replaces the item with key `id` (any value but ann::no_key) from `dim()` floats at
   * `vector`.
   */
  void add_item(uint64_t id, const float* vector) {
    detail::check(ann_add_item(handle(), id, vector));
  }

  /** Adds or replaces item `id`; the vector must hold exactly dim() values. */
  void add_item(uint64_t id, const std::vector<float>& vector) {
    check_length(vector.size(), "vector");
    add_item(id, vector.data());
  }

  /** Hamming only: adds item `id` from ceil(dim() / 64) packed words. */
  void add_item_packed(uint64_t id, const std::vector<uint64_t>& words) {
    detail::check(ann_add_item_packed(handle(), id, words.data(), words.size()));
  }

  /** Sets the seed of the next build; one seed gives one index, whatever the thread count. */
  void set_seed(uint64_t seed) { detail::check(ann_set_seed(handle(), seed)); }

  /** Builds `n_trees` trees (-1: until nodes are twice the items) on `n_threads` (-1: all). */
  void build(int32_t n_trees, int32_t n_threads = -1) {
    detail::check(ann_build(handle(), n_trees, n_threads));
  }

  /**
   * Adds a proximity graph over the items of a built or loaded index, with at most `degree`
   * neighbours per item (0: 32; at most 256), on `n_threads` (-1: all). Queries then walk it
   * instead of the forest (SearchOptions::ef sets the beam); save() writes it, load() maps it;
   * save_annoy() writes the forest only. Replaces an earlier graph. Before build(), and on
   * sharded or live indexes, ANN_STATUS_INVALID_STATE.
   */
  void build_graph(uint32_t degree = 0, int32_t n_threads = -1) {
    detail::check(ann_build_graph(handle(), degree, n_threads));
  }

  /** Drops the trees and keeps the items, so more can be added before building again. */
  void unbuild() { detail::check(ann_unbuild(handle())); }

  /** Releases the memory or mapping; the index is then empty, with the same dim and metric. */
  void unload() { detail::check(ann_unload(handle())); }

  /** Builds into the file at `path` instead of memory; call before adding and building. */
  void on_disk_build(const std::string& path) {
    detail::check(ann_on_disk_build(handle(), path.c_str()));
  }

  /** Saves atomically (temporary file, sync, rename) in ann's self-describing format. */
  void save(const std::string& path) const { detail::check(ann_save(handle(), path.c_str())); }

  /** Saves atomically as the header-less file Annoy 1.17.3 loads. */
  void save_annoy(const std::string& path) const {
    detail::check(ann_save_annoy(handle(), path.c_str()));
  }

  /** Checks the whole index: the body checksum and every tree. */
  void verify() const { detail::check(ann_verify(handle())); }

  /**
   * A reader of a live directory (Index::open) catches up with the writes logged since it
   * opened or last refreshed, or with the new segment after a compaction; returns whether
   * anything changed. Const: it may run while other threads query this index (their queries
   * finish on the state they started with). Other indexes (files, a writer's index(), shards)
   * are always current: it returns false.
   */
  bool refresh() const {
    bool changed = false;
    detail::check(ann_refresh(handle(), &changed));
    return changed;
  }

  /**
   * Writes every item into one new immutable index file at `path`, atomically: a live index's
   * live items (a fresh build with the n_trees and graph of its writer options; a live index
   * with no items is ANN_STATUS_INVALID_STATE), every shard's items (with a graph when a shard
   * has one), or a plain index as save() would.
   * (`export` is a C++ keyword.)
   */
  void export_to(const std::string& path) const {
    detail::check(ann_export(handle(), path.c_str()));
  }

  /** The `n` items nearest to `query` (dim() floats), nearest first. search_k -1: n * n_trees. */
  std::vector<Neighbor> get_nns_by_vector(const float* query, size_t n,
                                          int64_t search_k = -1) const {
    size_t slots = result_slots(n);
    std::vector<uint64_t> ids(slots);
    std::vector<float> distances(slots);
    size_t count = get_nns_by_vector_into(query, slots, search_k, ids.data(), distances.data());
    return detail::neighbors(ids, distances, count);
  }

  /** As above; the query must hold exactly dim() values. */
  std::vector<Neighbor> get_nns_by_vector(const std::vector<float>& query, size_t n,
                                          int64_t search_k = -1) const {
    check_length(query.size(), "query");
    return get_nns_by_vector(query.data(), n, search_k);
  }

  /** The `n` items nearest to item `id`, nearest first (the item itself first, but for dot). */
  std::vector<Neighbor> get_nns_by_item(uint64_t id, size_t n, int64_t search_k = -1) const {
    size_t slots = result_slots(n);
    std::vector<uint64_t> ids(slots);
    std::vector<float> distances(slots);
    size_t count = get_nns_by_item_into(id, slots, search_k, ids.data(), distances.data());
    return detail::neighbors(ids, distances, count);
  }

  /** Hamming only: the `n` items nearest to a query of ceil(dim() / 64) packed words. */
  std::vector<Neighbor> get_nns_packed(const std::vector<uint64_t>& query_words, size_t n,
                                       int64_t search_k = -1) const {
    size_t slots = result_slots(n);
    std::vector<uint64_t> ids(slots);
    std::vector<float> distances(slots);
    size_t count = 0;
    detail::check(ann_get_nns_packed(handle(), query_words.data(), query_words.size(), slots,
                                     search_k, ids.data(), distances.data(), &count));
    return detail::neighbors(ids, distances, count);
  }

  /**
   * Zero-copy query: writes up to `n` ids into `out_ids` and their distances into
   * `out_distances` (which may be nullptr), and returns how many it wrote. Allocates nothing.
   */
  size_t get_nns_by_vector_into(const float* query, size_t n, int64_t search_k,
                                uint64_t* out_ids, float* out_distances) const {
    size_t count = 0;
    detail::check(
        ann_get_nns(handle(), query, n, search_k, out_ids, out_distances, &count));
    return count;
  }

  /** Zero-copy query by item, as get_nns_by_vector_into. */
  size_t get_nns_by_item_into(uint64_t id, size_t n, int64_t search_k, uint64_t* out_ids,
                              float* out_distances) const {
    size_t count = 0;
    detail::check(
        ann_get_nns_by_item(handle(), id, n, search_k, out_ids, out_distances, &count));
    return count;
  }

  /**
   * Queries `n_queries` vectors (row after row, dim() floats each) on `n_threads` threads
   * (-1: every core).
   */
  BatchResult get_nns_batch(const float* queries, size_t n_queries, size_t n,
                            int64_t search_k = -1, int32_t n_threads = -1) const {
    BatchResult result;
    result.n = n;
    result.ids.resize(checked_product(n_queries, n));
    result.distances.resize(result.ids.size());
    result.counts.resize(n_queries);
    get_nns_batch_into(queries, n_queries, n, search_k, n_threads, result.ids.data(),
                       result.distances.data(), result.counts.data());
    return result;
  }

  /** As above; `queries` must hold a whole number of rows of dim() values. */
  BatchResult get_nns_batch(const std::vector<float>& queries, size_t n, int64_t search_k = -1,
                            int32_t n_threads = -1) const {
    size_t rows = whole_rows(queries.size(), "get_nns_batch");
    return get_nns_batch(queries.data(), rows, n, search_k, n_threads);
  }

  /**
   * Zero-copy batch query into caller buffers: `out_ids` and `out_distances` (may be nullptr)
   * hold n_queries * n slots, `out_counts` n_queries.
   */
  void get_nns_batch_into(const float* queries, size_t n_queries, size_t n, int64_t search_k,
                          int32_t n_threads, uint64_t* out_ids, float* out_distances,
                          size_t* out_counts) const {
    detail::check(ann_get_nns_batch(handle(), queries, n_queries, n, search_k, n_threads,
                                    out_ids, out_distances, out_counts));
  }

  /**
   * The `n` items nearest to `query` (dim() floats) that `options` accepts (nullptr: defaults),
   * nearest first: exactly min(n, stored items accepted) of them. Rethrows an exception the
   * options' filter threw.
   */
  std::vector<Neighbor> search(const float* query, size_t n,
                               const SearchOptions* options = nullptr) const {
    size_t slots = result_slots(n);
    std::vector<uint64_t> ids(slots);
    std::vector<float> distances(slots);
    size_t count = search_into(query, slots, options, ids.data(), distances.data());
    return detail::neighbors(ids, distances, count);
  }
  std::vector<Neighbor> search(const float* query, size_t n,
                               const SearchOptions& options) const {
    return search(query, n, &options);
  }
  /** As above; the query must hold exactly dim() values. */
  std::vector<Neighbor> search(const std::vector<float>& query, size_t n,
                               const SearchOptions* options = nullptr) const {
    check_length(query.size(), "query");
    return search(query.data(), n, options);
  }
  std::vector<Neighbor> search(const std::vector<float>& query, size_t n,
                               const SearchOptions& options) const {
    return search(query, n, &options);
  }

  /** As search(), with item `key`'s vector as the query (the item comes back if accepted). */
  std::vector<Neighbor> search_by_item(uint64_t key, size_t n,
                                       const SearchOptions* options = nullptr) const {
    size_t slots = result_slots(n);
    std::vector<uint64_t> ids(slots);
    std::vector<float> distances(slots);
    size_t count = search_by_item_into(key, slots, options, ids.data(), distances.data());
    return detail::neighbors(ids, distances, count);
  }
  std::vector<Neighbor> search_by_item(uint64_t key, size_t n,
                                       const SearchOptions& options) const {
    return search_by_item(key, n, &options);
  }

  /** Zero-copy search(), as get_nns_by_vector_into: returns how many results it wrote. */
  size_t search_into(const float* query, size_t n, const SearchOptions* options,
                     uint64_t* out_ids, float* out_distances) const {
    size_t count = 0;
    ann_status status = ann_search(handle(), query, n, options_handle(options), out_ids,
                                   out_distances, &count);
    finish_search(status, options);
    return count;
  }

  /** Zero-copy search_by_item(), as get_nns_by_item_into. */
  size_t search_by_item_into(uint64_t key, size_t n, const SearchOptions* options,
                             uint64_t* out_ids, float* out_distances) const {
    size_t count = 0;
    ann_status status = ann_search_by_item(handle(), key, n, options_handle(options), out_ids,
                                           out_distances, &count);
    finish_search(status, options);
    return count;
  }

  /**
   * search() for `n_queries` vectors (row after row, dim() floats each) on `n_threads`
   * threads (-1: every core), which may call the options' filter at once. Row q holds
   * min(n, accepted) neighbours; unused slots are ann::no_key and NaN.
   */
  BatchResult search_batch(const float* queries, size_t n_queries, size_t n,
                           const SearchOptions* options = nullptr, int32_t n_threads = -1) const {
    BatchResult result;
    result.n = n;
    result.ids.resize(checked_product(n_queries, n));
    result.distances.resize(result.ids.size());
    result.counts.resize(n_queries);
    search_batch_into(queries, n_queries, n, options, n_threads, result.ids.data(),
                      result.distances.data(), result.counts.data());
    return result;
  }
  BatchResult search_batch(const float* queries, size_t n_queries, size_t n,
                           const SearchOptions& options, int32_t n_threads = -1) const {
    return search_batch(queries, n_queries, n, &options, n_threads);
  }
  /** As above; `queries` must hold a whole number of rows of dim() values. */
  BatchResult search_batch(const std::vector<float>& queries, size_t n,
                           const SearchOptions* options = nullptr, int32_t n_threads = -1) const {
    size_t rows = whole_rows(queries.size(), "search_batch");
    return search_batch(queries.data(), rows, n, options, n_threads);
  }
  BatchResult search_batch(const std::vector<float>& queries, size_t n,
                           const SearchOptions& options, int32_t n_threads = -1) const {
    return search_batch(queries, n, &options, n_threads);
  }

  /** Zero-copy search_batch(), as get_nns_batch_into. */
  void search_batch_into(const float* queries, size_t n_queries, size_t n,
                         const SearchOptions* options, int32_t n_threads, uint64_t* out_ids,
                         float* out_distances, size_t* out_counts) const {
    ann_status status = ann_search_batch(handle(), queries, n_queries, n, options_handle(options),
                                         n_threads, out_ids, out_distances, out_counts);
    finish_search(status, options);
  }

  /** Item `id`'s vector (dim() floats; 0 and 1 for hamming). A key never added throws. */
  std::vector<float> get_item_vector(uint64_t id) const {
    std::vector<float> vector(dim());
    detail::check(ann_get_item_vector(handle(), id, vector.data()));
    return vector;
  }

  /** Hamming only: item `id`'s packed words. */
  std::vector<uint64_t> get_item_packed(uint64_t id) const {
    std::vector<uint64_t> words((dim() + 63) / 64);
    size_t count = 0;
    detail::check(ann_get_item_packed(handle(), id, words.data(), words.size(), &count));
    words.resize(count);
    return words;
  }

  /** The distance between items `i` and `j`, as a query reports it. */
  float get_distance(uint64_t i, uint64_t j) const {
    float distance = 0;
    detail::check(ann_get_distance(handle(), i, j, &distance));
    return distance;
  }

  /** The largest key added, plus 1: Annoy's n_items for keys added densely from 0. */
  uint64_t n_items() const { return read<uint64_t>(ann_get_n_items); }
  /** The number of items stored, each key counted once. */
  uint64_t n_stored() const { return read<uint64_t>(ann_get_n_stored); }
  /** Trees; 0 before the index is built. */
  uint32_t n_trees() const { return read<uint32_t>(ann_get_n_trees); }
  /** Whether the index has a graph (build_graph(), or a file saved with one). */
  bool has_graph() const { return read<bool>(ann_has_graph); }
  /** Floats per vector, or bits for hamming. */
  uint32_t dim() const { return read<uint32_t>(ann_get_dim); }
  Metric metric() const { return static_cast<Metric>(read<ann_metric>(ann_get_metric)); }
  /** The seed of the next build, or the one a loaded index was built with. */
  uint64_t seed() const { return read<uint64_t>(ann_get_seed); }

  /** The C handle, still owned by this Index (nullptr after release or a move). */
  ann_index* get() const noexcept { return handle_; }
  /** Gives the C handle away: the caller frees it with ann_free. */
  ann_index* release() noexcept { return std::exchange(handle_, nullptr); }

 private:
  static ann_metric code(Metric metric) { return static_cast<ann_metric>(metric); }

  ann_index* handle() const {
    if (handle_ == nullptr)
      throw Error(ANN_STATUS_INVALID_STATE,
                  "ann::Index: this index has no handle (it was moved from or released)");
    return handle_;
  }

  template <typename T, typename Getter>
  T read(Getter getter) const {
    T value{};
    detail::check(getter(handle(), &value));
    return value;
  }

  void check_length(size_t length, const char* what) const {
    size_t expected = dim();
    if (length != expected)
      detail::invalid(std::string("ann::Index: ") + what + " has " + std::to_string(length) +
                      " values, but the index has dim " + std::to_string(expected));
  }

  /**
   * Room for `n` results: never more than the index stores items, so a huge `n` costs nothing.
   * A small `n` is taken as is (n_stored() may read every item node of a loaded file once).
   */
  size_t result_slots(size_t n) const {
    if (n <= 4096) return n;
    uint64_t items = n_stored();
    return items < n ? static_cast<size_t>(items) : n;
  }

  /** The number of rows in `size` floats of queries, which must be a whole number of rows. */
  size_t whole_rows(size_t size, const char* method) const {
    size_t d = dim();
    if (size % d != 0)
      detail::invalid(std::string("ann::Index::") + method + ": queries.size() (" +
                      std::to_string(size) + ") is not a multiple of dim() (" +
                      std::to_string(d) + ")");
    return size / d;
  }

  static size_t checked_product(size_t a, size_t b) {
    if (b != 0 && a > SIZE_MAX / b)
      detail::invalid("ann::Index: batch n_queries * n overflows size_t");
    return a * b;
  }

  /** The C options of `options` (nullptr for defaults); moved-from options are an error. */
  static const ann_search_options* options_handle(const SearchOptions* options) {
    return options == nullptr ? nullptr : options->handle();
  }

  /**
   * After a search: reads the library's message first (same thread, nothing in between), then
   * rethrows what the options' filter threw, else throws the library's error.
   */
  static void finish_search(ann_status status, const SearchOptions* options) {
    std::string message;
    if (status != ANN_STATUS_OK) message = detail::last_error_message();
    if (options != nullptr) options->rethrow_filter_exception();
    if (status != ANN_STATUS_OK) throw Error(status, message);
  }

  ann_index* handle_ = nullptr;
};

/** When a live index's write counts as done; the values are the ANN_DURABILITY_* codes. */
enum class Durability : uint32_t {
  /** Returns once the write is in the log and the log is synced (concurrent writes share one
      sync): it survives a process crash and a power loss. The default. */
  Sync = ANN_DURABILITY_SYNC,
  /** Returns once the write is in the log, which is synced every flush_ms milliseconds: it
      survives a process crash; a power loss can lose the last flush_ms of writes. */
  Timer = ANN_DURABILITY_TIMER,
};

/** Writer::open's settings besides the dim and metric; the defaults are ann.h's. */
struct WriterOptions {
  Durability durability = Durability::Sync;
  uint32_t flush_ms = 100; /**< Durability::Timer: milliseconds between log syncs, 1 to 60000 */
  int32_t n_trees = 50;    /**< trees of the segments compaction builds; -1: Annoy's count */
  /** Compaction (and export_to of the live index) also builds a graph into each new segment,
      as Index::build_graph would, so queries on compacted items walk it. Off by default. */
  bool graph = false;
  uint32_t graph_degree = 0; /**< the graph's most neighbours per item: 0 the default (32), to 256 */
};

/**
 * The one writer of a live index directory. Move-only; owns its ann_writer* and closes it in
 * its destructor. Every method but close(), release() and assignment may be called from
 * several threads at once: the writer is internally synchronised, and concurrent writes share
 * one log sync. After close(), a move or release(), the methods throw
 * ANN_STATUS_INVALID_STATE.
 */
class Writer {
 public:
  /**
   * Opens the live index directory `dir` for writing, creating it (and its parents) when
   * missing; an existing one must hold vectors of `dim` and `metric` (else
   * ANN_STATUS_INVALID_ARGUMENT). Replays the log: every acknowledged write is back, and a
   * torn last record (a crash mid-write) is cut. A directory another writer has open, in any
   * process, is ANN_STATUS_INVALID_STATE; a damaged one ANN_STATUS_CORRUPT_FILE.
   */
  static Writer open(const std::string& dir, uint32_t dim, Metric metric,
                     const WriterOptions& options = {}) {
    ann_writer_options* raw = nullptr;
    detail::check(ann_writer_options_new(dim, static_cast<ann_metric>(metric), &raw));
    std::unique_ptr<ann_writer_options, OptionsFree> c_options(raw);
    detail::check(
        ann_writer_options_set_durability(raw, static_cast<uint32_t>(options.durability)));
    detail::check(ann_writer_options_set_flush_ms(raw, options.flush_ms));
    detail::check(ann_writer_options_set_n_trees(raw, options.n_trees));
    detail::check(ann_writer_options_set_graph(raw, options.graph, options.graph_degree));
    ann_writer* handle = nullptr;
    detail::check(ann_writer_open(dir.c_str(), raw, &handle));
    return Writer(handle, dim, metric);
  }

  /**
   * Takes ownership of a handle from ann_writer_open (nullptr: a closed writer). Reads its dim
   * and metric; if that fails, frees the handle and throws.
   */
  explicit Writer(ann_writer* handle) : handle_(handle) {
    if (handle_ == nullptr) return;
    try {
      Index view = index();
      dim_ = view.dim();
      metric_ = view.metric();
    } catch (...) {
      ann_writer_free(std::exchange(handle_, nullptr));
      throw;
    }
  }

  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  Writer(Writer&& other) noexcept
      : handle_(other.release()), dim_(other.dim_), metric_(other.metric_) {}
  Writer& operator=(Writer&& other) noexcept {
    if (this != &other) {
      ann_writer_free(handle_);
      dim_ = other.dim_;
      metric_ = other.metric_;
      handle_ = other.release();
    }
    return *this;
  }
  /** Syncs the log and releases the directory (a failing final sync is not reported). */
  ~Writer() { ann_writer_free(handle_); }

  /**
   * Syncs the log, releases the directory's lock and the handle; later calls throw
   * ANN_STATUS_INVALID_STATE, a second close() does nothing. Throws if the final sync failed
   * (the writer is closed all the same). Index handles from index() stay usable and stop
   * changing. Needs exclusive access: no other call on this writer may be running.
   */
  void close() {
    if (handle_ == nullptr) return;
    ann_status status = ann_sync(handle_);
    std::string message;
    if (status != ANN_STATUS_OK) message = detail::last_error_message();
    ann_writer_free(std::exchange(handle_, nullptr));
    if (status != ANN_STATUS_OK) throw Error(status, message);
  }

  /** Whether the writer has its handle (not closed, moved from or released). */
  bool is_open() const noexcept { return handle_ != nullptr; }

  /**
   * Adds or replaces the item `key` (any value but ann::no_key) with dim() floats at `vector`.
   * Returns once the write is logged (and synced, with Durability::Sync); index() sees it at
   * once, readers after refresh(). NaN or infinite values are ANN_STATUS_INVALID_ARGUMENT; a
   * log that cannot be written (a full disk) ANN_STATUS_IO, and nothing changes.
   */
  void upsert(uint64_t key, const float* vector) {
    detail::check(ann_upsert(handle(), key, vector));
  }

  /** As above; the vector must hold exactly dim() values. */
  void upsert(uint64_t key, const std::vector<float>& vector) {
    ann_writer* writer = handle();
    if (vector.size() != dim_)
      detail::invalid("ann::Writer: vector has " + std::to_string(vector.size()) +
                      " values, but the live index has dim " + std::to_string(dim_));
    detail::check(ann_upsert(writer, key, vector.data()));
  }

  /**
   * Upserts `n` items: keys[i] gets row i of `vectors` (n * dim() floats), logged as one
   * record, so after a crash all of them are there or none.
   */
  void upsert_batch(const uint64_t* keys, const float* vectors, size_t n) {
    detail::check(ann_upsert_batch(handle(), keys, vectors, n));
  }

  /** As above; `vectors` must hold exactly keys.size() rows of dim() values. */
  void upsert_batch(const std::vector<uint64_t>& keys, const std::vector<float>& vectors) {
    ann_writer* writer = handle();
    if (vectors.size() % dim_ != 0 || vectors.size() / dim_ != keys.size())
      detail::invalid("ann::Writer::upsert_batch: " + std::to_string(keys.size()) +
                      " keys need " + std::to_string(keys.size()) + " rows of dim " +
                      std::to_string(dim_) + ", but vectors has " +
                      std::to_string(vectors.size()) + " values");
    detail::check(ann_upsert_batch(writer, keys.data(), vectors.data(), keys.size()));
  }

  /**
   * Deletes the item `key`; returns whether it was there (an unknown key is not an error;
   * ann::no_key is: ann::Error with ANN_STATUS_INVALID_ARGUMENT). Durable as upsert(); a
   * deleted key is never returned by a query.
   */
  bool remove(uint64_t key) {
    bool existed = false;
    detail::check(ann_delete(handle(), key, &existed));
    return existed;
  }

  /** Deletes `n` keys as one record; returns how many of them were there. A batch holding
   *  ann::no_key is refused whole. */
  size_t remove_batch(const uint64_t* keys, size_t n) {
    size_t deleted = 0;
    detail::check(ann_delete_batch(handle(), keys, n, &deleted));
    return deleted;
  }
  size_t remove_batch(const std::vector<uint64_t>& keys) {
    return remove_batch(keys.data(), keys.size());
  }

  /** Syncs the log now: every write made so far is on disk when it returns (Timer mode). */
  void sync() { detail::check(ann_sync(handle())); }

  /**
   * Folds every live item into one new segment built on `n_threads` threads (-1: all cores),
   * switches the directory to it and removes the old files (readers that map them keep them
   * until they refresh). Runs on the calling thread; writes and queries on other threads go
   * on meanwhile. On failure the directory keeps its current state, and the error says why.
   */
  void compact(int32_t n_threads = -1) { detail::check(ann_compact(handle(), n_threads)); }

  /**
   * A read-only index on this live index that sees every write as soon as the write call
   * returns; it may outlive the writer.
   */
  Index index() {
    ann_index* view = nullptr;
    detail::check(ann_writer_index(handle(), &view));
    return Index(view);
  }

  /** Floats per vector (bits, for hamming); 0 for a writer made from nullptr. */
  uint32_t dim() const noexcept { return dim_; }
  Metric metric() const noexcept { return metric_; }

  /** The C handle, still owned by this Writer (nullptr after close, release or a move). */
  ann_writer* get() const noexcept { return handle_; }
  /** Gives the C handle away: the caller frees it with ann_writer_free. */
  ann_writer* release() noexcept { return std::exchange(handle_, nullptr); }

 private:
  struct OptionsFree {
    void operator()(ann_writer_options* options) const noexcept {
      ann_writer_options_free(options);
    }
  };

  Writer(ann_writer* handle, uint32_t dim, Metric metric) noexcept
      : handle_(handle), dim_(dim), metric_(metric) {}

  ann_writer* handle() const {
    if (handle_ == nullptr)
      throw Error(ANN_STATUS_INVALID_STATE,
                  "ann::Writer: this writer is closed (or was moved from or released)");
    return handle_;
  }

  ann_writer* handle_ = nullptr;
  uint32_t dim_ = 0;
  Metric metric_ = Metric::Angular;
};

}  // namespace ann

#endif /* ANN_HPP */
