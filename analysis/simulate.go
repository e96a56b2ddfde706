package analysis

import (
	"bytes"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/network"
)

// Simulate runs engine over the images of set, reporting progress, and
// logs the accuracy. The engine's errors are bad input (a network or
// options it does not take).
func Simulate(engine network.Engine, net *network.Network, set *dataset.Set, opts network.SimOptions, env Env) (*network.SimResult, error) {
	tr := env.track(fmt.Sprintf("%s T=%d", engine.Name(), opts.T), set.N)
	opts.Progress = tr.Update
	start := time.Now()
	res, err := engine.Run(net, set.Images, set.Labels, opts)
	tr.Done()
	if err != nil {
		return nil, BadInput(err)
	}
	args := []any{"engine", engine.Name(), "images", set.N, "T", opts.T}
	if acc := res.AccuracyByStep(); len(acc) > 0 {
		args = append(args, "accuracy", acc[len(acc)-1])
	}
	env.log().Info("simulated", append(args, "wall", time.Since(start).Round(time.Millisecond))...)
	return res, nil
}

// Simulation is one simulation run as `evsnn simulate --json` prints it
// (SPEC §7): its field names are stable.
type Simulation struct {
	Engine   string `json:"engine"`
	T        int    `json:"T"`
	Images   int    `json:"images"`
	Encoding string `json:"encoding"`
	Seed     uint64 `json:"seed,omitempty"`
	// Poisson input: the input spikes of all images and their SOPs.
	InputSpikes    int64             `json:"input_spikes,omitempty"`
	InputSOPs      int64             `json:"input_sops,omitempty"`
	Accuracy       float64           `json:"accuracy"`
	AccuracyByStep []float64         `json:"accuracy_by_step"`
	Layers         []SimLayer        `json:"layers"`
	WallSeconds    float64           `json:"wall_seconds"`
	Model          *network.Metadata `json:"model,omitempty"`

	// Result is the engine's result the fields above are taken from.
	Result *network.SimResult `json:"-"`
}

// SimLayer is one spiking layer of a Simulation.
type SimLayer struct {
	Name         string  `json:"name"`
	Neurons      int     `json:"neurons"`
	Spikes       int64   `json:"spikes"`
	SOPs         int64   `json:"sops"`
	FiringRate   float64 `json:"firing_rate"`
	SpikesByStep []int64 `json:"spikes_by_step"`
}

// Simulate runs engine on the inputs.
func (in *Inputs) Simulate(engine network.Engine, env Env) (*Simulation, error) {
	res, err := Simulate(engine, in.SNN, in.Set, in.Opts, env)
	if err != nil {
		return nil, err
	}
	return NewSimulation(res, in.Opts, in.SNN), nil
}

// NewSimulation describes a run of net with opts.
func NewSimulation(res *network.SimResult, opts network.SimOptions, net *network.Network) *Simulation {
	return newSimulation(res, opts, &net.Meta)
}

// newSimulation describes a run with opts of a network with metadata meta.
func newSimulation(res *network.SimResult, opts network.SimOptions, meta *network.Metadata) *Simulation {
	acc := res.AccuracyByStep()
	out := &Simulation{
		Engine: res.Engine, T: res.T, Images: res.Images, Encoding: string(opts.Encoding),
		AccuracyByStep: acc, WallSeconds: res.Wall.Seconds(), Model: meta, Result: res,
	}
	if out.Encoding == "" {
		out.Encoding = string(network.EncodingDirect)
	}
	if len(acc) > 0 {
		out.Accuracy = acc[len(acc)-1]
	}
	if opts.Encoding == network.EncodingPoisson {
		out.Seed = opts.Seed
		out.InputSpikes, out.InputSOPs = res.InputSpikes, res.InputSOPs
	}
	for _, l := range res.Layers {
		rate := float64(l.Spikes) / (float64(l.Neurons) * float64(res.T) * float64(res.Images))
		out.Layers = append(out.Layers, SimLayer{Name: l.Name, Neurons: l.Neurons, Spikes: l.Spikes, SOPs: l.SOPs, FiringRate: rate, SpikesByStep: l.SpikesByStep})
	}
	return out
}

// WriteText prints the simulation as tables: accuracy, spikes and SOPs
// per layer, accuracy after 1, 2, 4, … T steps.
func (s *Simulation) WriteText(w io.Writer) error {
	ew := &bytes.Buffer{}
	fmt.Fprintf(ew, "%s engine, T=%d, %d images, %s input: accuracy %.2f %% (%.2f s)\n",
		s.Engine, s.T, s.Images, s.Encoding, 100*s.Accuracy, s.WallSeconds)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tneurons\tspikes\tspikes/image\tfiring rate\tSOPs\tSOPs/image\t")
	for _, l := range s.Layers {
		n := float64(s.Images)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f %%\t%d\t%.0f\t\n", l.Name, l.Neurons, l.Spikes, float64(l.Spikes)/n, 100*l.FiringRate, l.SOPs, float64(l.SOPs)/n)
	}
	tw.Flush()
	if len(s.AccuracyByStep) == s.T {
		fmt.Fprintln(ew, "accuracy after t steps:")
		tw = tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
		for _, t := range reportSteps(s.T) {
			fmt.Fprintf(tw, "t=%d\t%.2f %%\t\n", t, 100*s.AccuracyByStep[t-1])
		}
		tw.Flush()
	}
	return flush(w, ew)
}

// reportSteps are the steps a table shows: powers of two up to T, and T.
func reportSteps(T int) []int {
	var steps []int
	for t := 1; t < T; t *= 2 {
		steps = append(steps, t)
	}
	return append(steps, T)
}

// flush writes what a text writer gathered in b to w.
func flush(w io.Writer, b *bytes.Buffer) error {
	_, err := w.Write(b.Bytes())
	return err
}
