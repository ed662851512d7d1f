package ann

// This is the only file that calls C (trampoline.go holds the one Go function that C calls,
// a SearchOptions' filter). libann is opened at run time with dlopen, not linked
// with -lann, so that the ANN_LIB environment variable can choose the library (see
// library.go). Every C function is reached through a table of function pointers filled by
// dlsym, and through a static wrapper that, when the call fails, copies the library's
// thread-local error message in the same C call: a goroutine may move to another OS thread
// between two cgo calls, so a second call could read another thread's message.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include "ann.h"

// Every C function the binding calls.
#define ANNC_FUNCTIONS(X) \
	X(ann_abi_version) X(ann_version) X(ann_last_error_message) X(ann_status_name) \
	X(ann_metric_name) X(ann_metric_from_name) X(ann_file_info) X(ann_new) X(ann_free) \
	X(ann_add_item) X(ann_add_item_packed) X(ann_set_seed) X(ann_build) X(ann_unbuild) \
	X(ann_unload) X(ann_save) X(ann_save_annoy) X(ann_load) X(ann_load_annoy) \
	X(ann_on_disk_build) X(ann_verify) X(ann_get_item_vector) X(ann_get_item_packed) \
	X(ann_get_distance) X(ann_get_n_items) X(ann_get_n_trees) X(ann_get_dim) \
	X(ann_get_metric) X(ann_get_seed) X(ann_get_nns) X(ann_get_nns_by_item) \
	X(ann_get_nns_packed) X(ann_get_nns_batch) X(ann_get_n_stored) X(ann_search_options_new) \
	X(ann_search_options_free) X(ann_search_options_set_search_k) \
	X(ann_search_options_set_allow_list) X(ann_search_options_set_deny_list) \
	X(ann_search_options_set_filter) X(ann_search) X(ann_search_by_item) X(ann_search_batch) \
	X(ann_open_shards) X(ann_writer_options_new) X(ann_writer_options_free) \
	X(ann_writer_options_set_durability) X(ann_writer_options_set_flush_ms) \
	X(ann_writer_options_set_n_trees) X(ann_writer_options_set_graph) X(ann_writer_open) \
	X(ann_writer_free) X(ann_upsert) X(ann_upsert_batch) X(ann_delete) X(ann_delete_batch) \
	X(ann_sync) X(ann_compact) X(ann_writer_index) X(ann_open) X(ann_refresh) X(ann_export) \
	X(ann_build_graph) X(ann_has_graph) X(ann_search_options_set_ef)

// The table. Each field has the type of the header's declaration, so a signature that
// changes in ann.h is a compile error here rather than a wrong call at run time.
static struct {
#define ANNC_FIELD(name) __typeof__(name) *name;
	ANNC_FUNCTIONS(ANNC_FIELD)
#undef ANNC_FIELD
} annc;

// How annc_open ended.
enum { ANNC_OPENED, ANNC_DLOPEN_FAILED, ANNC_NOT_LIBANN, ANNC_ABI_MISMATCH, ANNC_MISSING };

typedef struct {
	int code;
	uint32_t abi;  // the library's ABI version, once known
	char *detail;  // malloc'd: dlerror's text, or the missing function names; or NULL
} annc_open_result;

static char *annc_strdup(const char *s) {
	size_t n = strlen(s) + 1;
	char *copy = malloc(n);
	if (copy) memcpy(copy, s, n);
	return copy;
}

// Opens the library at path, checks its ABI version, and fills the table. The library is
// never closed: a Rust library may not survive dlclose, and a process loads it only once.
static annc_open_result annc_open(const char *path) {
	annc_open_result r = {ANNC_OPENED, 0, NULL};
	dlerror();
	void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		const char *e = dlerror();
		r.code = ANNC_DLOPEN_FAILED;
		r.detail = annc_strdup(e ? e : "dlopen failed");
		return r;
	}
	// The ABI first: a library of another ABI may lack functions, and this is the real reason.
	__typeof__(ann_abi_version) *abi = (__typeof__(ann_abi_version) *)dlsym(lib, "ann_abi_version");
	if (!abi) {
		r.code = ANNC_NOT_LIBANN;
		return r;
	}
	r.abi = abi();
	if (r.abi != ANN_ABI_VERSION) {
		r.code = ANNC_ABI_MISMATCH;
		return r;
	}
	char missing[2048] = "";
