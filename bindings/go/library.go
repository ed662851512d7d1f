package ann

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// libraryName is the file name cargo gives the library; sonameName the installed one.
const (
	libraryName    = "libann.so"
	sonameName     = "libann.so.1"
	installedPath  = "/usr/local/lib/libann.so.1" // where `cmake -P cmake/install.cmake` puts it
	howToGetLibann = "set ANN_LIB to the path of libann.so, build it with `cargo build --release` " +
		"in the ann repository, or install it with `cmake -P cmake/install.cmake`"
)

var (
	loadOnce    sync.Once
	loadedPath  string
	loadFailure error
)

// loadLibrary loads libann once per process, on first use, and returns why it failed, if it
// did. Every entry point calls it, so a missing library is an ordinary error, not a crash.
func loadLibrary() error {
	loadOnce.Do(func() { loadedPath, loadFailure = findAndOpen() })
	return loadFailure
}

// LibraryPath loads libann if needed and returns the path it was loaded from ("libann.so.1"
// when the system's loader found it).
func LibraryPath() (string, error) {
	if err := loadLibrary(); err != nil {
		return "", err
	}
	return loadedPath, nil
}

// Version is the loaded library's version, e.g. "0.1.0".
func Version() (string, error) {
	if err := loadLibrary(); err != nil {
		return "", err
	}
	return cVersion(), nil
}

// ABIVersion is the loaded library's ABI version, which equals the one this package was
// written for (loading refuses any other).
func ABIVersion() (uint32, error) {
	if err := loadLibrary(); err != nil {
		return 0, err
	}
	return cABIVersion(), nil
}

// findAndOpen follows the discovery order of bindings/README.md: ANN_LIB; a cargo build in
// CARGO_TARGET_DIR or in the source checkout holding this package; the installed
// libann.so.1. The first that exists is loaded, and a failure to load it is an error, never
// a fall-through to another copy.
func findAndOpen() (string, error) {
	if explicit := os.Getenv("ANN_LIB"); explicit != "" {
		if !isFile(explicit) {
			return "", loadError("ann: ANN_LIB=%s: no such file; %s", explicit, howToGetLibann)
		}
		return explicit, open(explicit)
	}
	looked := []string{"ANN_LIB (not set)"}
	for _, path := range cargoBuilds(os.Getenv("CARGO_TARGET_DIR"), sourceCheckout()) {
		if isFile(path) {
			return path, open(path)
		}
		looked = append(looked, path)
	}
	// The system's loader: LD_LIBRARY_PATH and the ldconfig cache.
	code, abi, detail := openLibrary(sonameName)
	if code != openDlopenFailed {
		return sonameName, openError(sonameName, code, abi, detail)
	}
	looked = append(looked, sonameName+" ("+detail+")")
	if isFile(installedPath) {
		return installedPath, open(installedPath)
	}
	looked = append(looked, installedPath)
	return "", loadError("ann: cannot find libann; looked for %s; %s",
		strings.Join(looked, ", "), howToGetLibann)
}

// sourceCheckout is the repository holding this package's source, when the package is built
// from a checkout (<repo>/bindings/go), or "".
func sourceCheckout() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok || !filepath.IsAbs(file) { // -trimpath builds record no usable path
		return ""
	}
	repo := filepath.Join(filepath.Dir(file), "..", "..")
	if isFile(filepath.Join(repo, "Cargo.toml")) && isFile(filepath.Join(repo, "include", "ann.h")) {
		return repo
	}
	return ""
}

// cargoBuilds lists where cargo puts the library, most specific first: each target
// directory's release build, then its debug build. CARGO_TARGET_DIR wins over <repo>/target
// because that is where cargo itself builds when the variable is set.
func cargoBuilds(targetDir, repo string) []string {
	var targets []string
	if targetDir != "" {
		if filepath.IsAbs(targetDir) {
			targets = append(targets, targetDir)
		} else if repo != "" {
			targets = append(targets, filepath.Join(repo, targetDir))
		}
	}
	if repo != "" {
		targets = append(targets, filepath.Join(repo, "target"))
	}
	var paths []string
	for _, target := range targets {
		for _, profile := range []string{"release", "debug"} {
			paths = append(paths, filepath.Join(target, profile, libraryName))
		}
	}
	return paths
}

func isFile(path string) bool {
	info, err := os.Stat(path)
	return err == nil && !info.IsDir()
}

func open(path string) error {
	code, abi, detail := openLibrary(path)
	return openError(path, code, abi, detail)
}

// openError explains a failed openLibrary, saying what to rebuild or install.
func openError(path string, code int, abi uint32, detail string) error {
	switch code {
	case openOK:
		return nil
	case openDlopenFailed:
		return loadError("ann: cannot load %s: %s; %s", path, detail, howToGetLibann)
	case openNotLibann:
		return loadError("ann: %s is not libann (it has no ann_abi_version); %s", path, howToGetLibann)
	case openABIMismatch:
		return loadError("ann: %s has ABI version %d, but this Go package needs ABI %d; "+
			"rebuild the library or install the version matching this package (%s)",
			path, abi, abiVersion, howToGetLibann)
	default:
		return loadError("ann: %s lacks %s: it is older than this Go package; rebuild it (%s)",
			path, detail, howToGetLibann)
	}
}

func loadError(format string, args ...interface{}) error {
	return &libraryError{message: fmt.Sprintf(format, args...)}
}
