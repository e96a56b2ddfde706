package analysis_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/format/spikes"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// recorded simulates a random network of the kind with the event engine,
// recording the spikes, and returns the run and the recording's path.
func recorded(t *testing.T, kind snnref.Kind, seed uint64, images, T int, exit string) (*fixture.Run, *analysis.Simulation, string) {
	t.Helper()
	run := fixture.RandomRun(t, kind, seed, images, T)
	opts := network.SimOptions{T: T}
	if exit != "" {
		var err error
		if opts.Exit, err = network.ParseExit(run.Net, exit); err != nil {
			t.Fatal(err)
		}
	}
	in := inputsOf(run, opts)
	ev, _ := analysisEngine(t, "event")
	path := filepath.Join(t.TempDir(), "run.spk")
	sim, err := in.SimulateWith(ev, analysis.SimulateOptions{Record: path}, analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return run, sim, path
}

// The result rebuilt from a recording has the engine's spikes, spikes per
// step, first-spike latencies and SOPs, per layer and image, on every kind
// of network: count-gated MaxPools (ResNet stem, VGG), shortcuts into Adds,
// plain chains and MLPs; with an early exit too. The profile built from it
// equals the run's profile in everything spikes determine.
func TestRecordingResultMatchesRun(t *testing.T) {
	cases := []struct {
		kind snnref.Kind
		seed uint64
		exit string
	}{
		{snnref.ResNet, 1, ""}, {snnref.ResNet, 7, ""}, {snnref.VGG, 3, ""},
		{snnref.Chain, 5, ""}, {snnref.MLP, 9, ""}, {snnref.VGG, 11, "margin:0.5@3"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v-%d-exit=%q", tc.kind, tc.seed, tc.exit), func(t *testing.T) {
			run, sim, path := recorded(t, tc.kind, tc.seed, 5, 10, tc.exit)
			want := sim.Result
			rd, err := spikes.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			got, err := analysis.RecordingResult(rd, run.Net)
			if err != nil {
				t.Fatal(err)
			}
			if got.Images != want.Images || got.T != want.T || got.Engine != want.Engine || got.Encoding != want.Encoding {
				t.Fatalf("images %d T %d engine %q encoding %q, want %d %d %q %q", got.Images, got.T, got.Engine, got.Encoding, want.Images, want.T, want.Engine, want.Encoding)
			}
			pools := 0
			for _, l := range run.Net.Layers {
				if l.Kind() == network.KindMaxPool2d {
					pools++
				}
			}
			t.Logf("%d layers, %d MaxPools, %d spiking layers", len(run.Net.Layers), pools, len(want.Layers))
			for k, w := range want.Layers {
				g := got.Layers[k]
				if g.Name != w.Name || g.Spikes != w.Spikes || g.SOPs != w.SOPs || g.FirstSpikeSum != w.FirstSpikeSum ||
					g.FirstSpikers != w.FirstSpikers || !slices.Equal(g.SpikesByStep, w.SpikesByStep) {
					t.Errorf("layer %d: got %+v\nwant %+v", k, g, w)
				}
			}
			for i := range want.ImageSpikes {
				if !slices.Equal(got.ImageSpikes[i], want.ImageSpikes[i]) {
					t.Errorf("image %d: spikes %v, want %v", i, got.ImageSpikes[i], want.ImageSpikes[i])
				}
			}
			if got.Predictions != nil || got.CorrectByStep != nil {
				t.Errorf("a recording has no readout, yet predictions %v, correct %v", got.Predictions, got.CorrectByStep)
			}

			p, err := analysis.RecordingProfile(path, run.Net, profile.DefaultEnergy())
			if err != nil {
				t.Fatal(err)
			}
			wp, err := profile.Build(run.Net, want, nil, profile.DefaultEnergy())
			if err != nil {
				t.Fatal(err)
			}
			if p.Accuracy != nil {
				t.Errorf("profile from a recording has accuracy %v", *p.Accuracy)
			}
			wp.Accuracy, wp.AccuracyByStep, wp.WallSeconds = nil, nil, 0
			pj, _ := jsonOf(p)
			wj, _ := jsonOf(wp)
			if pj != wj {
				t.Errorf("profile from the recording:\n%s\nfrom the run:\n%s", pj, wj)
			}
		})
	}
}

