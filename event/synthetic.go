package event

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// SyntheticConfig describes a synthetic fully connected SNN whose firing
// activity is set by construction, for measuring how simulation time grows
// with activity.
type SyntheticConfig struct {
	Inputs   int     // input size (default 1024)
	Neurons  int     // neurons per hidden layer (default 4096)
	Layers   int     // hidden spiking layers (default 3)
	Classes  int     // readout size (default 10)
	Activity float64 // target fraction of neurons firing per step, in (0, 1]
	Seed     uint64
	// Fanout, if > 0, makes every projection a network.SparseLinear in
	// which each source has Fanout random targets (distinct; all classes
	// at most for the readout) instead of a dense Linear: connectivity
	// that lets layers of 10⁷ neurons fit in memory.
	Fanout int
}

func (c *SyntheticConfig) defaults() error {
	if c.Inputs == 0 {
		c.Inputs = 1024
	}
	if c.Neurons == 0 {
		c.Neurons = 4096
	}
	if c.Layers == 0 {
		c.Layers = 3
	}
	if c.Classes == 0 {
		c.Classes = 10
	}
	if c.Inputs < 1 || c.Neurons < 1 || c.Layers < 1 || c.Classes < 1 || c.Fanout < 0 {
		return fmt.Errorf("synthetic network: sizes must be positive: %+v", *c)
	}
	if c.Neurons > 1<<28 || c.Inputs > 1<<28 || c.Fanout > c.Neurons {
		return fmt.Errorf("synthetic network: %d inputs, %d neurons, fan-out %d: at most 2²⁸ neurons, fan-out at most the layer size", c.Inputs, c.Neurons, c.Fanout)
	}
	if c.Fanout == 0 && int64(c.Inputs+c.Neurons)*int64(c.Neurons) > 1<<31 {
		return fmt.Errorf("synthetic network: dense layers of %d neurons do not fit: set Fanout", c.Neurons)
	}
	if !(c.Activity > 0 && c.Activity <= 1) {
		return fmt.Errorf("synthetic network: activity %v is not in (0, 1]", c.Activity)
	}
	return nil
}

// SyntheticNetwork builds Inputs → [Linear → IF]×Layers → Linear(Classes)
// with IF neurons, soft reset and θ = 1, whose activity is set by
// construction: in each hidden layer a random fraction p of the neurons is
// active, with bias r (they fire about every 1/r steps; v(0) is random in
// [0, 1) so they do not fire in lockstep; at least one), the others have bias −1 and
// never fire; p·r = Activity (r = 1/2, p = 2·Activity up to Activity =
// 1/2, then p = 1, r = Activity). The weights are zero-mean and uniform,
// scaled so that the synaptic input adds noise of about ±0.1 per step.
//
// With Fanout > 0 the projections are SparseLinear lists of Fanout random
// targets per source, with weights scaled for the same noise (an event
// adds at most ±0.5, so that it cannot wake a silent neuron), and the
// active neurons are drawn without a permutation of the whole layer.
func SyntheticNetwork(cfg SyntheticConfig) (*network.Network, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if cfg.Fanout > 0 {
		return sparseSynthetic(cfg)
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	a := cfg.Activity
	p, rate := 2*a, 0.5
	if a > 0.5 {
		p, rate = 1, a
	}
	net := &network.Network{Input: network.Shape{cfg.Inputs}}
	net.Meta.Source = fmt.Sprintf("synthetic %d-%dx%d-%d activity %g seed %d", cfg.Inputs, cfg.Neurons, cfg.Layers, cfg.Classes, a, cfg.Seed)
	uniform := func(n int, scale float64) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32((2*r.Float64() - 1) * scale)
		}
		return w
	}
	in := cfg.Inputs
	for l := 0; l < cfg.Layers; l++ {
		// Input x ~ U[0,1] (E[x²] = 1/3) into the first layer; about
		// a·in spikes of amplitude 1 a step into the others.
		scale := 0.3 / math.Sqrt(float64(in))
		if l > 0 {
			scale = 0.1 * math.Sqrt(3/(a*float64(in)))
		}
		bias := make([]float32, cfg.Neurons)
		v0 := make([]float32, cfg.Neurons)
		for i := range bias {
			bias[i] = -1
		}
		active := max(1, int(math.Round(p*float64(cfg.Neurons))))
		for _, i := range r.Perm(cfg.Neurons)[:active] {
			bias[i] = float32(rate)
			v0[i] = r.Float32()
		}
		net.Layers = append(net.Layers,
			&network.Linear{LayerName: fmt.Sprintf("fc%d", l+1), In: in, Out: cfg.Neurons, Weight: uniform(in*cfg.Neurons, scale), Bias: bias},
			&network.Spiking{LayerName: fmt.Sprintf("if%d", l+1), Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft, V0: v0})
		in = cfg.Neurons
	}
	net.Layers = append(net.Layers, &network.Linear{LayerName: "readout", In: in, Out: cfg.Classes,
		Weight: uniform(in*cfg.Classes, 1/math.Sqrt(float64(in))), Bias: make([]float32, cfg.Classes)})
	if err := net.Validate(); err != nil {
		return nil, err
	}
	return net, nil
}

