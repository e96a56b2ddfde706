package main

import (
	"io"

	"github.com/evsnn/evsnn/analysis"
)

// CompareCmd runs the ANN, the dense SNN and the event SNN on the same
// images and reports where they agree and where they do not.
type CompareCmd struct {
	Model string `arg:"" optional:"" help:"SNN or ANN model file; default: the built-in model." type:"path"`
	simFlags
	JSON bool `help:"Print one JSON object instead of a table (it lists every disagreement)."`
	Show int  `help:"List at most this many disagreeing images in the table (--json lists all)." default:"20"`
	shardFlags
}

// Run implements the command.
func (c *CompareCmd) Run(g *Globals) error {
	req, err := g.shardRequest(c.Model, c.simFlags, c.shardFlags, c.JSON)
	if err != nil {
		return err
	}
	in, err := analysis.Prepare(req, g.Env)
	if err != nil {
		return err
	}
	cmp, err := in.Compare(g.Env)
	if err != nil {
		return err
	}
	return g.emit(c.shardFlags, c.JSON, in, func() (*analysis.Part, error) { return in.ComparisonPart(cmp) }, cmp,
		func(w io.Writer) error { return cmp.WriteText(w, c.Show) })
}
