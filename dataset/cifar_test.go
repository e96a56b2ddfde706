package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cifarPixel is the byte of pixel j of image g in the test files.
func cifarPixel(g, j int) byte { return byte(g*13 + j*7 + j/1024) }

// cifarLabels are the label bytes of image g in the test files: the label
// for CIFAR-10; coarse, fine for CIFAR-100.
func cifarLabels(f *cifarFormat, g int) []byte {
	if len(f.labelRange) == 1 {
		return []byte{byte(g % 10)}
	}
	return []byte{byte(g % 20), byte(g * 7 % 100)}
}

// cifarFile returns count records of images first, first+1, ...
func cifarFile(f *cifarFormat, first, count int) []byte {
	var out []byte
	for g := first; g < first+count; g++ {
		out = append(out, cifarLabels(f, g)...)
		for j := range cifarPixels {
			out = append(out, cifarPixel(g, j))
		}
	}
	return out
}

// writeCIFAR writes a split's files to dir, per records each, and returns
// the number of images.
func writeCIFAR(t *testing.T, f *cifarFormat, dir string, names []string, per int) int {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), cifarFile(f, i*per, per), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return len(names) * per
}

func checkCIFAR(t *testing.T, f *cifarFormat, s *Set, n int) {
	t.Helper()
	if s.N != n || s.C != 3 || s.H != 32 || s.W != 32 || len(s.Images) != n*3072 || s.Classes != f.labelRange[f.use] {
		t.Fatalf("%s: N=%d [%d %d %d] %d pixels, %d classes; want N=%d", s.Name, s.N, s.C, s.H, s.W, len(s.Images), s.Classes, n)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	for g := range n {
		if want := int(cifarLabels(f, g)[f.use]); s.Labels[g] != want {
			t.Fatalf("image %d: label %d, want %d", g, s.Labels[g], want)
		}
		img := s.Image(g)
		// CHW: channel c, row y, column x is byte 1024c + 32y + x of the
		// record's pixels.
		for _, p := range [][3]int{{0, 0, 0}, {0, 0, 31}, {0, 1, 0}, {1, 0, 0}, {2, 31, 31}, {1, 17, 5}} {
			j := 1024*p[0] + 32*p[1] + p[2]
			if img[j] != Pixel(cifarPixel(g, j)) {
				t.Fatalf("image %d, channel %d, row %d, column %d: %v, want %v", g, p[0], p[1], p[2], img[j], Pixel(cifarPixel(g, j)))
			}
		}
		for j, v := range img {
			if v != Pixel(cifarPixel(g, j)) {
				t.Fatalf("image %d, pixel %d: %v", g, j, v)
			}
		}
	}
}

func TestCIFAR10(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "cifar-10-batches-bin")
	nTrain := writeCIFAR(t, &cifar10, dir, cifar10.train, 3)
	nTest := writeCIFAR(t, &cifar10, dir, cifar10.test, 4)
	for _, c := range []struct {
		dir, split string
		n, want    int
	}{
		{dir, Train, 0, nTrain},
		{parent, Train, 0, nTrain}, // the directory holding cifar-10-batches-bin
		{dir, Train, 7, 7},         // across files: 3 + 3 + 1
		{dir, Train, 3, 3},
		{dir, Train, 1000, nTrain},
		{parent, Test, 0, nTest},
		{dir, Test, 2, 2},
	} {
		s, err := LoadCIFAR10(c.dir, c.split, c.n)
		if err != nil {
			t.Fatal(err)
		}
		checkCIFAR(t, &cifar10, s, c.want)
		if s.Name != "cifar10 "+c.split || s.Source != dir {
			t.Errorf("Name %q Source %q", s.Name, s.Source)
		}
	}
	// Only the files needed are read: a bad label in the last file does not
	// matter to the first 3 images, but does to all.
	bad := cifarFile(&cifar10, 12, 3)
	bad[3073] = 10
	if err := os.WriteFile(filepath.Join(dir, "data_batch_5.bin"), bad, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCIFAR10(dir, Train, 3); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCIFAR10(dir, Train, 0)
	wantErr(t, err, "cifar10: ", "data_batch_5.bin: record 1: label 10 is outside [0, 10)")
}

func TestCIFAR100(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "cifar-100-binary")
	writeCIFAR(t, &cifar100, dir, cifar100.train, 5)
	writeCIFAR(t, &cifar100, dir, cifar100.test, 3)
	for _, coarse := range []bool{false, true} {
		f := &cifar100
		if coarse {
			f = &cifar100Coarse
		}
		s, err := LoadCIFAR100(parent, Train, 0, coarse)
		if err != nil {
			t.Fatal(err)
		}
		checkCIFAR(t, f, s, 5)
		s, err = LoadCIFAR100(dir, Test, 2, coarse)
		if err != nil {
			t.Fatal(err)
		}
		checkCIFAR(t, f, s, 2)
	}
}

