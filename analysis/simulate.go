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
	// Exit is the early-exit rule the run used (omitted: none), and
	// ExitCalibration how a loss:X target picked it.
	Exit            string           `json:"exit,omitempty"`
	ExitCalibration *ExitCalibration `json:"exit_calibration,omitempty"`
	// Steps are the steps per image of a run with an exit rule.
	Steps *StepStats `json:"steps,omitempty"`
	// VsFull compares a run with an exit rule with the full run of the
	// same images (SimulateOptions.VsFull).
	VsFull *ExitVsFull `json:"vs_full,omitempty"`
	// Sweep is the margin rule swept over M on the full run
	// (SimulateOptions.Sweep).
	Sweep *ExitSweep `json:"exit_sweep,omitempty"`
	// Recording is where the run's spikes were recorded
	// (SimulateOptions.Record). A merged run has none: each shard records
	// its own images.
	Recording *Recording `json:"recording,omitempty"`

	// Result is the engine's result the fields above are taken from, and
	// Full the full run VsFull and Sweep come from (nil without them),
	// with each image's settled step.
	Result  *network.SimResult `json:"-"`
	Full    *network.SimResult `json:"-"`
	Settled []int              `json:"-"`
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

// Simulate runs engine on the inputs (with their exit rule, if any).
func (in *Inputs) Simulate(engine network.Engine, env Env) (*Simulation, error) {
	return in.SimulateWith(engine, SimulateOptions{}, env)
}

// SimulateOptions are what a simulation does besides the run itself.
type SimulateOptions struct {
	// VsFull, with an exit rule, also runs the full T steps on the same
	// images (traced: ExitTrace) and compares (Simulation.VsFull).
	VsFull bool
	// Sweep traces the full run and sweeps the margin rule margin:M@S
	// over M (Margins; nil: picked from the curve) with S = MinSteps
	// (Simulation.Sweep). Not on a shard: the sweep needs every image's
	// margins.
	Sweep    bool
	MinSteps int
	Margins  []float64
	// Record, if set, records every spike of the run (the exit run, with
	// an exit rule) to this file (format/spikes), atomically; Provenance
	// goes into its header besides what the run knows (the command line,
	// say).
	Record     string
	Provenance map[string]string
}

// SimulateWith runs engine on the inputs with their exit rule
// (Inputs.Exit) and does what o asks besides.
func (in *Inputs) SimulateWith(engine network.Engine, o SimulateOptions, env Env) (*Simulation, error) {
	if o.Sweep && in.Sharded() {
		return nil, BadInput(fmt.Errorf("--exit-sweep needs the margins of every image: run it without --shard"))
	}
	hasExit := in.Opts.Exit != nil
	var tr *ExitTrace
	if o.Sweep || (o.VsFull && hasExit) {
		full := in.Opts
		full.Exit = nil
		var rec *recorder
		if !hasExit && o.Record != "" {
			var err error
			if rec, full, err = in.record(o, engine.Name(), full); err != nil {
				return nil, err
			}
		}
		var err error
		tr, err = TraceExits(engine, in.SNN, in.Set, full, env)
		if err != nil {
			if rec != nil {
				rec.abort()
			}
			return nil, err
		}
		if !hasExit {
			sim := NewSimulation(tr.Result, in.Opts, in.SNN)
			if err := in.finishSim(sim, tr, o, rec); err != nil {
				return nil, err
			}
			return sim, nil
		}
	}
	opts := in.Opts
	var rec *recorder
	if o.Record != "" {
		var err error
		if rec, opts, err = in.record(o, engine.Name(), opts); err != nil {
			return nil, err
		}
	}
	res, err := Simulate(engine, in.SNN, in.Set, opts, env)
	if err != nil {
		if rec != nil {
			rec.abort()
		}
		return nil, err
	}
	sim := NewSimulation(res, in.Opts, in.SNN)
	if err := in.finishSim(sim, tr, o, rec); err != nil {
		return nil, err
	}
	return sim, nil
}

// record starts recording the run with opts and returns the options that
// feed the recorder.
func (in *Inputs) record(o SimulateOptions, engine string, opts network.SimOptions) (*recorder, network.SimOptions, error) {
	rec, err := in.newRecorder(o.Record, engine, opts, o.Provenance)
	if err != nil {
		return nil, opts, err
	}
	opts.RecordSpikes = true
	prev := opts.OnImage
	opts.OnImage = func(i int, r *network.ImageRecord) error {
		if prev != nil {
			if err := prev(i, r); err != nil {
				return err
			}
		}
		return rec.onImage(i, r)
	}
	return rec, opts, nil
}

// finishSim adds the exit figures, the sweep and the recording to sim.
func (in *Inputs) finishSim(sim *Simulation, tr *ExitTrace, o SimulateOptions, rec *recorder) error {
	if in.Exit != nil {
		sim.ExitCalibration = in.Exit.Calibration
	}
	if tr != nil && in.Opts.Exit != nil {
		sim.Full, sim.Settled = tr.Result, tr.settled
		vs, err := CompareExit(sim.Exit, sim.Result, tr.Result, tr.settled, in.Shard.First)
		if err != nil {
			return err
		}
		sim.VsFull = vs
	}
	if tr != nil && o.Sweep {
		sw, err := tr.Sweep(o.MinSteps, o.Margins)
		if err != nil {
			return err
		}
		sim.Sweep = sw
	}
	if rec != nil {
		r, err := rec.close(sim.Result)
		if err != nil {
			return err
		}
		sim.Recording = r
	}
	return nil
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
	if opts.Exit != nil {
		out.setExit(opts.Exit.String())
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
	if s.Steps != nil {
		fmt.Fprintf(ew, "early exit %s", s.Exit)
		if c := s.ExitCalibration; c != nil {
			fmt.Fprintf(ew, " (picked for %s on %d calibration images: %.2f %% there, full run %.2f %%, %.2f mean steps)", c.Target, c.Images, 100*c.Accuracy, 100*c.FullAccuracy, c.MeanSteps)
		}
		fmt.Fprintln(ew)
		s.Steps.WriteText(ew)
	}
	if s.VsFull != nil {
		s.VsFull.WriteText(ew)
	}
	if s.Sweep != nil {
		s.Sweep.WriteText(ew)
	}
	if r := s.Recording; r != nil {
		fmt.Fprintf(ew, "spikes recorded to %s: %d bytes, %.3f bytes per spike\n", r.Path, r.Bytes, r.BytesPerSpike)
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

// setExit records that the run used the early-exit rule named exit ("":
// none) and summarises its steps per image.
func (s *Simulation) setExit(exit string) {
	if exit == "" || s.Result == nil {
		return
	}
	s.Exit = exit
	s.Steps = NewStepStats(s.Result.Steps, s.Result.T)
}
