package convert_test

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// pruneRow is one pruned LeNet: ANN accuracy, SNN accuracy after T steps
// and SOPs per image (dense engine, SkipSilent), synapses of fc1 and of
// every weighted layer.
type pruneRow struct {
	name         string
	annCorrect   int
	snnCorrect   int
	sopsPerImage float64
	// fc1SOPs are the SOPs per image of the spiking layer that feeds fc1
	// (relu2): its spikes through fc1's synapses, the part fc1's pruning
	// changes.
	fc1SOPs  float64
	fc1, all int
	// sparseConvSOPs, for a pruned conv2, are the SOPs per image if conv2
	// were sparse: relu1's spikes counted through conv2's nonzero weights.
	sparseConvSOPs float64
}

// measurePruned converts ann like the demo (max thresholds over the first
// 1,024 training images, θ/(2T) bias shift for T) and simulates it on
// (x, y) for T steps.
func measurePruned(t *testing.T, name string, ann *network.Network, x []float32, y []int, T int) pruneRow {
	t.Helper()
	pred, err := ann.Predict(x, len(y), 0)
	if err != nil {
		t.Fatal(err)
	}
	row := pruneRow{name: name}
	for i, p := range pred {
		if p == y[i] {
			row.annCorrect++
		}
	}
	calib, _ := fixture.MNIST(t, "train", convert.DefaultCalibImages)
	snn, err := convert.FromANN(ann, calib, convert.DefaultCalibImages, convert.Options{Statistic: "max", BiasShift: true, T: T})
	if err != nil {
		t.Fatal(err)
	}
	res, err := dense.Engine{SkipSilent: true}.Run(snn, x, y, network.SimOptions{T: T})
	if err != nil {
		t.Fatal(err)
	}
	row.snnCorrect = res.CorrectByStep[T-1]
	sops := res.InputSOPs
	for _, l := range res.Layers {
		sops += l.SOPs
	}
	row.sopsPerImage = float64(sops) / float64(len(y))
	row.fc1SOPs = float64(res.Layers[1].SOPs) / float64(len(y))
	for _, l := range ann.Layers {
		switch l.Kind() {
		case network.KindLinear, network.KindSparseLinear, network.KindConv2d:
			syn := synapses(l)
			row.all += syn
			if l.Name() == "fc1" {
				row.fc1 = syn
			}
		}
	}
	return row
}

// synapses counts the nonzero weights of a dense layer, the stored
// synapses of a sparse one.
func synapses(l network.Layer) int {
	var w []float32
	switch l := l.(type) {
	case *network.SparseLinear:
		return len(l.Weights)
	case *network.Linear:
		w = l.Weight
	case *network.Conv2d:
		w = l.Weight
	}
	n := 0
	for _, v := range w {
		if v != 0 {
			n++
		}
	}
	return n
}

// pruneConv zeroes the fraction s of a Conv2d's weights of smallest
// magnitude, in place: what pruning a convolution would do, for the
// measurement (Prune does not prune convolutions).
func pruneConv(c *network.Conv2d, s float64) {
	order := make([]int, len(c.Weight))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(math.Abs(float64(c.Weight[a])), math.Abs(float64(c.Weight[b])))
	})
	for _, i := range order[:int(math.Round(s*float64(len(order))))] {
		c.Weight[i] = 0
	}
}

func pruneTable(rows []pruneRow, images int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-22s %9s %9s %9s %9s %12s %8s %12s %8s\n", "pruned", "fc1 syn", "all syn", "ANN acc", "SNN acc", "SOPs/image", "vs none", "into fc1", "vs none")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-22s %9d %9d %8.2f%% %8.2f%% %12.0f %7.1f%% %12.0f %7.1f%%\n", r.name, r.fc1, r.all,
			100*float64(r.annCorrect)/float64(images), 100*float64(r.snnCorrect)/float64(images),
			r.sopsPerImage, 100*r.sopsPerImage/rows[0].sopsPerImage, r.fc1SOPs, 100*r.fc1SOPs/rows[0].fc1SOPs)
		if r.sparseConvSOPs > 0 {
			fmt.Fprintf(&b, "%-22s %9s %9s %9s %9s %12.0f %7.1f%%   (if conv2 were sparse)\n", "", "", "", "", "",
				r.sparseConvSOPs, 100*r.sparseConvSOPs/rows[0].sopsPerImage)
		}
	}
	return b.String()
}

