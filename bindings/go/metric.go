package ann

import "strconv"

// Metric is a distance metric, with the values of ann.h's ANN_METRIC_* constants.
type Metric uint32

const (
	// Angular is sqrt(2 - 2 cos), also known as cosine.
	Angular Metric = iota
	// Euclidean is the L2 distance.
	Euclidean
	// Manhattan is the L1 distance.
	Manhattan
	// Dot is the inner product: larger is nearer, and results sort descending.
	Dot
	// Hamming is the number of differing bits; the index's dim counts bits.
	Hamming
)

// metricNames are the library's canonical names (ann_metric_name); a test checks they agree.
// They are kept here so that printing a Metric never needs the library.
var metricNames = [...]string{"angular", "euclidean", "manhattan", "dot", "hamming"}

// String is the metric's canonical name, e.g. "angular", or "Metric(7)" for an unknown value.
func (m Metric) String() string {
	if int(m) < len(metricNames) {
		return metricNames[m]
	}
	return "Metric(" + strconv.FormatUint(uint64(m), 10) + ")"
}

// ParseMetric returns the metric named name: "angular" (or "cosine"), "euclidean",
// "manhattan", "dot" or "hamming". An unknown name is an ErrInvalidArgument.
func ParseMetric(name string) (Metric, error) {
	if err := loadLibrary(); err != nil {
		return 0, err
	}
	m, err := cMetricFromName(name)
	return m, withOp("ParseMetric", err)
}

// FileKind is what FileInfo found at a path.
type FileKind uint32

const (
	// FileUnknown is an empty file, or one of a size no index can have.
	FileUnknown FileKind = iota
	// FileNative is a file with this library's header; every FileSummary field is filled.
	FileNative
	// FileAnnoy is a header-less file whose size fits an Annoy index: open it with
	// LoadAnnoy and the dim and metric it was built with.
	FileAnnoy
)

func (k FileKind) String() string {
	switch k {
	case FileUnknown:
		return "unknown"
	case FileNative:
		return "native"
	case FileAnnoy:
		return "annoy"
	}
	return "FileKind(" + strconv.FormatUint(uint64(k), 10) + ")"
}

// FileSummary is what FileInfo reads from a file's header. For kinds other than FileNative,
// only Kind and FileSize are meaningful; the other fields are zero.
type FileSummary struct {
	Kind          FileKind
	FormatVersion uint32
	Metric        Metric
	Dim           int // floats per vector, or bits for Hamming
	NodeSize      int // bytes per node
	NTrees        int
	NItems        uint64 // slots: largest key + 1 in Annoy's layout; the item count with sparse keys
	NNodes        uint64
	Seed          uint64 // the seed the index was built with
	FileSize      uint64
}

// FileInfo tells what the file at path is, without loading it. A native file's header is
// validated in full: a damaged one is an ErrCorruptFile, a missing file an ErrIO.
func FileInfo(path string) (FileSummary, error) {
	if err := loadLibrary(); err != nil {
		return FileSummary{}, err
	}
	s, err := cFileInfo(path)
	return s, withOp("FileInfo", err)
}
