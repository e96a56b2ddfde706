package calibrate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/format/onnx"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

// studyNet is a network of the comparison in doc.go and its data.
type studyNet struct {
	name, path, data string // data: an IDX directory, "" for MNIST
}

// studyVariants are the method variants the comparison measures, by name.
var studyVariants = map[string]func(*Options){
	// The method as it is.
	"new": func(*Options) {},
	// The method before this study (issue #15): one threshold per layer,
	// BC/PC at the plain mean error, the layer-wide strengths 1, ½, ¼.
	"old": func(o *Options) { o.PerLayer, o.study.correction = true, "mean" },
	// One change at a time from the old method.
	"noguard": func(o *Options) { o.PerLayer, o.study.correction, o.study.guard = true, "mean", guardNone },
	"held": func(o *Options) {
		o.PerLayer, o.study.correction, o.study.guard, o.study.heldOut = true, "mean", guardHeld, 0.25
	},
	"floor":     func(o *Options) { o.PerLayer, o.study.correction, o.study.threshold = true, "mean", "floor" },
	"floor-ema": func(o *Options) { o.PerLayer, o.study.correction, o.study.threshold = true, "mean", "floor-ema" },
	"li": func(o *Options) { // Li et al.'s code: floor-ema threshold, no guard, BC/PC on 128 images
		o.PerLayer, o.study.correction, o.study.threshold, o.study.guard, o.study.statImages = true, "mean", "floor-ema", guardNone, 128
	},
	"live":      func(o *Options) { o.PerLayer, o.study.correction = true, "live" },
	"unit":      func(o *Options) { o.PerLayer, o.study.correction = true, "unit" },
	"unit-live": func(o *Options) { o.PerLayer = true },
	"chan":      func(o *Options) { o.study.correction = "mean" },
	// The method with one of its parts changed.
	"new-layer":   func(o *Options) { o.PerLayer = true },
	"new-held":    func(o *Options) { o.study.guard, o.study.heldOut = guardHeld, 0.25 },
	"new-noguard": func(o *Options) { o.study.guard = guardNone },
	"new-wcfirst": func(o *Options) { o.study.wcFirstOnly = true },
}

// rescaleChannels returns a copy of the chain ANN net computing the same
// function whose channels have heterogeneous scales, as BatchNorm folding
// leaves them: the output channel c of every weighted layer feeding a ReLU
// is multiplied by s_c (log-uniform in [1/spread, spread], seeded) and the
// next weighted layer's inputs from channel c are divided by s_c (ReLU and
// average pooling commute with a positive scale).
func rescaleChannels(net *network.Network, seed uint64, spread float64) *network.Network {
	net = net.Clone()
	r := rand.New(rand.NewPCG(seed, 99))
	shapes, _ := net.Shapes()
	for _, i := range net.SpikingLayers() {
		w, next := i-1, net.NextWeighted(i)
		if next < 0 {
			panic("rescaleChannels: not a chain")
		}
		C := shapes[i][0]
		s := make([]float32, C)
		for c := range s {
			s[c] = float32(math.Exp((2*r.Float64() - 1) * math.Log(spread)))
		}
		switch l := net.Layers[w].(type) {
		case *network.Conv2d:
			per := len(l.Weight) / l.OutC
			for c := range s {
				for k := range per {
					l.Weight[c*per+k] *= s[c]
				}
				l.Bias[c] *= s[c]
			}
		case *network.Linear:
			for c := range s {
				for k := range l.In {
					l.Weight[c*l.In+k] *= s[c]
				}
				l.Bias[c] *= s[c]
			}
		}
		switch l := net.Layers[next].(type) {
		case *network.Conv2d:
			kk := l.KH * l.KW
			for o := 0; o < l.OutC; o++ {
				for c := range s {
					for k := range kk {
						l.Weight[(o*l.InC+c)*kk+k] /= s[c]
					}
				}
			}
		case *network.Linear:
			per := l.In / C
			for o := 0; o < l.Out; o++ {
				for j := 0; j < l.In; j++ {
					l.Weight[o*l.In+j] /= s[j/per]
				}
			}
		}
	}
	return net
}

