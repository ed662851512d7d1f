/* Every status code provoked on purpose, with the exact code expected and a useful message.
 * (ANN_STATUS_PANIC cannot be provoked without a bug; a Rust unit test covers its mapping.)
 * Usage: errors DIR */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <sys/resource.h>

#include "check.h"

static char last_message[1024];

/* The call must fail with `want`, and the message must mention `needle`. */
#define FAILS(call, want, needle)                                                  \
    do {                                                                           \
        EXPECT(call, want);                                                        \
        ann_last_error_message(last_message, sizeof last_message);                 \
        if (strstr(last_message, (needle)) == NULL) {                              \
            fprintf(stderr, "%s:%d: message \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, \
                    last_message, (needle));                                       \
            exit(1);                                                               \
        }                                                                          \
    } while (0)

static void write_file(const char *path, const void *bytes, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(bytes, 1, len, f) == len);
    CHECK(fclose(f) == 0);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char path[4096], bad[4096];
    float v[4] = {1.0f, 2.0f, 3.0f, 4.0f};
    uint64_t ids[4], n_items = 0;
    float dists[4];
    size_t count = 0;
    ann_index *index = NULL, *loaded = NULL;

    /* NULL pointers */
    FAILS(ann_new(4, ANN_METRIC_ANGULAR, NULL), ANN_STATUS_NULL_POINTER, "`out` is NULL");
    FAILS(ann_add_item(NULL, 0, v), ANN_STATUS_NULL_POINTER, "`index` is NULL");
    OK(ann_new(4, ANN_METRIC_EUCLIDEAN, &index));
    FAILS(ann_add_item(index, 0, NULL), ANN_STATUS_NULL_POINTER, "`vector` is NULL");
    FAILS(ann_get_n_items(index, NULL), ANN_STATUS_NULL_POINTER, "NULL");
    FAILS(ann_save(index, NULL), ANN_STATUS_NULL_POINTER, "`path` is NULL");
    FAILS(ann_load(NULL, false, &loaded), ANN_STATUS_NULL_POINTER, "`path` is NULL");
    ann_metric parsed = 99;
    FAILS(ann_metric_from_name(NULL, &parsed), ANN_STATUS_NULL_POINTER, "`name` is NULL");
    CHECK(loaded == NULL); /* outputs are untouched on failure */

    /* Invalid arguments */
    ann_index *never = NULL;
    FAILS(ann_new(4, 99, &never), ANN_STATUS_INVALID_ARGUMENT, "unknown metric value 99");
    FAILS(ann_new(0, ANN_METRIC_DOT, &never), ANN_STATUS_INVALID_ARGUMENT, "dimension");
    CHECK(never == NULL);
    float with_nan[4] = {1.0f, NAN, 0.0f, 0.0f};
    FAILS(ann_add_item(index, 0, with_nan), ANN_STATUS_INVALID_ARGUMENT, "NaN");
    FAILS(ann_add_item(index, UINT64_MAX, v), ANN_STATUS_INVALID_ARGUMENT, "reserved");
    float aligned[5] = {0};
    FAILS(ann_add_item(index, 0, (const float *)((const char *)aligned + 1)),
          ANN_STATUS_INVALID_ARGUMENT, "aligned");
    FAILS(ann_build(index, 0, 1), ANN_STATUS_INVALID_ARGUMENT, "n_trees");
    FAILS(ann_build(index, 1, 0), ANN_STATUS_INVALID_ARGUMENT, "n_threads");
    ann_metric metric = 99;
    FAILS(ann_metric_from_name("cosinus", &metric), ANN_STATUS_INVALID_ARGUMENT, "unknown metric");
    CHECK(metric == 99);
    OK(ann_metric_from_name("cosine", &metric));
    CHECK(metric == ANN_METRIC_ANGULAR);
    FAILS(ann_add_item_packed(index, 0, ids, 1), ANN_STATUS_INVALID_ARGUMENT, "hamming");

    /* Wrong state */
    FAILS(ann_get_nns(index, v, 1, -1, ids, dists, &count), ANN_STATUS_INVALID_STATE, "call build");
    snprintf(path, sizeof path, "%s/errors.ann", argv[1]);
    FAILS(ann_save(index, path), ANN_STATUS_INVALID_STATE, "not built");
    for (uint64_t i = 0; i < 20; i++) {
        v[0] = (float)i;
        OK(ann_add_item(index, i * 2, v)); /* odd ids are holes */
    }
    OK(ann_build(index, 3, 1));
    FAILS(ann_build(index, 3, 1), ANN_STATUS_INVALID_STATE, "already built");
    FAILS(ann_add_item(index, 50, v), ANN_STATUS_INVALID_STATE, "call unbuild first");
    FAILS(ann_get_nns(index, v, 1, -5, ids, dists, &count), ANN_STATUS_INVALID_ARGUMENT, "search_k");
    FAILS(ann_get_nns_by_item(index, 3, 1, -1, ids, dists, &count), ANN_STATUS_INVALID_ARGUMENT,
          "never added");
    FAILS(ann_get_item_vector(index, 1000, v), ANN_STATUS_INVALID_ARGUMENT, "does not exist");
    FAILS(ann_get_nns(index, v, 4, -1, NULL, dists, &count), ANN_STATUS_NULL_POINTER, "out_ids");
    FAILS(ann_get_nns(index, v, 4, -1, ids, dists, NULL), ANN_STATUS_NULL_POINTER, "out_count");
    FAILS(ann_get_nns(index, v, SIZE_MAX, -1, ids, dists, &count), ANN_STATUS_INVALID_ARGUMENT,
          "larger than any buffer");
    OK(ann_get_nns(index, v, 0, -1, NULL, NULL, &count)); /* n = 0 needs no buffers */
    CHECK(count == 0);
    float with_inf[4] = {1.0f, INFINITY, 0.0f, 0.0f};
    FAILS(ann_get_nns(index, with_inf, 1, -1, ids, dists, &count), ANN_STATUS_INVALID_ARGUMENT,
          "finite");
    OK(ann_get_nns(index, v, 1, INT64_MAX, ids, dists, &count)); /* huge search_k: exhaustive */
    CHECK(count == 1);
    /* Dimensions: 1 and 65,536 work; above the limit (2^24) is refused. */
    ann_index *dims = NULL;
    OK(ann_new(1, ANN_METRIC_EUCLIDEAN, &dims));
    ann_free(dims);
    OK(ann_new(65536, ANN_METRIC_ANGULAR, &dims));
    ann_free(dims);
    dims = NULL;
    FAILS(ann_new((1u << 24) + 1, ANN_METRIC_EUCLIDEAN, &dims), ANN_STATUS_INVALID_ARGUMENT,
          "dimension must be between 1 and 16777216");
    CHECK(dims == NULL);
    /* After every failure above, the index answers as before. */
    OK(ann_get_nns_by_item(index, 4, 1, -1, ids, dists, &count));
    CHECK(count == 1 && ids[0] == 4);
    OK(ann_save(index, path));
    OK(ann_load(path, false, &loaded));
    FAILS(ann_add_item(loaded, 0, v), ANN_STATUS_INVALID_STATE, "loaded index");
    FAILS(ann_build(loaded, 1, 1), ANN_STATUS_INVALID_STATE, "loaded index");
    FAILS(ann_unbuild(loaded), ANN_STATUS_INVALID_STATE, "loaded index");
    FAILS(ann_set_seed(loaded, 5), ANN_STATUS_INVALID_STATE, "keeps the seed it was built with");
    ann_free(loaded);
    loaded = NULL;

    /* I/O */
    FAILS(ann_load("/nonexistent-dir/x.ann", false, &loaded), ANN_STATUS_IO, "/nonexistent-dir/x.ann");
    FAILS(ann_save(index, "/nonexistent-dir/x.ann"), ANN_STATUS_IO, "nonexistent-dir");
    FAILS(ann_save(index, ""), ANN_STATUS_IO, "empty path");
    FAILS(ann_load("", false, &loaded), ANN_STATUS_IO, "empty path");
    CHECK(loaded == NULL);

    /* Corrupt files: not an index, truncated, an Annoy body without a header. */
    snprintf(bad, sizeof bad, "%s/garbage.ann", argv[1]);
    write_file(bad, "definitely not an index", 23);
    FAILS(ann_load(bad, false, &loaded), ANN_STATUS_CORRUPT_FILE, "not an ann index");
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    char head[700];
    CHECK(fread(head, 1, sizeof head, f) == sizeof head);
    fclose(f);
    write_file(bad, head, sizeof head);
    FAILS(ann_load(bad, false, &loaded), ANN_STATUS_CORRUPT_FILE, "truncated");
    write_file(bad, "", 0);
    FAILS(ann_load(bad, false, &loaded), ANN_STATUS_CORRUPT_FILE, "empty");
    CHECK(loaded == NULL);

    /* Buffer too small */
    ann_index *bits = NULL;
    OK(ann_new(100, ANN_METRIC_HAMMING, &bits));
    uint64_t words[2] = {5, 9}, small[1] = {77};
    OK(ann_add_item_packed(bits, 0, words, 2));
    count = 1234;
    FAILS(ann_get_item_packed(bits, 0, small, 1, &count), ANN_STATUS_BUFFER_TOO_SMALL, "2 words");
    CHECK(count == 1234 && small[0] == 77);
    FAILS(ann_add_item_packed(bits, 1, words, 1), ANN_STATUS_INVALID_ARGUMENT, "words");
    ann_free(bits);

    /* Out of memory: cap the address space, then ask for 1,001 slots (Annoy's layout keeps
     * key 1000 in slot 1000) of 64 MiB vectors. */
    const uint32_t huge_dim = 1u << 24;
    float *big = calloc(huge_dim, sizeof(float));
    CHECK(big != NULL);
    struct rlimit limit;
    CHECK(getrlimit(RLIMIT_AS, &limit) == 0);
    struct rlimit capped = limit;
    capped.rlim_cur = (rlim_t)4 << 30;
    CHECK(setrlimit(RLIMIT_AS, &capped) == 0);
    ann_index *huge = NULL;
    OK(ann_new(huge_dim, ANN_METRIC_EUCLIDEAN, &huge));
    FAILS(ann_add_item(huge, 1000, big), ANN_STATUS_OUT_OF_MEMORY, "could not allocate");
    CHECK(setrlimit(RLIMIT_AS, &limit) == 0);
    OK(ann_add_item(huge, 0, big)); /* still usable afterwards */
    OK(ann_get_n_items(huge, &n_items));
    CHECK(n_items == 1);
    ann_free(huge);
    free(big);

    /* Messages: sized by a zero-length call, truncated but terminated, per thread. */
    FAILS(ann_new(4, 77, &never), ANN_STATUS_INVALID_ARGUMENT, "77");
    size_t needed = ann_last_error_message(NULL, 0);
    CHECK(needed == strlen(last_message) + 1);
    char tiny[8];
    CHECK(ann_last_error_message(tiny, sizeof tiny) == needed);
    CHECK(tiny[7] == '\0' && strncmp(tiny, last_message, 7) == 0);
    OK(ann_get_n_items(index, &n_items)); /* success leaves the message alone */
    CHECK(ann_last_error_message(NULL, 0) == needed);

    /* Names, versions, NULL-safe free */
    CHECK(strcmp(ann_status_name(ANN_STATUS_CORRUPT_FILE), "ANN_STATUS_CORRUPT_FILE") == 0);
    CHECK(strcmp(ann_status_name(12345), "ANN_STATUS_UNKNOWN") == 0);
    CHECK(strcmp(ann_metric_name(ANN_METRIC_DOT), "dot") == 0);
    CHECK(ann_metric_name(5) == NULL);
    CHECK(ann_abi_version() == ANN_ABI_VERSION);
    CHECK(ann_version() != NULL && strlen(ann_version()) > 0);
    ann_free(NULL);
    ann_free(index);
    /* A freed handle, a garbage pointer, or a handle of another type is refused, never read. */
    FAILS(ann_get_n_items(index, &n_items), ANN_STATUS_INVALID_ARGUMENT, "not a live handle");
    ann_free(index); /* a double free is a no-op */
    uint64_t garbage[8] = {0};
    FAILS(ann_get_n_items((const ann_index *)garbage, &n_items), ANN_STATUS_INVALID_ARGUMENT,
          "not a live handle");
    ann_search_options *options = NULL;
    OK(ann_search_options_new(&options));
    FAILS(ann_get_n_items((const ann_index *)options, &n_items), ANN_STATUS_INVALID_ARGUMENT,
          "not a live handle");
    ann_free((ann_index *)options); /* not an index: ignored, the options stay usable */
    OK(ann_search_options_set_search_k(options, 10));
    ann_search_options_free(options);
    printf("errors ok\n");
    return 0;
}
