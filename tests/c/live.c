/* Live indexes through the C ABI: a writer upserts and deletes, its read handle sees each
 * write at once, a reader in another process sees them after ann_refresh (also across a
 * compaction), a second writer is refused, and bad input gets exact statuses.
 * Usage: live DIR */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define DIM 8

static void vector_for(uint64_t key, float *v) {
    for (int j = 0; j < DIM; j++) v[j] = (float)((key * 2654435761u + (uint64_t)j * 40503u) % 1000) / 500.0f - 1.0f;
}

/* The reader process: waits for a byte on `go`, refreshes, checks `expected` items, answers. */
static int reader(const char *dir, int go, int done) {
    ann_index *index = NULL;
    OK(ann_open(dir, false, &index));
    char step;
    uint64_t expected[] = {200, 150, 151};
    for (int i = 0; i < 3; i++) {
        CHECK(read(go, &step, 1) == 1);
        bool changed = false;
        OK(ann_refresh(index, &changed));
        CHECK(changed == (i > 0)); /* the open already saw the first 200 */
        uint64_t stored = 0;
        OK(ann_get_n_stored(index, &stored));
        if (stored != expected[i]) {
            fprintf(stderr, "reader: step %d sees %llu items, expected %llu\n", i,
                    (unsigned long long)stored, (unsigned long long)expected[i]);
            return 1;
        }
        float v[DIM], want[DIM];
        vector_for(7, want);
        OK(ann_get_item_vector(index, 7, v));
        CHECK(memcmp(v, want, sizeof v) == 0);
        if (i > 0) EXPECT(ann_get_item_vector(index, 3, v), ANN_STATUS_INVALID_ARGUMENT); /* deleted */
        CHECK(write(done, "k", 1) == 1);
    }
    ann_free(index);
    return 0;
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/live-index", argv[1]);
    ann_writer_options *options = NULL;
    OK(ann_writer_options_new(DIM, ANN_METRIC_EUCLIDEAN, &options));
    OK(ann_writer_options_set_n_trees(options, 4));
    EXPECT(ann_writer_options_set_durability(options, 7), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_writer_options_set_flush_ms(options, 0), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_writer_options_set_graph(options, true, 257), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_writer_options_set_graph(NULL, true, 8), ANN_STATUS_NULL_POINTER);
    OK(ann_writer_options_set_graph(options, true, 8)); /* compaction builds a graph */
    ann_writer *writer = NULL;
    OK(ann_writer_open(dir, options, &writer));
    ann_writer *second = NULL;
    EXPECT(ann_writer_open(dir, options, &second), ANN_STATUS_INVALID_STATE);
    CHECK(second == NULL);

    ann_index *mine = NULL;
    OK(ann_writer_index(writer, &mine));
    float v[DIM];
    uint64_t keys[100];
    float vectors[100 * DIM];
    for (uint64_t k = 0; k < 100; k++) {
        vector_for(k, v);
        OK(ann_upsert(writer, k, v));
        uint64_t ids[1];
        size_t count = 0;
        OK(ann_search(mine, v, 1, NULL, ids, NULL, &count)); /* visible at once */
        CHECK(count == 1 && ids[0] == k);
        keys[k] = k + 100;
        vector_for(k + 100, vectors + k * DIM);
    }
    OK(ann_upsert_batch(writer, keys, vectors, 100));

    int go[2], done[2];
    CHECK(pipe(go) == 0 && pipe(done) == 0);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) {
        close(go[1]);
        close(done[0]);
        _exit(reader(dir, go[0], done[1]));
    }
    close(go[0]); /* so a reader that dies gives end-of-file, not a hang */
    close(done[1]);
    char ack;
    /* Step 1: 200 items written before the reader's first refresh. */
    CHECK(write(go[1], "g", 1) == 1 && read(done[0], &ack, 1) == 1);
    /* Step 2: 50 deletes, one of them key 3, and one unknown key. */
    bool existed = true;
    OK(ann_delete(writer, 1ULL << 50, &existed));
    CHECK(!existed);
    size_t deleted = 0;
    OK(ann_delete_batch(writer, keys + 50, 49, &deleted));
    CHECK(deleted == 49);
    OK(ann_delete(writer, 3, &existed));
    CHECK(existed);
    CHECK(write(go[1], "g", 1) == 1 && read(done[0], &ack, 1) == 1);
    /* Step 3: a compaction, then one more write: the reader moves to the new generation. */
    bool graph = true;
    OK(ann_has_graph(mine, &graph));
    CHECK(!graph); /* the delta has no graph */
    OK(ann_compact(writer, 2));
    OK(ann_has_graph(mine, &graph));
    CHECK(graph);
    vector_for(5000, v);
    OK(ann_upsert(writer, 5000, v));
    CHECK(write(go[1], "g", 1) == 1 && read(done[0], &ack, 1) == 1);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Export: one file with the live items. */
    char exported[4200];
    snprintf(exported, sizeof exported, "%s/exported.ann", argv[1]);
    OK(ann_export(mine, exported));
    ann_index *file = NULL;
    OK(ann_open(exported, false, &file));
    uint64_t stored = 0;
    OK(ann_get_n_stored(file, &stored));
    CHECK(stored == 151);
    graph = false;
    OK(ann_has_graph(file, &graph));
    CHECK(graph); /* export rebuilds the graph too */
    bool changed = true;
    OK(ann_refresh(file, &changed)); /* a plain file never changes */
    CHECK(!changed);
    ann_free(file);

    /* Bad input. */
    v[2] = NAN;
    EXPECT(ann_upsert(writer, 9, v), ANN_STATUS_INVALID_ARGUMENT);
    vector_for(9, v);
    EXPECT(ann_upsert(writer, UINT64_MAX, v), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_delete(writer, UINT64_MAX, &existed), ANN_STATUS_INVALID_ARGUMENT);
    {
        /* A batch holding the reserved key is refused whole: nothing of it is deleted. */
        const uint64_t with_reserved[2] = {2, UINT64_MAX};
        size_t n_deleted = 99;
        uint64_t before = 0, after = 0;
        OK(ann_get_n_stored(mine, &before));
        OK(ann_get_item_vector(mine, 2, v)); /* key 2 is live */
        EXPECT(ann_delete_batch(writer, with_reserved, 2, &n_deleted), ANN_STATUS_INVALID_ARGUMENT);
        OK(ann_get_n_stored(mine, &after));
        CHECK(n_deleted == 99 && after == before && before > 0);
    }
    EXPECT(ann_upsert(NULL, 9, v), ANN_STATUS_NULL_POINTER);
    EXPECT(ann_upsert(writer, 9, NULL), ANN_STATUS_NULL_POINTER);
    EXPECT(ann_upsert_batch(writer, NULL, vectors, 2), ANN_STATUS_NULL_POINTER);
    EXPECT(ann_compact(writer, 0), ANN_STATUS_INVALID_ARGUMENT);
    EXPECT(ann_add_item(mine, 1, v), ANN_STATUS_INVALID_STATE);
    EXPECT(ann_save(mine, exported), ANN_STATUS_INVALID_STATE);
    ann_index *none = NULL;
    EXPECT(ann_open(argv[1], false, &none), ANN_STATUS_IO); /* a directory with no MANIFEST */
    OK(ann_sync(writer));

    ann_writer_free(writer);
    ann_writer_free(writer); /* a double free is a no-op */
    OK(ann_writer_open(dir, options, &writer)); /* the lock was released */
    ann_writer_free(writer);
    ann_writer_options_free(options);
    ann_free(mine);
    printf("live ok\n");
    return 0;
}
