package ann

import (
	"os"
	"strings"
	"testing"
)

// The README's code blocks are example files, which go test runs: the two must not drift.
func TestReadmeQuickstartIsTheExample(t *testing.T) {
	readmeBlockIsFile(t, "## Quickstart", "example_test.go")
}

func TestReadmeSearchSectionIsTheExample(t *testing.T) {
	readmeBlockIsFile(t, "## Keys, filtered search and shards", "example_search_test.go")
}

func TestReadmeLiveSectionIsTheExample(t *testing.T) {
	readmeBlockIsFile(t, "## Live indexes", "example_live_test.go")
}

// readmeBlockIsFile checks that the first go code block after heading is the file's text.
func readmeBlockIsFile(t *testing.T, heading, file string) {
	t.Helper()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	_, after, found := strings.Cut(string(readme), "\n"+heading+"\n")
	if !found {
		t.Fatalf("README.md has no %q section", heading)
	}
	_, block, found := strings.Cut(after, "```go\n")
	block, _, closed := strings.Cut(block, "```")
	if !found || !closed {
		t.Fatalf("the %q section has no go code block", heading)
	}
	if block != string(example) {
		t.Fatalf("README.md's %q block differs from %s: copy the file into the README", heading, file)
	}
}