// A recording is refused with another network than the one recorded, and
// a missing, truncated or corrupt recording is bad input with one line
// naming the file.
func TestRecordingErrors(t *testing.T) {
	run, _, path := recorded(t, snnref.ResNet, 1, 3, 8, "")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := slices.Clone(data)
	flipped[len(flipped)/2] ^= 0x40 // inside a bitmap: its CRC fails
	other := fixture.RandomRun(t, snnref.MLP, 9, 2, 8).Net
	changed := run.Net.Clone()
	for _, l := range changed.Layers {
		if s, ok := l.(*network.Spiking); ok {
			s.Threshold[0] *= 2
			break
		}
	}
	cases := []struct {
		name, path string
		net        *network.Network
		want       string
	}{
		{"missing", filepath.Join(dir, "nope.spk"), run.Net, "nope.spk"},
		{"empty", write("empty.spk", nil), run.Net, "empty.spk"},
		{"truncated", write("trunc.spk", data[:len(data)-100]), run.Net, "trunc.spk"},
		{"half", write("half.spk", data[:len(data)/2]), run.Net, "half.spk"},
		{"corrupt bitmap", write("flip.spk", flipped), run.Net, "flip.spk"},
		{"other network", path, other, "not the network recorded"},
		{"other thresholds", path, changed, "sha256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := analysis.RecordingProfile(tc.path, tc.net, profile.DefaultEnergy())
			checkBad(t, err, tc.want)
			if tc.net == run.Net {
				_, err = analysis.SummariseRecording(tc.path)
				checkBad(t, err, tc.want)
			}
		})
	}
}

func checkBad(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("no error, want one naming %q", want)
	case !analysis.IsBadInput(err):
		t.Errorf("%v: not bad input", err)
	case strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), want):
		t.Errorf("error %q is not one line naming %q", err, want)
	}
}

