package ann

import (
	"errors"
	"fmt"
)

// Status is a libann status code (ann_status in ann.h). Errors from this package carry one
// in (*Error).Status; test for a kind of failure with errors.Is and the sentinels below.
type Status uint32

// The statuses of ann.h, with the same values.
const (
	StatusOK Status = iota
	StatusNullPointer
	StatusInvalidArgument
	StatusInvalidState
	StatusIO
	StatusCorruptFile
	StatusOutOfMemory
	StatusBufferTooSmall
	StatusPanic
)

var statusNames = [...]string{
	"ANN_STATUS_OK", "ANN_STATUS_NULL_POINTER", "ANN_STATUS_INVALID_ARGUMENT",
	"ANN_STATUS_INVALID_STATE", "ANN_STATUS_IO", "ANN_STATUS_CORRUPT_FILE",
	"ANN_STATUS_OUT_OF_MEMORY", "ANN_STATUS_BUFFER_TOO_SMALL", "ANN_STATUS_PANIC",
}

// String is the status's name in ann.h, e.g. "ANN_STATUS_IO" (what ann_status_name says).
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "ANN_STATUS_UNKNOWN"
}

// Sentinels, one per status, for errors.Is. An *Error matches the one of its Status.
var (
	// ErrNullPointer means a NULL reached libann: a bug in this package, never the caller's.
	ErrNullPointer = errors.New("ann: null pointer")
	// ErrInvalidArgument: a bad dimension, metric, key (a key never added, or the reserved
	// NoKey), length, NaN or thread count; an empty or inconsistent list of shards.
	ErrInvalidArgument = errors.New("ann: invalid argument")
	// ErrInvalidState: the call does not fit the index's state (adding to a built index,
	// querying an unbuilt one, using a closed one, changing or saving shards or a live
	// index's read handle, SaveAnnoy of keys that do not fit Annoy's layout), or a live
	// index directory already has a Writer (in this process or another).
	ErrInvalidState = errors.New("ann: invalid state")
	// ErrIO: the operating system refused a file operation (missing file, permissions, a
	// full disk when writing a live index's log), or a directory holds no live index.
	ErrIO = errors.New("ann: I/O error")
	// ErrCorruptFile: the file is not a valid index (magic, version, size, checksum).
	ErrCorruptFile = errors.New("ann: corrupt file")
	// ErrOutOfMemory: memory or threads ran out.
	ErrOutOfMemory = errors.New("ann: out of memory")
	// ErrBufferTooSmall means an output buffer was too small: a bug in this package.
	ErrBufferTooSmall = errors.New("ann: buffer too small")
	// ErrPanic: a bug inside libann was caught; close the index involved.
	ErrPanic = errors.New("ann: internal error in libann")

	// ErrClosed: the index, the search options or the writer were closed. Such errors also
	// match ErrInvalidState.
	ErrClosed = errors.New("ann: index is closed")
	// ErrLibrary: libann could not be found or loaded, or has the wrong ABI version.
	ErrLibrary = errors.New("ann: cannot load libann")
)

var sentinels = [...]error{
	nil, ErrNullPointer, ErrInvalidArgument, ErrInvalidState, ErrIO, ErrCorruptFile,
	ErrOutOfMemory, ErrBufferTooSmall, ErrPanic,
}

// Error is a failed call: the library's status and message, and the method that failed.
type Error struct {
	Op      string // the method or function that failed, e.g. "Load"
	Status  Status
	Message string // libann's message: what was wrong and what to do
	closed  bool
}

func (e *Error) Error() string {
	if e.Op == "" {
		return "ann: " + e.Message
	}
	return "ann: " + e.Op + ": " + e.Message
}

// Is reports whether target is the sentinel of e's Status (or ErrClosed, for a closed index).
func (e *Error) Is(target error) bool {
	if e.closed && target == ErrClosed {
		return true
	}
	return int(e.Status) < len(sentinels) && target != nil && sentinels[e.Status] == target
}

// argumentError is an invalid argument caught in Go, where C could not see it (a slice's
// length, a number that does not fit the C type).
func argumentError(format string, args ...interface{}) error {
	return &Error{Status: StatusInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

func closedError(op string) error {
	return &Error{Op: op, Status: StatusInvalidState, closed: true,
		Message: "the index is closed; create or load a new one"}
}

func optionsClosedError(op string) error {
	return &Error{Op: op, Status: StatusInvalidState, closed: true,
		Message: "the search options are closed (or nil); make new ones with NewSearchOptions"}
}

func writerClosedError(op string) error {
	return &Error{Op: op, Status: StatusInvalidState, closed: true,
		Message: "the writer is closed (or nil); open the directory again with OpenWriter"}
}

// withOp names the failed method in an *Error that does not name one yet.
func withOp(op string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Op == "" {
		e.Op = op
	}
	return err
}

// libraryError is a failure to load libann; it matches ErrLibrary.
type libraryError struct{ message string }

func (e *libraryError) Error() string        { return e.message }
func (e *libraryError) Is(target error) bool { return target == ErrLibrary }
