/* The whole lifecycle for every metric: new, add, build, save, load, query, item vector,
 * distance, counts. Prints each file's by-item neighbours so the Rust test can compare them
 * with its own reading of the same files. Usage: lifecycle DIR */
#include "check.h"

#define N_ITEMS 1000
#define N 10

static void same_results(const ann_index *a, const ann_index *b, const float *query) {
    uint64_t ids_a[N], ids_b[N];
    float dist_a[N], dist_b[N];
    size_t count_a = 0, count_b = 0;
    OK(ann_get_nns(a, query, N, -1, ids_a, dist_a, &count_a));
    OK(ann_get_nns(b, query, N, -1, ids_b, dist_b, &count_b));
    CHECK(count_a == N && count_b == N);
    CHECK(memcmp(ids_a, ids_b, sizeof ids_a) == 0);
    CHECK(memcmp(dist_a, dist_b, sizeof dist_a) == 0);
}

static void run_metric(ann_metric metric, const char *dir) {
    const uint32_t dim = metric == ANN_METRIC_HAMMING ? 100 : 16;
    const char *name = ann_metric_name(metric);
    float *data = make_data(N_ITEMS, dim, metric);

    ann_index *built = NULL;
    OK(ann_new(dim, metric, &built));
    for (uint64_t i = 0; i < N_ITEMS; i++) OK(ann_add_item(built, i, data + i * dim));
    OK(ann_set_seed(built, 7));
    OK(ann_build(built, 8, -1));

    char path[4096];
    snprintf(path, sizeof path, "%s/%s.ann", dir, name);
    OK(ann_save(built, path));
    ann_index *loaded = NULL;
    OK(ann_load(path, false, &loaded));
    OK(ann_verify(loaded));

    const ann_index *both[2] = {built, loaded};
    for (int k = 0; k < 2; k++) {
        uint64_t n_items = 0, seed = 0;
        uint32_t n_trees = 0, got_dim = 0;
        ann_metric got_metric = 99;
        OK(ann_get_n_items(both[k], &n_items));
        OK(ann_get_n_trees(both[k], &n_trees));
        OK(ann_get_dim(both[k], &got_dim));
        OK(ann_get_metric(both[k], &got_metric));
        OK(ann_get_seed(both[k], &seed));
        CHECK(n_items == N_ITEMS && n_trees == 8 && got_dim == dim && got_metric == metric);
        CHECK(seed == 7);
    }

    for (int q = 0; q < 20; q++) same_results(built, loaded, data + q * dim);

    /* An item is its own nearest neighbour at distance 0 (not under dot). */
    uint64_t ids[N];
    float dists[N];
    size_t count = 0;
    for (uint64_t q = 0; q < 5; q++) {
        OK(ann_get_nns_by_item(loaded, q, N, 5000, ids, dists, &count));
        CHECK(count == N);
        if (metric != ANN_METRIC_DOT) CHECK(ids[0] == q && dists[0] == 0.0f);
        printf("%s item %llu:", name, (unsigned long long)q);
        for (size_t i = 0; i < count; i++) printf(" %llu", (unsigned long long)ids[i]);
        printf("\n");
        for (size_t i = 0; i < count; i++) {
            float d = -1.0f;
            OK(ann_get_distance(loaded, q, ids[i], &d));
            CHECK(d == dists[i]);
        }
    }
    /* Distances are optional; fewer items than asked for come back as they are. */
    OK(ann_get_nns(loaded, data, N, -1, ids, NULL, &count));
    CHECK(count == N);
    uint64_t all[N_ITEMS + 5];
    OK(ann_get_nns(loaded, data, N_ITEMS + 5, 1000000, all, NULL, &count));
    CHECK(count == N_ITEMS);

    float *vector = malloc(dim * sizeof(float));
    CHECK(vector != NULL);
    OK(ann_get_item_vector(loaded, 123, vector));
    CHECK(memcmp(vector, data + 123 * dim, dim * sizeof(float)) == 0);
    free(vector);

    if (metric == ANN_METRIC_HAMMING) {
        uint64_t words[2];
        size_t n_words = 0;
        OK(ann_get_item_packed(loaded, 123, words, 2, &n_words));
        CHECK(n_words == 2);
        for (uint32_t j = 0; j < dim; j++)
            CHECK(((words[j / 64] >> (j % 64)) & 1) == (data[123 * dim + j] > 0.5f));
        OK(ann_get_nns_packed(loaded, words, 2, 1, -1, ids, dists, &count));
        CHECK(count == 1 && ids[0] == 123 && dists[0] == 0.0f);
        ann_index *packed = NULL;
        OK(ann_new(dim, metric, &packed));
        OK(ann_add_item_packed(packed, 0, words, 2));
        OK(ann_build(packed, 1, 1));
        OK(ann_get_nns_packed(packed, words, 2, 1, -1, ids, NULL, &count));
        CHECK(count == 1 && ids[0] == 0);
        ann_free(packed);
    }

    /* Unbuild, add one more, rebuild: the new item is found. */
    OK(ann_unbuild(built));
    OK(ann_add_item(built, N_ITEMS, data));
    OK(ann_build(built, 8, 2));
    OK(ann_get_nns_by_item(built, N_ITEMS, 2, -1, ids, dists, &count));
    if (metric != ANN_METRIC_DOT) CHECK(dists[0] == 0.0f && (ids[0] == 0 || ids[0] == N_ITEMS));

    ann_free(built);
    ann_free(loaded);
    free(data);
    printf("%s ok\n", name);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    const ann_metric metrics[] = {ANN_METRIC_ANGULAR, ANN_METRIC_EUCLIDEAN, ANN_METRIC_MANHATTAN,
                                  ANN_METRIC_DOT, ANN_METRIC_HAMMING};
    for (size_t m = 0; m < sizeof metrics / sizeof metrics[0]; m++) run_metric(metrics[m], argv[1]);
    return 0;
}
