package dataset

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// LoadNPY reads split "train" or "test" of a set saved with NumPy, keeping
// the first n images (all if n ≤ 0). path is one of (see the package
// documentation):
//
//   - a directory holding SPLIT.npz (arrays x and y), or x_SPLIT.npy and
//     y_SPLIT.npy;
//   - a .npz file holding x_SPLIT and y_SPLIT (the layout of Keras'
//     mnist.npz), or x and y (then used for either split);
//   - a .npy file of images whose name starts with x (x.npy,
//     x_test.npy, ...), its labels in the file of the same name starting
//     with y instead (y.npy, y_test.npy, ...), used for either split.
//
// x is float32 or uint8 (read as Pixel(b)), [N, C, H, W] or [N, H, W]
// (one channel), C order; y is integers [N] (or [N, 1]). Classes is the
// largest label + 1 (SetClasses raises it).
func LoadNPY(path, split string, n int) (*Set, error) {
	if split != Train && split != Test {
		return nil, fmt.Errorf("npy: split %q: want %q or %q", split, Train, Test)
	}
	if path == "" {
		return nil, errors.New("npy: no data: pass --data PATH, a directory with " + split + ".npz or x_" + split + ".npy and y_" + split + ".npy, or a .npz or x….npy file")
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	switch {
	case st.IsDir():
		npz := filepath.Join(path, split+".npz")
		x, y := filepath.Join(path, "x_"+split+".npy"), filepath.Join(path, "y_"+split+".npy")
		hasNPZ, hasX, hasY := isFile(npz), isFile(x), isFile(y)
		switch {
		case hasNPZ && (hasX || hasY):
			return nil, fmt.Errorf("npy: %s has both %s.npz and x_%s.npy/y_%s.npy: pass the one to use as --data", path, split, split, split)
		case hasNPZ:
			return loadNPZ(npz, split, n, true)
		case hasX && hasY:
			return loadNPYPair(x, y, split, n)
		case hasX:
			return nil, fmt.Errorf("npy: %s has x_%s.npy but not its labels y_%s.npy", path, split, split)
		}
		return nil, fmt.Errorf("npy: %s has neither %s.npz nor x_%s.npy and y_%s.npy", path, split, split, split)
	case strings.HasSuffix(path, ".npz"):
		return loadNPZ(path, split, n, false)
	case strings.HasSuffix(path, ".npy"):
		dir, base := filepath.Split(path)
		if !strings.HasPrefix(base, "x") {
			return nil, fmt.Errorf("npy: %s: the images file's name must start with x (x.npy, x_test.npy), its labels' with y", path)
		}
		y := filepath.Join(dir, "y"+base[1:])
		if !isFile(y) {
			return nil, fmt.Errorf("npy: %s has no labels file %s beside it", path, y)
		}
		return loadNPYPair(path, y, split, n)
	}
	return nil, fmt.Errorf("npy: %s is neither a directory nor a .npz or .npy file", path)
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// npySource is one array to read: a .npy file, or an entry of a .npz.
type npySource struct {
	name string // for errors: the file, or "FILE.npz: x.npy"
	open func() (io.ReadCloser, error)
	size int64 // bytes, or -1 if unknown
}

func npyFile(path string) npySource {
	size := int64(-1)
	if st, err := os.Stat(path); err == nil {
		size = st.Size()
	}
	return npySource{name: path, size: size, open: func() (io.ReadCloser, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		return struct {
			io.Reader
			io.Closer
		}{bufio.NewReaderSize(f, 1<<16), f}, nil
	}}
}

func loadNPYPair(x, y, split string, n int) (*Set, error) {
	s, err := readXY(npyFile(x), npyFile(y), n)
	if err != nil {
		return nil, err
	}
	s.Name, s.Source = "npy "+split, x+", "+y
	return s, nil
}

// loadNPZ reads x_SPLIT and y_SPLIT, or else x and y, from a .npz file
// (only x and y if xyOnly: the file is SPLIT.npz).
func loadNPZ(path, split string, n int, xyOnly bool) (*Set, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %s: not a .npz (zip) file: %v", path, err)
	}
	defer zr.Close()
	s, err := readNPZ(&zr.Reader, path, split, n, xyOnly)
	if err != nil {
		return nil, err
	}
	s.Name = "npy " + split
	return s, nil
}

func readNPZ(zr *zip.Reader, path, split string, n int, xyOnly bool) (*Set, error) {
	entries := map[string]*zip.File{}
	var keys []string
	for _, f := range zr.File {
		if key, ok := strings.CutSuffix(f.Name, ".npy"); ok && entries[key] == nil {
			entries[key] = f
			keys = append(keys, printable(key))
		}
	}
	pairs := [][2]string{{"x", "y"}}
	if !xyOnly {
		pairs = [][2]string{{"x_" + split, "y_" + split}, {"x", "y"}}
	}
	for _, p := range pairs {
		xf, yf := entries[p[0]], entries[p[1]]
		if xf == nil || yf == nil {
			continue
		}
		s, err := readXY(npzEntry(path, xf), npzEntry(path, yf), n)
		if err != nil {
			return nil, err
		}
		s.Source = path + " [" + p[0] + ", " + p[1] + "]"
		return s, nil
	}
	slices.Sort(keys)
	want := "x and y"
	if !xyOnly {
		want = "x_" + split + " and y_" + split + ", or x and y"
	}
	return nil, fmt.Errorf("npy: %s: no arrays %s (it has %s)", path, want, listOr(keys, "none"))
}

// maxDeflateRatio bounds how much deflate can expand (about 1032:1).
const maxDeflateRatio = 1100

func npzEntry(path string, f *zip.File) npySource {
	src := npySource{name: path + ": " + printable(f.Name), size: -1, open: f.Open}
	// Trust the declared size only as far as the compressed data could
	// hold it, so that a lying entry cannot make the reader allocate.
	limit := f.CompressedSize64
	if f.Method != zip.Store {
		limit = min(f.CompressedSize64, 1<<40)*maxDeflateRatio + 1024
	}
	if f.UncompressedSize64 > limit {
		src.open = func() (io.ReadCloser, error) {
			return nil, fmt.Errorf("declares %d bytes from %d compressed ones: refusing", f.UncompressedSize64, f.CompressedSize64)
		}
		return src
	}
	src.size = int64(f.UncompressedSize64)
	return src
}

// printable returns s, quoted if it holds anything but printable
// characters (a zip entry's name can hold a newline).
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

func listOr(s []string, none string) string {
	if len(s) == 0 {
		return none
	}
	return strings.Join(s, ", ")
}

// readXY reads images x and labels y, keeping the first n (all if n ≤ 0).
func readXY(xs, ys npySource, n int) (*Set, error) {
	// Labels first: they are small, and give N.
	labels, err := readNPYLabels(ys)
	if err != nil {
		return nil, err
	}
	xr, err := xs.open()
	if err != nil {
		return nil, fmt.Errorf("npy: %s: %v", xs.name, err)
	}
	defer xr.Close()
	h, err := readNPYHeader(xr, xs.size)
	if err != nil {
		return nil, fmt.Errorf("npy: %s: %v", xs.name, err)
	}
	c, hgt, w, err := imageShape(h)
	if err == nil {
		err = h.pixelType()
	}
	if err != nil {
		return nil, fmt.Errorf("npy: %s: %v", xs.name, err)
	}
	count := h.shape[0]
	if count != len(labels) {
		return nil, fmt.Errorf("npy: %s has %d images, %s %d labels", xs.name, count, ys.name, len(labels))
	}
	if n <= 0 || n > count {
		n = count
	}
	classes := 0
	for _, l := range labels {
		classes = max(classes, l+1)
	}
	s := newSet("npy", xs.name, n, c, hgt, w, classes)
	copy(s.Labels, labels)
	if err := h.readPixels(xr, s.Images, c*hgt*w); err != nil {
		return nil, fmt.Errorf("npy: %s: %v", xs.name, err)
	}
	return s, nil
}

// imageShape checks the header of an images array and returns C, H, W.
func imageShape(h *npyHeader) (c, hgt, w int, err error) {
	sh := h.shape
	switch len(sh) {
	case 3:
		c, hgt, w = 1, sh[1], sh[2]
	case 4:
		c, hgt, w = sh[1], sh[2], sh[3]
		if c > 4 && w <= 4 {
			return 0, 0, 0, fmt.Errorf("images of shape %s look like [N, H, W, C] (channels last): want [N, C, H, W] (save x.transpose(0, 3, 1, 2))", shapeText(sh))
		}
	default:
		return 0, 0, 0, fmt.Errorf("images of shape %s: want 4 dimensions [N, C, H, W], or 3 [N, H, W]", shapeText(sh))
	}
	if sh[0] == 0 || c == 0 || hgt == 0 || w == 0 {
		return 0, 0, 0, fmt.Errorf("images of shape %s: no images", shapeText(sh))
	}
	if h.fortran {
		return 0, 0, 0, errors.New("images in Fortran order: save numpy.ascontiguousarray(x)")
	}
	return c, hgt, w, nil
}

// readNPYLabels reads a labels array: integers of shape [N] or [N, 1].
func readNPYLabels(src npySource) ([]int, error) {
	r, err := src.open()
	if err != nil {
		return nil, fmt.Errorf("npy: %s: %v", src.name, err)
	}
	defer r.Close()
	h, err := readNPYHeader(r, src.size)
	if err != nil {
		return nil, fmt.Errorf("npy: %s: %v", src.name, err)
	}
	if !(len(h.shape) == 1 || len(h.shape) == 2 && h.shape[1] == 1) {
		return nil, fmt.Errorf("npy: %s: labels of shape %s: want [N] (or [N, 1])", src.name, shapeText(h.shape))
	}
	if err := h.labelType(); err != nil {
		return nil, fmt.Errorf("npy: %s: %v", src.name, err)
	}
	labels := make([]int, h.count)
	if err := h.readLabels(r, labels); err != nil {
		return nil, fmt.Errorf("npy: %s: %v", src.name, err)
	}
	return labels, nil
}