// SyntheticImages returns n inputs for a synthetic network: a random
// fraction min(1, 2·Activity) of the values (at least one) is uniform in
// [0, 1), the rest 0, so that the input, too, is as sparse as the
// network's activity.
func SyntheticImages(cfg SyntheticConfig, n int) ([]float32, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x1a6e))
	x := make([]float32, n*cfg.Inputs)
	k := max(1, int(math.Round(min(1, 2*cfg.Activity)*float64(cfg.Inputs))))
	for i := 0; i < n; i++ {
		img := x[i*cfg.Inputs : (i+1)*cfg.Inputs]
		for _, j := range r.Perm(cfg.Inputs)[:k] {
			img[j] = r.Float32()
		}
	}
	return x, nil
}

// sparseSynthetic is SyntheticNetwork with SparseLinear projections.
func sparseSynthetic(cfg SyntheticConfig) (*network.Network, error) {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	a := cfg.Activity
	p, rate := 2*a, 0.5
	if a > 0.5 {
		p, rate = 1, a
	}
	net := &network.Network{Input: network.Shape{cfg.Inputs}}
	net.Meta.Source = fmt.Sprintf("synthetic %d-%dx%d-%d activity %g fan-out %d seed %d", cfg.Inputs, cfg.Neurons, cfg.Layers, cfg.Classes, a, cfg.Fanout, cfg.Seed)
	in := cfg.Inputs
	for l := 0; l < cfg.Layers; l++ {
		// Input x ~ U[0,1] on a fraction 2a of the inputs into the first
		// layer (E[x²] = 1/3); about a·in·Fanout/Neurons spikes of
		// amplitude 1 a step reach a neuron of the others.
		hits := 2 * a * float64(in) * float64(cfg.Fanout) / float64(cfg.Neurons) / 3
		if l > 0 {
			hits = a * float64(in) * float64(cfg.Fanout) / float64(cfg.Neurons)
		}
		scale := min(0.5, 0.1*math.Sqrt(3/math.Max(hits, 1e-12)))
		bias := make([]float32, cfg.Neurons)
		v0 := make([]float32, cfg.Neurons)
		for i := range bias {
			bias[i] = -1
		}
		active := max(1, int(math.Round(p*float64(cfg.Neurons))))
		for _, i := range distinct(r, cfg.Neurons, active) {
			bias[i] = float32(rate)
			v0[i] = r.Float32()
		}
		net.Layers = append(net.Layers,
			randomSparse(r, fmt.Sprintf("fc%d", l+1), in, cfg.Neurons, cfg.Fanout, scale, bias),
			&network.Spiking{LayerName: fmt.Sprintf("if%d", l+1), Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft, V0: v0})
		in = cfg.Neurons
	}
	net.Layers = append(net.Layers, randomSparse(r, "readout", in, cfg.Classes, min(cfg.Fanout, cfg.Classes), 1/math.Sqrt(float64(in)), make([]float32, cfg.Classes)))
	if err := net.Validate(); err != nil {
		return nil, err
	}
	return net, nil
}

// randomSparse is a SparseLinear in → out with fan distinct random targets
// per input and weights uniform in ±scale.
func randomSparse(r *rand.Rand, name string, in, out, fan int, scale float64, bias []float32) *network.SparseLinear {
	l := &network.SparseLinear{LayerName: name, In: in, Out: out, Ptr: make([]int32, in+1), Bias: bias,
		Targets: make([]int32, 0, in*fan), Weights: make([]float32, 0, in*fan)}
	for j := range in {
		start := len(l.Targets)
		for len(l.Targets) < start+fan {
			t := int32(r.IntN(out))
			if !slices.Contains(l.Targets[start:], t) {
				l.Targets = append(l.Targets, t)
			}
		}
		slices.Sort(l.Targets[start:])
		for range fan {
			l.Weights = append(l.Weights, float32((2*r.Float64()-1)*scale))
		}
		l.Ptr[j+1] = int32(len(l.Targets))
	}
	return l
}

// distinct draws k distinct integers in [0, n) (k ≤ n).
func distinct(r *rand.Rand, n, k int) []int {
	if 2*k > n {
		return r.Perm(n)[:k]
	}
	seen := make(map[int]bool, k)
	out := make([]int, 0, k)
	for len(out) < k {
		if i := r.IntN(n); !seen[i] {
			seen[i] = true
			out = append(out, i)
		}
	}
	return out
}
