package main

import (
	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/profile"
)

// SpikesCmd reads a spike recording (simulate --record): a summary per
// layer (the default), or one image's raster and/or a CSV export.
type SpikesCmd struct {
	File   string `arg:"" help:"Spike recording (format/spikes, written by simulate --record)." type:"path"`
	Image  int    `help:"The recording's image (0-based; its dataset index is first_image plus it) for --raster, and the only one --csv exports (default: every image)." default:"-1"`
	Raster string `help:"Draw the spike raster of --image to FILE (.png or .svg)." type:"path" placeholder:"FILE"`
	CSV    string `name:"csv" help:"Export the spikes to FILE as CSV rows image,layer,step,neuron (streamed image by image; '-' for stdout)." placeholder:"FILE"`
	Counts bool   `help:"With --csv: one row per image and layer (image,layer,spikes), from the index, instead of one per spike."`
	JSON   bool   `help:"Print the summary (or the profile) as JSON."`
	// Profile needs the network for the SOPs (fan-outs, MaxPools).
	Profile bool   `help:"Print the run's profile (spikes, rates, SOPs, MACs, energy per layer) from the recording and the model it names (or --model); no accuracy: a recording holds no readout."`
	Model   string `help:"With --profile: the model the run simulated (default: the one the recording's provenance names)." type:"path" placeholder:"MODEL"`
}

// Run implements the command.
func (c *SpikesCmd) Run(g *Globals) error {
	if c.Raster != "" && c.Image < 0 {
		return badInputf("--raster needs --image N (the recording's image to draw)")
	}
	if c.Counts && c.CSV == "" {
		return badInputf("--counts goes with --csv FILE")
	}
	if c.Model != "" && !c.Profile {
		return badInputf("--model goes with --profile")
	}
	if c.Profile {
		run, err := analysis.LoadRecordedRun(c.File, c.Model, g.Data, profile.DefaultEnergy(), g.Env)
		if err != nil {
			return err
		}
		if c.JSON {
			return profile.WriteJSON(g.Out, run.Profile)
		}
		return profile.PrintTable(g.Out, run.Profile)
	}
	if c.Raster != "" {
		n, err := analysis.RecordingRaster(c.File, c.Image, c.Raster)
		if err != nil {
			return err
		}
		g.Log.Info().Str("output", c.Raster).Int("image", c.Image).Int("spikes", n).Msg("raster written")
	}
	if c.CSV != "" {
		o := analysis.CSVOptions{Image: c.Image, Counts: c.Counts}
		if c.CSV == "-" {
			return analysis.WriteRecordingCSV(c.File, g.Out, o)
		}
		if err := analysis.WriteRecordingCSVFile(c.File, c.CSV, o); err != nil {
			return err
		}
		g.Log.Info().Str("output", c.CSV).Msg("CSV written")
	}
	if c.Raster != "" || c.CSV != "" {
		// The summary decodes every bitmap: not done unasked on top of
		// an export.
		return nil
	}
	s, err := analysis.SummariseRecording(c.File)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(g.Out, s)
	}
	return s.WriteText(g.Out)
}
