package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/evsnn/evsnn/analysis/profile"
)

// energyFlags set the constants of the energy estimate.
type energyFlags struct {
	PJPerSOP float64 `name:"pj-sop" help:"Energy of one synaptic operation (accumulate), pJ." default:"0.9"`
	PJPerMAC float64 `name:"pj-mac" help:"Energy of one multiply-accumulate, pJ." default:"4.6"`
}

func (f energyFlags) energy() (profile.Energy, error) {
	e := profile.DefaultEnergy()
	if f.PJPerSOP != e.PJPerSOP || f.PJPerMAC != e.PJPerMAC {
		e = profile.Energy{PJPerSOP: f.PJPerSOP, PJPerMAC: f.PJPerMAC, Source: "given on the command line"}
	}
	if err := e.Check(); err != nil {
		return e, badInput(err)
	}
	return e, nil
}

// ProfileCmd profiles an SNN run per layer (SPEC §6).
type ProfileCmd struct {
	Model  string `arg:"" optional:"" help:"SNN or ANN model file; default: the built-in model." type:"path"`
	Engine string `help:"Simulation engine: event, dense (every product in full) or dense-skip (skipping silent inputs)." default:"event" enum:"event,dense,dense-skip"`
	simFlags
	ErrorImages int    `help:"Images the conversion error against the ANN is measured on (the first N; 0: none)." default:"1000"`
	JSON        bool   `help:"Print the profile as JSON instead of tables."`
	CSV         string `help:"Also write layers.csv, spikes_by_step.csv and accuracy_by_step.csv into DIR." placeholder:"DIR" type:"path"`
	Plots       string `help:"Also write the figures (PNG and SVG) into DIR." placeholder:"DIR" type:"path"`
	energyFlags
}

// Run implements the command.
func (c *ProfileCmd) Run(g *Globals) error {
	a, err := g.newAnalysis(c.Model, c.Engine, c.simFlags, c.ErrorImages, c.energyFlags)
	if err != nil {
		return err
	}
	if err := a.run(g); err != nil {
		return err
	}
	if c.CSV != "" {
		if err := profile.WriteCSV(c.CSV, a.Profile); err != nil {
			return err
		}
		g.Log.Info().Str("dir", c.CSV).Msg("CSV written")
	}
	if c.Plots != "" {
		if err := c.writePlots(a); err != nil {
			return err
		}
		g.Log.Info().Str("dir", c.Plots).Msg("figures written")
	}
	if c.JSON {
		return profile.WriteJSON(g.Out, a.Profile)
	}
	return profile.PrintTable(g.Out, a.Profile)
}

func (c *ProfileCmd) writePlots(a *analysis) error {
	if err := os.MkdirAll(c.Plots, 0o755); err != nil {
		return err
	}
	figs, err := a.figures()
	if err != nil {
		return err
	}
	for _, f := range figs {
		name := slug(f.Title)
		if f.SVG != nil {
			if err := writeFileAtomic(filepath.Join(c.Plots, name+".svg"), f.SVG); err != nil {
				return err
			}
		}
		if f.PNG != nil {
			if err := writeFileAtomic(filepath.Join(c.Plots, name+".png"), f.PNG); err != nil {
				return err
			}
		}
	}
	return nil
}

// newAnalysis loads the model and data a profiling command needs.
func (g *Globals) newAnalysis(model, engine string, sf simFlags, errorImages int, ef energyFlags) (*analysis, error) {
	eng, err := engineByName(engine)
	if err != nil {
		return nil, err
	}
	energy, err := ef.energy()
	if err != nil {
		return nil, err
	}
	if errorImages < 0 {
		return nil, badInputf("--error-images %d: must be ≥ 0", errorImages)
	}
	in, err := g.loadRun(model, sf)
	if err != nil {
		return nil, err
	}
	return &analysis{ANN: in.ANN, SNN: in.SNN, Set: in.Set, Opts: in.Opts, Engine: eng, ErrorImages: errorImages, Energy: energy}, nil
}

// slug turns a figure title into a file name.
func slug(title string) string {
	b := make([]byte, 0, len(title))
	dash := false
	for _, r := range title {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b = append(b, byte(r))
			dash = false
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r-'A'+'a'))
			dash = false
		default:
			if !dash && len(b) > 0 {
				b = append(b, '-')
				dash = true
			}
		}
	}
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "figure"
	}
	return string(b)
}

// ReportCmd writes the HTML report of a profiled run.
type ReportCmd struct {
	Model  string `arg:"" optional:"" help:"SNN or ANN model file; default: the built-in model." type:"path"`
	Engine string `help:"Simulation engine: event, dense (every product in full) or dense-skip (skipping silent inputs)." default:"event" enum:"event,dense,dense-skip"`
	simFlags
	ErrorImages int    `help:"Images the conversion error against the ANN is measured on (the first N; 0: none)." default:"1000"`
	Compare     bool   `help:"Also run the other engine on the same images and compare." default:"true" negatable:""`
	Output      string `short:"o" help:"Directory for report.html, the figures, CSV and JSON." default:"evsnn-report" type:"path"`
	energyFlags
}

// Run implements the command.
func (c *ReportCmd) Run(g *Globals) error {
	a, err := g.newAnalysis(c.Model, c.Engine, c.simFlags, c.ErrorImages, c.energyFlags)
	if err != nil {
		return err
	}
	a.Compare = c.Compare
	if err := a.run(g); err != nil {
		return err
	}
	name := c.Model
	if name == "" {
		name = "built-in MNIST CNN"
	}
	path, err := a.writeOutputs(c.Output, "evsnn report", name, nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Out, "report written to %s\n", path)
	return nil
}