#define ANNC_RESOLVE(name) \
	annc.name = (__typeof__(annc.name))dlsym(lib, #name); \
	if (!annc.name) { \
		if (missing[0]) strncat(missing, ", ", sizeof missing - strlen(missing) - 1); \
		strncat(missing, #name, sizeof missing - strlen(missing) - 1); \
	}
	ANNC_FUNCTIONS(ANNC_RESOLVE)
#undef ANNC_RESOLVE
	if (missing[0]) {
		memset(&annc, 0, sizeof annc);
		r.code = ANNC_MISSING;
		r.detail = annc_strdup(missing);
	}
	return r;
}

// A call's status and, when it failed, the library's message (malloc'd; the caller frees).
typedef struct {
	ann_status status;
	char *message;
} annc_result;

// Finishes a call on the thread that made it: copies the message of a failure right away.
static annc_result annc_done(ann_status status) {
	annc_result r = {status, NULL};
	if (status == ANN_STATUS_OK) return r;
	size_t n = annc.ann_last_error_message(NULL, 0);
	r.message = malloc(n + 1);
	if (r.message) {
		r.message[0] = 0;
		annc.ann_last_error_message(r.message, n + 1);
	}
	return r;
}

static annc_result annc_new(uint32_t dim, ann_metric metric, ann_index **out) {
	return annc_done(annc.ann_new(dim, metric, out));
}
static void annc_free(ann_index *index) { annc.ann_free(index); }
static annc_result annc_open_shards(const char *const *paths, size_t n_paths, bool prefault,
                                   ann_index **out) {
	return annc_done(annc.ann_open_shards(paths, n_paths, prefault, out));
}
static annc_result annc_load(const char *path, bool prefault, ann_index **out) {
	return annc_done(annc.ann_load(path, prefault, out));
}
static annc_result annc_load_annoy(const char *path, uint32_t dim, ann_metric metric, bool prefault,
                                   ann_index **out) {
	return annc_done(annc.ann_load_annoy(path, dim, metric, prefault, out));
}
static annc_result annc_file_info(const char *path, ann_file_summary *out) {
	return annc_done(annc.ann_file_info(path, out));
}
static annc_result annc_metric_from_name(const char *name, ann_metric *out) {
	return annc_done(annc.ann_metric_from_name(name, out));
}
static const char *annc_metric_name(ann_metric metric) { return annc.ann_metric_name(metric); }
static const char *annc_status_name(ann_status status) { return annc.ann_status_name(status); }
static const char *annc_version(void) { return annc.ann_version(); }
static uint32_t annc_abi_version(void) { return annc.ann_abi_version(); }

static annc_result annc_add_item(ann_index *index, uint64_t id, const float *vector) {
	return annc_done(annc.ann_add_item(index, id, vector));
}
static annc_result annc_add_item_packed(ann_index *index, uint64_t id, const uint64_t *words,
                                        size_t n_words) {
	return annc_done(annc.ann_add_item_packed(index, id, words, n_words));
}
static annc_result annc_set_seed(ann_index *index, uint64_t seed) {
	return annc_done(annc.ann_set_seed(index, seed));
}
static annc_result annc_build(ann_index *index, int32_t n_trees, int32_t n_threads) {
	return annc_done(annc.ann_build(index, n_trees, n_threads));
}
static annc_result annc_build_graph(ann_index *index, uint32_t degree, int32_t n_threads) {
	return annc_done(annc.ann_build_graph(index, degree, n_threads));
}
static annc_result annc_unbuild(ann_index *index) { return annc_done(annc.ann_unbuild(index)); }
static annc_result annc_unload(ann_index *index) { return annc_done(annc.ann_unload(index)); }
static annc_result annc_save(const ann_index *index, const char *path) {
	return annc_done(annc.ann_save(index, path));
}
static annc_result annc_save_annoy(const ann_index *index, const char *path) {
	return annc_done(annc.ann_save_annoy(index, path));
}
static annc_result annc_on_disk_build(ann_index *index, const char *path) {
	return annc_done(annc.ann_on_disk_build(index, path));
}
static annc_result annc_verify(const ann_index *index) { return annc_done(annc.ann_verify(index)); }

static annc_result annc_get_n_items(const ann_index *index, uint64_t *out) {
	return annc_done(annc.ann_get_n_items(index, out));
}
static annc_result annc_get_n_stored(const ann_index *index, uint64_t *out) {
	return annc_done(annc.ann_get_n_stored(index, out));
}
static annc_result annc_get_n_trees(const ann_index *index, uint32_t *out) {
	return annc_done(annc.ann_get_n_trees(index, out));
}
static annc_result annc_has_graph(const ann_index *index, bool *out) {
	return annc_done(annc.ann_has_graph(index, out));
}
static annc_result annc_get_dim(const ann_index *index, uint32_t *out) {
	return annc_done(annc.ann_get_dim(index, out));
}
static annc_result annc_get_metric(const ann_index *index, ann_metric *out) {
	return annc_done(annc.ann_get_metric(index, out));
}
static annc_result annc_get_seed(const ann_index *index, uint64_t *out) {
	return annc_done(annc.ann_get_seed(index, out));
}
static annc_result annc_get_item_vector(const ann_index *index, uint64_t id, float *out) {
	return annc_done(annc.ann_get_item_vector(index, id, out));
}
static annc_result annc_get_item_packed(const ann_index *index, uint64_t id, uint64_t *out,
                                        size_t n_words, size_t *out_count) {
	return annc_done(annc.ann_get_item_packed(index, id, out, n_words, out_count));
}
static annc_result annc_get_distance(const ann_index *index, uint64_t i, uint64_t j, float *out) {
	return annc_done(annc.ann_get_distance(index, i, j, out));
}
static annc_result annc_get_nns(const ann_index *index, const float *query, size_t n,
                                int64_t search_k, uint64_t *ids, float *distances, size_t *count) {
	return annc_done(annc.ann_get_nns(index, query, n, search_k, ids, distances, count));
}
static annc_result annc_get_nns_by_item(const ann_index *index, uint64_t id, size_t n,
                                        int64_t search_k, uint64_t *ids, float *distances,
                                        size_t *count) {
	return annc_done(annc.ann_get_nns_by_item(index, id, n, search_k, ids, distances, count));
}
static annc_result annc_get_nns_packed(const ann_index *index, const uint64_t *words,
                                       size_t n_words, size_t n, int64_t search_k, uint64_t *ids,
                                       float *distances, size_t *count) {
	return annc_done(
		annc.ann_get_nns_packed(index, words, n_words, n, search_k, ids, distances, count));
}
static annc_result annc_get_nns_batch(const ann_index *index, const float *queries,
                                      size_t n_queries, size_t n, int64_t search_k,
                                      int32_t n_threads, uint64_t *ids, float *distances,
                                      size_t *counts) {
	return annc_done(annc.ann_get_nns_batch(index, queries, n_queries, n, search_k, n_threads,
	                                        ids, distances, counts));
}

// --- search options ---

// The Go function that runs a SearchOptions' filter (trampoline.go): context is the
// runtime/cgo.Handle of the filter; it returns 1 to accept key. It may run on any thread,
// including threads libann created, several at once; cgo attaches them to the Go runtime.
extern int annGoAccept(uint64_t key, uintptr_t context);

static bool annc_accept(uint64_t key, void *context) {
	return annGoAccept(key, (uintptr_t)context) != 0;
}

static annc_result annc_search_options_new(ann_search_options **out) {
	return annc_done(annc.ann_search_options_new(out));
}
static void annc_search_options_free(ann_search_options *options) {
	annc.ann_search_options_free(options);
}
static annc_result annc_search_options_set_search_k(ann_search_options *options,
                                                    int64_t search_k) {
	return annc_done(annc.ann_search_options_set_search_k(options, search_k));
}
static annc_result annc_search_options_set_ef(ann_search_options *options, size_t ef) {
	return annc_done(annc.ann_search_options_set_ef(options, ef));
}
static annc_result annc_search_options_set_allow_list(ann_search_options *options,
                                                      const uint64_t *keys, size_t n) {
	return annc_done(annc.ann_search_options_set_allow_list(options, keys, n));
}
static annc_result annc_search_options_set_deny_list(ann_search_options *options,
                                                     const uint64_t *keys, size_t n) {
	return annc_done(annc.ann_search_options_set_deny_list(options, keys, n));
}
// context 0 removes the filter; any other value is a cgo.Handle (never 0) passed back to
// annGoAccept. The handle travels as an integer so that Go never makes a pointer of it.
static annc_result annc_search_options_set_filter(ann_search_options *options,
                                                  uintptr_t context) {
	return annc_done(annc.ann_search_options_set_filter(options, context ? annc_accept : NULL,
	                                                    (void *)context));
}

static annc_result annc_search(const ann_index *index, const float *query, size_t n,
                               const ann_search_options *options, uint64_t *ids,
                               float *distances, size_t *count) {
	return annc_done(annc.ann_search(index, query, n, options, ids, distances, count));
}
static annc_result annc_search_by_item(const ann_index *index, uint64_t key, size_t n,
                                       const ann_search_options *options, uint64_t *ids,
                                       float *distances, size_t *count) {
	return annc_done(annc.ann_search_by_item(index, key, n, options, ids, distances, count));
}
static annc_result annc_search_batch(const ann_index *index, const float *queries,
                                     size_t n_queries, size_t n,
                                     const ann_search_options *options, int32_t n_threads,
                                     uint64_t *ids, float *distances, size_t *counts) {
	return annc_done(annc.ann_search_batch(index, queries, n_queries, n, options, n_threads, ids,
	                                       distances, counts));
}

// --- live indexes ---

static annc_result annc_writer_options_new(uint32_t dim, ann_metric metric,
                                           ann_writer_options **out) {
	return annc_done(annc.ann_writer_options_new(dim, metric, out));
}
static void annc_writer_options_free(ann_writer_options *options) {
	annc.ann_writer_options_free(options);
}
static annc_result annc_writer_options_set_durability(ann_writer_options *options,
                                                      uint32_t durability) {
	return annc_done(annc.ann_writer_options_set_durability(options, durability));
}
static annc_result annc_writer_options_set_flush_ms(ann_writer_options *options,
                                                    uint32_t flush_ms) {
	return annc_done(annc.ann_writer_options_set_flush_ms(options, flush_ms));
}
static annc_result annc_writer_options_set_n_trees(ann_writer_options *options,
                                                   int32_t n_trees) {
	return annc_done(annc.ann_writer_options_set_n_trees(options, n_trees));
}
static annc_result annc_writer_options_set_graph(ann_writer_options *options, bool enabled,
                                                 uint32_t degree) {
	return annc_done(annc.ann_writer_options_set_graph(options, enabled, degree));
}
static annc_result annc_writer_open(const char *dir, const ann_writer_options *options,
                                    ann_writer **out) {
	return annc_done(annc.ann_writer_open(dir, options, out));
}
static void annc_writer_free(ann_writer *writer) { annc.ann_writer_free(writer); }
static annc_result annc_upsert(ann_writer *writer, uint64_t key, const float *vector) {
	return annc_done(annc.ann_upsert(writer, key, vector));
}
static annc_result annc_upsert_batch(ann_writer *writer, const uint64_t *keys,
                                     const float *vectors, size_t n) {
	return annc_done(annc.ann_upsert_batch(writer, keys, vectors, n));
}
static annc_result annc_delete(ann_writer *writer, uint64_t key, bool *out_existed) {
	return annc_done(annc.ann_delete(writer, key, out_existed));
}
static annc_result annc_delete_batch(ann_writer *writer, const uint64_t *keys, size_t n,
                                     size_t *out_deleted) {
	return annc_done(annc.ann_delete_batch(writer, keys, n, out_deleted));
}
static annc_result annc_sync(ann_writer *writer) { return annc_done(annc.ann_sync(writer)); }
static annc_result annc_compact(ann_writer *writer, int32_t n_threads) {
	return annc_done(annc.ann_compact(writer, n_threads));
}
static annc_result annc_writer_index(ann_writer *writer, ann_index **out) {
	return annc_done(annc.ann_writer_index(writer, out));
}
static annc_result annc_open_path(const char *path, bool prefault, ann_index **out) {
	return annc_done(annc.ann_open(path, prefault, out));
}
static annc_result annc_refresh(ann_index *index, bool *out_changed) {
	return annc_done(annc.ann_refresh(index, out_changed));
}
static annc_result annc_export(const ann_index *index, const char *path) {
	return annc_done(annc.ann_export(index, path));
}
*/
import "C"

import (
	"unsafe"
)

// handle is the C index. Only this file converts it; the rest of the package passes it on.
type handle = *C.ann_index

// optionsHandle is the C search options (nil: the defaults).
type optionsHandle = *C.ann_search_options

// writerHandle is the C writer of a live index.
type writerHandle = *C.ann_writer

// abiVersion is the ABI this package was compiled for: ANN_ABI_VERSION in include/ann.h.
const abiVersion = uint32(C.ANN_ABI_VERSION)

// How openLibrary failed, from annc_open.
const (
	openOK           = C.ANNC_OPENED
	openDlopenFailed = C.ANNC_DLOPEN_FAILED
	openNotLibann    = C.ANNC_NOT_LIBANN
	openABIMismatch  = C.ANNC_ABI_MISMATCH
	openMissing      = C.ANNC_MISSING
)

// openLibrary dlopens path and fills the function table. It returns annc_open's code, the
// library's ABI version (when known), and the dlerror text or missing function names.
func openLibrary(path string) (code int, abi uint32, detail string) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	r := C.annc_open(cpath)
	if r.detail != nil {
		detail = C.GoString(r.detail)
		C.free(unsafe.Pointer(r.detail))
	}
	return int(r.code), uint32(r.abi), detail
}

