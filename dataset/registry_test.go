package dataset

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	want := []string{"mnist", "fashion-mnist", "kmnist", "cifar10", "cifar100", "cifar100-coarse", "npy"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, n := range want {
		if d := Describe(n); d == "" || strings.Contains(d, "\n") {
			t.Errorf("Describe(%q) = %q", n, d)
		}
	}
	if Describe("imagenet") != "" {
		t.Error("Describe of an unknown set")
	}
}

func TestLoad(t *testing.T) {
	idxData := t.TempDir()
	writeSet(t, idxData, "train", 12, 28, 28, true)
	writeSet(t, idxData, "t10k", 7, 28, 28, false)
	torchRoot := t.TempDir() // torchvision.datasets.KMNIST(torchRoot) keeps its files in torchRoot/KMNIST/raw
	os.MkdirAll(filepath.Join(torchRoot, "KMNIST", "raw"), 0o755)
	writeSet(t, filepath.Join(torchRoot, "KMNIST", "raw"), "t10k", 3, 28, 28, true)
	cifar10Dir := filepath.Join(t.TempDir(), "cifar-10-batches-bin")
	writeCIFAR(t, &cifar10, cifar10Dir, cifar10.train, 2)
	writeCIFAR(t, &cifar10, cifar10Dir, cifar10.test, 3)
	cifar100Dir := t.TempDir()
	writeCIFAR(t, &cifar100, cifar100Dir, cifar100.train, 4)
	writeCIFAR(t, &cifar100, cifar100Dir, cifar100.test, 3)
	for _, c := range []struct {
		name, path, split string
		n                 int
		wantN             int
		shape             []int
		classes           int
	}{
		{"mnist", idxData, Test, 0, 7, []int{1, 28, 28}, 10},
		{"mnist", idxData, Train, 5, 5, []int{1, 28, 28}, 10},
		{"MNIST", idxData, Train, 100, 12, []int{1, 28, 28}, 10},
		{"fashion-mnist", idxData, Test, 0, 7, []int{1, 28, 28}, 10},
		{"kmnist", idxData, Train, 0, 12, []int{1, 28, 28}, 10},
		{"kmnist", torchRoot, Test, 0, 3, []int{1, 28, 28}, 10},
		{"cifar10", cifar10Dir, Train, 0, 10, []int{3, 32, 32}, 10},
		{"cifar10", filepath.Dir(cifar10Dir), Test, 2, 2, []int{3, 32, 32}, 10},
		{"cifar100", cifar100Dir, Train, 0, 4, []int{3, 32, 32}, 100},
		{"cifar100-coarse", cifar100Dir, Test, 0, 3, []int{3, 32, 32}, 20},
		{"npy", "testdata/npy/keras.npz", Test, 3, 3, []int{1, 28, 28}, 8},
	} {
		s, err := Load(c.name, c.path, c.split, c.n)
		if err != nil {
			t.Fatal(err)
		}
		if s.N != c.wantN || !slices.Equal(s.Shape(), c.shape) || s.Classes != c.classes {
			t.Errorf("Load(%q, %q, %q, %d): N=%d shape %v classes %d", c.name, c.path, c.split, c.n, s.N, s.Shape(), s.Classes)
		}
		if want := strings.ToLower(c.name) + " " + c.split; s.Name != want && c.name != "npy" {
			t.Errorf("Name %q, want %q", s.Name, want)
		}
	}
}

func TestLoadBad(t *testing.T) {
	empty := t.TempDir()
	fashionDir = empty
	defer func() { fashionDir = FashionMNISTDir }()
	idxData := t.TempDir()
	writeSet(t, idxData, "t10k", 7, 28, 28, false) // labels i % 10
	lb := idx(IDXLabels, []uint32{7}, []byte{0, 1, 2, 10, 4, 5, 6})
	if err := os.WriteFile(filepath.Join(idxData, "t10k-labels-idx1-ubyte"), lb, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, split string
		n                 int
		prefix            string
		want              []string
	}{
		{"imagenet", "", Test, 0, "dataset: ", []string{`unknown set "imagenet": want one of mnist, fashion-mnist, kmnist, cifar10, cifar100, cifar100-coarse, npy`}},
		{"mnist", "", "val", 0, "dataset: ", []string{`split "val": want "train" or "test"`}},
		{"mnist", "", Test, -1, "dataset: ", []string{"-1 images"}},
		{"mnist", idxData, Test, 0, "mnist: ", []string{"t10k-labels-idx1-ubyte: label 10 of image 3 is outside [0, 10)"}},
		{"mnist", empty, Test, 0, "mnist: ", []string{"has neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz"}},
		{"fashion-mnist", "", Test, 0, "fashion-mnist: ", []string{"no data (" + empty + " has neither", "apt-get install dataset-fashion-mnist", "--data DIR"}},
		{"fashion-mnist", empty, Test, 0, "fashion-mnist: ", []string{empty + " has neither"}},
		{"kmnist", "", Test, 0, "kmnist: ", []string{"pass --data DIR", "t10k-images-idx3-ubyte"}},
		{"cifar10", "", Test, 0, "cifar10: ", []string{"pass --data DIR"}},
		{"cifar100", empty, Test, 0, "cifar100: ", []string{"has test.bin"}},
		{"npy", empty, Train, 0, "npy: ", []string{"has neither train.npz"}},
	} {
		_, err := Load(c.name, c.path, c.split, c.n)
		wantErr(t, err, c.prefix, c.want...)
	}
}

// Debian's dataset-fashion-mnist, where it is installed.
func TestFashionMNIST(t *testing.T) {
	if err := IDXComplete(FashionMNISTDir); err != nil {
		t.Skipf("SKIPPED: no Fashion-MNIST (apt-get install dataset-fashion-mnist): %v", err)
	}
	s, err := Load("fashion-mnist", "", Test, 0)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 10000 || !slices.Equal(s.Shape(), []int{1, 28, 28}) || s.Classes != 10 || s.Source != FashionMNISTDir {
		t.Fatalf("N=%d shape %v classes %d source %q", s.N, s.Shape(), s.Classes, s.Source)
	}
	if want := []int{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}; !slices.Equal(s.Labels[:10], want) {
		t.Fatalf("first labels %v, want %v", s.Labels[:10], want)
	}
	sum := 0
	for _, v := range s.Image(0) {
		sum += int(v*255 + 0.5)
	}
	if sum != 33456 {
		t.Errorf("image 0: pixel bytes sum to %d, want 33456", sum)
	}
	// (The training split is the same code on a bigger file: 60,000 images
	// take 20 s under the race detector.)
}
