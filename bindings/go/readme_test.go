package ann

import (
	"os"
	"strings"
	"testing"
)

// The README's quickstart is example_test.go, which go test runs: the two must not drift.
func TestReadmeQuickstartIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, found := strings.Cut(string(readme), "## Quickstart")
	if !found {
		t.Fatal("README.md has no Quickstart section")
	}
	_, block, found := strings.Cut(after, "```go\n")
	block, _, closed := strings.Cut(block, "```")
	if !found || !closed {
		t.Fatal("the Quickstart section has no go code block")
	}
	if block != string(example) {
		t.Fatal("README.md's quickstart differs from example_test.go: copy the file into the README")
	}
}
