package dense_test

// Test helpers for the LeNet fixture: the ANN (testdata/mnist_lenet.onnx,
// through package network/onnx), MNIST (package dataset/mnist) and the
// expected numbers of testdata/mnist_lenet_expected.json.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/network"
	"github.com/evsnn/evsnn/network/onnx"
)

// repoRoot is the module root (the nearest parent with a go.mod).
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Dir(file)
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}

// mnistCache keeps the largest set loaded per split: the IDX files are
// decompressed whole on every load, which is slow under the race detector.
var mnistCache struct {
	sync.Mutex
	sets map[string]*mnist.Set
	all  map[string]bool // the set holds the whole split
}

// loadMNIST returns the images (N×784, pixel/255) and labels of the first
// n images (n ≤ 0: all) of "train" or "test". It skips the test if the
// data cannot be found.
func loadMNIST(tb testing.TB, split string, n int) ([]float32, []int) {
	tb.Helper()
	c := &mnistCache
	c.Lock()
	defer c.Unlock()
	set := c.sets[split]
	if set == nil || (n <= 0 && !c.all[split]) || (n > set.N && !c.all[split]) {
		dir, err := mnist.DefaultDir()
		if err != nil {
			tb.Skipf("MNIST data: %v", err)
		}
		if set, err = mnist.LoadN(dir, split, max(n, 0)); err != nil {
			tb.Fatal(err)
		}
		if c.sets == nil {
			c.sets, c.all = map[string]*mnist.Set{}, map[string]bool{}
		}
		c.sets[split], c.all[split] = set, n <= 0
	}
	if n <= 0 || n > set.N {
		n = set.N
	}
	return set.Images[: n*784 : n*784], set.Labels[:n:n]
}

// loadLeNet imports the fixture ANN.
func loadLeNet(tb testing.TB) *network.Network {
	tb.Helper()
	net, err := onnx.Import(filepath.Join(repoRoot(), "testdata", "mnist_lenet.onnx"))
	if err != nil {
		tb.Fatal(err)
	}
	if got := len(net.SpikingLayers()); got != 3 {
		tb.Fatalf("fixture ANN has %d ReLU layers, want 3", got)
	}
	return net
}

// expected is the part of testdata/mnist_lenet_expected.json the tests use.
type expected struct {
	ANNTestCorrect int `json:"ann_test_correct"`
	Calibration    struct {
		ReLUMax    []float64 `json:"relu_max"`
		ReLUP99_99 []float64 `json:"relu_p99_99"`
	} `json:"calibration"`
	SNNAccuracy map[string]struct {
		AccByT map[string]float64 `json:"acc_by_T"`
	} `json:"snn_accuracy"`
	SNNSpikes map[string]struct {
		PerLayer map[string][]float64 `json:"per_relu_layer"`
	} `json:"snn_spikes_per_image_by_T"`
	Trace struct {
		Pred   []int       `json:"pred"`
		Output [][]float64 `json:"output_accumulator"`
		Spikes [][]int64   `json:"spikes_per_layer"`
	} `json:"snn_trace_variant_a_T32_first16"`
	Timing struct {
		BS100 map[string]float64 `json:"bs100_full_test_s"`
		BS1   map[string]float64 `json:"bs1_first500_s"`
	} `json:"dense_snn_timing_s"`
}

func loadExpected(tb testing.TB) *expected {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(), "testdata", "mnist_lenet_expected.json"))
	if err != nil {
		tb.Skipf("fixture: %v", err)
	}
	var e expected
	if err := json.Unmarshal(b, &e); err != nil {
		tb.Fatal(err)
	}
	return &e
}
