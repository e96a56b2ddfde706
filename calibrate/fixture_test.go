package calibrate

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

func testTs(def []int) []int {
	s := os.Getenv("EVSNN_TS")
	if s == "" {
		return def
	}
	var Ts []int
	for _, f := range strings.Split(s, ",") {
		v, _ := strconv.Atoi(f)
		Ts = append(Ts, v)
	}
	return Ts
}

// engineAgreement runs snn with the dense and the event engine on the
// test images and checks that they agree with each other and with the
// layer simulator's predictions preds (when an engine does not simulate
// graphs yet, it says so and is left out). It returns the event engine's
// accuracy, or -1.
func engineAgreement(t *testing.T, snn *network.Network, test []float32, labels []int, T int, preds []int) float64 {
	t.Helper()
	sim := network.SimOptions{T: T, KeepCounts: true}
	acc := -1.0
	var runs []*network.SimResult
	for _, e := range []network.Engine{event.Engine{}, dense.Engine{SkipSilent: true}} {
		res, err := e.Run(snn, test, labels, sim)
		if err != nil {
			if !snn.IsChain() {
				t.Logf("%s engine: %v (not compared)", e.Name(), err)
				continue
			}
			t.Fatal(err)
		}
		if d := diffCount(res.Predictions, preds); d*1000 > len(preds) {
			t.Errorf("T=%d: the %s engine's predictions differ from the layer simulator's on %d of %d images", T, e.Name(), d, len(preds))
		}
		if acc < 0 {
			acc = accuracyOf(res.Predictions, labels)
		}
		runs = append(runs, res)
	}
	if len(runs) == 2 {
		differ, total := 0, 0
		for k := range runs[0].Counts {
			for i, c := range runs[0].Counts[k] {
				total++
				if runs[1].Counts[k][i] != c {
					differ++
				}
			}
		}
		if differ*100000 > total {
			t.Errorf("T=%d: the event and dense engines' spike counts differ in %d of %d neurons", T, differ, total)
		}
	}
	return acc
}