// result turns a wrapper's outcome into nil or an *Error carrying the library's message.
func result(r C.annc_result) error {
	if r.status == C.ANN_STATUS_OK {
		return nil
	}
	message := "(no message)"
	if r.message != nil {
		message = C.GoString(r.message)
		C.free(unsafe.Pointer(r.message))
	}
	return &Error{Status: Status(r.status), Message: message}
}

// cString converts a path or name for C. Go strings may hold NUL bytes, which C would read
// as the end of the string: such a string is refused rather than silently truncated.
func cString(s string) (*C.char, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return nil, argumentError("%q contains a NUL byte", s)
		}
	}
	return C.CString(s), nil
}

// Stand-ins for the pointer of an empty slice, so that C never receives NULL from this
// package: with a zero length beside it, C reads and writes nothing there.
var (
	noFloats [1]float32
	noWords  [1]uint64
	noSizes  [1]C.size_t
)

// Zero-copy pointers to a slice's first element (the slices hold no Go pointers, so cgo
// lets C read and write them in place for the duration of the call).
func floatPtr(v []float32) *C.float {
	if len(v) == 0 {
		return (*C.float)(unsafe.Pointer(&noFloats[0]))
	}
	return (*C.float)(unsafe.Pointer(&v[0]))
}

func wordPtr(v []uint64) *C.uint64_t {
	if len(v) == 0 {
		return (*C.uint64_t)(unsafe.Pointer(&noWords[0]))
	}
	return (*C.uint64_t)(unsafe.Pointer(&v[0]))
}

