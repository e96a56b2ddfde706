package main

import (
	"io"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/internal/fsutil"
)

// MergeCmd merges the partial results of a sharded run into the run's
// result.
type MergeCmd struct {
	Parts  []string `arg:"" help:"Partial results (simulate, compare or profile with --shard), one per shard, in any order." type:"path"`
	Output string   `short:"o" help:"Write the merged JSON result to FILE, atomically." type:"path" placeholder:"FILE"`
	JSON   bool     `help:"Print the merged result as JSON (as the unsharded run's --json) instead of tables."`
}

// Run implements the command.
func (c *MergeCmd) Run(g *Globals) error {
	m, err := analysis.MergeFiles(c.Parts)
	if err != nil {
		return err
	}
	g.Log.Info().Str("command", m.Command).Int("parts", m.Parts).Int("images", m.Provenance.Data.Images).Msg("merged")
	if c.Output != "" {
		if err := fsutil.WriteAtomic(c.Output, func(w io.Writer) error { return writeJSON(w, m.Value()) }); err != nil {
			return err
		}
		g.Log.Info().Str("file", c.Output).Msg("result written")
	}
	if c.JSON {
		return writeJSON(g.Out, m.Value())
	}
	return m.WriteText(g.Out)
}
