package analysis

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/internal/cputime"
	"github.com/evsnn/evsnn/network"
)

// BenchOptions configure Bench.
type BenchOptions struct {
	T int // steps
	// Engines are timed on the model, one core each (engines.Names).
	Engines []string
	// Latency is the number of images the event engine's per-image
	// streaming latency is measured on (0: none).
	Latency int
	// MaxDiff is the largest relative per-layer spike-count difference
	// between the event and dense engines that passes the agreement check.
	MaxDiff float64
	// ExpectedSpikes, if set, are the mean spikes per image of each
	// spiking layer the event engine must reproduce within ExpectedTol
	// (relative; 0: 0.5 %).
	ExpectedSpikes []float64
	ExpectedTol    float64
	// Activities are the firing fractions of the synthetic sweep (none:
	// no sweep), on a network of three hidden layers of Neurons IF
	// neurons (1,024 inputs), SynImages inputs per measurement.
	Activities []float64
	Neurons    int
	SynImages  int
	// RecordRounds, if positive, times the event engine with and without
	// spike recording that many times each, alternated (BenchRecording),
	// the recording in RecordDir (default: the system's temporary
	// directory).
	RecordRounds int
	RecordDir    string
}

// Bench is what `evsnn bench --json` prints.
type Bench struct {
	Model     *BenchModel      `json:"model,omitempty"`
	Synthetic []BenchSynthetic `json:"synthetic,omitempty"`
	CPU       string           `json:"cpu"`
	GoMaxProc int              `json:"gomaxprocs"`
}

// BenchModel times the engines on a model.
type BenchModel struct {
	T          int             `json:"T"`
	Images     int             `json:"images"`
	Engines    []BenchEngine   `json:"engines"`
	AllCores   *BenchEngine    `json:"event_all_cores,omitempty"`
	Latency    *BenchLatency   `json:"event_latency,omitempty"`
	Agreement  *BenchAgreement `json:"agreement,omitempty"`
	Expected   []BenchExpected `json:"expected,omitempty"`
	Recording  *BenchRecording `json:"recording,omitempty"`
	LayerNames []string        `json:"layer_names"`
}

// BenchEngine is one engine's run on the model.
type BenchEngine struct {
	Engine        string  `json:"engine"`
	Workers       int     `json:"workers"`
	WallSeconds   float64 `json:"wall_seconds"`
	CPUSeconds    float64 `json:"cpu_seconds"`
	MsPerImage    float64 `json:"ms_per_image"`
	CPUMsPerImage float64 `json:"cpu_ms_per_image"`
	Accuracy      float64 `json:"accuracy"`
	Spikes        []int64 `json:"spikes"`
	SOPs          int64   `json:"sops"`
	// Event engine only: additions performed (after pool merging) and the
	// rate of SOPs and of additions per second of CPU.
	Adds       int64   `json:"adds,omitempty"`
	GSOPsPerS  float64 `json:"gsops_per_cpu_second,omitempty"`
	GAddsPerS  float64 `json:"gadds_per_cpu_second,omitempty"`
	SpeedupCPU float64 `json:"cpu_speedup_vs_dense,omitempty"`
}

