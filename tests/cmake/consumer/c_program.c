/* Built, saved, loaded and queried through the installed (or vendored) libann, linked shared or
 * static. Exits non-zero, with the reason, on the first failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ann.h"

#define N_ITEMS 200
#define DIM 8

static int fail(const char *what) {
    char message[512];
    ann_last_error_message(message, sizeof message);
    fprintf(stderr, "%s failed: %s\n", what, message);
    return 1;
}

int main(void) {
    if (strcmp(ann_version(), ANN_EXPECTED_VERSION) != 0) {
        fprintf(stderr, "library version %s, package version %s\n", ann_version(), ANN_EXPECTED_VERSION);
        return 1;
    }
    if (ann_abi_version() != ANN_ABI_VERSION) {
        fprintf(stderr, "library ABI %u, header ABI %d\n", ann_abi_version(), ANN_ABI_VERSION);
        return 1;
    }

    ann_index *index = NULL;
    if (ann_new(DIM, ANN_METRIC_EUCLIDEAN, &index) != ANN_STATUS_OK) return fail("ann_new");
    float vectors[N_ITEMS][DIM];
    srand(7);
    for (uint64_t id = 0; id < N_ITEMS; id++) {
        for (int d = 0; d < DIM; d++) vectors[id][d] = (float)rand() / (float)RAND_MAX;
        if (ann_add_item(index, id, vectors[id]) != ANN_STATUS_OK) return fail("ann_add_item");
    }
    if (ann_build(index, 10, -1) != ANN_STATUS_OK) return fail("ann_build");
    if (ann_save(index, "consumer.ann") != ANN_STATUS_OK) return fail("ann_save");
    ann_free(index);

    ann_index *loaded = NULL;
    if (ann_load("consumer.ann", false, &loaded) != ANN_STATUS_OK) return fail("ann_load");
    /* Every item finds itself first, at distance 0, with an exhaustive search_k. */
    for (uint64_t id = 0; id < N_ITEMS; id++) {
        uint64_t ids[5];
        float distances[5];
        size_t count = 0;
        if (ann_get_nns(loaded, vectors[id], 5, N_ITEMS * 10, ids, distances, &count) != ANN_STATUS_OK)
            return fail("ann_get_nns");
        if (count != 5 || ids[0] != id || fabsf(distances[0]) > 1e-6f) {
            fprintf(stderr, "item %llu: nearest is %llu at %g\n", (unsigned long long)id,
                    (unsigned long long)ids[0], distances[0]);
            return 1;
        }
    }
    /* Errors arrive as statuses with a message, also through this link. */
    if (ann_add_item(loaded, 0, vectors[0]) != ANN_STATUS_INVALID_STATE) {
        fprintf(stderr, "adding to a loaded index was not refused\n");
        return 1;
    }
    char message[256];
    ann_last_error_message(message, sizeof message);
    if (strstr(message, "ann_add_item") == NULL) {
        fprintf(stderr, "unexpected message: %s\n", message);
        return 1;
    }
    ann_free(loaded);
    printf("c ok: libann %s, abi %u\n", ann_version(), ann_abi_version());
    return 0;
}
