/*
 * JNI glue between io.github.ann.Native and libann (include/ann.h).
 *
 * Why dlopen instead of linking with -lann: the Java side decides which libann to load
 * (ANN_LIB, then a source checkout's target directory, then the installed library, as
 * bindings/README.md requires), and a NEEDED entry would let the dynamic linker pick a copy
 * on its own. So this file links against nothing but libc and libdl: Native.init() opens the
 * chosen library and resolves every function into `api`, typed by the header itself.
 *
 * Rules kept by every function below:
 *  - A failing status becomes a Java exception built by io.github.ann.Errors, with the
 *    library's message read on this thread, in this same native call, right after the call
 *    that failed (the message is thread-local in libann).
 *  - Short, read-only inputs (one query, one vector) are pinned with
 *    GetPrimitiveArrayCritical and released with JNI_ABORT (nothing to copy back). Inputs of
 *    long calls (batch queries) are copied, so no array stays pinned while the GC waits.
 *    No JNI function is called while an array is pinned.
 *  - Outputs go to malloc'd buffers first and are copied into Java arrays only on success,
 *    keeping libann's "outputs are written only on success" promise.
 *  - Every JNI call that can fail is checked; on a pending exception the function returns
 *    at once and Java sees that exception.
 *  - Keys are uint64_t in C and jlong in Java: the same 64 bits, read as unsigned.
 *  - Filter predicates call back into Java (io.github.ann.FilterBridge), from the searching
 *    thread or from threads libann creates. So the queries of the filtered searches
 *    (ann_search*) are always copied, never pinned: Java may run while they search.
 */

#include <dlfcn.h>
#include <jni.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ann.h"

/* Every libann function the binding calls; the table below gets one typed slot per name. */
#define ANN_FUNCTIONS(X)                                                                      \
    X(ann_abi_version) X(ann_version) X(ann_last_error_message) X(ann_metric_name)            \
    X(ann_metric_from_name) X(ann_new) X(ann_free) X(ann_add_item) X(ann_add_item_packed)     \
    X(ann_set_seed) X(ann_build) X(ann_unbuild) X(ann_unload) X(ann_save) X(ann_save_annoy)   \
    X(ann_load) X(ann_load_annoy) X(ann_on_disk_build) X(ann_verify) X(ann_file_info)         \
    X(ann_get_item_vector) X(ann_get_item_packed) X(ann_get_distance) X(ann_get_n_items)      \
    X(ann_get_n_trees) X(ann_get_dim) X(ann_get_metric) X(ann_get_seed) X(ann_get_nns)        \
    X(ann_get_nns_by_item) X(ann_get_nns_packed) X(ann_get_nns_batch) X(ann_get_n_stored)       \
    X(ann_build_graph) X(ann_has_graph) X(ann_open_shards) X(ann_search_options_new)          \
    X(ann_search_options_free) X(ann_search_options_set_search_k)                             \
    X(ann_search_options_set_ef) X(ann_search_options_set_allow_list)                         \
    X(ann_search_options_set_deny_list) X(ann_search_options_set_filter) X(ann_search)        \
    X(ann_search_by_item) X(ann_search_batch) X(ann_writer_options_new)                      \
    X(ann_writer_options_free) X(ann_writer_options_set_durability)                           \
    X(ann_writer_options_set_flush_ms) X(ann_writer_options_set_n_trees)                      \
    X(ann_writer_options_set_graph) X(ann_writer_open) X(ann_writer_free) X(ann_upsert)       \
    X(ann_upsert_batch) X(ann_delete) X(ann_delete_batch) X(ann_sync) X(ann_compact)          \
    X(ann_writer_index) X(ann_open) X(ann_refresh) X(ann_export)

#define DECLARE_SLOT(name) __typeof__(name) *name;
/* Written once by init, during Native's class initialisation, then only read. */
static struct {
    void *library;
    ANN_FUNCTIONS(DECLARE_SLOT)
} api;

/* io.github.ann.Errors and its factory, Throwable fromStatus(int, byte[], boolean). */
static jclass errors_class;
static jmethodID errors_from_status;

/* io.github.ann.FilterBridge's boolean test(long) and void failed(Throwable). */
static jclass bridge_class;
static jmethodID bridge_test;
static jmethodID bridge_failed;

/* The JVM, for the threads libann creates: they attach to call a filter predicate. */
static JavaVM *jvm;

static ann_index *handle(jlong pointer) { return (ann_index *)(intptr_t)pointer; }

static ann_search_options *options_handle(jlong pointer) { return (ann_search_options *)(intptr_t)pointer; }

static ann_writer *writer_handle(jlong pointer) { return (ann_writer *)(intptr_t)pointer; }

static void throw_named(JNIEnv *env, const char *class_name, const char *message) {
    jclass cls = (*env)->FindClass(env, class_name);
    if (cls != NULL) (*env)->ThrowNew(env, cls, message);
}

static void throw_oom(JNIEnv *env) {
    throw_named(env, "java/lang/OutOfMemoryError", "ann_jni: malloc failed");
}

/*
 * Throws the exception for `status`, with the message of the call that just failed on this
 * thread. `checked_io` says whether the Java method declares IOException; if not, file
 * errors arrive wrapped in UncheckedIOException.
 */
static void throw_status(JNIEnv *env, ann_status status, jboolean checked_io) {
    size_t length = api.ann_last_error_message(NULL, 0);
    char *message = malloc(length > 0 ? length : 1);
    if (message == NULL) {
        throw_oom(env);
        return;
    }
    message[0] = '\0';
    api.ann_last_error_message(message, length);
    size_t text_length = strlen(message);
    jbyteArray bytes = (*env)->NewByteArray(env, (jsize)text_length);
    if (bytes != NULL)
        (*env)->SetByteArrayRegion(env, bytes, 0, (jsize)text_length, (const jbyte *)message);
    free(message);
    if (bytes == NULL) return;
    jobject error = (*env)->CallStaticObjectMethod(env, errors_class, errors_from_status,
                                                   (jint)status, bytes, checked_io);
    if (!(*env)->ExceptionCheck(env) && error != NULL) (*env)->Throw(env, (jthrowable)error);
}