// sparseConvSOPs simulates the converted ann like measurePruned, recording
// every spike, and returns the SOPs per image if the LeNet's conv2 (layer
// 3, after relu1 and its 2×2 average pool) were a sparse projection that
// holds only its nonzero weights: relu1's spikes counted through those,
// the other layers' SOPs as they are. With every weight nonzero the count
// is network.FanOut's (checked), so the difference is the zeros alone.
func sparseConvSOPs(t *testing.T, ann *network.Network, x []float32, y []int, T int) float64 {
	t.Helper()
	conv := ann.Layers[3].(*network.Conv2d)
	shapes, err := ann.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	in := shapes[2] // relu1 pooled: [16, 14, 14]
	out := shapes[3]
	pool := ann.Layers[2].(*network.AvgPool2d)
	if pool.KH != 2 || pool.StrideH != 2 || pool.PadH != 0 || conv.StrideH != 1 {
		t.Fatalf("not the LeNet this measurement is written for")
	}
	// nz[j], all[j]: the conv2 synapses of pooled input j with a nonzero
	// weight, and all of them.
	nz, all := make([]int64, in.Size()), make([]int64, in.Size())
	h, w := in[1], in[2]
	for ci := range in[0] {
		for iy := range h {
			for ix := range w {
				j := (ci*h+iy)*w + ix
				for co := range conv.OutC {
					for ky := range conv.KH {
						oy := iy + conv.PadH - ky
						if oy < 0 || oy >= out[1] {
							continue
						}
						for kx := range conv.KW {
							ox := ix + conv.PadW - kx
							if ox < 0 || ox >= out[2] {
								continue
							}
							all[j]++
							if conv.Weight[((co*conv.InC+ci)*conv.KH+ky)*conv.KW+kx] != 0 {
								nz[j]++
							}
						}
					}
				}
			}
		}
	}
	relu1 := shapes[1]
	fan, err := ann.FanOut(1)
	if err != nil {
		t.Fatal(err)
	}
	pooled := func(n int) int { // relu1 neuron → its pool window
		c, yy, xx := n/(relu1[1]*relu1[2]), n/relu1[2]%relu1[1], n%relu1[2]
		return (c*h+yy/2)*w + xx/2
	}
	for n := range fan {
		if int64(fan[n]) != all[pooled(n)] {
			t.Fatalf("relu1 neuron %d: fan-out %d, counted %d", n, fan[n], all[pooled(n)])
		}
	}
	calib, _ := fixture.MNIST(t, "train", convert.DefaultCalibImages)
	snn, err := convert.FromANN(ann, calib, convert.DefaultCalibImages, convert.Options{Statistic: "max", BiasShift: true, T: T})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sparse int64
	res, err := dense.Engine{SkipSilent: true}.Run(snn, x, y, network.SimOptions{T: T, RecordSpikes: true,
		OnImage: func(_ int, rec *network.ImageRecord) error {
			var s int64
			for _, e := range rec.Recorded.Spikes() {
				if e.Layer == 0 { // relu1
					s += nz[pooled(int(e.Neuron))]
				}
			}
			mu.Lock()
			sparse += s
			mu.Unlock()
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	total := res.InputSOPs - res.Layers[0].SOPs + sparse
	for _, l := range res.Layers {
		total += l.SOPs
	}
	return float64(total) / float64(len(y))
}

// TestPruneLeNet prunes the fixture LeNet's fc1 (and every Linear layer)
// by magnitude and measures the ANN, and the SNN converted from it (max
// thresholds, bias shift, T = 32, dense engine) on the test images: half
// of fc1 costs at most 0.3 points of ANN accuracy and 0.5 of SNN
// accuracy on 1,000 images (on all 10,000 it costs 0.02 and 0.05), and
// every sparsity lowers the SOPs per image. With EVSNN_FULL=1 it runs
// every sparsity on all 10,000 test images and also measures conv2 pruned
// by magnitude (zeros in a dense kernel, and what a sparse conv2 would
// cost), and with -v it prints the table:
//
//	EVSNN_FULL=1 go test ./convert -run TestPruneLeNet -v
func TestPruneLeNet(t *testing.T) {
	images, sparsities, whiches := 1000, []float64{0.5, 0.9}, [][]string{{"fc1"}, nil}
	switch {
	case testenv.Full():
		images, sparsities = 0, []float64{0.5, 0.8, 0.9, 0.95}
	case testenv.RaceEnabled || testing.Short():
		images, sparsities, whiches = 200, []float64{0.5}, [][]string{{"fc1"}}
	}
	const T = 32
	ann := fixture.LeNet(t)
	x, y := fixture.MNIST(t, "test", images)
	images = len(y)
	rows := []pruneRow{measurePruned(t, "none", ann, x, y, T)}
	for _, which := range whiches {
		for _, s := range sparsities {
			pruned, rep, err := convert.Prune(ann, s, which)
			if err != nil {
				t.Fatal(err)
			}
			name := fmt.Sprintf("fc1 %.2f", s)
			if which == nil {
				name = fmt.Sprintf("fc1+fc2 %.2f", s)
			}
			t.Logf("%s:\n%s", name, rep)
			rows = append(rows, measurePruned(t, name, pruned, x, y, T))
		}
	}
	if testenv.Full() {
		// Pruning a convolution: its kernel stays dense (evsnn has no
		// sparse convolution), so only the activity can change the SOPs.
		for _, s := range []float64{0.5, 0.8} {
			c := ann.Clone()
			pruneConv(c.Layers[3].(*network.Conv2d), s)
			row := measurePruned(t, fmt.Sprintf("conv2 %.2f (zeros)", s), c, x, y, T)
			row.sparseConvSOPs = sparseConvSOPs(t, c, x, y, T)
			rows = append(rows, row)
		}
	}
	t.Logf("LeNet fixture, %d test images, T=%d:\n%s", images, T, pruneTable(rows, images))

	none := rows[0]
	for _, r := range rows[1 : 1+len(whiches)*len(sparsities)] {
		if r.sopsPerImage >= none.sopsPerImage {
			t.Errorf("%s: %.0f SOPs per image, unpruned %.0f", r.name, r.sopsPerImage, none.sopsPerImage)
		}
	}
	half := rows[1]
	if d := none.annCorrect - half.annCorrect; float64(d) > 0.003*float64(images) {
		t.Errorf("fc1 at 0.5 loses %d of %d ANN predictions", d, images)
	}
	if d := none.snnCorrect - half.snnCorrect; float64(d) > 0.005*float64(images) {
		t.Errorf("fc1 at 0.5 loses %d of %d SNN predictions", d, images)
	}
	if want := 1568*128 - int(math.Round(0.5*1568*128)); half.fc1 != want {
		t.Errorf("fc1 at 0.5 has %d synapses, want %d", half.fc1, want)
	}
}
