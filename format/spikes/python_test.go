package spikes

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// pythonWithNumpy finds a Python 3 with numpy (Debian's /usr/bin/python3
// has it; a pyenv python3 first on PATH may not), or skips loudly.
func pythonWithNumpy(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import numpy").Run() == nil {
			return py
		}
	}
	if requireReaders {
		t.Fatal("EVSNN_REQUIRE_READERS=1 but no python3 with numpy (apt-get install python3-numpy)")
	}
	t.Skip("SKIPPED: Python reader check: no python3 with numpy")
	return ""
}

// TestPythonReader runs the reader script of the package documentation
// (testdata/read_spikes.py, which doc.go must quote verbatim) on
// recordings and compares its spikes with WriteCSV's. pyroaring cannot be
// installed here, so testdata/fakepyroaring stands in for it: a pure-Python
// decoder of the portable format with pyroaring's BitMap.deserialize.
func TestPythonReader(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("testdata", "read_spikes.py"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var quoted strings.Builder
	for _, l := range strings.Split(string(doc), "\n") {
		if s, ok := strings.CutPrefix(l, "//\t"); ok {
			quoted.WriteString(s + "\n")
		} else if l == "//" {
			quoted.WriteString("\n")
		}
	}
	if !strings.Contains(quoted.String(), string(script)) {
		t.Error("doc.go does not quote testdata/read_spikes.py verbatim")
	}
	py := pythonWithNumpy(t)
	abs, err := filepath.Abs(filepath.Join("testdata", "fakepyroaring"))
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range roundTrips {
		if c.name == "dense bitmaps" {
			continue // slow in pure Python; conv+dense has bitmap containers too
		}
		t.Run(c.name, func(t *testing.T) {
			tr := newTestRun(uint64(i), c.T, c.images, c.specs...)
			path := tr.write(t, 1, 0)
			cmd := exec.Command(py, filepath.Join("testdata", "read_spikes.py"), path)
			cmd.Env = append(os.Environ(), "PYTHONPATH="+abs)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("read_spikes.py: %v: %s", err, stderr.Bytes())
			}
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var want bytes.Buffer
			if err := r.WriteCSV(&want, 0, c.images); err != nil {
				t.Fatal(err)
			}
			got, exp := strings.Split(string(out), "\n"), strings.Split(want.String(), "\n")
			slices.Sort(got)
			slices.Sort(exp)
			if !slices.Equal(got, exp) {
				t.Errorf("the Python reader finds %d lines, WriteCSV %d (or different ones)", len(got), len(exp))
			}
		})
	}
}