// wantErr fails unless err is one line that starts with prefix and
// mentions every string of want.
func wantErr(t *testing.T, err error, prefix string, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %q", want)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, prefix) || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line starting with %q", msg, prefix)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
}

func TestCIFARBad(t *testing.T) {
	write := func(t *testing.T, dir, name string, b []byte) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good10 := cifarFile(&cifar10, 0, 2)
	good100 := cifarFile(&cifar100, 0, 2)
	for _, c := range []struct {
		name  string
		f     *cifarFormat
		files map[string][]byte
		want  []string
	}{
		{"one byte short", &cifar10, map[string][]byte{"test_batch.bin": good10[:len(good10)-1]},
			[]string{"test_batch.bin: 6145 bytes is not a whole number of 3073-byte records (label byte, 3072 pixel bytes)"}},
		{"one byte long", &cifar10, map[string][]byte{"test_batch.bin": append(good10, 0)}, []string{"test_batch.bin: 6147 bytes"}},
		{"empty", &cifar10, map[string][]byte{"test_batch.bin": nil}, []string{"test_batch.bin: 0 bytes is not a whole number"}},
		{"label 10", &cifar10, map[string][]byte{"test_batch.bin": append(good10, append([]byte{10}, good10[1:3073]...)...)},
			[]string{"test_batch.bin: record 2: label 10 is outside [0, 10)"}},
		{"label 255", &cifar10, map[string][]byte{"test_batch.bin": append([]byte{255}, good10[1:]...)}, []string{"record 0: label 255"}},
		{"CIFAR-100 file as CIFAR-10", &cifar10, map[string][]byte{"test_batch.bin": good100}, []string{"6148 bytes is not a whole number of 3073-byte records"}},
		{"CIFAR-10 size as CIFAR-100", &cifar100, map[string][]byte{"test.bin": good10}, []string{"test.bin: 6146 bytes is not a whole number of 3074-byte records (coarse label byte, fine label byte, 3072 pixel bytes)"}},
		{"coarse 20", &cifar100, map[string][]byte{"test.bin": append(good100, append([]byte{20, 0}, good100[2:3074]...)...)}, []string{"test.bin: record 2: coarse label 20 is outside [0, 20)"}},
		{"fine 100", &cifar100Coarse, map[string][]byte{"test.bin": append([]byte{0, 100}, good100[2:]...)}, []string{"cifar100-coarse: ", "record 0: fine label 100 is outside [0, 100)"}},
		{"missing", &cifar10, map[string][]byte{"data_batch_1.bin": good10}, []string{"neither", "has test_batch.bin", "cifar-10-binary.tar.gz"}},
		{"python version", &cifar10, map[string][]byte{"test_batch": good10}, []string{"Python version", "pickles"}},
		{"a directory", &cifar10, map[string][]byte{"test_batch.bin/x": nil}, []string{"test_batch.bin is a directory"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, b := range c.files {
				if d, _ := filepath.Split(name); d != "" {
					os.MkdirAll(filepath.Join(dir, d), 0o755)
				}
				write(t, dir, name, b)
			}
			_, err := loadCIFAR(c.f, dir, Test, 0)
			wantErr(t, err, c.f.name+": ", c.want...)
		})
	}
	t.Run("missing later file", func(t *testing.T) {
		dir := t.TempDir()
		write(t, dir, "data_batch_1.bin", good10)
		write(t, dir, "data_batch_2.bin", good10)
		_, err := LoadCIFAR10(dir, Train, 1)
		wantErr(t, err, "cifar10: ", "data_batch_3.bin is missing from "+dir)
	})
	t.Run("no directory", func(t *testing.T) {
		_, err := LoadCIFAR10("", Test, 0)
		wantErr(t, err, "cifar10: ", "pass --data DIR", "cifar-10-batches-bin")
		_, err = LoadCIFAR10(filepath.Join(t.TempDir(), "nowhere"), Test, 0)
		wantErr(t, err, "cifar10: ", "nowhere is not a directory")
		_, err = LoadCIFAR100(t.TempDir(), "val", 0, false)
		wantErr(t, err, "cifar100: ", `split "val"`)
	})
	t.Run("python version directory", func(t *testing.T) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "cifar-100-python"), 0o755)
		write(t, filepath.Join(dir, "cifar-100-python"), "test", good100)
		_, err := LoadCIFAR100(dir, Test, 0, false)
		wantErr(t, err, "cifar100: ", "cifar-100-python looks like the Python version")
	})
}
