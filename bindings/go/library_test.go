package ann

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The library loads once per process, so each discovery case runs this test binary again,
// as a child that only loads the library and reports what happened (see TestMain).
const loadingChildEnv = "ANN_GO_TEST_LOADING_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(loadingChildEnv) == "1" {
		os.Exit(loadingChild())
	}
	if dir := os.Getenv(liveReaderEnv); dir != "" {
		os.Exit(liveReaderChild(dir))
	}
	os.Exit(m.Run())
}

// loadingChild prints the library's path, or the error of New and whether it is ErrLibrary.
func loadingChild() int {
	path, err := LibraryPath()
	if err == nil {
		fmt.Println(path)
		return 0
	}
	_, newErr := New(4, Angular)
	fmt.Fprintf(os.Stderr, "%v\nErrLibrary: %v\nsame from New: %v\n",
		err, errors.Is(err, ErrLibrary), newErr != nil && newErr.Error() == err.Error())
	return 3
}

// runLoading runs the child with ANN_LIB and CARGO_TARGET_DIR removed, then env added.
func runLoading(t *testing.T, env ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ANN_LIB=") && !strings.HasPrefix(kv, "CARGO_TARGET_DIR=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, append(env, loadingChildEnv+"=1")...)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return strings.TrimSpace(out.String()), errOut.String(), err == nil
}

func loadedLibrary(t *testing.T) string {
	path, err := LibraryPath()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAnnLibWins(t *testing.T) {
	lib := loadedLibrary(t)
	if out, errOut, ok := runLoading(t, "ANN_LIB="+lib); !ok || out != lib {
		t.Fatalf("loaded %q, want %q: %s", out, lib, errOut)
	}
}

func expectLoadFailure(t *testing.T, errOut string, ok bool, fragments ...string) {
	t.Helper()
	if ok {
		t.Fatal("the library loaded")
	}
	for _, f := range append(fragments, "ErrLibrary: true", "same from New: true") {
		if !strings.Contains(errOut, f) {
			t.Fatalf("error lacks %q:\n%s", f, errOut)
		}
	}
}

func TestMissingAnnLibFailsNamingTheFixes(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.so")
	_, errOut, ok := runLoading(t, "ANN_LIB="+missing)
	expectLoadFailure(t, errOut, ok, missing, "ANN_LIB", "cargo build --release", "cmake -P cmake/install.cmake")
}

func TestCargoTargetDirIsHonoured(t *testing.T) {
	target := filepath.Join(t.TempDir(), "target")
	copyPath := filepath.Join(target, "debug", libraryName)
	if err := os.MkdirAll(filepath.Dir(copyPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(loadedLibrary(t), copyPath); err != nil {
		t.Fatal(err)
	}
	if out, errOut, ok := runLoading(t, "CARGO_TARGET_DIR="+target); !ok || out != copyPath {
		t.Fatalf("loaded %q, want %q: %s", out, copyPath, errOut)
	}
}

func TestTheSourceCheckoutFindsTheCargoBuild(t *testing.T) {
	repo := sourceCheckout()
	if repo == "" {
		t.Skip("not built from the ann repository")
	}
	var want string
	for _, path := range cargoBuilds("", repo) {
		if isFile(path) {
			want = path
			break
		}
	}
	if want == "" {
		t.Skip("no cargo build in the repository")
	}
	if out, errOut, ok := runLoading(t); !ok || out != want {
		t.Fatalf("loaded %q, want %q: %s", out, want, errOut)
	}
}

func TestCargoBuildOrder(t *testing.T) {
	got := cargoBuilds("rel", "/repo")
	want := []string{
		"/repo/rel/release/libann.so", "/repo/rel/debug/libann.so",
		"/repo/target/release/libann.so", "/repo/target/debug/libann.so",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	if got := cargoBuilds("/t", ""); !reflect.DeepEqual(got, []string{"/t/release/libann.so", "/t/debug/libann.so"}) {
		t.Fatalf("%v", got)
	}
	if got := cargoBuilds("rel", ""); len(got) != 0 {
		t.Fatalf("a relative CARGO_TARGET_DIR outside a checkout gave %v", got)
	}
}

// fakeLibrary compiles a shared library from C source, to stand in for a wrong libann.
func fakeLibrary(t *testing.T, source string) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("needs a C compiler")
	}
	dir := t.TempDir()
	src, lib := filepath.Join(dir, "fake.c"), filepath.Join(dir, libraryName)
	if err := os.WriteFile(src, []byte(source), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-shared", "-fPIC", "-o", lib, src).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return lib
}

func TestAnABIMismatchFailsClearly(t *testing.T) {
	fake := fakeLibrary(t, "unsigned ann_abi_version(void) { return 2; }\n")
	_, errOut, ok := runLoading(t, "ANN_LIB="+fake)
	expectLoadFailure(t, errOut, ok, "has ABI version 2, but this Go package needs ABI 1", "cargo build --release")
}

func TestALibraryThatIsNotLibannFailsClearly(t *testing.T) {
	fake := fakeLibrary(t, "int something_else(void) { return 0; }\n")
	_, errOut, ok := runLoading(t, "ANN_LIB="+fake)
	expectLoadFailure(t, errOut, ok, "is not libann")
}

func TestALibraryMissingFunctionsFailsNamingThem(t *testing.T) {
	fake := fakeLibrary(t, "unsigned ann_abi_version(void) { return 1; }\n")
	_, errOut, ok := runLoading(t, "ANN_LIB="+fake)
	expectLoadFailure(t, errOut, ok, "lacks ann_version, ann_last_error_message", "rebuild")
}

func TestAFileThatIsNotALibraryFailsClearly(t *testing.T) {
	notALibrary := filepath.Join(t.TempDir(), libraryName)
	if err := os.WriteFile(notALibrary, []byte("text"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, ok := runLoading(t, "ANN_LIB="+notALibrary)
	expectLoadFailure(t, errOut, ok, "cannot load "+notALibrary, "ANN_LIB")
}

func TestVersionsAndNames(t *testing.T) {
	version, err := Version()
	if err != nil || version == "" || strings.Count(version, ".") < 2 {
		t.Fatalf("version %q %v", version, err)
	}
	if abi, err := ABIVersion(); err != nil || abi != abiVersion {
		t.Fatalf("ABI %d %v", abi, err)
	}
	for m := Metric(0); m < 6; m++ {
		if want := cMetricName(m); want != "" && m.String() != want {
			t.Fatalf("%d: %q, libann says %q", m, m.String(), want)
		} else if want == "" && m.String() != "Metric(5)" {
			t.Fatalf("%d: %q for an unknown metric", m, m.String())
		}
	}
	for _, m := range allMetrics {
		if parsed, err := ParseMetric(m.String()); err != nil || parsed != m {
			t.Fatalf("%v parsed as %v %v", m, parsed, err)
		}
	}
	if m, err := ParseMetric("cosine"); err != nil || m != Angular {
		t.Fatalf("cosine is %v %v", m, err)
	}
	_, err = ParseMetric("")
	expectError(t, err, ErrInvalidArgument, "ParseMetric")
	_, err = ParseMetric("dot\x00")
	expectError(t, err, ErrInvalidArgument, "NUL")
	for s := Status(0); s < 10; s++ {
		if s.String() != cStatusName(s) {
			t.Fatalf("%d: %q, libann says %q", s, s.String(), cStatusName(s))
		}
	}
	if FileAnnoy.String() != "annoy" || FileNative.String() != "native" || FileKind(9).String() != "FileKind(9)" {
		t.Fatal("file kind names")
	}
}
