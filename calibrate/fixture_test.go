package calibrate

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/format/onnx"
	"github.com/evsnn/evsnn/network"
)

// fixtureANN imports testdata/mnist_lenet.onnx.
func fixtureANN(tb testing.TB) *network.Network {
	tb.Helper()
	_, file, _, _ := runtime.Caller(0)
	net, err := onnx.Import(filepath.Join(filepath.Dir(file), "..", "testdata", "mnist_lenet.onnx"))
	if err != nil {
		tb.Skipf("fixture model: %v", err)
	}
	return net
}

// mnistSet loads the first n images of an MNIST split (all if n ≤ 0), or
// skips the test when the data is not available.
func mnistSet(tb testing.TB, split string, n int) *mnist.Set {
	tb.Helper()
	dir := os.Getenv("EVSNN_MNIST_DIR")
	if dir == "" {
		var err error
		if dir, err = mnist.DefaultDir(); err != nil {
			tb.Skipf("MNIST data: %v", err)
		}
	}
	set, err := mnist.Load(dir, split)
	if err != nil {
		tb.Skipf("MNIST data: %v", err)
	}
	if n > 0 && n < set.N {
		set = set.Slice(0, n)
	}
	return set
}

func accuracy(res *network.SimResult, labels []int) float64 {
	correct := 0
	for i, p := range res.Predictions {
		if p == labels[i] {
			correct++
		}
	}
	return 100 * float64(correct) / float64(len(labels))
}

