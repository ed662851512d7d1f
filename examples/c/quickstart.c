/* ann from C: build an index, save it, memory-map it back, and query it.
 *
 *   cargo build --release
 *   ln -sf libann.so target/release/libann.so.1
 *   cc -std=c99 -Wall -Iinclude examples/c/quickstart.c -Ltarget/release -lann \
 *      -Wl,-rpath,"$PWD/target/release" -o quickstart
 *   ./quickstart
 */
#include <stdio.h>

#include "ann.h"

/* Prints the library's message for a failed call and returns 1. */
static int fail(const char *what) {
    char message[512];
    ann_last_error_message(message, sizeof message);
    fprintf(stderr, "%s failed: %s\n", what, message);
    return 1;
}

int main(void) {
    const float vectors[4][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0.7f, 0.7f, 0}};
    ann_index *index = NULL;
    if (ann_new(3, ANN_METRIC_ANGULAR, &index) != ANN_STATUS_OK) return fail("ann_new");
    for (uint64_t id = 0; id < 4; id++)
        if (ann_add_item(index, id, vectors[id]) != ANN_STATUS_OK) return fail("ann_add_item");
    if (ann_build(index, 10, -1) != ANN_STATUS_OK) return fail("ann_build");
    if (ann_save(index, "quickstart.ann") != ANN_STATUS_OK) return fail("ann_save");
    ann_free(index);

    ann_index *loaded = NULL; /* memory-mapped: many processes can share one file */
    if (ann_load("quickstart.ann", false, &loaded) != ANN_STATUS_OK) return fail("ann_load");
    const float query[3] = {0.9f, 0.6f, 0.0f};
    uint64_t ids[3];
    float distances[3];
    size_t count = 0;
    if (ann_get_nns(loaded, query, 3, -1, ids, distances, &count) != ANN_STATUS_OK)
        return fail("ann_get_nns");
    for (size_t i = 0; i < count; i++)
        printf("id %llu at distance %.4f\n", (unsigned long long)ids[i], distances[i]);
    ann_free(loaded);
    return 0;
}