func sizePtr(v []C.size_t) *C.size_t {
	if len(v) == 0 {
		return &noSizes[0]
	}
	return &v[0]
}

func withPath(path string, call func(*C.char) C.annc_result) error {
	cpath, err := cString(path)
	if err != nil {
		return err
	}
	defer C.free(unsafe.Pointer(cpath))
	return result(call(cpath))
}

// --- library information ---

func cVersion() string    { return C.GoString(C.annc_version()) }
func cABIVersion() uint32 { return uint32(C.annc_abi_version()) }

// cMetricName is the library's canonical name of m, or "" for a value it does not know.
func cMetricName(m Metric) string {
	name := C.annc_metric_name(C.ann_metric(m))
	if name == nil {
		return ""
	}
	return C.GoString(name)
}

func cStatusName(s Status) string { return C.GoString(C.annc_status_name(C.ann_status(s))) }

func cMetricFromName(name string) (Metric, error) {
	cname, err := cString(name)
	if err != nil {
		return 0, err
	}
	defer C.free(unsafe.Pointer(cname))
	var out C.ann_metric
	err = result(C.annc_metric_from_name(cname, &out))
	return Metric(out), err
}

func cFileInfo(path string) (FileSummary, error) {
	var s C.ann_file_summary
	err := withPath(path, func(p *C.char) C.annc_result { return C.annc_file_info(p, &s) })
	return FileSummary{
		Kind:          FileKind(s.kind),
		FormatVersion: uint32(s.format_version),
		Metric:        Metric(s.metric),
		Dim:           int(s.dim),
		NodeSize:      int(s.node_size),
		NTrees:        int(s.n_trees),
		NItems:        uint64(s.n_items),
		NNodes:        uint64(s.n_nodes),
		Seed:          uint64(s.seed),
		FileSize:      uint64(s.file_size),
	}, err
}

