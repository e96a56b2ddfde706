package dataset

import (
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// numpyPython returns Debian's python3 if it has numpy (the python3 on
// PATH may be another one without it), or skips the test, loudly.
func numpyPython(t *testing.T) string {
	t.Helper()
	const py = "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import numpy; print(numpy.__version__)").CombinedOutput(); err != nil {
		t.Skipf("SKIPPED: %s with numpy is not installed (apt-get install python3-numpy): "+
			"the .npy reader is tested only on the files numpy wrote into testdata/npy (%v: %s)", py, err, strings.TrimSpace(string(out)))
	} else {
		t.Logf("numpy %s", strings.TrimSpace(string(out)))
	}
	return py
}

// TestNumPyWritten writes the test files afresh with numpy and checks that
// they read as the checked-in ones do.
func TestNumPyWritten(t *testing.T) {
	py := numpyPython(t)
	out := t.TempDir()
	if b, err := exec.Command(py, "testdata/gen_npy.py", out, "testdata/mnist5").CombinedOutput(); err != nil {
		t.Fatalf("gen_npy.py: %v\n%s", err, b)
	}
	for _, c := range []struct{ path, split string }{
		{"mnist5u8", Test}, {"mnist5u8/x_test.npy", Train}, {"mnist5f32.npz", Test}, {"keras.npz", Train},
		{"keras.npz", Test}, {"rgb", Test}, {"pair/x.npy", Test}, {"v23", Test},
	} {
		want, err := Load("npy", filepath.Join(npyDir, c.path), c.split, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Load("npy", filepath.Join(out, c.path), c.split, 0)
		if err != nil {
			t.Fatal(err)
		}
		sameSet(t, c.path, got, want)
		if got.Classes != want.Classes {
			t.Errorf("%s: %d classes, want %d", c.path, got.Classes, want.Classes)
		}
	}
	for _, c := range badNPY {
		_, want := Load("npy", filepath.Join(npyDir, "bad", "x_"+c.name+".npy"), Test, 0)
		_, got := Load("npy", filepath.Join(out, "bad", "x_"+c.name+".npy"), Test, 0)
		if got == nil || want == nil || strings.ReplaceAll(got.Error(), out, npyDir) != want.Error() {
			t.Errorf("%s: error %v, want %v", c.name, got, want)
		}
	}
}

// TestNumPyValues reads arbitrary float32 values of both byte orders and
// int labels that numpy wrote, against the raw bytes numpy gave for them.
func TestNumPyValues(t *testing.T) {
	py := numpyPython(t)
	dir := t.TempDir()
	script := `
import sys, numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
x = (rng.standard_normal((6, 3, 4, 5)) * 10).astype(np.float32)
x[0, 0, 0, :4] = [0.0, -0.0, np.finfo(np.float32).tiny, np.finfo(np.float32).max]
y = rng.integers(0, 1000, size=6).astype(np.int32)
np.save(d + "/x_test.npy", x.astype(">f4"))
np.save(d + "/y_test.npy", y)
np.savez_compressed(d + "/train.npz", x=x[:2], y=y[:2].astype(np.uint16))
open(d + "/x.raw", "wb").write(x.astype("<f4").tobytes())
open(d + "/y.raw", "wb").write(y.astype("<i4").tobytes())
`
	if b, err := exec.Command(py, "-c", script, dir).CombinedOutput(); err != nil {
		t.Fatalf("python: %v\n%s", err, b)
	}
	raw := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	xr, yr := raw("x.raw"), raw("y.raw")
	for _, split := range []string{Test, Train} {
		s, err := Load("npy", dir, split, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(s.Shape(), []int{3, 4, 5}) || len(s.Images) != s.N*60 {
			t.Fatalf("%s: shape %v, %d values", split, s.Shape(), len(s.Images))
		}
		for i, v := range s.Images {
			if math.Float32bits(v) != binary.LittleEndian.Uint32(xr[4*i:]) {
				t.Fatalf("%s: value %d = %v, numpy has %v", split, i, v, math.Float32frombits(binary.LittleEndian.Uint32(xr[4*i:])))
			}
		}
		for i, l := range s.Labels {
			if want := int(int32(binary.LittleEndian.Uint32(yr[4*i:]))); l != want {
				t.Fatalf("%s: label %d = %d, want %d", split, i, l, want)
			}
		}
	}
}
