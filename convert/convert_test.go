package convert_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/network"
)

func TestParseStatistic(t *testing.T) {
	for _, c := range []struct {
		in, canon string
		want      convert.Statistic
		err       string
	}{
		{"", "max", convert.Statistic{Percentile: 100}, ""},
		{"max", "max", convert.Statistic{Percentile: 100}, ""},
		{" MAX ", "max", convert.Statistic{Percentile: 100}, ""},
		{"p99.99", "p99.99", convert.Statistic{Percentile: 99.99}, ""},
		{"p50", "p50", convert.Statistic{Percentile: 50}, ""},
		{"p100", "max", convert.Statistic{Percentile: 100}, ""},
		{"max-per-channel", "max-per-channel", convert.Statistic{Percentile: 100, PerChannel: true}, ""},
		{"p99.9-per-channel", "p99.9-per-channel", convert.Statistic{Percentile: 99.9, PerChannel: true}, ""},
		{"p0", "", convert.Statistic{}, "percentile"},
		{"p100.5", "", convert.Statistic{}, "percentile"},
		{"p-3", "", convert.Statistic{}, "percentile"},
		{"pNaN", "", convert.Statistic{}, "percentile"},
		{"p", "", convert.Statistic{}, "percentile"},
		{"mean", "", convert.Statistic{}, "want max"},
		{"-per-channel", "", convert.Statistic{}, "want max"},
		{"99.99", "", convert.Statistic{}, "want max"},
	} {
		got, err := convert.ParseStatistic(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseStatistic(%q): error %v, want one containing %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want || got.String() != c.canon {
			t.Errorf("ParseStatistic(%q) = %+v (%q), %v; want %+v (%q)", c.in, got, got.String(), err, c.want, c.canon)
		}
		if back, err := convert.ParseStatistic(got.String()); err != nil || back != got {
			t.Errorf("%q does not read back: %+v, %v", got.String(), back, err)
		}
	}
}

// numpyPercentile is numpy.percentile's linear method on a sorted copy.
func numpyPercentile(v []float32, p float64) float64 {
	a := make([]float64, len(v))
	for i, x := range v {
		a[i] = float64(x)
	}
	slices.Sort(a)
	r := p / 100 * float64(len(a)-1)
	i := int(math.Floor(r))
	if i >= len(a)-1 {
		return a[len(a)-1]
	}
	t := r - float64(i)
	d := a[i+1] - a[i]
	if t >= 0.5 {
		return a[i+1] - d*(1-t)
	}
	return a[i] + d*t
}

func TestPercentile(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 10, 17, 1000, 100003} {
		for _, zeros := range []float64{0, 0.5, 0.97, 1} {
			v := make([]float32, n)
			for i := range v {
				if rng.Float64() >= zeros {
					v[i] = float32(rng.ExpFloat64())
					if rng.IntN(10) == 0 {
						v[i] = float32(rng.IntN(3)) // ties
					}
				}
			}
			for _, p := range []float64{0.1, 25, 50, 99, 99.9, 99.99, 99.999, 100} {
				want := numpyPercentile(v, p)
				got := convert.Percentile(slices.Clone(v), p)
				if got != want {
					t.Errorf("n=%d zeros=%v p=%v: %v, want %v", n, zeros, p, got, want)
				}
			}
		}
	}
	// Hand-checked: numpy.percentile([1,2,3,4], 50) = 2.5, 90 → 3.7.
	if got := convert.Percentile([]float32{4, 1, 3, 2}, 50); got != 2.5 {
		t.Errorf("median of 1..4 = %v", got)
	}
	if got := convert.Percentile([]float32{4, 1, 3, 2}, 90); math.Abs(got-3.7) > 1e-12 {
		t.Errorf("p90 of 1..4 = %v", got)
	}
}