// --- making and freeing indexes ---

func cNew(dim uint32, metric Metric) (handle, error) {
	var h handle
	err := result(C.annc_new(C.uint32_t(dim), C.ann_metric(metric), &h))
	return h, err
}

func cLoad(path string, prefault bool) (handle, error) {
	var h handle
	err := withPath(path, func(p *C.char) C.annc_result { return C.annc_load(p, C.bool(prefault), &h) })
	return h, err
}

func cLoadAnnoy(path string, dim uint32, metric Metric, prefault bool) (handle, error) {
	var h handle
	err := withPath(path, func(p *C.char) C.annc_result {
		return C.annc_load_annoy(p, C.uint32_t(dim), C.ann_metric(metric), C.bool(prefault), &h)
	})
	return h, err
}

func cFree(h handle) { C.annc_free(h) }

// cOpenShards maps the files at paths as one read-only index. An empty list is passed on
// (with a non-NULL array) so that libann reports it.
func cOpenShards(paths []string, prefault bool) (handle, error) {
	n := len(paths)
	if n == 0 {
		n = 1
	}
	raw := C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil))))
	if raw == nil {
		return nil, &Error{Status: StatusOutOfMemory, Message: "cannot allocate the list of paths"}
	}
	defer C.free(raw)
	// C memory, so that C receives an array of C strings and no Go pointer.
	array := unsafe.Slice((**C.char)(raw), n)
	defer func() {
		for i := range paths {
			C.free(unsafe.Pointer(array[i])) // free(NULL) is a no-op
		}
	}()
	for i, path := range paths {
		cpath, err := cString(path)
		if err != nil {
			return nil, err
		}
		array[i] = cpath
	}
	var h handle
	err := result(C.annc_open_shards(&array[0], C.size_t(len(paths)), C.bool(prefault), &h))
	return h, err
}

