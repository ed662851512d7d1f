/* 8 threads query one loaded index at once; every answer must equal the serial one.
 * Usage: threads DIR */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "check.h"

#define N_ITEMS 5000
#define DIM 32
#define N_QUERIES 200
#define N 10
#define THREADS 8
#define ROUNDS 5

static const ann_index *shared_index;
static const float *queries;
static uint64_t expected[N_QUERIES][N];
static float expected_dist[N_QUERIES][N];

static void *worker(void *arg) {
    long mismatches = 0;
    uint64_t ids[N];
    float dists[N];
    size_t count;
    for (int round = 0; round < ROUNDS; round++) {
        for (int q = 0; q < N_QUERIES; q++) {
            /* Each thread walks the queries in a different order. */
            int i = (q * 7 + (int)(intptr_t)arg * 31) % N_QUERIES;
            if (ann_get_nns(shared_index, queries + i * DIM, N, -1, ids, dists, &count) !=
                    ANN_STATUS_OK ||
                count != N || memcmp(ids, expected[i], sizeof ids) != 0 ||
                memcmp(dists, expected_dist[i], sizeof dists) != 0)
                mismatches++;
        }
    }
    return (void *)(intptr_t)mismatches;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char path[4096];
    snprintf(path, sizeof path, "%s/threads.ann", argv[1]);
    float *data = make_data(N_ITEMS, DIM, ANN_METRIC_ANGULAR);
    build_and_save(data, N_ITEMS, DIM, ANN_METRIC_ANGULAR, 10, path);

    ann_index *index = NULL;
    OK(ann_load(path, true, &index));
    shared_index = index;
    queries = data;
    size_t count;
    for (int q = 0; q < N_QUERIES; q++) {
        OK(ann_get_nns(index, data + q * DIM, N, -1, expected[q], expected_dist[q], &count));
        CHECK(count == N);
    }

    pthread_t threads[THREADS];
    for (long t = 0; t < THREADS; t++)
        CHECK(pthread_create(&threads[t], NULL, worker, (void *)(intptr_t)t) == 0);
    long mismatches = 0;
    for (int t = 0; t < THREADS; t++) {
        void *result;
        CHECK(pthread_join(threads[t], &result) == 0);
        mismatches += (long)(intptr_t)result;
    }
    CHECK(mismatches == 0);
    ann_free(index);
    free(data);
    printf("threads ok: %d threads x %d queries\n", THREADS, N_QUERIES * ROUNDS);
    return 0;
}
