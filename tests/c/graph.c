/* The graph through the C ABI: bad calls get exact statuses, a graph search with a wide beam
 * finds what an exhaustive forest search finds, Annoy-style calls use the graph too, filters
 * return exactly min(n, accepted), and a saved graph loads with identical answers.
 * Usage: graph DIR */
#include "check.h"

#define N_ITEMS 3000
#define DIM 16
#define N 10
#define N_QUERIES 30

static size_t overlap(const uint64_t *a, const uint64_t *b, size_t n) {
    size_t hits = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) hits += a[i] == b[j];
    return hits;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char path[4096];
    snprintf(path, sizeof path, "%s/graph.ann", argv[1]);
    float *data = make_data(N_ITEMS, DIM, ANN_METRIC_EUCLIDEAN);
    float *queries = make_data(N_QUERIES, DIM, ANN_METRIC_EUCLIDEAN);

    ann_index *forest = NULL, *graph = NULL;
    OK(ann_new(DIM, ANN_METRIC_EUCLIDEAN, &forest));
    OK(ann_new(DIM, ANN_METRIC_EUCLIDEAN, &graph));
    for (size_t i = 0; i < N_ITEMS; i++) {
        OK(ann_add_item(forest, i, data + i * DIM));
        OK(ann_add_item(graph, i, data + i * DIM));
    }
    bool has = true;
    EXPECT(ann_build_graph(NULL, 0, 1), ANN_STATUS_NULL_POINTER);
    EXPECT(ann_build_graph(graph, 0, 1), ANN_STATUS_INVALID_STATE);
    OK(ann_build(forest, 4, 1));
    OK(ann_build(graph, 4, 1));
    EXPECT(ann_has_graph(NULL, &has), ANN_STATUS_NULL_POINTER);
    EXPECT(ann_has_graph(graph, NULL), ANN_STATUS_NULL_POINTER);
    OK(ann_has_graph(graph, &has));
    CHECK(!has);
    EXPECT(ann_build_graph(graph, 257, 1), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_build_graph(graph, 0, 0), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_build_graph(graph, 0, -2), ANN_STATUS_INVALID_ARGUMENT);
    OK(ann_build_graph(graph, 0, -1));
    OK(ann_has_graph(graph, &has));
    CHECK(has);

    ann_search_options *wide = NULL, *exhaustive = NULL;
    OK(ann_search_options_new(&wide));
    OK(ann_search_options_new(&exhaustive));
    EXPECT(ann_search_options_set_ef(NULL, 10), ANN_STATUS_NULL_POINTER);
    OK(ann_search_options_set_ef(wide, 200));
    OK(ann_search_options_set_search_k(exhaustive, (int64_t)N_ITEMS * 4 * 4));

    /* A wide beam finds what visiting every item finds. */
    uint64_t ids[N], truth[N], again[N];
    float distances[N], distances_again[N];
    size_t count = 0, hits = 0;
    for (size_t q = 0; q < N_QUERIES; q++) {
        const float *v = queries + q * DIM;
        OK(ann_search(forest, v, N, exhaustive, truth, NULL, &count));
        CHECK(count == N);
        OK(ann_search(graph, v, N, wide, ids, NULL, &count));
        CHECK(count == N);
        hits += overlap(ids, truth, N);
        /* Annoy's call with only search_k walks the graph too. */
        OK(ann_get_nns(graph, v, N, -1, ids, NULL, &count));
        CHECK(count == N);
    }
    CHECK(hits >= (size_t)(0.98 * N * N_QUERIES));

    /* Filters: exactly min(n, accepted). */
    ann_search_options *filtered = NULL;
    OK(ann_search_options_new(&filtered));
    OK(ann_search_options_set_ef(filtered, 12));
    uint64_t allow[3] = {5, 1500, 2999};
    OK(ann_search_options_set_allow_list(filtered, allow, 3));
    OK(ann_search(graph, queries, N, filtered, ids, NULL, &count));
    CHECK(count == 3);
    uint64_t deny[1] = {ids[0]};
    OK(ann_search_options_set_allow_list(filtered, NULL, 0));
    OK(ann_search(graph, queries, N, filtered, ids, NULL, &count));
    CHECK(count == 0);
    ann_search_options_free(filtered);
    OK(ann_search_options_new(&filtered));
    OK(ann_search_options_set_deny_list(filtered, deny, 1));
    OK(ann_search(graph, queries, N, filtered, ids, NULL, &count));
    CHECK(count == N);
    for (size_t i = 0; i < N; i++) CHECK(ids[i] != deny[0]);
    ann_search_options_free(filtered);

    /* Save and load: the graph comes back, answers are identical. */
    OK(ann_search(graph, queries, N, wide, ids, distances, &count));
    OK(ann_save(graph, path));
    ann_index *loaded = NULL;
    OK(ann_load(path, false, &loaded));
    OK(ann_has_graph(loaded, &has));
    CHECK(has);
    OK(ann_verify(loaded));
    OK(ann_search(loaded, queries, N, wide, again, distances_again, &count));
    CHECK(count == N);
    CHECK(memcmp(ids, again, sizeof ids) == 0);
    CHECK(memcmp(distances, distances_again, sizeof distances) == 0);

    ann_free(loaded);
    ann_search_options_free(wide);
    ann_search_options_free(exhaustive);
    ann_free(graph);
    ann_free(forest);
    free(data);
    free(queries);
    printf("graph ok\n");
    return 0;
}
