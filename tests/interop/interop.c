/* The cross-language program in C (protocol: bindings/README.md, "The cross-language test").
 *   interop build <metric> <dim> <vectors.f32> <n_trees> <seed> <out.ann> <out.annoy>
 *   interop query <native|annoy> <index file> <metric> <dim> <queries.f32> <n> <search_k>
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ann.h"

static int fail(const char *what) {
    char message[512];
    ann_last_error_message(message, sizeof message);
    fprintf(stderr, "%s failed: %s\n", what, message);
    return 1;
}

/* Reads a raw little-endian float32 file of rows of `dim` values; returns the row count. */
static float *read_rows(const char *path, uint32_t dim, size_t *rows) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *data = malloc(size > 0 ? (size_t)size : 1);
    if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(data);
        return NULL;
    }
    fclose(f);
    *rows = (size_t)size / (4u * dim);
    return data;
}

static uint32_t bits(float value) {
    uint32_t out;
    memcpy(&out, &value, sizeof out);
    return out;
}

static void print_neighbors(char tag, size_t row, const uint64_t *ids, const float *distances, size_t count) {
    printf("%c%zu:", tag, row);
    for (size_t i = 0; i < count; i++) printf(" %" PRIu64 ":%08x", ids[i], bits(distances[i]));
    printf("\n");
}

static int build(char **argv) {
    ann_metric metric;
    if (ann_metric_from_name(argv[2], &metric) != ANN_STATUS_OK) return fail("ann_metric_from_name");
    uint32_t dim = (uint32_t)strtoul(argv[3], NULL, 10);
    size_t rows = 0;
    float *vectors = read_rows(argv[4], dim, &rows);
    if (vectors == NULL) return fprintf(stderr, "cannot read %s\n", argv[4]), 1;
    ann_index *index = NULL;
    if (ann_new(dim, metric, &index) != ANN_STATUS_OK) return fail("ann_new");
    for (size_t i = 0; i < rows; i++)
        if (ann_add_item(index, i, vectors + i * dim) != ANN_STATUS_OK) return fail("ann_add_item");
    if (ann_set_seed(index, strtoull(argv[6], NULL, 10)) != ANN_STATUS_OK) return fail("ann_set_seed");
    if (ann_build(index, atoi(argv[5]), -1) != ANN_STATUS_OK) return fail("ann_build");
    if (ann_save(index, argv[7]) != ANN_STATUS_OK) return fail("ann_save");
    if (ann_save_annoy(index, argv[8]) != ANN_STATUS_OK) return fail("ann_save_annoy");
    if (ann_build_graph(index, 16, -1) != ANN_STATUS_OK) return fail("ann_build_graph");
    if (ann_save(index, argv[9]) != ANN_STATUS_OK) return fail("ann_save");
    ann_free(index);
    free(vectors);
    return 0;
}

static int query(char **argv) {
    ann_metric metric;
    if (ann_metric_from_name(argv[4], &metric) != ANN_STATUS_OK) return fail("ann_metric_from_name");
    uint32_t dim = (uint32_t)strtoul(argv[5], NULL, 10);
    size_t n = strtoull(argv[7], NULL, 10);
    int64_t search_k = strtoll(argv[8], NULL, 10);
    ann_index *index = NULL;
    if (strcmp(argv[2], "native") == 0) {
        if (ann_load(argv[3], false, &index) != ANN_STATUS_OK) return fail("ann_load");
    } else if (ann_load_annoy(argv[3], dim, metric, false, &index) != ANN_STATUS_OK) {
        return fail("ann_load_annoy");
    }
    uint64_t n_items;
    uint32_t n_trees, file_dim;
    ann_metric file_metric;
    ann_get_n_items(index, &n_items);
    ann_get_n_trees(index, &n_trees);
    ann_get_dim(index, &file_dim);
    ann_get_metric(index, &file_metric);
    if (file_dim != dim || file_metric != metric)
        return fprintf(stderr, "the file has dim %u, metric %s\n", file_dim, ann_metric_name(file_metric)), 1;
    printf("n_items %" PRIu64 " n_trees %u dim %u metric %s\n", n_items, n_trees, dim, ann_metric_name(metric));

    size_t rows = 0;
    float *queries = read_rows(argv[6], dim, &rows);
    if (queries == NULL) return fprintf(stderr, "cannot read %s\n", argv[6]), 1;
    uint64_t *ids = malloc((n + 1) * sizeof *ids);
    float *distances = malloc((n + 1) * sizeof *distances);
    float *vector = malloc(dim * sizeof *vector);
    size_t count = 0;
    for (size_t q = 0; q < rows; q++) {
        if (ann_get_nns(index, queries + q * dim, n, search_k, ids, distances, &count) != ANN_STATUS_OK)
            return fail("ann_get_nns");
        print_neighbors('q', q, ids, distances, count);
    }
    size_t shown = n_items < 5 ? (size_t)n_items : 5;
    for (size_t i = 0; i < shown; i++) {
        if (ann_get_nns_by_item(index, i, n, search_k, ids, distances, &count) != ANN_STATUS_OK)
            return fail("ann_get_nns_by_item");
        print_neighbors('i', i, ids, distances, count);
    }
    for (size_t i = 0; i < shown; i++) {
        if (ann_get_item_vector(index, i, vector) != ANN_STATUS_OK) return fail("ann_get_item_vector");
        printf("v%zu:", i);
        for (uint32_t d = 0; d < dim; d++) printf(" %08x", bits(vector[d]));
        printf("\n");
    }
    free(ids);
    free(distances);
    free(vector);
    free(queries);
    ann_free(index);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 10 && strcmp(argv[1], "build") == 0) return build(argv);
    if (argc == 9 && strcmp(argv[1], "query") == 0) return query(argv);
    fprintf(stderr,
            "usage: interop build <metric> <dim> <vectors.f32> <n_trees> <seed> <out.ann> <out.annoy>\n"
            "                    <out.graph.ann>\n"
            "       interop query <native|annoy> <index> <metric> <dim> <queries.f32> <n> <search_k>\n");
    return 2;
}