// BenchLatency is the event engine's time per image, one at a time.
type BenchLatency struct {
	Images int     `json:"images"`
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// BenchAgreement checks the event engine against the dense one.
type BenchAgreement struct {
	SamePredictions int       `json:"same_predictions"`
	Images          int       `json:"images"`
	SpikeRelDiff    []float64 `json:"spike_rel_diff"`
	SOPsEqual       bool      `json:"sops_equal"`
	Pass            bool      `json:"pass"`
}

// BenchExpected checks one layer's mean spikes per image.
type BenchExpected struct {
	Layer    string  `json:"layer"`
	Event    float64 `json:"event_spikes_per_image"`
	Expected float64 `json:"expected_spikes_per_image"`
	RelDiff  float64 `json:"rel_diff"`
	Pass     bool    `json:"pass"`
}

// RunBench times the engines on net (an SNN; nil: no model benchmark) over
// the images of set, and the event and dense engines on the synthetic
// network at each activity. Timings are on one core (GOMAXPROCS = 1) but
// the event engine's run on all cores.
func RunBench(net *network.Network, set *dataset.Set, o BenchOptions, env Env) (*Bench, error) {
	if o.T < 1 || o.Latency < 0 || (len(o.Activities) > 0 && (o.Neurons < 1 || o.SynImages < 1)) {
		return nil, BadInput(fmt.Errorf("bench: T, latency, neurons and syn-images must be positive"))
	}
	for _, a := range o.Activities {
		if !(a > 0 && a <= 1) {
			return nil, BadInput(fmt.Errorf("--activities: %g is not a fraction in (0, 1]", a))
		}
	}
	out := &Bench{CPU: cpuModel(), GoMaxProc: runtime.GOMAXPROCS(0)}
	if net != nil {
		m, err := benchModel(net, set, o, env)
		if err != nil {
			return nil, err
		}
		out.Model = m
	}
	for _, a := range o.Activities {
		s, err := benchSynthetic(a, o, env)
		if err != nil {
			return nil, err
		}
		out.Synthetic = append(out.Synthetic, *s)
	}
	return out, nil
}

// Check returns an error if the engines disagree beyond the tolerance or
// the event engine misses the expected spike counts.
func (b *Bench) Check() error {
	m := b.Model
	if m == nil {
		return nil
	}
	if m.Agreement != nil && !m.Agreement.Pass {
		return fmt.Errorf("bench: the engines disagree beyond the tolerance")
	}
	for _, e := range m.Expected {
		if !e.Pass {
			return fmt.Errorf("bench: %s: %.1f spikes per image, expected %.1f", e.Layer, e.Event, e.Expected)
		}
	}
	return nil
}

// oneCore runs f with GOMAXPROCS = 1 and returns its wall and CPU time.
func oneCore(f func() error) (wall, cpu time.Duration, err error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	c0, t0 := cpuNow(), time.Now()
	err = f()
	return time.Since(t0), cpuNow() - c0, err
}

func benchModel(net *network.Network, set *dataset.Set, o BenchOptions, env Env) (*BenchModel, error) {
	opts := network.SimOptions{T: o.T, Workers: 1}
	m := &BenchModel{T: o.T, Images: set.N}
	results := map[string]*network.SimResult{}
	for _, name := range o.Engines {
		engine, err := engines.ByName(name)
		if err != nil {
			return nil, BadInput(fmt.Errorf("--engines: %w", err))
		}
		var res *network.SimResult
		var work *event.Work
		env.log().Info("timing on one core", "engine", name, "images", set.N, "T", o.T)
		wall, cpu, err := oneCore(func() error {
			var err error
			if name == engines.Event {
				res, work, err = event.RunWork(net, set.Images, set.Labels, opts)
			} else {
				res, err = engine.Run(net, set.Images, set.Labels, opts)
			}
			return err
		})
		if err != nil {
			return nil, BadInput(err)
		}
		results[name] = res
		e := benchEngine(res, 1, wall, cpu)
		if work != nil {
			e.Adds = work.TotalAdds()
			e.GAddsPerS = float64(e.Adds) / cpu.Seconds() / 1e9
			e.GSOPsPerS = float64(e.SOPs) / cpu.Seconds() / 1e9
		}
		m.Engines = append(m.Engines, e)
		if m.LayerNames == nil {
			for _, l := range res.Layers {
				m.LayerNames = append(m.LayerNames, l.Name)
			}
		}
	}
	if ev, de := results[engines.Event], results[engines.Dense]; ev != nil && de != nil {
		m.Agreement = agreement(ev, de, o.MaxDiff)
		var evCPU, deCPU float64
		for _, e := range m.Engines {
			switch e.Engine {
			case engines.Event:
				evCPU = e.CPUSeconds
			case engines.Dense:
				deCPU = e.CPUSeconds
			}
		}
		for i := range m.Engines {
			if m.Engines[i].Engine == engines.Event && evCPU > 0 {
				m.Engines[i].SpeedupCPU = deCPU / evCPU
			}
		}
	}
	if ev := results[engines.Event]; ev != nil {
		all := opts
		all.Workers = 0
		env.log().Info("event engine on all cores", "workers", runtime.GOMAXPROCS(0))
		c0, t0 := cpuNow(), time.Now()
		res, err := event.Engine{}.Run(net, set.Images, set.Labels, all)
		if err != nil {
			return nil, BadInput(err)
		}
		e := benchEngine(res, runtime.GOMAXPROCS(0), time.Since(t0), cpuNow()-c0)
		m.AllCores = &e
		if o.Latency > 0 {
			lat, err := latency(net, set.Images, min(o.Latency, set.N), opts)
			if err != nil {
				return nil, BadInput(err)
			}
			m.Latency = lat
		}
		if o.ExpectedSpikes != nil {
			exp, err := checkExpected(ev, o.ExpectedSpikes, o.ExpectedTol)
			if err != nil {
				return nil, err
			}
			m.Expected = exp
		}
	}
	if o.RecordRounds > 0 {
		r, err := benchRecording(net, set, o.T, o.RecordRounds, o.RecordDir, env)
		if err != nil {
			return nil, err
		}
		m.Recording = r
	}
	return m, nil
}

func benchEngine(res *network.SimResult, workers int, wall, cpu time.Duration) BenchEngine {
	e := BenchEngine{Engine: res.Engine, Workers: workers, WallSeconds: wall.Seconds(), CPUSeconds: cpu.Seconds(),
		MsPerImage: 1e3 * wall.Seconds() / float64(res.Images), CPUMsPerImage: 1e3 * cpu.Seconds() / float64(res.Images)}
	if acc := res.AccuracyByStep(); acc != nil {
		e.Accuracy = acc[len(acc)-1]
	}
	for _, l := range res.Layers {
		e.Spikes = append(e.Spikes, l.Spikes)
		e.SOPs += l.SOPs
	}
	return e
}

func agreement(ev, de *network.SimResult, maxDiff float64) *BenchAgreement {
	a := &BenchAgreement{Images: ev.Images, SOPsEqual: true, Pass: true}
	for i := range ev.Predictions {
		if ev.Predictions[i] == de.Predictions[i] {
			a.SamePredictions++
		}
	}
	for k := range ev.Layers {
		d := math.Abs(float64(ev.Layers[k].Spikes-de.Layers[k].Spikes)) / math.Max(1, float64(de.Layers[k].Spikes))
		a.SpikeRelDiff = append(a.SpikeRelDiff, d)
		if d > maxDiff {
			a.Pass = false
		}
		if ev.Layers[k].SOPs != de.Layers[k].SOPs {
			a.SOPsEqual = false
		}
	}
	// ≥ 9,995 of 10,000: at most one image in 2,000 may differ.
	if a.Images-a.SamePredictions > a.Images/2000 {
		a.Pass = false
	}
	return a
}

// latency times the event engine image by image through a Simulator on one
// core, after one warm-up image.
func latency(net *network.Network, images []float32, n int, opts network.SimOptions) (*BenchLatency, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	sim, err := event.NewSimulator(net, opts)
	if err != nil {
		return nil, err
	}
	res := sim.NewImageResult()
	size := net.Input.Size()
	if err := sim.RunImage(images[:size], 0, res); err != nil {
		return nil, err
	}
	d := make([]float64, n)
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if err := sim.RunImage(images[i*size:(i+1)*size], i, res); err != nil {
			return nil, err
		}
		d[i] = float64(time.Since(t0).Nanoseconds()) / 1e6
	}
	mean := 0.0
	for _, v := range d {
		mean += v
	}
	mean /= float64(n)
	slices.Sort(d)
	q := func(p float64) float64 { return d[min(n-1, int(p*float64(n)))] }
	return &BenchLatency{Images: n, MeanMs: mean, P50Ms: q(0.5), P90Ms: q(0.9), P99Ms: q(0.99), MaxMs: d[n-1]}, nil
}

// checkExpected compares the event engine's mean spikes per image with the
// expected ones, layer by layer.
func checkExpected(res *network.SimResult, want []float64, tol float64) ([]BenchExpected, error) {
	if len(want) != len(res.Layers) {
		return nil, BadInput(fmt.Errorf("--expected-spikes: %d values for %d spiking layers", len(want), len(res.Layers)))
	}
	if tol <= 0 {
		tol = 0.005
	}
	var out []BenchExpected
	for k, l := range res.Layers {
		got := float64(l.Spikes) / float64(res.Images)
		d := math.Abs(got-want[k]) / want[k]
		out = append(out, BenchExpected{Layer: l.Name, Event: got, Expected: want[k], RelDiff: d, Pass: d <= tol})
	}
	return out, nil
}

// cpuModel is the CPU's model name (Linux), or GOARCH.
func cpuModel() string {
	raw, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v) + fmt.Sprintf(", %d logical CPUs", runtime.NumCPU())
			}
		}
	}
	return runtime.GOARCH
}

// cpuNow is the CPU time the process has used (zero where the platform
// cannot tell).
func cpuNow() time.Duration {
	t, _ := cputime.Now()
	return t
}