// tinyANN is input [1,2,2] → Conv(1→2, 1x1) → ReLU → Flatten → Linear(8→3)
// → ReLU → Linear(3→2). Channel 0 of the conv passes the input, channel 1
// negates it and adds 1.
func tinyANN() *network.Network {
	return &network.Network{
		Input: network.Shape{1, 2, 2},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "conv", InC: 1, OutC: 2, KH: 1, KW: 1, StrideH: 1, StrideW: 1,
				Weight: []float32{1, -1}, Bias: []float32{0, 1}},
			&network.ReLU{LayerName: "relu1"},
			&network.Flatten{LayerName: "flat"},
			&network.Linear{LayerName: "fc", In: 8, Out: 3, Weight: []float32{
				1, 1, 1, 1, 0, 0, 0, 0,
				0, 0, 0, 0, 1, 1, 1, 1,
				-1, 0, 0, 0, 0, 0, 0, 0}, Bias: []float32{0, 0, -0.5}},
			&network.ReLU{LayerName: "relu2"},
			&network.Linear{LayerName: "out", In: 3, Out: 2, Weight: []float32{1, 0, 0, 0, 1, 0}, Bias: []float32{0, 0}},
		},
	}
}

func TestThresholdsSmall(t *testing.T) {
	ann := tinyANN()
	// Two images; pixels in [0,1].
	x := []float32{0, 0.25, 0.5, 1, 0.75, 0.75, 0.5, 0.25}
	// relu1: image 0 ch0 [0,.25,.5,1] ch1 [1,.75,.5,0]; image 1 ch0
	// [.75,.75,.5,.25] ch1 [.25,.25,.5,.75]. relu2: image 0 [1.75, 2.25, 0],
	// image 1 [2.25, 1.75, 0].
	for _, c := range []struct {
		stat string
		want [][]float32
	}{
		{"max", [][]float32{{1}, {2.25}}},
		{"max-per-channel", [][]float32{{1, 1}, {2.25, 2.25, 2.25}}}, // the dead neuron gets the layer's max
		{"p50", [][]float32{{0.5}, {1.75}}},
		// ch0 sorted 0 .25 .25 .5 .5 .75 .75 1: r = 3.5 → .5; ch1 sorted 0 .25 .25 .5 .5 .75 .75 1 → .5
		{"p50-per-channel", [][]float32{{0.5, 0.5}, {2, 2, 1.75}}},
	} {
		stat, err := convert.ParseStatistic(c.stat)
		if err != nil {
			t.Fatal(err)
		}
		got, err := convert.Thresholds(ann, x, 2, stat)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: thresholds %v, want %v", c.stat, got, c.want)
		}
	}
	la, err := convert.Activations(ann, x, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(la.Layers, []int{1, 4}) || la.Images != 2 || len(la.Values[0]) != 16 || len(la.Values[1]) != 6 {
		t.Errorf("activations: %+v", la)
	}
}

