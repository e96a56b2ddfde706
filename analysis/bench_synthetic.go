package analysis

import (
	"math"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

// BenchSynthetic is the time of the engines on the synthetic network
// (event.SyntheticNetwork) at one activity.
type BenchSynthetic struct {
	Activity     float64 `json:"activity"`
	Neurons      int     `json:"neurons"`
	SpikesPerImg float64 `json:"spikes_per_image"`
	EventMs      float64 `json:"event_cpu_ms_per_image"`
	// The dense engine's times are null when they could not be measured
	// (set-up noise larger than the work of the timed inputs).
	DenseMs *float64 `json:"dense_cpu_ms_per_image"`
	Speedup *float64 `json:"speedup"`
	// The dense engine skipping silent inputs (dense-skip): the same
	// numbers, at a cost that follows the spikes.
	DenseSkipMs  *float64 `json:"dense_skip_cpu_ms_per_image"`
	SpeedupSkip  *float64 `json:"speedup_over_dense_skip"`
	EventNsSpike float64  `json:"event_ns_per_spike"`
}

// benchSynthetic times the engines on the synthetic network at one
// activity, on one core, per input and without setup (weight layout,
// buffers): the event engine image by image through a Simulator (after a
// warm-up input); the dense engine, which has no per-image API, as the CPU
// time of a run on 1+n inputs minus that of a run on 1 input, divided by
// n (the smaller of two tries).
func benchSynthetic(a float64, o BenchOptions, env Env) (*BenchSynthetic, error) {
	cfg := event.SyntheticConfig{Neurons: o.Neurons, Activity: a, Seed: 1}
	net, err := event.SyntheticNetwork(cfg)
	if err != nil {
		return nil, BadInput(err)
	}
	n := o.SynImages
	x, err := event.SyntheticImages(cfg, n+1)
	if err != nil {
		return nil, BadInput(err)
	}
	size := net.Input.Size()
	s := &BenchSynthetic{Activity: a, Neurons: o.Neurons}
	env.log().Info("synthetic network", "activity", a, "neurons", o.Neurons)
	opts := network.SimOptions{T: o.T, Workers: 1}

	sim, err := event.NewSimulator(net, opts)
	if err != nil {
		return nil, BadInput(err)
	}
	res := sim.NewImageResult()
	var spikes int64
	_, cpu, err := oneCore(func() error {
		for i := 0; i <= n; i++ {
			if i == 1 {
				spikes = 0
			}
			if err := sim.RunImage(x[i*size:(i+1)*size], i, res); err != nil {
				return err
			}
			for _, sp := range res.Spikes {
				spikes += sp
			}
		}
		return nil
	})
	if err != nil {
		return nil, BadInput(err)
	}
	// The warm-up input is in cpu too; the n timed inputs dominate.
	s.EventMs = 1e3 * cpu.Seconds() / float64(n+1)
	s.SpikesPerImg = float64(spikes) / float64(n)

	denseMs := func(engine network.Engine) (float64, error) {
		best := math.Inf(1)
		for try := 0; try < 2; try++ {
			_, c1, err := oneCore(func() error {
				_, err := engine.Run(net, x[:size], nil, opts)
				return err
			})
			if err != nil {
				return 0, BadInput(err)
			}
			_, cn, err := oneCore(func() error {
				_, err := engine.Run(net, x, nil, opts)
				return err
			})
			if err != nil {
				return 0, BadInput(err)
			}
			best = math.Min(best, (cn-c1).Seconds()/float64(n))
		}
		if best <= 0 {
			// The run on 1+n inputs took no longer than the run on 1: the
			// set-up's noise hides the n inputs' work.
			env.log().Warn("time per input not measurable: set-up noise exceeds the work; raise --syn-images", "engine", engine.Name(), "activity", a)
			return math.NaN(), nil
		}
		return 1e3 * best, nil
	}
	for _, d := range []struct {
		engine      network.Engine
		ms, speedup **float64
	}{{dense.Engine{}, &s.DenseMs, &s.Speedup}, {dense.Engine{SkipSilent: true}, &s.DenseSkipMs, &s.SpeedupSkip}} {
		ms, err := denseMs(d.engine)
		if err != nil {
			return nil, err
		}
		if math.IsNaN(ms) {
			continue
		}
		*d.ms = &ms
		if s.EventMs > 0 {
			r := ms / s.EventMs
			*d.speedup = &r
		}
	}
	if s.SpikesPerImg > 0 {
		s.EventNsSpike = 1e6 * s.EventMs / s.SpikesPerImg
	}
	return s, nil
}
