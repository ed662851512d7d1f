/* Keys, filtered search and shards through the C ABI: sparse keys round trip through a file,
 * filters at every selectivity return exactly min(n, accepted) results, a C predicate with a
 * context runs from batch threads, shards equal one index, and bad input gets exact statuses.
 * Usage: keys_filters DIR */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <pthread.h>

#include "check.h"

#define N_ITEMS 3000
#define DIM 16
#define N 10

static uint64_t key_of(size_t i) { return ((uint64_t)i << 44) + 12345u; }

/* Accepts keys whose item number is a multiple of `*(uint64_t *)context`; counts calls. */
static pthread_mutex_t calls_lock = PTHREAD_MUTEX_INITIALIZER;
static long calls;
static bool every_kth(uint64_t key, void *context) {
    uint64_t k = *(const uint64_t *)context;
    pthread_mutex_lock(&calls_lock);
    calls++;
    pthread_mutex_unlock(&calls_lock);
    return ((key - 12345u) >> 44) % k == 0;
}

static int listed(uint64_t key, const uint64_t *allow, size_t n_allow) {
    for (size_t i = 0; i < n_allow; i++)
        if (allow[i] == key) return 1;
    return 0;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char path[4096], shard_a[4096], shard_b[4096];
    snprintf(path, sizeof path, "%s/sparse.ann", argv[1]);
    snprintf(shard_a, sizeof shard_a, "%s/shard_a.ann", argv[1]);
    snprintf(shard_b, sizeof shard_b, "%s/shard_b.ann", argv[1]);
    float *data = make_data(N_ITEMS, DIM, ANN_METRIC_EUCLIDEAN);

    /* Sparse keys: build, save, load; counts, vectors and results speak keys. */
    ann_index *built = NULL, *a = NULL, *b = NULL;
    OK(ann_new(DIM, ANN_METRIC_EUCLIDEAN, &built));
    OK(ann_new(DIM, ANN_METRIC_EUCLIDEAN, &a));
    OK(ann_new(DIM, ANN_METRIC_EUCLIDEAN, &b));
    for (size_t i = 0; i < N_ITEMS; i++) {
        OK(ann_add_item(built, key_of(i), data + i * DIM));
        OK(ann_add_item(i % 2 ? b : a, key_of(i), data + i * DIM));
    }
    EXPECT(ann_add_item(built, UINT64_MAX, data), ANN_STATUS_INVALID_ARGUMENT);
    OK(ann_build(built, 8, 2));
    OK(ann_build(a, 8, 1));
    OK(ann_build(b, 8, 1));
    OK(ann_save(built, path));
    OK(ann_save(a, shard_a));
    OK(ann_save(b, shard_b));
    EXPECT(ann_save_annoy(built, path), ANN_STATUS_INVALID_STATE);
    ann_free(built);
    ann_free(a);
    ann_free(b);

    ann_index *index = NULL;
    OK(ann_load(path, false, &index));
    uint64_t count64 = 0;
    OK(ann_get_n_stored(index, &count64));
    CHECK(count64 == N_ITEMS);
    OK(ann_get_n_items(index, &count64));
    CHECK(count64 == key_of(N_ITEMS - 1) + 1);
    float v[DIM];
    OK(ann_get_item_vector(index, key_of(77), v));
    CHECK(memcmp(v, data + 77 * DIM, sizeof v) == 0);
    EXPECT(ann_get_item_vector(index, 77, v), ANN_STATUS_INVALID_ARGUMENT);
    uint64_t ids[N * 64];
    float dists[N * 64];
    size_t count = 0;
    OK(ann_get_nns_by_item(index, key_of(5), N, -1, ids, dists, &count));
    CHECK(count == N && ids[0] == key_of(5) && dists[0] == 0.0f);

    /* Filters at selectivities from one item to all: exactly min(n, accepted), all accepted. */
    ann_search_options *options = NULL;
    OK(ann_search_options_new(&options));
    const size_t selectivities[] = {1, 3, N_ITEMS / 1000, N_ITEMS / 10, N_ITEMS};
    uint64_t *allow = malloc(N_ITEMS * sizeof(uint64_t));
    CHECK(allow != NULL);
    for (size_t s = 0; s < sizeof selectivities / sizeof *selectivities; s++) {
        size_t n_allow = selectivities[s];
        for (size_t i = 0; i < n_allow; i++) allow[i] = key_of((i * 7919) % N_ITEMS);
        OK(ann_search_options_set_allow_list(options, allow, n_allow));
        for (size_t q = 0; q < 20; q++) {
            OK(ann_search(index, data + q * DIM, N, options, ids, dists, &count));
            CHECK(count == (n_allow < N ? n_allow : N));
            for (size_t i = 0; i < count; i++) CHECK(listed(ids[i], allow, n_allow));
            for (size_t i = 1; i < count; i++) CHECK(dists[i - 1] <= dists[i]);
        }
    }
    /* A deny-list of everything but three keys, then a predicate with a context. */
    for (size_t i = 0; i < N_ITEMS; i++) allow[i] = key_of(i);
    ann_search_options_free(options);
    OK(ann_search_options_new(&options));
    OK(ann_search_options_set_deny_list(options, allow + 3, N_ITEMS - 3));
    OK(ann_search(index, data, N, options, ids, dists, &count));
    CHECK(count == 3);
    for (size_t i = 0; i < count; i++) CHECK(ids[i] == key_of(0) || ids[i] == key_of(1) || ids[i] == key_of(2));
    ann_search_options_free(options);

    uint64_t every = 50;
    OK(ann_search_options_new(&options));
    OK(ann_search_options_set_filter(options, every_kth, &every));
    OK(ann_search_options_set_search_k(options, 500));
    size_t counts[64];
    OK(ann_search_batch(index, data, 64, N, options, 4, ids, dists, counts));
    CHECK(calls > 0);
    for (size_t q = 0; q < 64; q++) {
        CHECK(counts[q] == N);
        for (size_t i = 0; i < N; i++) CHECK(((ids[q * N + i] - 12345u) >> 44) % every == 0);
        uint64_t single[N];
        OK(ann_search(index, data + q * DIM, N, options, single, NULL, &count));
        CHECK(count == N && memcmp(single, ids + q * N, sizeof single) == 0);
    }
    OK(ann_search_by_item(index, key_of(100), N, options, ids, dists, &count));
    CHECK(count == N && ids[0] == key_of(100) && dists[0] == 0.0f);
    OK(ann_search(index, data, N, NULL, ids, dists, &count)); /* NULL options: defaults */
    CHECK(count == N);

    /* Bad input: exact statuses, and the options stay usable. */
    EXPECT(ann_search_options_new(NULL), ANN_STATUS_NULL_POINTER);
    EXPECT(ann_search_options_set_search_k(NULL, 5), ANN_STATUS_NULL_POINTER);
    EXPECT(ann_search_options_set_search_k(options, -2), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_search_options_set_allow_list(options, NULL, 3), ANN_STATUS_NULL_POINTER);
    OK(ann_search_options_set_allow_list(options, NULL, 0)); /* an empty list: nothing accepted */
    OK(ann_search(index, data, N, options, ids, dists, &count));
    CHECK(count == 0);
    EXPECT(ann_search(index, data, N, options, NULL, dists, &count), ANN_STATUS_NULL_POINTER);
    EXPECT(ann_search_by_item(index, 3, N, options, ids, dists, &count), ANN_STATUS_INVALID_ARGUMENT);
    ann_search_options_free(options);
    ann_search_options_free(options); /* a double free is a no-op */
    ann_search_options_free(NULL);

    /* Shards: equal to the one index at exhaustive search_k; bad sets refused. */
    const char *paths[] = {shard_a, shard_b};
    ann_index *sharded = NULL;
    OK(ann_open_shards(paths, 2, false, &sharded));
    OK(ann_get_n_stored(sharded, &count64));
    CHECK(count64 == N_ITEMS);
    uint32_t trees = 0;
    OK(ann_get_n_trees(sharded, &trees));
    CHECK(trees == 16);
    for (size_t q = 0; q < 20; q++) {
        uint64_t one[N], many[N];
        float one_d[N], many_d[N];
        size_t c1 = 0, c2 = 0;
        OK(ann_get_nns(index, data + q * DIM, N, N_ITEMS * 8 * 4, one, one_d, &c1));
        OK(ann_get_nns(sharded, data + q * DIM, N, N_ITEMS * 8 * 4, many, many_d, &c2));
        CHECK(c1 == N && c2 == N && memcmp(one, many, sizeof one) == 0);
        CHECK(memcmp(one_d, many_d, sizeof one_d) == 0);
    }
    OK(ann_get_item_vector(sharded, key_of(1), v));
    CHECK(memcmp(v, data + DIM, sizeof v) == 0);
    EXPECT(ann_save(sharded, path), ANN_STATUS_INVALID_STATE);
    EXPECT(ann_add_item(sharded, 1, v), ANN_STATUS_INVALID_STATE);
    ann_free(sharded);

    ann_index *never = NULL;
    EXPECT(ann_open_shards(NULL, 2, false, &never), ANN_STATUS_NULL_POINTER);
    EXPECT(ann_open_shards(paths, 0, false, &never), ANN_STATUS_INVALID_ARGUMENT);
    const char *with_null[] = {shard_a, NULL};
    EXPECT(ann_open_shards(with_null, 2, false, &never), ANN_STATUS_NULL_POINTER);
    const char *twice[] = {shard_a, shard_a};
    EXPECT(ann_open_shards(twice, 2, false, &never), ANN_STATUS_INVALID_ARGUMENT);
    const char *with_whole[] = {shard_a, path};
    EXPECT(ann_open_shards(with_whole, 2, false, &never), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_open_shards(paths, 2, false, NULL), ANN_STATUS_NULL_POINTER);
    CHECK(never == NULL);

    ann_free(index);
    free(allow);
    free(data);
    printf("keys and filters ok\n");
    return 0;
}