// --- changing an index (callers hold the index's write lock) ---

func cAddItem(h handle, id uint64, vector []float32) error {
	return result(C.annc_add_item(h, C.uint64_t(id), floatPtr(vector)))
}

func cAddItemPacked(h handle, id uint64, words []uint64) error {
	return result(C.annc_add_item_packed(h, C.uint64_t(id), wordPtr(words), C.size_t(len(words))))
}

func cSetSeed(h handle, seed uint64) error { return result(C.annc_set_seed(h, C.uint64_t(seed))) }

func cBuild(h handle, nTrees, nThreads int32) error {
	return result(C.annc_build(h, C.int32_t(nTrees), C.int32_t(nThreads)))
}

func cBuildGraph(h handle, degree uint32, nThreads int32) error {
	return result(C.annc_build_graph(h, C.uint32_t(degree), C.int32_t(nThreads)))
}

func cUnbuild(h handle) error { return result(C.annc_unbuild(h)) }
func cUnload(h handle) error  { return result(C.annc_unload(h)) }

func cOnDiskBuild(h handle, path string) error {
	return withPath(path, func(p *C.char) C.annc_result { return C.annc_on_disk_build(h, p) })
}

// --- reading an index (callers hold at least the index's read lock) ---

func cSave(h handle, path string) error {
	return withPath(path, func(p *C.char) C.annc_result { return C.annc_save(h, p) })
}

func cSaveAnnoy(h handle, path string) error {
	return withPath(path, func(p *C.char) C.annc_result { return C.annc_save_annoy(h, p) })
}

func cVerify(h handle) error { return result(C.annc_verify(h)) }

func cNItems(h handle) (uint64, error) {
	var out C.uint64_t
	err := result(C.annc_get_n_items(h, &out))
	return uint64(out), err
}

func cNStored(h handle) (uint64, error) {
	var out C.uint64_t
	err := result(C.annc_get_n_stored(h, &out))
	return uint64(out), err
}

func cNTrees(h handle) (uint32, error) {
	var out C.uint32_t
	err := result(C.annc_get_n_trees(h, &out))
	return uint32(out), err
}

func cHasGraph(h handle) (bool, error) {
	var out C.bool
	err := result(C.annc_has_graph(h, &out))
	return bool(out), err
}

func cDim(h handle) (uint32, error) {
	var out C.uint32_t
	err := result(C.annc_get_dim(h, &out))
	return uint32(out), err
}

