package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

// simFlags are the flags every simulating command shares.
type simFlags struct {
	T        int    `name:"T" help:"Time steps." default:"32"`
	Images   int    `help:"MNIST test images to simulate (0: all 10,000)." default:"0"`
	Encoding string `help:"Input encoding: direct (the analog image every step) or poisson." default:"direct" enum:"direct,poisson"`
	Seed     uint64 `help:"Seed of the Poisson input." default:"1"`
}

func (f *simFlags) options(g *Globals) (network.SimOptions, error) {
	opts := network.SimOptions{T: f.T, Encoding: network.Encoding(f.Encoding), Seed: f.Seed, Workers: g.Workers}
	if err := opts.Check(); err != nil {
		return opts, badInput(err)
	}
	if f.Images < 0 {
		return opts, badInputf("--images %d: must be ≥ 0", f.Images)
	}
	return opts, nil
}

// engineByName returns the simulation engine called name.
func engineByName(name string) (network.Engine, error) {
	if e := engineFor(name); e != nil {
		return e, nil
	}
	return nil, badInputf("--engine %q: want event, dense or dense-skip", name)
}

// engineFor returns the engine called name, or nil.
func engineFor(name string) network.Engine {
	switch name {
	case "event":
		return event.Engine{}
	case "dense":
		return dense.Engine{}
	case "dense-skip":
		return dense.Engine{SkipSilent: true}
	}
	return nil
}

// SimulateCmd runs an SNN on MNIST test images.
type SimulateCmd struct {
	Model  string `arg:"" optional:"" help:"SNN or ANN model file (.evsnn or .onnx; an ANN is converted with the defaults); default: the built-in model." type:"path"`
	Engine string `help:"Simulation engine: event; dense (clock-driven: every product in full); dense-skip (dense, skipping silent inputs: same numbers, cost follows the spikes)." default:"event" enum:"event,dense,dense-skip"`
	simFlags
	JSON bool `help:"Print one JSON object instead of a table."`
}

// simulateJSON is the stable output of simulate --json (SPEC §7).
type simulateJSON struct {
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
	Layers         []simLayerJSON    `json:"layers"`
	WallSeconds    float64           `json:"wall_seconds"`
	Model          *network.Metadata `json:"model,omitempty"`
}

type simLayerJSON struct {
	Name         string  `json:"name"`
	Neurons      int     `json:"neurons"`
	Spikes       int64   `json:"spikes"`
	SOPs         int64   `json:"sops"`
	FiringRate   float64 `json:"firing_rate"`
	SpikesByStep []int64 `json:"spikes_by_step"`
}

// Run implements the command.
func (c *SimulateCmd) Run(g *Globals) error {
	engine, err := engineByName(c.Engine)
	if err != nil {
		return err
	}
	in, err := g.loadRun(c.Model, c.simFlags)
	if err != nil {
		return err
	}
	res, err := g.simulate(engine, in.SNN, in.Set, in.Opts)
	if err != nil {
		return err
	}
	out := toSimulateJSON(res, in.Opts, in.SNN)
	if c.JSON {
		return writeJSON(g.Out, out)
	}
	printSimulate(g.Out, out)
	return nil
}

// runInputs is what a simulating command works on.
type runInputs struct {
	ANN  *network.Network // the model as loaded (an ANN, or an SNN file)
	SNN  *network.Network // the model, converted with the defaults if it was an ANN
	Set  *mnist.Set       // the test images asked for
	Opts network.SimOptions
}

// loadRun checks the simulation flags, loads MODEL (converting an ANN with
// the defaults), warns if it was fitted for another T, and loads the test
// images.
func (g *Globals) loadRun(model string, sf simFlags) (*runInputs, error) {
	opts, err := sf.options(g)
	if err != nil {
		return nil, err
	}
	ann, err := g.LoadModel(model)
	if err != nil {
		return nil, err
	}
	snn, err := g.EnsureSNN(ann)
	if err != nil {
		return nil, err
	}
	g.warnFittedT(snn, opts.T)
	set, err := g.TestSet(sf.Images)
	if err != nil {
		return nil, err
	}
	return &runInputs{ANN: ann, SNN: snn, Set: set, Opts: opts}, nil
}

// LoadSNN loads MODEL and converts it with the defaults if it is an ANN.
func (g *Globals) LoadSNN(path string) (*network.Network, error) {
	net, err := g.LoadModel(path)
	if err != nil {
		return nil, err
	}
	return g.EnsureSNN(net)
}

// simulate runs engine over the set with a progress report.
func (g *Globals) simulate(engine network.Engine, net *network.Network, set *mnist.Set, opts network.SimOptions) (*network.SimResult, error) {
	p := g.Progress(engine.Name()+" T="+fmt.Sprint(opts.T), set.N)
	opts.Progress = p.Update
	start := time.Now()
	res, err := engine.Run(net, set.Images, set.Labels, opts)
	p.Done()
	if err != nil {
		return nil, badInput(err)
	}
	acc := res.AccuracyByStep()
	g.Log.Info().Str("engine", engine.Name()).Int("images", set.N).Int("T", opts.T).
		Float64("accuracy", acc[len(acc)-1]).Dur("wall", time.Since(start).Round(time.Millisecond)).Msg("simulated")
	return res, nil
}

func toSimulateJSON(res *network.SimResult, opts network.SimOptions, net *network.Network) *simulateJSON {
	acc := res.AccuracyByStep()
	out := &simulateJSON{
		Engine: res.Engine, T: res.T, Images: res.Images, Encoding: string(opts.Encoding),
		Accuracy: acc[len(acc)-1], AccuracyByStep: acc, WallSeconds: res.Wall.Seconds(), Model: &net.Meta,
	}
	if opts.Encoding == network.EncodingPoisson {
		out.Seed = opts.Seed
		out.InputSpikes, out.InputSOPs = res.InputSpikes, res.InputSOPs
	}
	for _, l := range res.Layers {
		rate := float64(l.Spikes) / (float64(l.Neurons) * float64(res.T) * float64(res.Images))
		out.Layers = append(out.Layers, simLayerJSON{Name: l.Name, Neurons: l.Neurons, Spikes: l.Spikes, SOPs: l.SOPs, FiringRate: rate, SpikesByStep: l.SpikesByStep})
	}
	return out
}

func printSimulate(w io.Writer, s *simulateJSON) {
	fmt.Fprintf(w, "%s engine, T=%d, %d images, %s input: accuracy %.2f %% (%.2f s)\n",
		s.Engine, s.T, s.Images, s.Encoding, 100*s.Accuracy, s.WallSeconds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tneurons\tspikes\tspikes/image\tfiring rate\tSOPs\tSOPs/image\t")
	for _, l := range s.Layers {
		n := float64(s.Images)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.2f %%\t%d\t%.0f\t\n", l.Name, l.Neurons, l.Spikes, float64(l.Spikes)/n, 100*l.FiringRate, l.SOPs, float64(l.SOPs)/n)
	}
	tw.Flush()
	fmt.Fprintln(w, "accuracy after t steps:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, t := range reportSteps(s.T) {
		fmt.Fprintf(tw, "t=%d\t%.2f %%\t\n", t, 100*s.AccuracyByStep[t-1])
	}
	tw.Flush()
}

// reportSteps are the steps a table shows: powers of two up to T, and T.
func reportSteps(T int) []int {
	var steps []int
	for t := 1; t < T; t *= 2 {
		steps = append(steps, t)
	}
	return append(steps, T)
}

// isDense tells whether an engine name is one of the dense engine's
// ("dense", "dense-skip").
func isDense(name string) bool { return strings.HasPrefix(name, "dense") }