// loadStudyNet reads an .onnx or evsnn model file; a path ending in
// "~rescale" is rescaled by rescaleChannels (seed 1, spread 4).
func loadStudyNet(tb testing.TB, path string) *network.Network {
	tb.Helper()
	if p, ok := strings.CutSuffix(path, "~rescale"); ok {
		return rescaleChannels(loadStudyNet(tb, p), 1, 4)
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(fixture.Root(), path)
	}
	var net *network.Network
	var err error
	if strings.HasSuffix(path, ".onnx") {
		net, err = onnx.Import(path)
	} else {
		net, err = modelfile.Load(path)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return net
}

func loadStudyData(tb testing.TB, dir, split string, n int) ([]float32, []int) {
	tb.Helper()
	if dir == "" {
		return fixture.MNIST(tb, split, n)
	}
	set, err := mnist.LoadN(dir, split, n)
	if err != nil {
		tb.Fatal(err)
	}
	return set.Images, set.Labels
}

// TestStudy is the comparison behind the table in doc.go: every variant of
// the method on every network at every T, test accuracy on the test set
// (never used to choose anything) measured with the event engine, and the
// calibration's CPU time (the process's, so run it with GOMAXPROCS=1 for
// one-core figures). Each cell is "accuracy (CPU seconds)". Run by hand:
//
//	EVSNN_STUDY='lenet=testdata/mnist_lenet.onnx;fvgg=/work/models-heldout/fashion_vgg_bn.evsnn@/usr/share/datasets/fashion-mnist' \
//	EVSNN_STUDY_VARIANTS='new,old,li' EVSNN_STUDY_METHODS='light,advanced' EVSNN_TS=4,8 \
//	GOMAXPROCS=1 go test -run TestStudy -v -timeout 10h ./calibrate/
//
// A relative path is under the repository root (internal/fixture.Root);
// "@dir" names an IDX directory (MNIST when absent).
func TestStudy(t *testing.T) {
	spec := os.Getenv("EVSNN_STUDY")
	if spec == "" {
		t.Skip("set EVSNN_STUDY to run the method comparison")
	}
	var nets []studyNet
	for _, item := range strings.Split(spec, ";") {
		name, rest, ok := strings.Cut(item, "=")
		if !ok {
			t.Fatalf("EVSNN_STUDY item %q: want name=path[@datadir]", item)
		}
		path, data, _ := strings.Cut(rest, "@")
		nets = append(nets, studyNet{name, path, data})
	}
	variants := strings.Split(envOr("EVSNN_STUDY_VARIANTS", "new"), ",")
	methods := strings.Split(envOr("EVSNN_STUDY_METHODS", "light,advanced,advanced+wc"), ",")
	var Ts []int
	for _, f := range strings.Split(envOr("EVSNN_TS", "4,8,16"), ",") {
		v, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		Ts = append(Ts, v)
	}
	var table strings.Builder
	fmt.Fprintf(&table, "| network | method | variant |")
	for _, T := range Ts {
		fmt.Fprintf(&table, " T=%d |", T)
	}
	fmt.Fprintf(&table, "\n|---|---|---|%s\n", strings.Repeat("---|", len(Ts)))
	for _, sn := range nets {
		ann := loadStudyNet(t, sn.path)
		calib, _ := loadStudyData(t, sn.data, "train", DefaultImages)
		test, labels := loadStudyData(t, sn.data, "test", 0)
		if n := os.Getenv("EVSNN_TEST_IMAGES"); n != "" {
			k, _ := strconv.Atoi(n)
			test, labels = test[:k*ann.Input.Size()], labels[:k]
		}
		preds, err := ann.Predict(test, len(labels), 256)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: ANN %.2f %% on %d test images", sn.name, accuracyOf(preds, labels), len(labels))
		for _, ms := range methods {
			m, err := ParseMethod(ms)
			if err != nil {
				t.Fatal(err)
			}
			for _, vn := range variants {
				set, ok := studyVariants[vn]
				if !ok {
					t.Fatalf("unknown variant %q", vn)
				}
				row := fmt.Sprintf("| %s | %s | %s |", sn.name, m.Name(), vn)
				for _, T := range Ts {
					opts := Options{T: T, Method: m, Seed: 1}
					set(&opts)
					start, cpu0 := time.Now(), cpuTime()
					snn, rep, err := Calibrate(ann, calib, opts)
					if err != nil {
						t.Fatal(err)
					}
					cpu := cpuTime() - cpu0
					acc := studyAccuracy(t, snn, test, labels, T)
					var kept []string
					for _, l := range rep.Layers {
						var s []string
						for _, st := range l.Steps[1:] {
							if st.Kept {
								s = append(s, st.Step)
							}
						}
						kept = append(kept, fmt.Sprintf("%s θ=%s [%s]", l.Name, formatTheta(l.Threshold), strings.Join(s, " ")))
					}
					t.Logf("%s %s %s T=%d: %.2f %% (calibration %.1fs CPU, %.1fs wall) %s", sn.name, m.Name(), vn, T, acc, cpu.Seconds(),
						time.Since(start).Seconds(), strings.Join(kept, "; "))
					row += fmt.Sprintf(" %.2f (%.1f s) |", acc, cpu.Seconds())
				}
				table.WriteString(row + "\n")
			}
		}
	}
	t.Logf("test accuracy (%%):\n%s", table.String())
}

// studyAccuracy is the test accuracy of snn after T steps, simulated by
// the event engine.
func studyAccuracy(t *testing.T, snn *network.Network, test []float32, labels []int, T int) float64 {
	t.Helper()
	res, err := event.Engine{}.Run(snn, test, labels, network.SimOptions{T: T})
	if err != nil {
		t.Fatal(err)
	}
	return accuracyOf(res.Predictions, labels)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func accuracyOf(preds, labels []int) float64 {
	correct := 0
	for i, p := range preds {
		if p == labels[i] {
			correct++
		}
	}
	return 100 * float64(correct) / float64(len(labels))
}