func TestConvert(t *testing.T) {
	ann := tinyANN()
	orig := ann.Clone()
	th := [][]float32{{1, 0.5}, {2}}
	snn, err := convert.Convert(ann, th, convert.Options{Statistic: "max-per-channel", Images: 2, BiasShift: true, T: 4,
		Neuron: "lif", Alpha: 0.5, Reset: network.ResetHard, V0Fraction: 0.5,
		V0: [][]float32{nil, {0.125, 0, -0.125}}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ann, orig) {
		t.Errorf("Convert modified the ANN")
	}
	s1, ok := snn.Layers[1].(*network.Spiking)
	if !ok {
		t.Fatalf("layer 1 is %T", snn.Layers[1])
	}
	s2 := snn.Layers[4].(*network.Spiking)
	want1 := &network.Spiking{LayerName: "relu1", Threshold: []float32{1, 0.5}, Alpha: 0.5, Reset: network.ResetHard, V0Fraction: 0.5}
	want2 := &network.Spiking{LayerName: "relu2", Threshold: []float32{2}, Alpha: 0.5, Reset: network.ResetHard, V0Fraction: 0.5,
		V0: []float32{0.125, 0, -0.125}}
	if !reflect.DeepEqual(s1, want1) || !reflect.DeepEqual(s2, want2) {
		t.Errorf("spiking layers\n%+v\n%+v", s1, s2)
	}
	// Bias shift θ/(2T): conv per channel 1/8, 0.5/8; fc 2/8.
	if got := snn.Layers[0].(*network.Conv2d).Bias; !reflect.DeepEqual(got, []float32{0.125, 1.0625}) {
		t.Errorf("conv bias %v", got)
	}
	if got := snn.Layers[3].(*network.Linear).Bias; !reflect.DeepEqual(got, []float32{0.25, 0.25, -0.25}) {
		t.Errorf("fc bias %v", got)
	}
	if got := snn.Layers[5].(*network.Linear).Bias; !reflect.DeepEqual(got, []float32{0, 0}) {
		t.Errorf("the readout bias changed: %v", got)
	}
	cv := snn.Meta.Conversion
	if cv == nil || cv.Statistic != "max-per-channel" || cv.Images != 2 || cv.Neuron != "lif" || cv.Alpha != 0.5 ||
		cv.Reset != network.ResetHard || cv.V0Fraction != 0.5 || !cv.BiasShift || cv.BiasShiftT != 4 || cv.Description == "" {
		t.Errorf("metadata %+v", cv)
	}
	if snn.FittedT() != 4 || !snn.IsSNN() {
		t.Errorf("FittedT %d IsSNN %v", snn.FittedT(), snn.IsSNN())
	}
	// Defaults.
	d, err := convert.Convert(ann, [][]float32{{1}, {2}}, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cv = d.Meta.Conversion
	if cv.Statistic != "max" || cv.Neuron != "if" || cv.Alpha != 1 || cv.Reset != network.ResetSoft || cv.BiasShift || d.FittedT() != 0 {
		t.Errorf("default metadata %+v", cv)
	}
	if !reflect.DeepEqual(d.Layers[0].(*network.Conv2d).Bias, []float32{0, 1}) {
		t.Errorf("bias changed without bias shift")
	}
}

func TestConvertErrors(t *testing.T) {
	ann := tinyANN()
	th := [][]float32{{1}, {2}}
	noReLU := &network.Network{Input: network.Shape{3}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc", In: 3, Out: 2, Weight: make([]float32, 6), Bias: make([]float32, 2)}}}
	reluFirst := &network.Network{Input: network.Shape{3}, Layers: []network.Layer{&network.ReLU{LayerName: "r"},
		&network.Linear{LayerName: "fc", In: 3, Out: 2, Weight: make([]float32, 6), Bias: make([]float32, 2)}}}
	reluAfterFlatten := &network.Network{Input: network.Shape{1, 1, 3}, Layers: []network.Layer{
		&network.Conv2d{LayerName: "c", InC: 1, OutC: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Weight: []float32{1}, Bias: []float32{0}},
		&network.Flatten{LayerName: "f"}, &network.ReLU{LayerName: "r"},
		&network.Linear{LayerName: "fc", In: 3, Out: 2, Weight: make([]float32, 6), Bias: make([]float32, 2)}}}
	reluLast := &network.Network{Input: network.Shape{3}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc", In: 3, Out: 2, Weight: make([]float32, 6), Bias: make([]float32, 2)}, &network.ReLU{LayerName: "r"}}}
	snn, err := convert.Convert(ann, th, convert.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		net  *network.Network
		th   [][]float32
		opts convert.Options
		want string
	}{
		{"nil", nil, th, convert.Options{}, "nil network"},
		{"no ReLU", noReLU, nil, convert.Options{}, "no ReLU layer"},
		{"ReLU on input", reluFirst, [][]float32{{1}}, convert.Options{}, "a ReLU must follow"},
		{"ReLU after flatten", reluAfterFlatten, [][]float32{{1}}, convert.Options{}, "must feed a ReLU or an Add"},
		{"no readout", reluLast, [][]float32{{1}}, convert.Options{}, "needs a Linear readout"},
		{"already SNN", snn, th, convert.Options{}, "already spiking"},
		{"threshold count", ann, th[:1], convert.Options{}, "1 threshold sets for 2 ReLU layers"},
		{"per-channel count", ann, [][]float32{{1, 2, 3}, {2}}, convert.Options{}, "3 thresholds, want 1 or 2"},
		{"zero threshold", ann, [][]float32{{0}, {2}}, convert.Options{}, "positive and finite"},
		{"NaN threshold", ann, [][]float32{{float32(math.NaN())}, {2}}, convert.Options{}, "positive and finite"},
		{"Inf threshold", ann, [][]float32{{1}, {float32(math.Inf(1))}}, convert.Options{}, "positive and finite"},
		{"neuron", ann, th, convert.Options{Neuron: "izhikevich"}, "want if or lif"},
		{"LIF without alpha", ann, th, convert.Options{Neuron: "lif"}, "alpha"},
		{"LIF alpha 1", ann, th, convert.Options{Neuron: "lif", Alpha: 1}, "alpha"},
		{"LIF alpha > 1", ann, th, convert.Options{Neuron: "lif", Alpha: 1.5}, "alpha"},
		{"IF with alpha", ann, th, convert.Options{Alpha: 0.9}, "alpha 0.9 is for LIF"},
		{"reset", ann, th, convert.Options{Reset: "zero"}, "want soft or hard"},
		{"v0 fraction", ann, th, convert.Options{V0Fraction: -0.5}, "fraction"},
		{"v0 layers", ann, th, convert.Options{V0: [][]float32{nil}}, "for 1 layers"},
		{"v0 size", ann, th, convert.Options{V0: [][]float32{{1}, nil}}, "1 initial potentials for 8 neurons"},
		{"bias shift without T", ann, th, convert.Options{BiasShift: true}, "T ≥ 1"},
		{"T without bias shift", ann, th, convert.Options{T: 32}, "without bias shift"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := convert.Convert(c.net, c.th, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	// FromANN checks the statistic, the options and the data.
	x := make([]float32, 8)
	dead := tinyANN()
	dead.Layers[0].(*network.Conv2d).Bias[1] = -2
	for _, c := range []struct {
		name string
		net  *network.Network
		n    int
		opts convert.Options
		want string
	}{
		{"statistic", ann, 2, convert.Options{Statistic: "mean"}, "want max"},
		{"options", ann, 2, convert.Options{Neuron: "lif"}, "alpha"},
		{"no ReLU", noReLU, 2, convert.Options{}, "no ReLU layer"},
		{"too few images", ann, 3, convert.Options{}, "only 2 given"},
		{"no images", ann, 0, convert.Options{}, "at least one"},
		{"dead layer", dead, 2, convert.Options{}, "never fires"},
		{"dead layer p99", dead, 2, convert.Options{Statistic: "p99-per-channel"}, "never fires"},
	} {
		t.Run("FromANN "+c.name, func(t *testing.T) {
			_, err := convert.FromANN(c.net, x, c.n, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestFromANN(t *testing.T) {
	ann := tinyANN()
	x := []float32{0, 0.25, 0.5, 1, 0.75, 0.75, 0.5, 0.25}
	snn, err := convert.FromANN(ann, x, 2, convert.Options{Statistic: "P50", V0Fraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if got := snn.Layers[1].(*network.Spiking).Threshold; !reflect.DeepEqual(got, []float32{0.5}) {
		t.Errorf("threshold %v", got)
	}
	if cv := snn.Meta.Conversion; cv.Statistic != "p50" || cv.Images != 2 || cv.V0Fraction != 0.5 {
		t.Errorf("metadata %+v", cv)
	}
}
