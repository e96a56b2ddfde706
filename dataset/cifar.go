package dataset

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// cifarPixels is the size of one CIFAR image: 3 planes (R, G, B) of 32×32
// bytes, each row-major.
const cifarPixels = 3 * 32 * 32

// cifarFormat describes one of the CIFAR binary versions.
type cifarFormat struct {
	name        string   // "cifar10", "cifar100", "cifar100-coarse"
	sub         string   // the directory the tarball unpacks to
	tarball     string   // the file to download, for errors
	pySub       string   // the directory of the Python (pickle) version, for errors
	train, test []string // the files of each split, in order
	// labelRange[k] is the number of values label byte k may take; label
	// byte use is the one the set keeps.
	labelRange []int
	use        int
}

func (f *cifarFormat) record() int { return len(f.labelRange) + cifarPixels }

var (
	cifar10 = cifarFormat{
		name: "cifar10", sub: "cifar-10-batches-bin", tarball: "cifar-10-binary.tar.gz", pySub: "cifar-10-batches-py",
		train: []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"},
		test:  []string{"test_batch.bin"}, labelRange: []int{10}, use: 0,
	}
	cifar100 = cifarFormat{
		name: "cifar100", sub: "cifar-100-binary", tarball: "cifar-100-binary.tar.gz", pySub: "cifar-100-python",
		train: []string{"train.bin"}, test: []string{"test.bin"}, labelRange: []int{20, 100}, use: 1,
	}
	cifar100Coarse = func() cifarFormat { f := cifar100; f.name, f.use = "cifar100-coarse", 0; return f }()
)

// LoadCIFAR10 reads split "train" (data_batch_1.bin … data_batch_5.bin,
// 50,000 images) or "test" (test_batch.bin, 10,000) of CIFAR-10's binary
// version from dir, the cifar-10-batches-bin directory that
// cifar-10-binary.tar.gz unpacks to, or the directory that holds it. It
// keeps the first n images (all if n ≤ 0). Images are [3, 32, 32] with
// pixels Pixel(b); 10 classes.
func LoadCIFAR10(dir, split string, n int) (*Set, error) { return loadCIFAR(&cifar10, dir, split, n) }

// LoadCIFAR100 reads split "train" (train.bin, 50,000 images) or "test"
// (test.bin, 10,000) of CIFAR-100's binary version from dir, the
// cifar-100-binary directory that cifar-100-binary.tar.gz unpacks to, or
// the directory that holds it, with the fine labels (100 classes), or the
// coarse ones (20 superclasses) if coarse is set. It keeps the first n
// images (all if n ≤ 0).
func LoadCIFAR100(dir, split string, n int, coarse bool) (*Set, error) {
	if coarse {
		return loadCIFAR(&cifar100Coarse, dir, split, n)
	}
	return loadCIFAR(&cifar100, dir, split, n)
}

func loadCIFAR(f *cifarFormat, dir, split string, n int) (*Set, error) {
	var names []string
	switch split {
	case Train:
		names = f.train
	case Test:
		names = f.test
	default:
		return nil, fmt.Errorf("%s: split %q: want %q or %q", f.name, split, Train, Test)
	}
	dir, err := f.findDir(dir, names[0])
	if err != nil {
		return nil, err
	}
	// Every file must be a whole number of records; that also bounds what
	// is allocated by what is on disk.
	paths := make([]string, len(names))
	counts := make([]int, len(names))
	total := 0
	for i, name := range names {
		paths[i] = filepath.Join(dir, name)
		st, err := os.Stat(paths[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %s is missing from %s (%s unpacks to %s/ with %s)", f.name, name, dir, f.tarball, f.sub, strings.Join(names, ", "))
		}
		if st.IsDir() {
			return nil, fmt.Errorf("%s: %s is a directory, not a file of records", f.name, paths[i])
		}
		if counts[i], err = f.records(st.Size()); err != nil {
			return nil, fmt.Errorf("%s: %s: %v", f.name, paths[i], err)
		}
		total += counts[i]
	}
	if n <= 0 || n > total {
		n = total
	}
	s := newSet(f.name+" "+split, dir, n, 3, 32, 32, f.labelRange[f.use])
	// Read whole files, in order, until n images are in; each file read is
	// checked whole.
	for i, at := 0, 0; at < n; i++ {
		fh, err := os.Open(paths[i])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		got, err := f.decode(bufio.NewReaderSize(fh, 1<<16), counts[i], s.Images[at*cifarPixels:], s.Labels[at:])
		fh.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", f.name, paths[i], err)
		}
		at += got
	}
	return s, nil
}

// records returns the number of records in a file of size bytes, which
// must be a whole, non-zero number of them.
func (f *cifarFormat) records(size int64) (int, error) {
	rec := int64(f.record())
	if size <= 0 || size%rec != 0 {
		return 0, fmt.Errorf("%d bytes is not a whole number of %d-byte records (%s)", size, rec, f.recordText())
	}
	return int(size / rec), nil
}

// recordText says what a record holds, for errors.
func (f *cifarFormat) recordText() string {
	if len(f.labelRange) == 2 {
		return "coarse label byte, fine label byte, 3072 pixel bytes"
	}
	return "label byte, 3072 pixel bytes"
}

// findDir returns dir or dir/f.sub, whichever holds first.
func (f *cifarFormat) findDir(dir, first string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("%s: no data directory: pass --data DIR, the %s/ directory that %s unpacks to (no copy of CIFAR comes with evsnn)", f.name, f.sub, f.tarball)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return "", fmt.Errorf("%s: %s is not a directory (want the %s/ directory that %s unpacks to)", f.name, dir, f.sub, f.tarball)
	}
	for _, d := range []string{dir, filepath.Join(dir, f.sub)} {
		if _, err := os.Stat(filepath.Join(d, first)); err == nil {
			return d, nil
		}
	}
	hint := ""
	for _, d := range []string{dir, filepath.Join(dir, f.pySub)} {
		if _, err := os.Stat(filepath.Join(d, strings.TrimSuffix(first, ".bin"))); err == nil {
			hint = " (" + d + " looks like the Python version, made of pickles: use the binary version, or save the arrays as .npy and use --dataset npy)"
			break
		}
	}
	return "", fmt.Errorf("%s: neither %s nor %s has %s: want the %s/ directory that %s unpacks to%s",
		f.name, dir, filepath.Join(dir, f.sub), first, f.sub, f.tarball, hint)
}

// decode reads count records from r, checks every label, and puts the
// first min(count, len(labels)) images and labels into pixels and labels.
// It returns how many it put there.
func (f *cifarFormat) decode(r io.Reader, count int, pixels []float32, labels []int) (int, error) {
	keep := min(count, len(labels))
	buf := make([]byte, f.record())
	nl := len(f.labelRange)
	for i := range count {
		if _, err := io.ReadFull(r, buf); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return 0, fmt.Errorf("truncated: it ends inside record %d of %d", i, count)
			}
			return 0, fmt.Errorf("record %d: %w", i, err)
		}
		for k, lim := range f.labelRange {
			if int(buf[k]) >= lim {
				return 0, fmt.Errorf("record %d: %s %d is outside [0, %d)", i, f.labelName(k), buf[k], lim)
			}
		}
		if i < keep {
			labels[i] = int(buf[f.use])
			bytesToPixels(pixels[i*cifarPixels:(i+1)*cifarPixels], buf[nl:])
		}
	}
	return keep, nil
}

func (f *cifarFormat) labelName(k int) string {
	switch {
	case len(f.labelRange) == 1:
		return "label"
	case k == 0:
		return "coarse label"
	}
	return "fine label"
}