// TestFixtureAccuracy calibrates the fixture LeNet with several pipelines
// at several T on the first 1,024 training images and reports the accuracy
// on the MNIST test set with the event engine, checked against the dense
// engine (predictions and spike counts). It is slow; run it with
//
//	EVSNN_FULL=1 GOMAXPROCS=1 go test -run TestFixtureAccuracy -v -timeout 3h ./calibrate/
//
// EVSNN_TEST_IMAGES limits the test images, EVSNN_TS (comma-separated) and
// EVSNN_METHODS (";"-separated) the grid, EVSNN_NO_DENSE=1 skips the
// dense cross-check, EVSNN_WC_ITERS / EVSNN_WC_LR tune weight calibration.
func TestFixtureAccuracy(t *testing.T) {
	if os.Getenv("EVSNN_FULL") == "" {
		t.Skip("set EVSNN_FULL=1 to run the full fixture evaluation")
	}
	ann := fixtureANN(t)
	calib := mnistSet(t, "train", DefaultImages)
	test := mnistSet(t, "test", 0)
	if s := os.Getenv("EVSNN_TEST_IMAGES"); s != "" {
		n, _ := strconv.Atoi(s)
		test = test.Slice(0, n)
	}
	Ts := []int{4, 8, 16, 32}
	if s := os.Getenv("EVSNN_TS"); s != "" {
		Ts = nil
		for _, f := range strings.Split(s, ",") {
			v, _ := strconv.Atoi(f)
			Ts = append(Ts, v)
		}
	}
	methods := []string{"none", "shift", "search", "search,shift", "light", "advanced", "advanced,wc", "search,shift,bc,pc", "search,shift,wc,bc,pc"}
	if s := os.Getenv("EVSNN_METHODS"); s != "" {
		methods = strings.Split(s, ";")
	}
	opts := Options{Seed: 1}
	if s := os.Getenv("EVSNN_WC_ITERS"); s != "" {
		opts.WCIters, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("EVSNN_WC_LR"); s != "" {
		opts.WCLR, _ = strconv.ParseFloat(s, 64)
	}
	opts.PerChannel = os.Getenv("EVSNN_PER_CHANNEL") != ""
	var table strings.Builder
	fmt.Fprintf(&table, "| method | %s |\n|---|%s\n", strings.Join(mapInts(Ts, func(T int) string { return fmt.Sprintf("T=%d", T) }), " | "), strings.Repeat("---|", len(Ts)))
	for _, ms := range methods {
		m, err := ParseMethod(ms)
		if err != nil {
			t.Fatal(err)
		}
		row := []string{m.Name()}
		for _, T := range Ts {
			o := opts
			o.T, o.Method = T, m
			start, cpu0 := time.Now(), cpuTime()
			snn, rep, err := Calibrate(ann, calib.Images, o)
			if err != nil {
				t.Fatal(err)
			}
			calWall, calCPU := time.Since(start), cpuTime()-cpu0
			for _, l := range rep.Layers {
				t.Logf("  %s θ=%s: %s", l.Name, formatTheta(l.Threshold), stepsString(l.Steps))
			}
			sim := network.SimOptions{T: T, KeepCounts: true}
			ev, err := event.Engine{}.Run(snn, test.Images, test.Labels, sim)
			if err != nil {
				t.Fatal(err)
			}
			acc := accuracy(ev, test.Labels)
			agree := ""
			if os.Getenv("EVSNN_NO_DENSE") == "" {
				de, err := dense.Engine{SkipSilent: true}.Run(snn, test.Images, test.Labels, sim)
				if err != nil {
					t.Fatal(err)
				}
				preds, counts := 0, 0
				for i := range ev.Predictions {
					if ev.Predictions[i] != de.Predictions[i] {
						preds++
					}
				}
				for k := range ev.Counts {
					for i := range ev.Counts[k] {
						if ev.Counts[k][i] != de.Counts[k][i] {
							counts++
						}
					}
				}
				agree = fmt.Sprintf("dense %.2f %%, %d predictions and %d spike counts differ", accuracy(de, test.Labels), preds, counts)
			}
			t.Logf("%-22s T=%-3d event %.2f %%  %s  calibration %.1fs CPU, %.1fs wall", m.Name(), T, acc, agree, calCPU.Seconds(), calWall.Seconds())
			row = append(row, fmt.Sprintf("%.2f", acc))
		}
		fmt.Fprintf(&table, "| %s |\n", strings.Join(row, " | "))
	}
	t.Logf("accuracy (%%) on %d MNIST test images, event engine:\n%s", test.N, table.String())
}

func mapInts(v []int, f func(int) string) []string {
	out := make([]string, len(v))
	for i, x := range v {
		out[i] = f(x)
	}
	return out
}

// TestWCTuning prints, for several weight-calibration settings, what the
// wc step does to each layer's error on the fixture (how the defaults were
// chosen). Run it with EVSNN_WC_TUNE=1; EVSNN_TS sets T (default 4).
func TestWCTuning(t *testing.T) {
	if os.Getenv("EVSNN_WC_TUNE") == "" {
		t.Skip("set EVSNN_WC_TUNE=1 to run the weight-calibration sweep")
	}
	ann := fixtureANN(t)
	calib := mnistSet(t, "train", DefaultImages)
	T := 4
	if s := os.Getenv("EVSNN_TS"); s != "" {
		T, _ = strconv.Atoi(s)
	}
	for _, tc := range []struct {
		iters int
		lr    float64
	}{{300, 1e-5}, {300, 3e-5}, {1000, 1e-5}, {1000, 3e-5}, {300, 3e-4}} {
		start := time.Now()
		_, rep, err := Calibrate(ann, calib.Images, Options{T: T, Method: Method{Search: true, Shift: true, WC: true}, Seed: 1,
			WCIters: tc.iters, WCLR: tc.lr, KeepWorse: true})
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, l := range rep.Layers {
			s := l.Steps[len(l.Steps)-1]
			parts = append(parts, fmt.Sprintf("%s %.4g→%.4g", l.Name, s.Before, s.After))
		}
		t.Logf("T=%d iters %d lr %g: %s (%.1fs)", T, tc.iters, tc.lr, strings.Join(parts, "; "), time.Since(start).Seconds())
	}
}

// TestSearchCoarseVsFull compares the coarse-to-fine threshold search with
// the full 95-candidate search on the fixture (run with EVSNN_FULL=1).
func TestSearchCoarseVsFull(t *testing.T) {
	if os.Getenv("EVSNN_FULL") == "" {
		t.Skip("set EVSNN_FULL=1 to run the fixture comparison")
	}
	ann := fixtureANN(t)
	calib := mnistSet(t, "train", DefaultImages)
	Ts := []int{4, 8, 16, 32}
	if s := os.Getenv("EVSNN_TS"); s != "" {
		Ts = nil
		for _, f := range strings.Split(s, ",") {
			v, _ := strconv.Atoi(f)
			Ts = append(Ts, v)
		}
	}
	for _, T := range Ts {
		var res [2]*Report
		var wall [2]time.Duration
		for k, full := range []bool{false, true} {
			start := time.Now()
			_, rep, err := Calibrate(ann, calib.Images, Options{T: T, Method: Method{Search: true, Shift: true}, FullSearch: full})
			if err != nil {
				t.Fatal(err)
			}
			res[k], wall[k] = rep, time.Since(start)
		}
		for i := range res[0].Layers {
			c, f := res[0].Layers[i], res[1].Layers[i]
			t.Logf("T=%-3d %s: coarse-to-fine θ=%s error %.4g; full θ=%s error %.4g", T, c.Name, formatTheta(c.Threshold), c.Error, formatTheta(f.Threshold), f.Error)
		}
		t.Logf("T=%d: %.1fs coarse-to-fine, %.1fs full", T, wall[0].Seconds(), wall[1].Seconds())
	}
}
