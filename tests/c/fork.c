/* A process loads an index, forks, and the child queries the inherited mapping and builds a
 * new index on several threads. Both must work: the library keeps no thread pool that a
 * child would lack. Usage: fork DIR */
#define _POSIX_C_SOURCE 200809L
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define N_ITEMS 3000
#define DIM 24
#define N 10

int main(int argc, char **argv) {
    CHECK(argc == 2);
    char path[4096];
    snprintf(path, sizeof path, "%s/fork.ann", argv[1]);
    float *data = make_data(N_ITEMS, DIM, ANN_METRIC_EUCLIDEAN);
    build_and_save(data, N_ITEMS, DIM, ANN_METRIC_EUCLIDEAN, 10, path);

    ann_index *index = NULL;
    OK(ann_load(path, false, &index));
    uint64_t expected[N], ids[N];
    size_t count;
    OK(ann_get_nns(index, data, N, -1, expected, NULL, &count));
    CHECK(count == N);

    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        alarm(60); /* a deadlock in the child becomes a failure, not a hang */
        OK(ann_get_nns(index, data, N, -1, ids, NULL, &count));
        CHECK(count == N && memcmp(ids, expected, sizeof ids) == 0);
        ann_index *fresh = NULL;
        OK(ann_new(DIM, ANN_METRIC_EUCLIDEAN, &fresh));
        for (uint64_t i = 0; i < N_ITEMS; i++) OK(ann_add_item(fresh, i, data + i * DIM));
        OK(ann_set_seed(fresh, 42));
        OK(ann_build(fresh, 10, 4));
        OK(ann_get_nns(fresh, data, N, -1, ids, NULL, &count));
        CHECK(count == N && memcmp(ids, expected, sizeof ids) == 0);
        ann_free(fresh);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* The parent's index is untouched by the child. */
    OK(ann_get_nns(index, data, N, -1, ids, NULL, &count));
    CHECK(memcmp(ids, expected, sizeof ids) == 0);
    ann_free(index);
    free(data);
    printf("fork ok\n");
    return 0;
}