/* True on success; otherwise throws (unless an exception is already pending) and is false. */
static int ok(JNIEnv *env, ann_status status, jboolean checked_io) {
    if (status == ANN_STATUS_OK) return 1;
    throw_status(env, status, checked_io);
    return 0;
}

/* A NUL-terminated copy of a byte[] that Java ended with a 0 byte; NULL with an exception. */
static char *c_string(JNIEnv *env, jbyteArray bytes) {
    jsize length = (*env)->GetArrayLength(env, bytes);
    if (length < 1) {
        throw_named(env, "java/lang/IllegalArgumentException", "ann_jni: empty C string");
        return NULL;
    }
    char *text = malloc((size_t)length);
    if (text == NULL) {
        throw_oom(env);
        return NULL;
    }
    (*env)->GetByteArrayRegion(env, bytes, 0, length, (jbyte *)text);
    if ((*env)->ExceptionCheck(env) || text[length - 1] != '\0') {
        free(text);
        if (!(*env)->ExceptionCheck(env))
            throw_named(env, "java/lang/IllegalArgumentException", "ann_jni: unterminated C string");
        return NULL;
    }
    return text;
}

static jstring java_string(JNIEnv *env, const char *text) {
    return text == NULL ? NULL : (*env)->NewStringUTF(env, text);
}

/* ---------------------------------------------------------------- loading */

/*
 * Opens the library at `path` (a file, or a bare SONAME for the system loader) and resolves
 * every function. Returns NULL on success, or dlerror()'s text if the file could not be
 * opened, so that Java can try the next place. A library that opens but is unusable (missing
 * function, other ABI) throws UnsatisfiedLinkError: that is never a reason to look elsewhere.
 */
