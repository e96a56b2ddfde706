package main

import (
	"os"
	"strings"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/network"
)

// simFlags are the flags every simulating command shares.
type simFlags struct {
	T         int    `name:"T" help:"Time steps." default:"32"`
	Images    int    `help:"Test images to simulate, the first ones (0: all)." default:"0"`
	Encoding  string `help:"Input encoding: direct (the analog image every step) or poisson." default:"direct" enum:"direct,poisson"`
	Seed      uint64 `help:"Seed of the Poisson input." default:"1"`
	EarlyExit string `name:"early-exit" help:"Stop an image early: none; exact (only when no later step can change its prediction: the full run's predictions); margin:M[@S] (SEENN: once (top1−top2)/t ≥ M, from step S); loss:X[@S] (the margin whose accuracy loss on the first 1,024 training images is ≤ X points)." default:"none" placeholder:"RULE"`
}

// request is what a simulating command asks the library for.
func (g *Globals) request(model string, f simFlags) analysis.Request {
	return analysis.Request{Model: model, Data: g.Data, Images: f.Images, Exit: f.exit(),
		Opts: network.SimOptions{T: f.T, Encoding: network.Encoding(f.Encoding), Seed: f.Seed, Workers: g.Workers}}
}

// exit is the --early-exit rule ("" for none).
func (f simFlags) exit() string {
	if s := strings.TrimSpace(f.EarlyExit); s != "none" {
		return s
	}
	return ""
}

// exitFlags are what simulate (and report) do besides an exit run.
type exitFlags struct {
	VsFull       bool   `name:"vs-full" help:"With --early-exit, also run the full T steps on the same images and compare: accuracy, steps, SOPs saved, changed predictions."`
	ExitSweep    bool   `name:"exit-sweep" help:"Sweep the margin rule margin:M@S over M on one traced full run: accuracy against mean steps, with the exact rule and the Pareto front."`
	ExitMinSteps int    `name:"exit-min-steps" help:"S of the swept margin rules margin:M@S." default:"1"`
	ExitMargins  string `name:"exit-margins" help:"Margins M of the sweep, comma-separated (default: 32 picked to spread along the accuracy-vs-steps curve from S to T steps)." placeholder:"M1,M2,..."`
}

// options are the library's options for these flags.
func (f exitFlags) options() (analysis.SimulateOptions, error) {
	o := analysis.SimulateOptions{VsFull: f.VsFull, Sweep: f.ExitSweep, MinSteps: f.ExitMinSteps}
	if f.ExitMinSteps < 1 {
		return o, badInputf("--exit-min-steps %d: must be ≥ 1", f.ExitMinSteps)
	}
	var err error
	if o.Margins, err = floats("--exit-margins", f.ExitMargins); err != nil {
		return o, err
	}
	if o.Margins != nil && !o.Sweep {
		return o, badInputf("--exit-margins: only with --exit-sweep")
	}
	return o, nil
}

// SimulateCmd runs an SNN on test images.
type SimulateCmd struct {
	Model  string `arg:"" optional:"" help:"SNN or ANN model file (.evsnn, .onnx, .nir; an ANN is converted with the defaults); default: the built-in model." type:"path"`
	Engine string `help:"Simulation engine: event; dense (clock-driven: every product in full); dense-skip (dense, skipping silent inputs: same numbers, cost follows the spikes)." default:"event" enum:"event,dense,dense-skip"`
	simFlags
	exitFlags
	JSON   bool   `help:"Print one JSON object instead of a table."`
	CSV    string `help:"Also write steps.csv (images per steps run, with --early-exit) and exit_sweep.csv (with --exit-sweep) into DIR." placeholder:"DIR" type:"path"`
	Record string `help:"Record every spike of the run (of the steps run, with --early-exit) to FILE (format/spikes; 'evsnn spikes' reads it)." placeholder:"FILE" type:"path"`
	shardFlags
}

// Run implements the command.
func (c *SimulateCmd) Run(g *Globals) error {
	engine, err := engines.ByName(c.Engine)
	if err != nil {
		return analysis.BadInput(err)
	}
	o, err := c.exitFlags.options()
	if err != nil {
		return err
	}
	if c.VsFull && c.exit() == "" {
		return badInputf("--vs-full: compares an early-exit run with the full run: give --early-exit")
	}
	o.Record = c.Record
	o.Provenance = map[string]string{"command": "evsnn " + strings.Join(os.Args[1:], " ")}
	req, err := g.shardRequest(c.Model, c.simFlags, c.shardFlags, c.JSON)
	if err != nil {
		return err
	}
	if !req.Shard.IsZero() && (c.VsFull || c.ExitSweep || c.CSV != "") {
		return badInputf("--shard %s: --vs-full, --exit-sweep and --csv need every image of the run: run them without --shard", req.Shard)
	}
	req.Engine = engine
	in, err := analysis.Prepare(req, g.Env)
	if err != nil {
		return err
	}
	sim, err := in.SimulateWith(engine, o, g.Env)
	if err != nil {
		return err
	}
	if c.CSV != "" {
		if err := sim.WriteExitCSV(c.CSV); err != nil {
			return err
		}
		g.Log.Info().Str("dir", c.CSV).Msg("CSV written")
	}
	return g.emit(c.shardFlags, c.JSON, in, func() (*analysis.Part, error) { return in.SimulationPart(sim) }, sim, sim.WriteText)
}
