package main

import (
	"fmt"
	"io"
	"time"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/analysis/report"
	"github.com/evsnn/evsnn/engines"
)

// energyFlags set the constants of the energy estimate.
type energyFlags struct {
	PJPerSOP float64 `name:"pj-sop" help:"Energy of one synaptic operation (accumulate), pJ." default:"0.9"`
	PJPerMAC float64 `name:"pj-mac" help:"Energy of one multiply-accumulate, pJ." default:"4.6"`
}

func (f energyFlags) energy() profile.Energy {
	e := profile.DefaultEnergy()
	if f.PJPerSOP != e.PJPerSOP || f.PJPerMAC != e.PJPerMAC {
		e = profile.Energy{PJPerSOP: f.PJPerSOP, PJPerMAC: f.PJPerMAC, Source: "given on the command line"}
	}
	return e
}

// analyzeFlags are the flags of the profiling commands.
type analyzeFlags struct {
	Engine string `help:"Simulation engine: event, dense (every product in full) or dense-skip (skipping silent inputs)." default:"event" enum:"event,dense,dense-skip"`
	simFlags
	ErrorImages int `help:"Images the conversion error against the ANN is measured on (the first N; 0: none)." default:"1000"`
	energyFlags
}

// analyze loads the model and data of req and runs the analysis.
func (g *Globals) analyze(req analysis.Request, f analyzeFlags, compare bool) (*analysis.Analysis, error) {
	engine, err := engines.ByName(f.Engine)
	if err != nil {
		return nil, analysis.BadInput(err)
	}
	if err := f.energy().Check(); err != nil {
		return nil, analysis.BadInput(err)
	}
	in, err := analysis.Prepare(req, g.Env)
	if err != nil {
		return nil, err
	}
	return in.Analyze(analysis.AnalyzeOptions{Engine: engine, ErrorImages: f.ErrorImages, Energy: f.energy(), Compare: compare}, g.Env)
}

// ProfileCmd profiles an SNN run per layer (SPEC §6).
type ProfileCmd struct {
	Model string `arg:"" optional:"" help:"SNN or ANN model file; default: the built-in model." type:"path"`
	analyzeFlags
	JSON  bool   `help:"Print the profile as JSON instead of tables."`
	CSV   string `help:"Also write layers.csv, spikes_by_step.csv and accuracy_by_step.csv into DIR." placeholder:"DIR" type:"path"`
	Plots string `help:"Also write the figures (PNG and SVG) into DIR." placeholder:"DIR" type:"path"`
	shardFlags
}

// Run implements the command.
func (c *ProfileCmd) Run(g *Globals) error {
	req, err := g.shardRequest(c.Model, c.simFlags, c.shardFlags, c.JSON)
	if err != nil {
		return err
	}
	if !req.Shard.IsZero() && (c.CSV != "" || c.Plots != "") {
		return badInputf("--shard %s: a shard has no profile of its own for --csv or --plots; merge the parts first", req.Shard)
	}
	a, err := g.analyze(req, c.analyzeFlags, false)
	if err != nil {
		return err
	}
	if c.CSV != "" {
		if err := profile.WriteCSV(c.CSV, a.Profile); err != nil {
			return err
		}
		g.Log.Info().Str("dir", c.CSV).Msg("CSV written")
	}
	if c.Plots != "" {
		if err := report.WriteFigures(c.Plots, a, 0, 0); err != nil {
			return err
		}
		if err := report.WriteExitFigures(c.Plots, analysis.NewSimulation(a.Result, a.Opts, a.SNN), 0); err != nil {
			return err
		}
		g.Log.Info().Str("dir", c.Plots).Msg("figures written")
	}
	return g.emit(c.shardFlags, c.JSON, a.Inputs, a.Part, a.Profile, func(w io.Writer) error {
		if err := profile.PrintTable(w, a.Profile); err != nil {
			return err
		}
		if a.Opts.Exit == nil {
			return nil
		}
		fmt.Fprintf(w, "early exit %s:\n", a.Opts.Exit)
		return analysis.NewStepStats(a.Result.Steps, a.Result.T).WriteText(w)
	})
}

// ReportCmd writes the HTML report of a profiled run.
type ReportCmd struct {
	Model string `arg:"" optional:"" help:"SNN or ANN model file; default: the built-in model." type:"path"`
	analyzeFlags
	Compare bool   `help:"Also run the other engine on the same images and compare." default:"true" negatable:""`
	Output  string `short:"o" help:"Directory for report.html, the figures, CSV and JSON." default:"evsnn-report" type:"path"`
	// With --early-exit the report also compares with the full run and
	// sweeps the margin rule (steps histogram, accuracy/time front).
	ExitSweep    bool `name:"exit-sweep" help:"Add the early-exit sweep (accuracy against mean steps, Pareto front) even without --early-exit (with it, always)."`
	ExitMinSteps int  `name:"exit-min-steps" help:"S of the swept margin rules margin:M@S." default:"1"`
	// FromRecording makes the report from a spike recording instead of a
	// new run (MODEL, if given, overrides the model its provenance names).
	FromRecording string `name:"from-recording" help:"Make the report from a spike recording (simulate --record FILE) instead of running: MODEL, if given, is the model it was recorded from (default: the one its provenance names)." type:"existingfile" placeholder:"FILE"`
}

// Run implements the command.
func (c *ReportCmd) Run(g *Globals) error {
	if c.FromRecording != "" {
		return c.fromRecording(g)
	}
	if c.ExitMinSteps < 1 {
		return badInputf("--exit-min-steps %d: must be ≥ 1", c.ExitMinSteps)
	}
	engine, err := engines.ByName(c.Engine)
	if err != nil {
		return analysis.BadInput(err)
	}
	req := g.request(c.Model, c.simFlags)
	req.Engine = engine
	a, err := g.analyze(req, c.analyzeFlags, c.Compare)
	if err != nil {
		return err
	}
	info := report.RunInfo{Generated: time.Now().UTC()}
	if hasExit := a.Opts.Exit != nil; hasExit || c.ExitSweep {
		o := analysis.SimulateOptions{VsFull: hasExit, Sweep: true, MinSteps: c.ExitMinSteps}
		if info.Exit, err = a.Inputs.SimulateWith(engine, o, g.Env); err != nil {
			return err
		}
	}
	path, err := report.WriteRun(c.Output, a, info)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Out, "report written to %s\n", path)
	return nil
}

// fromRecording writes the report of a spike recording.
func (c *ReportCmd) fromRecording(g *Globals) error {
	if err := c.energy().Check(); err != nil {
		return analysis.BadInput(err)
	}
	run, err := analysis.LoadRecordedRun(c.FromRecording, c.Model, g.Data, c.energy(), g.Env)
	if err != nil {
		return err
	}
	path, err := report.WriteRecorded(c.Output, c.FromRecording, run, report.RunInfo{Generated: time.Now().UTC()})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Out, "report written to %s\n", path)
	return nil
}