// TestFixtureAccuracy calibrates the fixture LeNet with the three
// pipelines at several T on the first 1,024 training images and checks on
// the 10k MNIST test images that every pipeline beats the plain
// conversion with bias shift (the fixture's variant b, PyTorch's numbers)
// and that the layer simulator, the event and the dense engine agree. Run
// it with
//
//	EVSNN_FULL=1 GOMAXPROCS=1 go test -run TestFixtureAccuracy -v -timeout 3h ./calibrate/
//
// EVSNN_TS (comma-separated) sets the T grid.
func TestFixtureAccuracy(t *testing.T) {
	if !testenv.Full() {
		t.Skip("set EVSNN_FULL=1 to run the full fixture evaluation")
	}
	ann := fixture.LeNet(t)
	exp := fixture.LoadExpected(t)
	calib, _ := fixture.MNIST(t, "train", DefaultImages)
	test, labels := fixture.MNIST(t, "test", 0)
	for _, T := range testTs([]int{4, 8, 16, 32}) {
		b := 100 * exp.SNNAccuracy["b"].AccByT[strconv.Itoa(T)]
		for _, m := range []Method{Light, Advanced, AdvancedWC} {
			cpu0 := cpuTime()
			snn, _, err := Calibrate(ann, calib, Options{T: T, Method: m, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			cpu := cpuTime() - cpu0
			res, err := layeredRun(snn, test, T, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			acc := accuracyOf(res.preds, labels)
			engineAgreement(t, snn, test, labels, T, res.preds)
			t.Logf("LeNet %-12s T=%-3d %.2f %% (variant b %.2f %%), calibration %.1f s CPU", m.Name(), T, acc, b, cpu.Seconds())
			if b > 0 && acc <= b {
				t.Errorf("LeNet %s T=%d: %.2f %% does not beat the plain conversion with bias shift (%.2f %%)", m.Name(), T, acc, b)
			}
		}
	}
}

// TestResNetFixture is the graph counterpart: the fixture ResNet (MaxPool
// after the stem, identity and 1×1-conv shortcuts, GAP) calibrated with
// every pipeline at T = 4, 8, 16 must beat its plain conversion with bias
// shift (variant b of testdata/mnist_resnet_expected.json) at every T with
// its best pipeline, light within 30 s and advanced+wc within 5 min of
// CPU time (the process's, so other work on a shared machine does not
// count). Run it with EVSNN_FULL=1 GOMAXPROCS=1.
func TestResNetFixture(t *testing.T) {
	if !testenv.Full() {
		t.Skip("set EVSNN_FULL=1 to run the ResNet fixture evaluation")
	}
	ann := fixture.ResNet(t)
	exp := fixture.LoadResNetExpected(t)
	calib, _ := fixture.MNIST(t, "train", DefaultImages)
	test, labels := fixture.MNIST(t, "test", 0)
	var table strings.Builder
	table.WriteString("| pipeline | T | accuracy | calibration CPU |\n|---|---|---|---|\n")
	for _, T := range testTs([]int{4, 8, 16}) {
		b := float64(exp.SNN["b"][strconv.Itoa(T)].Correct) / 100
		best := 0.0
		for _, m := range []Method{Light, Advanced, AdvancedWC} {
			cpu0 := cpuTime()
			snn, _, err := Calibrate(ann, calib, Options{T: T, Method: m, Seed: 1, Workers: 1})
			if err != nil {
				t.Fatal(err)
			}
			cpu := cpuTime() - cpu0
			res, err := layeredRun(snn, test, T, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			acc := accuracyOf(res.preds, labels)
			engineAgreement(t, snn, test, labels, T, res.preds)
			best = max(best, acc)
			fmt.Fprintf(&table, "| %s | %d | %.2f %% | %.1f s |\n", m.Name(), T, acc, cpu.Seconds())
			limit := map[Method]time.Duration{Light: 30 * time.Second, AdvancedWC: 5 * time.Minute}[m]
			if limit > 0 && cpu > limit && !testenv.RaceEnabled {
				t.Errorf("ResNet %s T=%d: calibration took %.1f s of CPU, the budget is %v", m.Name(), T, cpu.Seconds(), limit)
			}
		}
		if best <= b {
			t.Errorf("ResNet T=%d: the best pipeline reaches %.2f %%, the plain conversion with bias shift %.2f %%", T, best, b)
		}
		fmt.Fprintf(&table, "| variant b | %d | %.2f %% | |\n", T, b)
	}
	t.Logf("fixture ResNet, 10k MNIST test images:\n%s", table.String())
}

// TestSearchCoarseVsFull checks the coarse-to-fine threshold search
// against the full one: on the first layer (the same input for both) the
// full search, a superset, is never worse; on every layer coarse to fine
// stays within 5 % of the full search's error. Random graph networks run
// in CI; the fixture LeNet at T = 4…32 with EVSNN_FULL=1.
func TestSearchCoarseVsFull(t *testing.T) {
	type net struct {
		name   string
		ann    *network.Network
		images []float32
	}
	var nets []net
	for _, kind := range []string{"small", "resnet", "vgg"} {
		var n net
		switch kind {
		case "small":
			n = net{kind, smallNet(8), randomImages(2, 64, 64)}
		default:
			ann, images := randomANN(t, kind, 64)
			n = net{kind, ann, images}
		}
		nets = append(nets, n)
	}
	Ts := []int{4, 8}
	if testenv.Full() {
		calib, _ := fixture.MNIST(t, "train", DefaultImages)
		nets = append(nets, net{"lenet", fixture.LeNet(t), calib})
		Ts = testTs([]int{4, 8, 16, 32})
	}
	for _, n := range nets {
		for _, T := range Ts {
			var res [2]*Report
			for k, full := range []bool{false, true} {
				_, rep, err := Calibrate(n.ann, n.images, Options{T: T, Method: Method{Search: true, Shift: true}, FullSearch: full})
				if err != nil {
					t.Fatal(err)
				}
				res[k] = rep
			}
			for i := range res[0].Layers {
				c, f := res[0].Layers[i], res[1].Layers[i]
				if i == 0 && f.Error > c.Error {
					t.Errorf("%s T=%d %s: the full search's error %.5g exceeds coarse to fine's %.5g", n.name, T, c.Name, f.Error, c.Error)
				}
				if c.Error > 1.05*f.Error {
					t.Errorf("%s T=%d %s: coarse to fine θ=%s error %.5g, full θ=%s error %.5g", n.name, T, c.Name, formatTheta(c.Threshold), c.Error, formatTheta(f.Threshold), f.Error)
				}
			}
		}
	}
}