func cMetric(h handle) (Metric, error) {
	var out C.ann_metric
	err := result(C.annc_get_metric(h, &out))
	return Metric(out), err
}

func cSeed(h handle) (uint64, error) {
	var out C.uint64_t
	err := result(C.annc_get_seed(h, &out))
	return uint64(out), err
}

func cItemVector(h handle, id uint64, out []float32) error {
	return result(C.annc_get_item_vector(h, C.uint64_t(id), floatPtr(out)))
}

func cItemPacked(h handle, id uint64, out []uint64) (int, error) {
	var count C.size_t
	err := result(C.annc_get_item_packed(h, C.uint64_t(id), wordPtr(out), C.size_t(len(out)), &count))
	return int(count), err
}

func cDistance(h handle, i, j uint64) (float32, error) {
	var out C.float
	err := result(C.annc_get_distance(h, C.uint64_t(i), C.uint64_t(j), &out))
	return float32(out), err
}

// The queries write up to len(ids) neighbours into ids and distances (of equal length).

func cNns(h handle, query []float32, searchK int64, ids []uint64, distances []float32) (int, error) {
	var count C.size_t
	err := result(C.annc_get_nns(h, floatPtr(query), C.size_t(len(ids)), C.int64_t(searchK),
		wordPtr(ids), floatPtr(distances), &count))
	return int(count), err
}

func cNnsByItem(h handle, id uint64, searchK int64, ids []uint64, distances []float32) (int, error) {
	var count C.size_t
	err := result(C.annc_get_nns_by_item(h, C.uint64_t(id), C.size_t(len(ids)), C.int64_t(searchK),
		wordPtr(ids), floatPtr(distances), &count))
	return int(count), err
}

func cNnsPacked(h handle, words []uint64, searchK int64, ids []uint64, distances []float32) (int, error) {
	var count C.size_t
	err := result(C.annc_get_nns_packed(h, wordPtr(words), C.size_t(len(words)), C.size_t(len(ids)),
		C.int64_t(searchK), wordPtr(ids), floatPtr(distances), &count))
	return int(count), err
}

// cNnsBatch runs len(counts) queries of n neighbours each; row q of ids and distances is
// ids[q*n : (q+1)*n], and counts[q] receives how many of its slots were filled.
func cNnsBatch(h handle, queries []float32, n int, searchK int64, nThreads int32,
	ids []uint64, distances []float32, counts []int) error {
	raw := make([]C.size_t, len(counts))
	err := result(C.annc_get_nns_batch(h, floatPtr(queries), C.size_t(len(counts)), C.size_t(n),
		C.int64_t(searchK), C.int32_t(nThreads), wordPtr(ids), floatPtr(distances), sizePtr(raw)))
	for q, c := range raw {
		counts[q] = int(c)
	}
	return err
}

// --- search options and filtered searches ---

func cSearchOptionsNew() (optionsHandle, error) {
	var o optionsHandle
	err := result(C.annc_search_options_new(&o))
	return o, err
}

func cSearchOptionsFree(o optionsHandle) { C.annc_search_options_free(o) }

func cSetSearchK(o optionsHandle, searchK int64) error {
	return result(C.annc_search_options_set_search_k(o, C.int64_t(searchK)))
}

func cSetEf(o optionsHandle, ef uint64) error {
	return result(C.annc_search_options_set_ef(o, C.size_t(ef)))
}

func cSetAllowList(o optionsHandle, keys []uint64) error {
	return result(C.annc_search_options_set_allow_list(o, wordPtr(keys), C.size_t(len(keys))))
}

func cSetDenyList(o optionsHandle, keys []uint64) error {
	return result(C.annc_search_options_set_deny_list(o, wordPtr(keys), C.size_t(len(keys))))
}

// cSetFilter installs the filter whose cgo.Handle is context (0: removes the filter).
func cSetFilter(o optionsHandle, context uintptr) error {
	return result(C.annc_search_options_set_filter(o, C.uintptr_t(context)))
}

func cSearch(h handle, query []float32, o optionsHandle, ids []uint64, distances []float32) (int, error) {
	var count C.size_t
	err := result(C.annc_search(h, floatPtr(query), C.size_t(len(ids)), o, wordPtr(ids),
		floatPtr(distances), &count))
	return int(count), err
}

