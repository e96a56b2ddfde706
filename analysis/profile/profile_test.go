package profile_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

func near(a, b float64) bool {
	return math.Abs(a-b) <= 1e-12*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func checkF(t *testing.T, name string, got, want float64) {
	t.Helper()
	if !near(got, want) {
		t.Errorf("%s = %v, want %v", name, got, want)
	}
}

func checkP(t *testing.T, name string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s absent, want %v", name, want)
		return
	}
	checkF(t, name, *got, want)
}

// linearNet is 2 inputs → fc1 (3) → sp1 (IF, θ=1, soft) → fc2 (2, readout).
func linearNet() *network.Network {
	return &network.Network{
		Input: network.Shape{2},
		Layers: []network.Layer{
			&network.Linear{LayerName: "fc1", In: 2, Out: 3, Weight: []float32{1, 0, 0, 1, 0.5, 0.5}, Bias: []float32{0, 0, 0}},
			&network.Spiking{LayerName: "sp1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "fc2", In: 3, Out: 2, Weight: []float32{1, 0, 0, 0, 1, 1}, Bias: []float32{0, 0}},
		},
	}
}

// handResult is the run of linearNet on images [0.5 0.25] and [1 0] for
// T = 4, traced by hand:
//
//	image 1: currents 0.5, 0.25, 0.375: n0 fires at t=2,4; n1 at 4; n2 at 3.
//	image 2: currents 1, 0, 0.5: n0 fires at t=1..4; n1 never; n2 at 2,4.
//
// Spikes 10; every spike reaches fc2's 2 outputs, so SOPs = 20. Spikes per
// step 1,3,2,4; first spikes at 2,4,3 and 1,2: sum 12 over 5 pairs.
func handResult() *network.SimResult {
	return &network.SimResult{
		Engine: "hand", T: 4, Images: 2,
		CorrectByStep: []int{1, 1, 2, 2},
		Predictions:   []int{0, 0},
		Counts:        [][]int32{{2, 1, 1, 4, 0, 2}},
		Layers: []network.LayerStats{{
			Name: "sp1", Layer: 1, Neurons: 3, Spikes: 10, SOPs: 20,
			SpikesByStep: []int64{1, 3, 2, 4}, FirstSpikeSum: 12, FirstSpikers: 5,
		}},
		Wall: 1500 * time.Millisecond,
	}
}

var handImages = []float32{0.5, 0.25, 1, 0}

func TestBuildHandComputedLinear(t *testing.T) {
	net := linearNet()
	// The reference simulation reproduces the hand trace.
	sim, err := snnref.Run(net, handImages, []int{0, 0}, network.SimOptions{T: 4, KeepCounts: true})
	if err != nil {
		t.Fatal(err)
	}
	want := handResult()
	if !reflect.DeepEqual(sim.Counts, want.Counts) || !reflect.DeepEqual(sim.Layers, want.Layers) {
		t.Fatalf("reference simulation disagrees with the hand trace:\n got %+v %v\nwant %+v %v", sim.Layers, sim.Counts, want.Layers, want.Counts)
	}

	ann, err := net.Forward(handImages, 2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Build(net, want, ann, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	if p.Engine != "hand" || p.T != 4 || p.Images != 2 || p.WallSeconds != 1.5 {
		t.Errorf("header %q %d %d %v", p.Engine, p.T, p.Images, p.WallSeconds)
	}
	checkP(t, "accuracy", p.Accuracy, 1)
	if !slices.Equal(p.AccuracyByStep, []float64{0.5, 0.5, 1, 1}) {
		t.Errorf("accuracy by step %v", p.AccuracyByStep)
	}
	if len(p.Layers) != 1 {
		t.Fatalf("%d layers", len(p.Layers))
	}
	l := p.Layers[0]
	if l.Name != "sp1" || l.Layer != 1 || l.Neurons != 3 || l.Spikes != 10 || l.SOPs != 20 || l.Target != "fc2" {
		t.Errorf("layer %+v", l)
	}
	checkF(t, "spikes per image", l.SpikesPerImage, 5)
	checkF(t, "firing rate", l.FiringRate, 10.0/24)
	checkF(t, "sops per image", l.SOPsPerImage, 10)
	if l.ANNMACs != 6 || l.DenseMACs != 24 {
		t.Errorf("MACs %d dense %d, want 6 and 24", l.ANNMACs, l.DenseMACs)
	}
	checkF(t, "sops per mac", l.SOPsPerMAC, 10.0/6)
	checkF(t, "sops per dense mac", l.SOPsPerDenseMAC, 10.0/24)
	checkF(t, "snn energy", l.EnergySNN, 10*0.9e-6)
	checkF(t, "ann energy", l.EnergyANN, 6*4.6e-6)
	checkP(t, "first spike latency", l.FirstSpikeLatency, 2.4)
	if !slices.Equal(l.SpikesByStep, []int64{1, 3, 2, 4}) {
		t.Errorf("spikes by step %v", l.SpikesByStep)
	}
	// ANN x = [0.5 0.25 0.375 | 1 0 0.5], SNN s̄ = count/4 = [0.5 0.25 0.25 | 1 0 0.5]:
	// one error of 0.125.
	x := []float64{0.5, 0.25, 0.375, 1, 0, 0.5}
	s := []float64{0.5, 0.25, 0.25, 1, 0, 0.5}
	checkP(t, "mse", l.MSE, 0.125*0.125/6)
	checkP(t, "error l2", l.ErrorL2, 0.125)
	checkP(t, "rel error", l.RelError, 0.125/math.Sqrt(1.703125))
	checkP(t, "pearson", l.Pearson, stat.Correlation(x, s, nil))
	checkP(t, "ann mean", l.ANNMean, 2.625/6)
	checkP(t, "snn mean", l.SNNMean, 2.5/6)

	tot := p.Totals
	if tot.Neurons != 3 || tot.Spikes != 10 || tot.SOPs != 20 || tot.InputMACs != 6 || tot.ANNMACs != 12 || tot.DenseMACs != 48 {
		t.Errorf("totals %+v", tot)
	}
	checkF(t, "total snn energy", tot.EnergySNN, (10*0.9+6*4.6)*1e-6)
	checkF(t, "total ann energy", tot.EnergyANN, 12*4.6e-6)
	checkF(t, "total sops per mac", tot.SOPsPerMAC, 10.0/12)

	// Overridden constants.
	p2, err := profile.Build(net, want, nil, profile.Energy{PJPerSOP: 1, PJPerMAC: 2})
	if err != nil {
		t.Fatal(err)
	}
	checkF(t, "snn energy (1 pJ)", p2.Layers[0].EnergySNN, 10e-6)
	checkF(t, "ann energy (2 pJ)", p2.Layers[0].EnergyANN, 12e-6)
	if p2.Layers[0].MSE != nil || p2.Layers[0].Pearson != nil {
		t.Error("conversion error without ANN activations")
	}
}

// TestBuildPoissonInputCost checks the input's cost with Poisson input:
// the SNN pays the input spikes' SOPs instead of the first layer's MACs,
// and the ANN's cost does not change.
func TestBuildPoissonInputCost(t *testing.T) {
	net := linearNet()
	res := handResult()
	res.Encoding = network.EncodingPoisson
	res.InputSpikes, res.InputSOPs = 7, 21 // over the 2 images
	p, err := profile.Build(net, res, nil, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	tot := p.Totals
	if tot.Encoding != network.EncodingPoisson || tot.InputMACs != 6 {
		t.Errorf("encoding %q, input MACs %d", tot.Encoding, tot.InputMACs)
	}
	checkF(t, "input spikes per image", tot.InputSpikesPerImage, 3.5)
	checkF(t, "input sops per image", tot.InputSOPsPerImage, 10.5)
	checkF(t, "total snn energy", tot.EnergySNN, (10+10.5)*0.9e-6)
	checkF(t, "total ann energy", tot.EnergyANN, 12*4.6e-6)
	in := p.InputCost()
	if !in.Poisson || in.MACs != 6 {
		t.Errorf("input cost %+v", in)
	}
	checkF(t, "input snn energy", in.EnergySNN, 10.5*0.9e-6)
	checkF(t, "input ann energy", in.EnergyANN, 6*4.6e-6)

	// The same run read as direct input pays the MACs once per image.
	res.Encoding = network.EncodingDirect
	if p, err = profile.Build(net, res, nil, profile.DefaultEnergy()); err != nil {
		t.Fatal(err)
	}
	checkF(t, "direct: total snn energy", p.Totals.EnergySNN, (10*0.9+6*4.6)*1e-6)
	if p.Totals.InputSpikesPerImage != 0 || p.InputCost().Poisson {
		t.Errorf("direct input with input spikes: %+v", p.Totals)
	}
}

// poolNet is [1,3,3] → conv1 (1→1, 1×1, weight 1) → sp1 → pool1 (2×2,
// stride 1, overlapping) → conv2 (1→2, 2×2, padding 1) → sp2 → flatten →
// fc (18→2).
func poolNet() *network.Network {
	return &network.Network{
		Input: network.Shape{1, 3, 3},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "conv1", InC: 1, OutC: 1, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Weight: []float32{1}, Bias: []float32{0}},
			&network.Spiking{LayerName: "sp1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.AvgPool2d{LayerName: "pool1", KH: 2, KW: 2, StrideH: 1, StrideW: 1},
			&network.Conv2d{LayerName: "conv2", InC: 1, OutC: 2, KH: 2, KW: 2, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
				Weight: []float32{0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0.5}, Bias: []float32{0, 0}},
			&network.Spiking{LayerName: "sp2", Threshold: []float32{0.5}, Alpha: 1, Reset: network.ResetSoft},
			&network.Flatten{LayerName: "flatten"},
			&network.Linear{LayerName: "fc", In: 18, Out: 2, Weight: make([]float32, 36), Bias: []float32{0, 0}},
		},
	}
}

// TestBuildHandComputedConvPool checks SOPs and MACs of a conv + pool
// network against counts worked out by hand.
//
// sp1 is [1,3,3]. A neuron at row y, column x sits in 1, 2, 1 pooling
// windows along each axis (y = 0, 1, 2), so in 1 (corner), 2 (edge) or 4
// (centre) windows of pool1 ([1,2,2]). conv2 (2×2 kernel, padding 1, 3×3
// output, 2 channels) reads each of those 2 rows from 2 output rows and
// each column from 2 output columns: every pool output feeds 2·2·2 = 8
// targets. Fan-out of sp1: corner 8, edge 16, centre 32; Σ = 4·8 + 4·16 +
// 32 = 128. With every pixel 0.5 and θ = 1, each sp1 neuron fires at t = 2
// and 4: 18 spikes, 256 SOPs. sp2 ([2,3,3]) feeds fc's 2 outputs: 2 SOPs a
// spike.
//
// MACs per image: conv1 9, conv2 18 outputs · 4 taps = 72, fc 36.
func TestBuildHandComputedConvPool(t *testing.T) {
	net := poolNet()
	fan, err := net.FanOut(1)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{8, 16, 8, 16, 32, 16, 8, 16, 8}; !slices.Equal(fan, want) {
		t.Fatalf("fan-out of sp1 %v, want %v", fan, want)
	}
	img := []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	res, err := snnref.Run(net, img, nil, network.SimOptions{T: 4, KeepCounts: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Layers[0].Spikes != 18 || res.Layers[0].SOPs != 256 {
		t.Fatalf("sp1: %d spikes %d SOPs, want 18 and 256", res.Layers[0].Spikes, res.Layers[0].SOPs)
	}
	if !slices.Equal(res.Layers[0].SpikesByStep, []int64{0, 9, 0, 9}) {
		t.Errorf("sp1 spikes by step %v", res.Layers[0].SpikesByStep)
	}
	ann, err := net.Forward(img, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := profile.Build(net, res, ann, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	l1, l2 := p.Layers[0], p.Layers[1]
	if l1.Target != "conv2" || l1.ANNMACs != 72 || l1.DenseMACs != 288 || l1.SOPs != 256 {
		t.Errorf("sp1 %+v", l1)
	}
	checkF(t, "sp1 firing rate", l1.FiringRate, 0.5)
	checkP(t, "sp1 first spike", l1.FirstSpikeLatency, 2)
	checkP(t, "sp1 mse", l1.MSE, 0) // x = 0.5 = θ·2/4
	if l1.Pearson != nil {
		t.Errorf("pearson of constant layers = %v, want absent", *l1.Pearson)
	}
	if l2.Target != "fc" || l2.ANNMACs != 36 || l2.SOPs != 2*l2.Spikes {
		t.Errorf("sp2 %+v", l2)
	}
	if p.Totals.ANNMACs != 9+72+36 || p.Totals.InputMACs != 9 {
		t.Errorf("totals %+v", p.Totals)
	}
}

func TestBuildRejectsInconsistentCounts(t *testing.T) {
	net := linearNet()
	res := handResult()
	res.Layers[0].SOPs = 21
	if _, err := profile.Build(net, res, nil, profile.DefaultEnergy()); err == nil || !strings.Contains(err.Error(), "SOPs") {
		t.Errorf("wrong SOPs: err = %v", err)
	}
	res = handResult()
	res.Counts[0][0] = 3
	if _, err := profile.Build(net, res, nil, profile.DefaultEnergy()); err == nil || !strings.Contains(err.Error(), "spikes") {
		t.Errorf("wrong counts: err = %v", err)
	}
	res = handResult()
	if _, err := profile.Build(net, res, nil, profile.Energy{PJPerSOP: math.NaN()}); err == nil {
		t.Error("NaN energy accepted")
	}
	// No counts: no cross-check, no conversion error, still a profile.
	res = handResult()
	res.Counts = nil
	ann, _ := net.Forward(handImages, 2)
	p, err := profile.Build(net, res, ann, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	if p.Layers[0].MSE != nil {
		t.Error("conversion error without counts")
	}
	// ANN activations of other images.
	ann1, _ := net.Forward(handImages[:2], 1)
	if _, err := profile.Build(net, handResult(), ann1, profile.DefaultEnergy()); err == nil {
		t.Error("ANN batch mismatch accepted")
	}
}

// TestConversionErrorMatchesGonum checks the one-pass statistics against
// gonum's on random chain and graph networks.
func TestConversionErrorMatchesGonum(t *testing.T) {
	for _, kind := range snnref.Kinds {
		t.Run(kind.String(), func(t *testing.T) { conversionErrorMatchesGonum(t, kind) })
	}
}

func conversionErrorMatchesGonum(t *testing.T, kind snnref.Kind) {
	run := fixture.RandomRun(t, kind, 2, 8, 16)
	net, res, ann := run.Net, run.Result, run.ANN
	p, err := profile.Build(net, res, ann, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	for k, l := range p.Layers {
		rate, err := profile.Rates(net, res, k)
		if err != nil {
			t.Fatal(err)
		}
		a := ann.Output[l.Layer]
		xs, ss := make([]float64, len(a)), make([]float64, len(a))
		var sq, xsq float64
		for i := range a {
			xs[i], ss[i] = float64(a[i]), float64(rate[i])
			d := xs[i] - ss[i]
			sq += d * d
			xsq += xs[i] * xs[i]
		}
		tol := func(name string, got *float64, want float64) {
			if got == nil || math.Abs(*got-want) > 1e-6*math.Max(1, math.Abs(want)) {
				t.Errorf("%s %s = %v, want %v", l.Name, name, got, want)
			}
		}
		tol("mse", l.MSE, sq/float64(len(a)))
		tol("rel error", l.RelError, math.Sqrt(sq/xsq))
		tol("pearson", l.Pearson, stat.Correlation(xs, ss, nil))
		tol("ann mean", l.ANNMean, stat.Mean(xs, nil))
		tol("snn mean", l.SNNMean, stat.Mean(ss, nil))
	}
}

// jsonOf is p as profile.WriteJSON writes it.
func jsonOf(t *testing.T, p *profile.Profile) string {
	t.Helper()
	var b bytes.Buffer
	if err := profile.WriteJSON(&b, p); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestJSONStableNames(t *testing.T) {
	net := linearNet()
	ann, _ := net.Forward(handImages, 2)
	p, err := profile.Build(net, handResult(), ann, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	p.SetANNAccuracy(1)
	var buf bytes.Buffer
	if err := profile.WriteJSON(&buf, p); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatal("invalid JSON")
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"engine", "T", "images", "wall_seconds", "accuracy", "accuracy_by_step", "ann_accuracy", "energy", "layers", "totals"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing top-level field %q", k)
		}
	}
	e := m["energy"].(map[string]any)
	if e["pj_per_sop"] != 0.9 || e["pj_per_mac"] != 4.6 {
		t.Errorf("energy %v", e)
	}
	layer := m["layers"].([]any)[0].(map[string]any)
	want := append(slices.Clone(profile.LayerColumns), "spikes_by_step")
	var got []string
	for k := range layer {
		got = append(got, k)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("layer fields\n got %v\nwant %v", got, want)
	}
	for _, k := range []string{"neurons", "spikes", "spikes_per_image", "firing_rate", "sops", "sops_per_image",
		"input_macs", "ann_macs", "dense_macs", "sops_per_mac", "energy_snn_uj_per_image", "energy_ann_uj_per_image"} {
		if _, ok := m["totals"].(map[string]any)[k]; !ok {
			t.Errorf("missing totals field %q", k)
		}
	}
	var back profile.Profile
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, p) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", back, *p)
	}
}

func TestWriteCSV(t *testing.T) {
	net := linearNet()
	ann, _ := net.Forward(handImages, 2)
	p, err := profile.Build(net, handResult(), ann, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "csv")
	if err := profile.WriteCSV(dir, p); err != nil {
		t.Fatal(err)
	}
	read := func(name string) [][]string {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return recs
	}
	layers := read(profile.LayersCSV)
	if len(layers) != 3 || layers[1][0] != "sp1" || layers[2][0] != "total" {
		t.Fatalf("layers.csv %v", layers)
	}
	col := map[string]int{}
	for i, h := range layers[0] {
		col[h] = i
	}
	for name, want := range map[string]string{"spikes": "10", "sops": "20", "firing_rate": "0.4166666666666667",
		"ann_macs": "6", "first_spike_latency": "2.4", "pj_per_sop": "0.9", "pj_per_mac": "4.6", "target": "fc2", "mse": "0.0026041666666666665"} {
		if got := layers[1][col[name]]; got != want {
			t.Errorf("layers.csv %s = %q, want %q", name, got, want)
		}
	}
	if got := layers[2][col["ann_macs"]]; got != "12" {
		t.Errorf("total ann_macs %q", got)
	}
	steps := read(profile.SpikesByStepCSV)
	want := [][]string{{"step", "sp1", "total"}, {"1", "1", "1"}, {"2", "3", "3"}, {"3", "2", "2"}, {"4", "4", "4"}}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("spikes_by_step.csv %v", steps)
	}
	acc := read(profile.AccuracyByStepCSV)
	if !reflect.DeepEqual(acc, [][]string{{"step", "accuracy"}, {"1", "0.5"}, {"2", "0.5"}, {"3", "1"}, {"4", "1"}}) {
		t.Errorf("accuracy_by_step.csv %v", acc)
	}
}

func TestPrintTable(t *testing.T) {
	net := linearNet()
	ann, _ := net.Forward(handImages, 2)
	p, err := profile.Build(net, handResult(), ann, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := profile.PrintTable(&buf, p); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{"0.9 pJ per SOP", "4.6 pJ per MAC", "Horowitz 2014", "sp1", "→ fc2", "41.67 %", "2.40"} {
		if !strings.Contains(out, s) {
			t.Errorf("table lacks %q:\n%s", s, out)
		}
	}
	if testing.Verbose() {
		t.Log("\n" + out)
	}
}

func TestGroupAndSparkline(t *testing.T) {
	for v, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 244213502: "244,213,502", -12544: "-12,544"} {
		if got := profile.Group(v); got != want {
			t.Errorf("Group(%d) = %q, want %q", v, got, want)
		}
	}
	if got := profile.Sparkline([]int64{0, 1, 2, 4, 8}, 10); got != " ▂▃▅█" {
		t.Errorf("sparkline %q", got)
	}
	if got := []rune(profile.Sparkline(make([]int64, 100), 40)); len(got) != 40 {
		t.Errorf("sparkline of 100 values is %d wide", len(got))
	}
}

func TestNonFiniteActivationsKeepJSONValid(t *testing.T) {
	net := linearNet()
	ann, _ := net.Forward(handImages, 2)
	ann.Output[1][0] = float32(math.Inf(1))
	p, err := profile.Build(net, handResult(), ann, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	if l := p.Layers[0]; l.MSE != nil || l.Pearson != nil || l.ANNMean != nil {
		t.Errorf("non-finite statistics kept: %+v", l)
	}
	var buf bytes.Buffer
	if err := profile.WriteJSON(&buf, p); err != nil || !json.Valid(buf.Bytes()) {
		t.Errorf("JSON: %v", err)
	}
}