JNIEXPORT jstring JNICALL Java_io_github_ann_Native_init(JNIEnv *env, jclass cls, jbyteArray path) {
    char *name = c_string(env, path);
    if (name == NULL) return NULL;
    void *library = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
    free(name);
    if (library == NULL) {
        const char *reason = dlerror();
        return java_string(env, reason != NULL ? reason : "dlopen failed");
    }
    char problem[256] = "";
#define RESOLVE_SLOT(symbol)                                                                  \
    if (problem[0] == '\0') {                                                                 \
        void *address = dlsym(library, #symbol); /* memcpy: ISO C has no such cast */       \
        memcpy(&api.symbol, &address, sizeof api.symbol);                                     \
        if (address == NULL)                                                                  \
            snprintf(problem, sizeof problem, "it has no function %s, so it is not libann",   \
                     #symbol);                                                                \
    }
    ANN_FUNCTIONS(RESOLVE_SLOT)
#undef RESOLVE_SLOT
    if (problem[0] == '\0' && api.ann_abi_version() != ANN_ABI_VERSION)
        snprintf(problem, sizeof problem,
                 "its ABI version is %u but this binding was written for ABI version %u",
                 (unsigned)api.ann_abi_version(), (unsigned)ANN_ABI_VERSION);
    if (problem[0] != '\0') {
        dlclose(library);
        memset(&api, 0, sizeof api);
        throw_named(env, "java/lang/UnsatisfiedLinkError", problem);
        return NULL;
    }
    api.library = library;
    jclass errors = (*env)->FindClass(env, "io/github/ann/Errors");
    if (errors == NULL) return NULL;
    errors_from_status = (*env)->GetStaticMethodID(env, errors, "fromStatus",
                                                   "(I[BZ)Ljava/lang/Throwable;");
    if (errors_from_status == NULL) return NULL;
    errors_class = (*env)->NewGlobalRef(env, errors);
    jclass bridge = (*env)->FindClass(env, "io/github/ann/FilterBridge");
    if (bridge == NULL) return NULL;
    bridge_test = (*env)->GetMethodID(env, bridge, "test", "(J)Z");
    if (bridge_test == NULL) return NULL;
    bridge_failed = (*env)->GetMethodID(env, bridge, "failed", "(Ljava/lang/Throwable;)V");
    if (bridge_failed == NULL) return NULL;
    bridge_class = (*env)->NewGlobalRef(env, bridge); /* keeps the method ids valid */
    if (errors_class == NULL || bridge_class == NULL) {
        throw_oom(env);
        return NULL;
    }
    if ((*env)->GetJavaVM(env, &jvm) != JNI_OK) {
        throw_named(env, "java/lang/UnsatisfiedLinkError", "ann_jni: GetJavaVM failed");
        return NULL;
    }
    (void)cls;
    return NULL;
}

/* ---------------------------------------------------------------- information */

JNIEXPORT jint JNICALL Java_io_github_ann_Native_abiVersion(JNIEnv *env, jclass cls) {
    (void)env, (void)cls;
    return (jint)api.ann_abi_version();
}

JNIEXPORT jstring JNICALL Java_io_github_ann_Native_version(JNIEnv *env, jclass cls) {
    (void)cls;
    return java_string(env, api.ann_version());
}

JNIEXPORT jstring JNICALL Java_io_github_ann_Native_metricName(JNIEnv *env, jclass cls, jint metric) {
    (void)cls;
    return java_string(env, api.ann_metric_name((ann_metric)metric));
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_metricFromName(JNIEnv *env, jclass cls, jbyteArray name) {
    (void)cls;
    char *text = c_string(env, name);
    if (text == NULL) return -1;
    ann_metric metric = 0;
    ann_status status = api.ann_metric_from_name(text, &metric);
    free(text);
    return ok(env, status, JNI_FALSE) ? (jint)metric : -1;
}

/* The fields of ann_file_summary, in declaration order, as a long[10]. */
JNIEXPORT jlongArray JNICALL Java_io_github_ann_Native_fileInfo(JNIEnv *env, jclass cls, jbyteArray path) {
    (void)cls;
    char *text = c_string(env, path);
    if (text == NULL) return NULL;
    ann_file_summary summary;
    ann_status status = api.ann_file_info(text, &summary);
    free(text);
    if (!ok(env, status, JNI_TRUE)) return NULL;
    const jlong fields[10] = {
        summary.kind,      summary.format_version, summary.metric,           summary.dim,
        summary.node_size, summary.n_trees,        (jlong)summary.n_items,   (jlong)summary.n_nodes,
        (jlong)summary.seed, (jlong)summary.file_size,
    };
    jlongArray result = (*env)->NewLongArray(env, 10);
    if (result != NULL) (*env)->SetLongArrayRegion(env, result, 0, 10, fields);
    return result;
}

/* ---------------------------------------------------------------- lifecycle */

JNIEXPORT jlong JNICALL Java_io_github_ann_Native_create(JNIEnv *env, jclass cls, jint dim, jint metric) {
    (void)cls;
    ann_index *index = NULL;
    if (!ok(env, api.ann_new((uint32_t)dim, (ann_metric)metric, &index), JNI_FALSE)) return 0;
    return (jlong)(intptr_t)index;
}

JNIEXPORT jlong JNICALL Java_io_github_ann_Native_load(JNIEnv *env, jclass cls, jbyteArray path,
                                                       jboolean prefault) {
    (void)cls;
    char *text = c_string(env, path);
    if (text == NULL) return 0;
    ann_index *index = NULL;
    ann_status status = api.ann_load(text, prefault == JNI_TRUE, &index);
    free(text);
    return ok(env, status, JNI_TRUE) ? (jlong)(intptr_t)index : 0;
}

JNIEXPORT jlong JNICALL Java_io_github_ann_Native_loadAnnoy(JNIEnv *env, jclass cls, jbyteArray path,
                                                            jint dim, jint metric, jboolean prefault) {
    (void)cls;
    char *text = c_string(env, path);
    if (text == NULL) return 0;
    ann_index *index = NULL;
    ann_status status =
        api.ann_load_annoy(text, (uint32_t)dim, (ann_metric)metric, prefault == JNI_TRUE, &index);
    free(text);
    return ok(env, status, JNI_TRUE) ? (jlong)(intptr_t)index : 0;
}

/* `paths` holds NUL-terminated byte[]s; none of them is kept after the call. */
JNIEXPORT jlong JNICALL Java_io_github_ann_Native_openShards(JNIEnv *env, jclass cls, jobjectArray paths,
                                                             jboolean prefault) {
    (void)cls;
    jsize n_paths = (*env)->GetArrayLength(env, paths);
    char **texts = calloc((size_t)(n_paths > 0 ? n_paths : 1), sizeof *texts);
    if (texts == NULL) {
        throw_oom(env);
        return 0;
    }
    jsize converted = 0;
    for (; converted < n_paths; converted++) {
        jbyteArray path = (*env)->GetObjectArrayElement(env, paths, converted);
        if (path == NULL) break; /* an exception is pending */
        texts[converted] = c_string(env, path);
        (*env)->DeleteLocalRef(env, path);
        if (texts[converted] == NULL) break;
    }
    jlong result = 0;
    if (converted == n_paths) {
        ann_index *index = NULL;
        /* No paths: NULL, so that libann reports the empty list itself. */
        ann_status status = api.ann_open_shards(n_paths > 0 ? (const char *const *)texts : NULL,
                                                (size_t)n_paths, prefault == JNI_TRUE, &index);
        if (ok(env, status, JNI_TRUE)) result = (jlong)(intptr_t)index;
    }
    for (jsize i = 0; i < n_paths; i++) free(texts[i]);
    free(texts);
    return result;
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_free(JNIEnv *env, jclass cls, jlong index) {
    (void)env, (void)cls;
    api.ann_free(handle(index));
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_addItem(JNIEnv *env, jclass cls, jlong index, jlong id,
                                                         jfloatArray vector) {
    (void)cls;
    float *values = (*env)->GetPrimitiveArrayCritical(env, vector, NULL);
    if (values == NULL) return;
    ann_status status = api.ann_add_item(handle(index), (uint64_t)id, values);
    (*env)->ReleasePrimitiveArrayCritical(env, vector, values, JNI_ABORT);
    ok(env, status, JNI_FALSE);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_addItemPacked(JNIEnv *env, jclass cls, jlong index,
                                                               jlong id, jlongArray words) {
    (void)cls;
    size_t n_words = (size_t)(*env)->GetArrayLength(env, words);
    uint64_t *values = (*env)->GetPrimitiveArrayCritical(env, words, NULL);
    if (values == NULL) return;
    ann_status status = api.ann_add_item_packed(handle(index), (uint64_t)id, values, n_words);
    (*env)->ReleasePrimitiveArrayCritical(env, words, values, JNI_ABORT);
    ok(env, status, JNI_FALSE);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_setSeed(JNIEnv *env, jclass cls, jlong index, jlong seed) {
    (void)cls;
    ok(env, api.ann_set_seed(handle(index), (uint64_t)seed), JNI_FALSE);
}

/* Build can fail with ANN_STATUS_IO only when finishing an on-disk build: unchecked in Java. */
JNIEXPORT void JNICALL Java_io_github_ann_Native_build(JNIEnv *env, jclass cls, jlong index, jint n_trees,
                                                       jint n_threads) {
    (void)cls;
    ok(env, api.ann_build(handle(index), (int32_t)n_trees, (int32_t)n_threads), JNI_FALSE);
}

/* `degree` is never negative: Java checked (0 picks libann's default). */
JNIEXPORT void JNICALL Java_io_github_ann_Native_buildGraph(JNIEnv *env, jclass cls, jlong index, jint degree,
                                                            jint n_threads) {
    (void)cls;
    ok(env, api.ann_build_graph(handle(index), (uint32_t)degree, (int32_t)n_threads), JNI_FALSE);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_unbuild(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    ok(env, api.ann_unbuild(handle(index)), JNI_FALSE);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_unload(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    ok(env, api.ann_unload(handle(index)), JNI_FALSE);
}

/* The functions that take an index and a path, and declare IOException in Java. */
static void with_path(JNIEnv *env, jlong index, jbyteArray path,
                      ann_status (*function)(ann_index *, const char *)) {
    char *text = c_string(env, path);
    if (text == NULL) return;
    ann_status status = function(handle(index), text);
    free(text);
    ok(env, status, JNI_TRUE);
}

static ann_status save(ann_index *index, const char *path) { return api.ann_save(index, path); }
static ann_status save_annoy(ann_index *index, const char *path) { return api.ann_save_annoy(index, path); }
static ann_status on_disk_build(ann_index *index, const char *path) {
    return api.ann_on_disk_build(index, path);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_save(JNIEnv *env, jclass cls, jlong index, jbyteArray path) {
    (void)cls;
    with_path(env, index, path, save);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_saveAnnoy(JNIEnv *env, jclass cls, jlong index,
                                                           jbyteArray path) {
    (void)cls;
    with_path(env, index, path, save_annoy);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_onDiskBuild(JNIEnv *env, jclass cls, jlong index,
                                                             jbyteArray path) {
    (void)cls;
    with_path(env, index, path, on_disk_build);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_verify(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    ok(env, api.ann_verify(handle(index)), JNI_TRUE);
}

/* ---------------------------------------------------------------- access */

JNIEXPORT jlong JNICALL Java_io_github_ann_Native_nItems(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    uint64_t value = 0;
    return ok(env, api.ann_get_n_items(handle(index), &value), JNI_FALSE) ? (jlong)value : -1;
}

JNIEXPORT jlong JNICALL Java_io_github_ann_Native_nStored(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    uint64_t value = 0;
    return ok(env, api.ann_get_n_stored(handle(index), &value), JNI_FALSE) ? (jlong)value : -1;
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_nTrees(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    uint32_t value = 0;
    return ok(env, api.ann_get_n_trees(handle(index), &value), JNI_FALSE) ? (jint)value : -1;
}

JNIEXPORT jboolean JNICALL Java_io_github_ann_Native_hasGraph(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    bool value = false;
    return ok(env, api.ann_has_graph(handle(index), &value), JNI_FALSE) && value ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_dim(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    uint32_t value = 0;
    return ok(env, api.ann_get_dim(handle(index), &value), JNI_FALSE) ? (jint)value : -1;
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_metric(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    ann_metric value = 0;
    return ok(env, api.ann_get_metric(handle(index), &value), JNI_FALSE) ? (jint)value : -1;
}

JNIEXPORT jlong JNICALL Java_io_github_ann_Native_seed(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    uint64_t value = 0;
    return ok(env, api.ann_get_seed(handle(index), &value), JNI_FALSE) ? (jlong)value : 0;
}

/* Fills `out` (length dim) with item `id`'s vector. */
JNIEXPORT void JNICALL Java_io_github_ann_Native_getItemVector(JNIEnv *env, jclass cls, jlong index,
                                                               jlong id, jfloatArray out) {
    (void)cls;
    jsize dim = (*env)->GetArrayLength(env, out);
    float *values = malloc((size_t)(dim > 0 ? dim : 1) * sizeof *values);
    if (values == NULL) {
        throw_oom(env);
        return;
    }
    if (ok(env, api.ann_get_item_vector(handle(index), (uint64_t)id, values), JNI_FALSE))
        (*env)->SetFloatArrayRegion(env, out, 0, dim, values);
    free(values);
}

/* Fills `out` with item `id`'s packed words; returns how many were written. */
JNIEXPORT jint JNICALL Java_io_github_ann_Native_getItemPacked(JNIEnv *env, jclass cls, jlong index,
                                                               jlong id, jlongArray out) {
    (void)cls;
    jsize capacity = (*env)->GetArrayLength(env, out);
    uint64_t *words = malloc((size_t)(capacity > 0 ? capacity : 1) * sizeof *words);
    if (words == NULL) {
        throw_oom(env);
        return -1;
    }
    size_t count = 0;
    ann_status status = api.ann_get_item_packed(handle(index), (uint64_t)id, words, (size_t)capacity, &count);
    if (ok(env, status, JNI_FALSE)) (*env)->SetLongArrayRegion(env, out, 0, (jsize)count, (const jlong *)words);
    free(words);
    return (jint)count;
}

JNIEXPORT jfloat JNICALL Java_io_github_ann_Native_getDistance(JNIEnv *env, jclass cls, jlong index, jlong i,
                                                               jlong j) {
    (void)cls;
    float distance = 0;
    ok(env, api.ann_get_distance(handle(index), (uint64_t)i, (uint64_t)j, &distance), JNI_FALSE);
    return distance;
}

/* ---------------------------------------------------------------- queries */

/* Native output buffers for `rows` queries of `n` results each; distances only if wanted. */
typedef struct {
    uint64_t *ids;
    float *distances;
    size_t *counts;
} results;

static void results_free(results *r) {
    free(r->ids);
    free(r->distances);
    free(r->counts);
}

static int results_alloc(JNIEnv *env, results *r, size_t rows, size_t n, int with_distances) {
    size_t slots = rows * n > 0 ? rows * n : 1;
    r->ids = malloc(slots * sizeof *r->ids);
    r->distances = with_distances ? malloc(slots * sizeof *r->distances) : NULL;
    r->counts = malloc((rows > 0 ? rows : 1) * sizeof *r->counts);
    if (r->ids == NULL || r->counts == NULL || (with_distances && r->distances == NULL)) {
        results_free(r);
        throw_oom(env);
        return 0;
    }
    return 1;
}

/*
 * Copies `slots` results into the Java arrays on success (the arrays have room: Java sized
 * them), frees the buffers and returns the count of a single query; -1 after an exception.
 */
static jint deliver(JNIEnv *env, ann_status status, results *r, size_t slots, jlongArray out_ids,
                    jfloatArray out_distances) {
    jint count = -1;
    if (ok(env, status, JNI_FALSE)) {
        (*env)->SetLongArrayRegion(env, out_ids, 0, (jsize)slots, (const jlong *)r->ids);
        if (out_distances != NULL && !(*env)->ExceptionCheck(env))
            (*env)->SetFloatArrayRegion(env, out_distances, 0, (jsize)slots, r->distances);
        if (!(*env)->ExceptionCheck(env)) count = (jint)r->counts[0];
    }
    results_free(r);
    return count;
}

/* One query; Java sized out_ids (and out_distances, or null) to n. Returns the count. */
JNIEXPORT jint JNICALL Java_io_github_ann_Native_getNns(JNIEnv *env, jclass cls, jlong index,
                                                        jfloatArray query, jint n, jlong search_k,
                                                        jlongArray out_ids, jfloatArray out_distances) {
    (void)cls;
    results r;
    if (!results_alloc(env, &r, 1, (size_t)n, out_distances != NULL)) return -1;
    float *values = (*env)->GetPrimitiveArrayCritical(env, query, NULL);
    if (values == NULL) {
        results_free(&r);
        return -1;
    }
    ann_status status = api.ann_get_nns(handle(index), values, (size_t)n, (int64_t)search_k, r.ids,
                                        r.distances, r.counts);
    (*env)->ReleasePrimitiveArrayCritical(env, query, values, JNI_ABORT);
    return deliver(env, status, &r, status == ANN_STATUS_OK ? r.counts[0] : 0, out_ids, out_distances);
}

/*
 * The address of float `position` of a direct buffer holding at least `floats` more floats,
 * or NULL with an exception. Java has checked the byte order and remaining().
 */
static const float *direct_floats(JNIEnv *env, jobject buffer, jint position, size_t floats) {
    const float *base = (*env)->GetDirectBufferAddress(env, buffer);
    jlong capacity = (*env)->GetDirectBufferCapacity(env, buffer);
    if (base == NULL || capacity < 0 || position < 0 || (uint64_t)position + floats > (uint64_t)capacity) {
        throw_named(env, "java/lang/IllegalArgumentException",
                    "ann_jni: not a direct buffer, or too few floats after its position");
        return NULL;
    }
    return base + position;
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_getNnsDirect(JNIEnv *env, jclass cls, jlong index,
                                                              jobject query, jint position, jint dim, jint n,
                                                              jlong search_k, jlongArray out_ids,
                                                              jfloatArray out_distances) {
    (void)cls;
    const float *values = direct_floats(env, query, position, (size_t)dim);
    if (values == NULL) return -1;
    results r;
    if (!results_alloc(env, &r, 1, (size_t)n, out_distances != NULL)) return -1;
    ann_status status = api.ann_get_nns(handle(index), values, (size_t)n, (int64_t)search_k, r.ids,
                                        r.distances, r.counts);
    return deliver(env, status, &r, status == ANN_STATUS_OK ? r.counts[0] : 0, out_ids, out_distances);
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_getNnsByItem(JNIEnv *env, jclass cls, jlong index, jlong id,
                                                              jint n, jlong search_k, jlongArray out_ids,
                                                              jfloatArray out_distances) {
    (void)cls;
    results r;
    if (!results_alloc(env, &r, 1, (size_t)n, out_distances != NULL)) return -1;
    ann_status status = api.ann_get_nns_by_item(handle(index), (uint64_t)id, (size_t)n, (int64_t)search_k,
                                                r.ids, r.distances, r.counts);
    return deliver(env, status, &r, status == ANN_STATUS_OK ? r.counts[0] : 0, out_ids, out_distances);
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_getNnsPacked(JNIEnv *env, jclass cls, jlong index,
                                                              jlongArray query, jint n, jlong search_k,
                                                              jlongArray out_ids, jfloatArray out_distances) {
    (void)cls;
    size_t n_words = (size_t)(*env)->GetArrayLength(env, query);
    results r;
    if (!results_alloc(env, &r, 1, (size_t)n, out_distances != NULL)) return -1;
    uint64_t *words = (*env)->GetPrimitiveArrayCritical(env, query, NULL);
    if (words == NULL) {
        results_free(&r);
        return -1;
    }
    ann_status status = api.ann_get_nns_packed(handle(index), words, n_words, (size_t)n, (int64_t)search_k,
                                               r.ids, r.distances, r.counts);
    (*env)->ReleasePrimitiveArrayCritical(env, query, words, JNI_ABORT);
    return deliver(env, status, &r, status == ANN_STATUS_OK ? r.counts[0] : 0, out_ids, out_distances);
}

/*
 * The batch query behind the four batch natives: `queries` holds n_queries rows of dim floats.
 * Fills out_ids and out_distances (n_queries * n slots each) and out_counts (n_queries). With
 * `filtered`, it is ann_search_batch with `options` (0: defaults), else ann_get_nns_batch.
 */
static void batch(JNIEnv *env, jlong index, const float *queries, size_t n_queries, jint n, int filtered,
                  jlong search_k, jlong options, jint n_threads, jlongArray out_ids, jfloatArray out_distances,
                  jlongArray out_counts) {
    results r;
    if (!results_alloc(env, &r, n_queries, (size_t)n, 1)) return;
    ann_status status =
        filtered ? api.ann_search_batch(handle(index), queries, n_queries, (size_t)n, options_handle(options),
                                        (int32_t)n_threads, r.ids, r.distances, r.counts)
                 : api.ann_get_nns_batch(handle(index), queries, n_queries, (size_t)n, (int64_t)search_k,
                                         (int32_t)n_threads, r.ids, r.distances, r.counts);
    if (ok(env, status, JNI_FALSE)) {
        jsize slots = (jsize)(n_queries * (size_t)n);
        (*env)->SetLongArrayRegion(env, out_ids, 0, slots, (const jlong *)r.ids);
        if (!(*env)->ExceptionCheck(env)) (*env)->SetFloatArrayRegion(env, out_distances, 0, slots, r.distances);
        for (size_t q = 0; q < n_queries && !(*env)->ExceptionCheck(env); q++) {
            jlong count = (jlong)r.counts[q];
            (*env)->SetLongArrayRegion(env, out_counts, (jsize)q, 1, &count);
        }
    }
    results_free(&r);
}

/* A malloc'd copy of a float[] (never pinned: the call may be long, or run Java); NULL with an exception. */
static float *copy_floats(JNIEnv *env, jfloatArray array) {
    jsize length = (*env)->GetArrayLength(env, array);
    float *values = malloc((size_t)(length > 0 ? length : 1) * sizeof *values);
    if (values == NULL) {
        throw_oom(env);
        return NULL;
    }
    (*env)->GetFloatArrayRegion(env, array, 0, length, values);
    if ((*env)->ExceptionCheck(env)) {
        free(values);
        return NULL;
    }
    return values;
}

/* Batch over a float[] of n_queries * dim values, copied first: the call can be long. */
JNIEXPORT void JNICALL Java_io_github_ann_Native_getNnsBatch(JNIEnv *env, jclass cls, jlong index,
                                                             jfloatArray queries, jint n_queries, jint n,
                                                             jlong search_k, jint n_threads, jlongArray out_ids,
                                                             jfloatArray out_distances, jlongArray out_counts) {
    (void)cls;
    float *values = copy_floats(env, queries);
    if (values == NULL) return;
    batch(env, index, values, (size_t)n_queries, n, 0, search_k, 0, n_threads, out_ids, out_distances, out_counts);
    free(values);
}

/* Batch straight from a direct buffer: no copy; Java keeps the buffer reachable. */
JNIEXPORT void JNICALL Java_io_github_ann_Native_getNnsBatchDirect(JNIEnv *env, jclass cls, jlong index,
                                                                   jobject queries, jint position, jint dim,
                                                                   jint n_queries, jint n, jlong search_k,
                                                                   jint n_threads, jlongArray out_ids,
                                                                   jfloatArray out_distances,
                                                                   jlongArray out_counts) {
    (void)cls;
    const float *values = direct_floats(env, queries, position, (size_t)dim * (size_t)n_queries);
    if (values != NULL)
        batch(env, index, values, (size_t)n_queries, n, 0, search_k, 0, n_threads, out_ids, out_distances,
              out_counts);
}

/* ---------------------------------------------------------------- search options and filters */

/*
 * A filter predicate as libann sees it: the context passed to accept_key. It holds a global
 * reference to the Java FilterBridge (which wraps the LongPredicate and records what it
 * throws), and counts the calls that could not reach Java at all (a thread that could not
 * attach), which Java reports like an exception. Made by searchOptionsSetFilter, freed when
 * the filter is replaced or the options freed, which Java does only while no search uses them.
 */
typedef struct {
    jobject bridge;
    atomic_ulong lost;
} filter_context;

static void filter_free(JNIEnv *env, filter_context *filter) {
    if (filter == NULL) return;
    (*env)->DeleteGlobalRef(env, filter->bridge);
    free(filter);
}

/*
 * Threads that libann creates (batch searches) attach to the JVM the first time they call a
 * predicate, as daemon threads named "ann-search", and stay attached until they end: the key's
 * destructor detaches them then. Attaching on every call would cost more than the search.
 */
static pthread_key_t detach_key;
static bool detach_key_made;
static pthread_once_t detach_once = PTHREAD_ONCE_INIT;

static void detach_thread(void *value) {
    (void)value;
    (*jvm)->DetachCurrentThread(jvm);
}

static void make_detach_key(void) { detach_key_made = pthread_key_create(&detach_key, detach_thread) == 0; }

/* This thread's JNIEnv, attaching it if needed; *detach_now when it must detach after the call. */
static JNIEnv *thread_env(bool *detach_now) {
    JNIEnv *env = NULL;
    *detach_now = false;
    jint got = (*jvm)->GetEnv(jvm, (void **)&env, JNI_VERSION_1_8);
    if (got == JNI_OK) return env;
    if (got != JNI_EDETACHED) return NULL;
    JavaVMAttachArgs args = {JNI_VERSION_1_8, (char *)"ann-search", NULL};
    if ((*jvm)->AttachCurrentThreadAsDaemon(jvm, (void **)&env, &args) != JNI_OK) return NULL;
    pthread_once(&detach_once, make_detach_key);
    /* Without a destructor to detach at thread exit, detach right after this call. */
    *detach_now = !detach_key_made || pthread_setspecific(detach_key, jvm) != 0;
    return env;
}

/*
 * The predicate libann calls, from any thread: FilterBridge.test(key). The bridge catches what
 * the LongPredicate throws; anything that still escapes (an error inside the bridge itself) is
 * cleared here, handed to FilterBridge.failed, and the key refused. Never returns with an
 * exception pending: the thread may be the searching Java thread, in the middle of a call.
 */
static bool accept_key(uint64_t key, void *context) {
    filter_context *filter = context;
    bool detach_now = false;
    JNIEnv *env = thread_env(&detach_now);
    if (env == NULL) {
        atomic_fetch_add(&filter->lost, 1);
        return false;
    }
    jboolean accepted = (*env)->CallBooleanMethod(env, filter->bridge, bridge_test, (jlong)key);
    if ((*env)->ExceptionCheck(env)) {
        accepted = JNI_FALSE;
        jthrowable error = (*env)->ExceptionOccurred(env);
        (*env)->ExceptionClear(env);
        (*env)->CallVoidMethod(env, filter->bridge, bridge_failed, error);
        if ((*env)->ExceptionCheck(env)) {
            (*env)->ExceptionClear(env);
            atomic_fetch_add(&filter->lost, 1);
        }
        if (error != NULL) (*env)->DeleteLocalRef(env, error);
    }
    if (detach_now) (*jvm)->DetachCurrentThread(jvm);
    return accepted == JNI_TRUE;
}

JNIEXPORT jlong JNICALL Java_io_github_ann_Native_searchOptionsNew(JNIEnv *env, jclass cls) {
    (void)cls;
    ann_search_options *options = NULL;
    if (!ok(env, api.ann_search_options_new(&options), JNI_FALSE)) return 0;
    return (jlong)(intptr_t)options;
}

/* Frees the options, then their filter context (no search can call it any more). */
JNIEXPORT void JNICALL Java_io_github_ann_Native_searchOptionsFree(JNIEnv *env, jclass cls, jlong options,
                                                                   jlong filter) {
    (void)cls;
    api.ann_search_options_free(options_handle(options));
    filter_free(env, (filter_context *)(intptr_t)filter);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_searchOptionsSetSearchK(JNIEnv *env, jclass cls, jlong options,
                                                                         jlong search_k) {
    (void)cls;
    ok(env, api.ann_search_options_set_search_k(options_handle(options), (int64_t)search_k), JNI_FALSE);
}

/* `ef` is never negative: Java checked (0 derives it from search_k). */
JNIEXPORT void JNICALL Java_io_github_ann_Native_searchOptionsSetEf(JNIEnv *env, jclass cls, jlong options,
                                                                    jlong ef) {
    (void)cls;
    ok(env, api.ann_search_options_set_ef(options_handle(options), (size_t)ef), JNI_FALSE);
}

/* The allow-list (allow true) or deny-list, from a copy: a long list takes libann a while to index. */
JNIEXPORT void JNICALL Java_io_github_ann_Native_searchOptionsSetList(JNIEnv *env, jclass cls, jlong options,
                                                                      jboolean allow, jlongArray keys) {
    (void)cls;
    jsize n = (*env)->GetArrayLength(env, keys);
    uint64_t *values = malloc((size_t)(n > 0 ? n : 1) * sizeof *values);
    if (values == NULL) {
        throw_oom(env);
        return;
    }
    (*env)->GetLongArrayRegion(env, keys, 0, n, (jlong *)values);
    if (!(*env)->ExceptionCheck(env)) {
        ann_status status =
            allow == JNI_TRUE ? api.ann_search_options_set_allow_list(options_handle(options), values, (size_t)n)
                              : api.ann_search_options_set_deny_list(options_handle(options), values, (size_t)n);
        ok(env, status, JNI_FALSE);
    }
    free(values);
}

/*
 * Sets the predicate to `bridge` (null: removes it) and returns the new filter context (0 for
 * none), freeing `old`, the one it replaces. On failure, throws and leaves `old` in place.
 */
JNIEXPORT jlong JNICALL Java_io_github_ann_Native_searchOptionsSetFilter(JNIEnv *env, jclass cls, jlong options,
                                                                         jobject bridge, jlong old) {
    (void)cls;
    filter_context *fresh = NULL;
    if (bridge != NULL) {
        fresh = malloc(sizeof *fresh);
        if (fresh == NULL) {
            throw_oom(env);
            return old;
        }
        atomic_init(&fresh->lost, 0);
        fresh->bridge = (*env)->NewGlobalRef(env, bridge);
        if (fresh->bridge == NULL) {
            free(fresh);
            throw_oom(env);
            return old;
        }
    }
    ann_status status =
        api.ann_search_options_set_filter(options_handle(options), fresh != NULL ? accept_key : NULL, fresh);
    if (!ok(env, status, JNI_FALSE)) {
        filter_free(env, fresh);
        return old;
    }
    filter_free(env, (filter_context *)(intptr_t)old);
    return (jlong)(intptr_t)fresh;
}

/* How many predicate calls of this filter context could not reach Java (see accept_key). */
JNIEXPORT jlong JNICALL Java_io_github_ann_Native_filterLostCalls(JNIEnv *env, jclass cls, jlong filter) {
    (void)env, (void)cls;
    filter_context *context = (filter_context *)(intptr_t)filter;
    return context == NULL ? 0 : (jlong)atomic_load(&context->lost);
}

/* ---------------------------------------------------------------- filtered searches */

/* ann_search over a copy of `query` (Java sized the outputs to n); returns the count. */
JNIEXPORT jint JNICALL Java_io_github_ann_Native_search(JNIEnv *env, jclass cls, jlong index, jfloatArray query,
                                                        jint n, jlong options, jlongArray out_ids,
                                                        jfloatArray out_distances) {
    (void)cls;
    float *values = copy_floats(env, query);
    if (values == NULL) return -1;
    results r;
    if (!results_alloc(env, &r, 1, (size_t)n, out_distances != NULL)) {
        free(values);
        return -1;
    }
    ann_status status = api.ann_search(handle(index), values, (size_t)n, options_handle(options), r.ids,
                                       r.distances, r.counts);
    free(values);
    return deliver(env, status, &r, status == ANN_STATUS_OK ? r.counts[0] : 0, out_ids, out_distances);
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_searchDirect(JNIEnv *env, jclass cls, jlong index,
                                                              jobject query, jint position, jint dim, jint n,
                                                              jlong options, jlongArray out_ids,
                                                              jfloatArray out_distances) {
    (void)cls;
    const float *values = direct_floats(env, query, position, (size_t)dim);
    if (values == NULL) return -1;
    results r;
    if (!results_alloc(env, &r, 1, (size_t)n, out_distances != NULL)) return -1;
    ann_status status = api.ann_search(handle(index), values, (size_t)n, options_handle(options), r.ids,
                                       r.distances, r.counts);
    return deliver(env, status, &r, status == ANN_STATUS_OK ? r.counts[0] : 0, out_ids, out_distances);
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_searchByItem(JNIEnv *env, jclass cls, jlong index, jlong key,
                                                              jint n, jlong options, jlongArray out_ids,
                                                              jfloatArray out_distances) {
    (void)cls;
    results r;
    if (!results_alloc(env, &r, 1, (size_t)n, out_distances != NULL)) return -1;
    ann_status status = api.ann_search_by_item(handle(index), (uint64_t)key, (size_t)n, options_handle(options),
                                               r.ids, r.distances, r.counts);
    return deliver(env, status, &r, status == ANN_STATUS_OK ? r.counts[0] : 0, out_ids, out_distances);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_searchBatch(JNIEnv *env, jclass cls, jlong index,
                                                             jfloatArray queries, jint n_queries, jint n,
                                                             jlong options, jint n_threads, jlongArray out_ids,
                                                             jfloatArray out_distances, jlongArray out_counts) {
    (void)cls;
    float *values = copy_floats(env, queries);
    if (values == NULL) return;
    batch(env, index, values, (size_t)n_queries, n, 1, -1, options, n_threads, out_ids, out_distances, out_counts);
    free(values);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_searchBatchDirect(JNIEnv *env, jclass cls, jlong index,
                                                                   jobject queries, jint position, jint dim,
                                                                   jint n_queries, jint n, jlong options,
                                                                   jint n_threads, jlongArray out_ids,
                                                                   jfloatArray out_distances,
                                                                   jlongArray out_counts) {
    (void)cls;
    const float *values = direct_floats(env, queries, position, (size_t)dim * (size_t)n_queries);
    if (values != NULL)
        batch(env, index, values, (size_t)n_queries, n, 1, -1, options, n_threads, out_ids, out_distances,
              out_counts);
}

/* ---------------------------------------------------------------- live indexes */

/*
 * A writer call waits for the log (and, with ANN_DURABILITY_SYNC, for its sync), and several
 * Java threads may be in one at once: so its inputs are copied, never pinned.
 */

/* A malloc'd copy of a long[]; NULL with an exception. */
static uint64_t *copy_keys(JNIEnv *env, jlongArray array, jsize *out_length) {
    jsize length = (*env)->GetArrayLength(env, array);
    uint64_t *values = malloc((size_t)(length > 0 ? length : 1) * sizeof *values);
    if (values == NULL) {
        throw_oom(env);
        return NULL;
    }
    (*env)->GetLongArrayRegion(env, array, 0, length, (jlong *)values);
    if ((*env)->ExceptionCheck(env)) {
        free(values);
        return NULL;
    }
    *out_length = length;
    return values;
}

/*
 * Makes writer options from Java's values (durability, flush_ms and n_trees already checked by
 * WriterOptions, and checked again here by libann), opens the directory and frees the options.
 */
JNIEXPORT jlong JNICALL Java_io_github_ann_Native_writerOpen(JNIEnv *env, jclass cls, jbyteArray dir, jint dim,
                                                             jint metric, jint durability, jint flush_ms,
                                                             jint n_trees, jboolean graph, jint graph_degree) {
    (void)cls;
    char *text = c_string(env, dir);
    if (text == NULL) return 0;
    ann_writer_options *options = NULL;
    ann_writer *writer = NULL;
    ann_status status = api.ann_writer_options_new((uint32_t)dim, (ann_metric)metric, &options);
    if (status == ANN_STATUS_OK) status = api.ann_writer_options_set_durability(options, (uint32_t)durability);
    if (status == ANN_STATUS_OK) status = api.ann_writer_options_set_flush_ms(options, (uint32_t)flush_ms);
    if (status == ANN_STATUS_OK) status = api.ann_writer_options_set_n_trees(options, (int32_t)n_trees);
    if (status == ANN_STATUS_OK) {
        status = api.ann_writer_options_set_graph(options, graph == JNI_TRUE, (uint32_t)graph_degree);
    }
    if (status == ANN_STATUS_OK) status = api.ann_writer_open(text, options, &writer);
    free(text);
    /* The message first: it is the failing call's only until the next libann call. */
    jlong result = ok(env, status, JNI_TRUE) ? (jlong)(intptr_t)writer : 0;
    api.ann_writer_options_free(options);
    return result;
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_writerFree(JNIEnv *env, jclass cls, jlong writer) {
    (void)env, (void)cls;
    api.ann_writer_free(writer_handle(writer));
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_upsert(JNIEnv *env, jclass cls, jlong writer, jlong key,
                                                        jfloatArray vector) {
    (void)cls;
    float *values = copy_floats(env, vector);
    if (values == NULL) return;
    ann_status status = api.ann_upsert(writer_handle(writer), (uint64_t)key, values);
    free(values);
    ok(env, status, JNI_TRUE);
}

/* `vectors` holds keys.length rows of dim floats (Java checked). */
JNIEXPORT void JNICALL Java_io_github_ann_Native_upsertBatch(JNIEnv *env, jclass cls, jlong writer,
                                                             jlongArray keys, jfloatArray vectors) {
    (void)cls;
    jsize n = 0;
    uint64_t *key_values = copy_keys(env, keys, &n);
    if (key_values == NULL) return;
    float *values = copy_floats(env, vectors);
    if (values == NULL) {
        free(key_values);
        return;
    }
    ann_status status = api.ann_upsert_batch(writer_handle(writer), key_values, values, (size_t)n);
    free(values);
    free(key_values);
    ok(env, status, JNI_TRUE);
}

JNIEXPORT jboolean JNICALL Java_io_github_ann_Native_delete(JNIEnv *env, jclass cls, jlong writer, jlong key) {
    (void)cls;
    bool existed = false;
    ann_status status = api.ann_delete(writer_handle(writer), (uint64_t)key, &existed);
    return ok(env, status, JNI_TRUE) && existed ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT jint JNICALL Java_io_github_ann_Native_deleteBatch(JNIEnv *env, jclass cls, jlong writer,
                                                             jlongArray keys) {
    (void)cls;
    jsize n = 0;
    uint64_t *values = copy_keys(env, keys, &n);
    if (values == NULL) return -1;
    size_t deleted = 0;
    ann_status status = api.ann_delete_batch(writer_handle(writer), values, (size_t)n, &deleted);
    free(values);
    return ok(env, status, JNI_TRUE) ? (jint)deleted : -1;
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_sync(JNIEnv *env, jclass cls, jlong writer) {
    (void)cls;
    ok(env, api.ann_sync(writer_handle(writer)), JNI_TRUE);
}

JNIEXPORT void JNICALL Java_io_github_ann_Native_compact(JNIEnv *env, jclass cls, jlong writer, jint n_threads) {
    (void)cls;
    ok(env, api.ann_compact(writer_handle(writer), (int32_t)n_threads), JNI_TRUE);
}

JNIEXPORT jlong JNICALL Java_io_github_ann_Native_writerIndex(JNIEnv *env, jclass cls, jlong writer) {
    (void)cls;
    ann_index *index = NULL;
    if (!ok(env, api.ann_writer_index(writer_handle(writer), &index), JNI_FALSE)) return 0;
    return (jlong)(intptr_t)index;
}

JNIEXPORT jlong JNICALL Java_io_github_ann_Native_open(JNIEnv *env, jclass cls, jbyteArray path,
                                                       jboolean prefault) {
    (void)cls;
    char *text = c_string(env, path);
    if (text == NULL) return 0;
    ann_index *index = NULL;
    ann_status status = api.ann_open(text, prefault == JNI_TRUE, &index);
    free(text);
    return ok(env, status, JNI_TRUE) ? (jlong)(intptr_t)index : 0;
}

JNIEXPORT jboolean JNICALL Java_io_github_ann_Native_refresh(JNIEnv *env, jclass cls, jlong index) {
    (void)cls;
    bool changed = false;
    ann_status status = api.ann_refresh(handle(index), &changed);
    return ok(env, status, JNI_TRUE) && changed ? JNI_TRUE : JNI_FALSE;
}

static ann_status export_index(ann_index *index, const char *path) { return api.ann_export(index, path); }

JNIEXPORT void JNICALL Java_io_github_ann_Native_export(JNIEnv *env, jclass cls, jlong index, jbyteArray path) {
    (void)cls;
    with_path(env, index, path, export_index);
}
