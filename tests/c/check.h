/* Assertions shared by the C test programs: a failure prints where, what, and the library's
 * own message, then exits with status 1 so the Rust harness reports it. */
#ifndef ANN_TEST_CHECK_H
#define ANN_TEST_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ann.h"

static inline void report_status(const char *file, int line, const char *call, ann_status got,
                          ann_status want) {
    char message[512];
    ann_last_error_message(message, sizeof message);
    fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", file, line, call,
            ann_status_name(got), ann_status_name(want), message);
    exit(1);
}

/* The call must return exactly `want`. */
#define EXPECT(call, want)                                              \
    do {                                                                \
        ann_status got_ = (call);                                       \
        if (got_ != (want)) report_status(__FILE__, __LINE__, #call, got_, (want)); \
    } while (0)

#define OK(call) EXPECT(call, ANN_STATUS_OK)

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

/* Deterministic data: xorshift64* floats in [-1, 1), or 0/1 bits for hamming. */
static uint64_t rng_state = 88172645463325252ULL;

static inline float next_float(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (float)((rng_state * 2685821657736338717ULL) >> 40) / (float)(1 << 23) - 1.0f;
}

static inline float *make_data(size_t n, uint32_t dim, ann_metric metric) {
    float *data = malloc(n * dim * sizeof(float));
    CHECK(data != NULL);
    for (size_t i = 0; i < n * dim; i++) {
        float x = next_float();
        data[i] = metric == ANN_METRIC_HAMMING ? (x > 0.0f ? 1.0f : 0.0f) : x;
    }
    return data;
}

/* Builds an index of `n` items from `data` and saves it to `path`. */
static inline void build_and_save(const float *data, size_t n, uint32_t dim, ann_metric metric,
                           int32_t trees, const char *path) {
    ann_index *index = NULL;
    OK(ann_new(dim, metric, &index));
    for (size_t i = 0; i < n; i++) OK(ann_add_item(index, i, data + i * dim));
    OK(ann_set_seed(index, 42));
    OK(ann_build(index, trees, -1));
    OK(ann_save(index, path));
    ann_free(index);
}

#endif