// The summary, the CSV exports and the raster agree with the run.
func TestRecordingSummaryCSVRaster(t *testing.T) {
	_, sim, path := recorded(t, snnref.ResNet, 1, 4, 8, "")
	res := sim.Result
	s, err := analysis.SummariseRecording(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Images != 4 || s.T != 8 || s.Engine != "event" || len(s.Layers) != len(res.Layers) {
		t.Fatalf("summary %+v", s)
	}
	for k, l := range s.Layers {
		w := res.Layers[k]
		rate := float64(w.Spikes) / float64(4*8*w.Neurons)
		if l.Spikes != w.Spikes || !slices.Equal(l.SpikesByStep, w.SpikesByStep) || l.Rate != rate {
			t.Errorf("layer %q: %d spikes, rate %g; want %d, %g", l.Name, l.Spikes, l.Rate, w.Spikes, rate)
		}
	}
	var text bytes.Buffer
	if err := s.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, l := range res.Layers {
		if !strings.Contains(text.String(), l.Name) || !strings.Contains(text.String(), profile.Group(l.Spikes)) {
			t.Errorf("text summary lacks layer %q with %s spikes:\n%s", l.Name, profile.Group(l.Spikes), text.String())
		}
	}

	// Spike rows of image 2: as many per layer as the run counted, steps
	// in 1..T, ordered by step.
	rows := readCSV(t, path, analysis.CSVOptions{Image: 2})
	if !slices.Equal(rows[0], []string{"image", "layer", "step", "neuron"}) {
		t.Fatalf("header %v", rows[0])
	}
	perLayer := map[string]int64{}
	last := 0
	for _, r := range rows[1:] {
		step, _ := strconv.Atoi(r[2])
		if r[0] != "2" || step < last || step < 1 || step > 8 {
			t.Fatalf("row %v after step %d", r, last)
		}
		last = step
		perLayer[r[1]]++
	}
	for k, l := range res.Layers {
		if perLayer[l.Name] != res.ImageSpikes[2][k] {
			t.Errorf("layer %q: %d rows, the run had %d spikes", l.Name, perLayer[l.Name], res.ImageSpikes[2][k])
		}
	}
	// Count rows of every image.
	rows = readCSV(t, path, analysis.CSVOptions{Image: -1, Counts: true})
	if len(rows) != 1+4*len(res.Layers) {
		t.Fatalf("%d count rows, want %d", len(rows)-1, 4*len(res.Layers))
	}
	for j, r := range rows[1:] {
		i, k := j/len(res.Layers), j%len(res.Layers)
		if r[0] != strconv.Itoa(i) || r[1] != res.Layers[k].Name || r[2] != strconv.FormatInt(res.ImageSpikes[i][k], 10) {
			t.Errorf("row %v, want image %d layer %q spikes %d", r, i, res.Layers[k].Name, res.ImageSpikes[i][k])
		}
	}
	if err := analysis.WriteRecordingCSV(path, &bytes.Buffer{}, analysis.CSVOptions{Image: 4}); err == nil || !analysis.IsBadInput(err) {
		t.Errorf("image 4 of 4: error %v, want bad input", err)
	}

	dir := t.TempDir()
	for _, name := range []string{"r.png", "r.svg"} {
		out := filepath.Join(dir, name)
		n, err := analysis.RecordingRaster(path, 1, out)
		if err != nil {
			t.Fatal(err)
		}
		var want int64
		for _, c := range res.ImageSpikes[1] {
			want += c
		}
		if int64(n) != want {
			t.Errorf("%s: %d spikes drawn, the image had %d", name, n, want)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if magic := map[string]string{"r.png": "\x89PNG", "r.svg": "<?xml"}[name]; !bytes.HasPrefix(b, []byte(magic)) {
			t.Errorf("%s starts with %q", name, b[:min(8, len(b))])
		}
	}
	if _, err := analysis.RecordingRaster(path, 1, filepath.Join(dir, "r.gif")); err == nil || !analysis.IsBadInput(err) {
		t.Errorf("raster to .gif: error %v, want bad input", err)
	}
	if _, err := analysis.RecordingRaster(path, -1, filepath.Join(dir, "x.png")); err == nil || !analysis.IsBadInput(err) {
		t.Errorf("raster of image -1: error %v, want bad input", err)
	}
}

func readCSV(t *testing.T, path string, o analysis.CSVOptions) [][]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "s.csv")
	if err := analysis.WriteRecordingCSVFile(path, out, o); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func jsonOf(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", " ")
	return string(b), err
}

// A recording of the LeNet fixture made by simulate (the ANN converted
// with the defaults) reloads with the model its provenance names: the
// profile is the run's but for what a recording cannot hold (accuracy,
// wall time), and the raster is image 0's. Another model is refused.
func TestLoadRecordedRunLeNet(t *testing.T) {
	data := lenetData(t)
	in, err := analysis.Prepare(analysis.Request{Model: "../testdata/mnist_lenet.onnx", Data: data, Images: 6,
		Opts: network.SimOptions{T: 8, Raster: true}}, analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := analysisEngine(t, "event")
	path := filepath.Join(t.TempDir(), "lenet.spk")
	sim, err := in.SimulateWith(ev, analysis.SimulateOptions{Record: path}, analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	run, err := analysis.LoadRecordedRun(path, "", data, profile.DefaultEnergy(), analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := profile.Build(in.SNN, sim.Result, nil, profile.DefaultEnergy())
	if err != nil {
		t.Fatal(err)
	}
	want.Accuracy, want.AccuracyByStep, want.WallSeconds = nil, nil, 0
	gj, _ := jsonOf(run.Profile)
	wj, _ := jsonOf(want)
	if gj != wj {
		t.Errorf("profile from the recording:\n%s\nfrom the run:\n%s", gj, wj)
	}
	if !slices.Equal(run.Raster, sim.Result.Raster) || len(run.Raster) == 0 {
		t.Errorf("raster of image 0: %d events, the run's %d", len(run.Raster), len(sim.Result.Raster))
	}
	if run.Model != "../testdata/mnist_lenet.onnx" || run.Header.T != 8 {
		t.Errorf("model %q, T %d", run.Model, run.Header.T)
	}
	// The ResNet fixture is another network.
	_, err = analysis.LoadRecordedRun(path, "../testdata/mnist_resnet.onnx", data, profile.DefaultEnergy(), analysis.Env{})
	checkBad(t, err, "not the network recorded")
}
