/* Header-less Annoy files from C: tell them apart from native files, load them with their dim
 * and metric, convert both ways, and query in batches. Usage: annoy_files FIXTURES_DIR DIR */
#include "check.h"

#include <math.h>

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char annoy_path[4096], native_path[4096], copy_path[4096];
    snprintf(annoy_path, sizeof annoy_path, "%s/euclidean.annoy", argv[1]);
    snprintf(native_path, sizeof native_path, "%s/euclidean.ann", argv[2]);
    snprintf(copy_path, sizeof copy_path, "%s/copy.annoy", argv[2]);

    ann_file_summary info;
    memset(&info, 0xff, sizeof info);
    OK(ann_file_info(annoy_path, &info));
    CHECK(info.kind == ANN_FILE_ANNOY && info.file_size == 35840 && info.dim == 0);

    ann_index *index = NULL;
    EXPECT(ann_load_annoy(annoy_path, 11, ANN_METRIC_EUCLIDEAN, false, &index),
           ANN_STATUS_CORRUPT_FILE); /* wrong dim: not a whole number of nodes */
    EXPECT(ann_load_annoy(annoy_path, 10, 9, false, &index), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_load_annoy(NULL, 10, ANN_METRIC_EUCLIDEAN, false, &index), ANN_STATUS_NULL_POINTER);
    CHECK(index == NULL);
    OK(ann_load_annoy(annoy_path, 10, ANN_METRIC_EUCLIDEAN, true, &index));
    uint64_t n_items = 0;
    uint32_t n_trees = 0;
    OK(ann_get_n_items(index, &n_items));
    OK(ann_get_n_trees(index, &n_trees));
    CHECK(n_items == 300 && n_trees == 5);
    OK(ann_verify(index));

    /* Native copy: has a header, loads without dim or metric, answers the same. */
    OK(ann_save(index, native_path));
    OK(ann_file_info(native_path, &info));
    CHECK(info.kind == ANN_FILE_NATIVE && info.metric == ANN_METRIC_EUCLIDEAN && info.dim == 10);
    CHECK(info.n_items == 300 && info.n_trees == 5 && info.format_version == 1);
    ann_index *native = NULL;
    OK(ann_load(native_path, false, &native));
    EXPECT(ann_load(annoy_path, false, &native), ANN_STATUS_CORRUPT_FILE);

    /* Annoy copy: byte for byte the file Annoy wrote. */
    OK(ann_save_annoy(native, copy_path));
    FILE *a = fopen(annoy_path, "rb"), *b = fopen(copy_path, "rb");
    CHECK(a && b);
    int ca, cb;
    do {
        ca = fgetc(a);
        cb = fgetc(b);
        CHECK(ca == cb);
    } while (ca != EOF);
    fclose(a);
    fclose(b);

    /* Batch queries equal single ones, on several threads; short rows are padded. */
    enum { Q = 25, N = 7, DIM = 10 };
    float queries[Q * DIM];
    for (uint64_t q = 0; q < Q; q++) OK(ann_get_item_vector(index, q * 11, queries + q * DIM));
    uint64_t ids[Q * N], single[N];
    float dists[Q * N], single_d[N];
    size_t counts[Q], count;
    OK(ann_get_nns_batch(native, queries, Q, N, -1, 4, ids, dists, counts));
    for (int q = 0; q < Q; q++) {
        OK(ann_get_nns(index, queries + q * DIM, N, -1, single, single_d, &count));
        CHECK(counts[q] == count && count == N);
        CHECK(memcmp(ids + q * N, single, sizeof single) == 0);
        CHECK(memcmp(dists + q * N, single_d, sizeof single_d) == 0);
    }
    uint64_t wide[305];
    size_t one_count;
    OK(ann_get_nns_batch(index, queries, 1, 305, 100000, -1, wide, NULL, &one_count));
    CHECK(one_count == 300 && wide[300] == UINT64_MAX && wide[304] == UINT64_MAX);
    EXPECT(ann_get_nns_batch(index, queries, Q, N, -1, 0, ids, NULL, counts), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_get_nns_batch(index, queries, Q, N, -1, 1, ids, NULL, NULL), ANN_STATUS_NULL_POINTER);
    queries[3] = NAN;
    ids[0] = 42;
    EXPECT(ann_get_nns_batch(index, queries, Q, N, -1, 2, ids, NULL, counts), ANN_STATUS_INVALID_ARGUMENT);
    CHECK(ids[0] == 42); /* nothing written on failure */

    ann_free(index);
    ann_free(native);
    printf("annoy files ok\n");
    return 0;
}