func cSearchByItem(h handle, key uint64, o optionsHandle, ids []uint64, distances []float32) (int, error) {
	var count C.size_t
	err := result(C.annc_search_by_item(h, C.uint64_t(key), C.size_t(len(ids)), o, wordPtr(ids),
		floatPtr(distances), &count))
	return int(count), err
}

// cSearchBatch is cNnsBatch for ann_search_batch: rows of n slots, counts[q] filled per row.
func cSearchBatch(h handle, queries []float32, n int, o optionsHandle, nThreads int32,
	ids []uint64, distances []float32, counts []int) error {
	raw := make([]C.size_t, len(counts))
	err := result(C.annc_search_batch(h, floatPtr(queries), C.size_t(len(counts)), C.size_t(n), o,
		C.int32_t(nThreads), wordPtr(ids), floatPtr(distances), sizePtr(raw)))
	for q, c := range raw {
		counts[q] = int(c)
	}
	return err
}

// --- live indexes ---

// cWriterOpen makes writer options with the given settings (flushMS 0, nTrees 0, and graph
// false with graphDegree 0: the library's defaults), opens the writer of dir with them, and
// frees the options.
func cWriterOpen(dir string, dim uint32, metric Metric, durability uint32, flushMS uint32,
	nTrees int32, graph bool, graphDegree uint32) (writerHandle, error) {
	var o *C.ann_writer_options
	if err := result(C.annc_writer_options_new(C.uint32_t(dim), C.ann_metric(metric), &o)); err != nil {
		return nil, err
	}
	defer C.annc_writer_options_free(o)
	if err := result(C.annc_writer_options_set_durability(o, C.uint32_t(durability))); err != nil {
		return nil, err
	}
	if flushMS != 0 {
		if err := result(C.annc_writer_options_set_flush_ms(o, C.uint32_t(flushMS))); err != nil {
			return nil, err
		}
	}
	if nTrees != 0 {
		if err := result(C.annc_writer_options_set_n_trees(o, C.int32_t(nTrees))); err != nil {
			return nil, err
		}
	}
	if graph || graphDegree != 0 {
		if err := result(C.annc_writer_options_set_graph(o, C.bool(graph), C.uint32_t(graphDegree))); err != nil {
			return nil, err
		}
	}
	var w writerHandle
	err := withPath(dir, func(p *C.char) C.annc_result { return C.annc_writer_open(p, o, &w) })
	return w, err
}

func cWriterFree(w writerHandle) { C.annc_writer_free(w) }

func cUpsert(w writerHandle, key uint64, vector []float32) error {
	return result(C.annc_upsert(w, C.uint64_t(key), floatPtr(vector)))
}

// cUpsertBatch upserts len(keys) items, row i of vectors (of len(keys) * dim values) for keys[i].
func cUpsertBatch(w writerHandle, keys []uint64, vectors []float32) error {
	return result(C.annc_upsert_batch(w, wordPtr(keys), floatPtr(vectors), C.size_t(len(keys))))
}

func cDelete(w writerHandle, key uint64) (bool, error) {
	var existed C.bool
	err := result(C.annc_delete(w, C.uint64_t(key), &existed))
	return bool(existed), err
}

func cDeleteBatch(w writerHandle, keys []uint64) (int, error) {
	var deleted C.size_t
	err := result(C.annc_delete_batch(w, wordPtr(keys), C.size_t(len(keys)), &deleted))
	return int(deleted), err
}

func cSync(w writerHandle) error { return result(C.annc_sync(w)) }

func cCompact(w writerHandle, nThreads int32) error {
	return result(C.annc_compact(w, C.int32_t(nThreads)))
}

func cWriterIndex(w writerHandle) (handle, error) {
	var h handle
	err := result(C.annc_writer_index(w, &h))
	return h, err
}

func cOpen(path string, prefault bool) (handle, error) {
	var h handle
	err := withPath(path, func(p *C.char) C.annc_result { return C.annc_open_path(p, C.bool(prefault), &h) })
	return h, err
}

// cRefresh may run while other goroutines query h (libann synchronises it).
func cRefresh(h handle) (bool, error) {
	var changed C.bool
	err := result(C.annc_refresh(h, &changed))
	return bool(changed), err
}

func cExport(h handle, path string) error {
	return withPath(path, func(p *C.char) C.annc_result { return C.annc_export(h, p) })
}
