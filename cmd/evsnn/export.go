package main

import (
	"math"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/format/nir"
)

// ExportCmd writes a converted network as a NIR file (Neuromorphic
// Intermediate Representation, HDF5). It needs a binary built with
// `go build -tags hdf5 ./cmd/evsnn`.
type ExportCmd struct {
	Model   string  `arg:"" help:"SNN model file (.evsnn, or .nir with HDF5 support); an ANN must be converted first (evsnn convert)." type:"path"`
	Output  string  `short:"o" required:"" help:"Where to write the NIR file (.nir)." type:"path"`
	DT      float64 `name:"dt" help:"Time step the continuous-time NIR neuron parameters are written for: LIF tau = dt/(1-α), r = tau/dt; IF r = 1/dt." default:"1"`
	SumPool bool    `help:"Write average pools as SumPool2d followed by a Scale of 1/(kh·kw), which more NIR tools read."`
}

// Run implements the command.
func (c *ExportCmd) Run(g *Globals) error {
	if !nir.HDF5 {
		return nir.ErrNoHDF5
	}
	if !(c.DT > 0) || math.IsInf(c.DT, 0) {
		return badInputf("--dt %v: must be positive and finite", c.DT)
	}
	net, err := analysis.LoadModel(c.Model, g.Env)
	if err != nil {
		return err
	}
	if !net.IsSNN() {
		return badInputf("%s is an ANN: NIR describes spiking networks; convert it first (evsnn convert %s -o snn.evsnn), then export the SNN", c.Model, c.Model)
	}
	graph, err := nir.FromNetworkWith(net, nir.ExportOptions{DT: c.DT, SumPool: c.SumPool})
	if err != nil {
		return analysis.BadInput(err)
	}
	if err := nir.WriteFile(c.Output, graph); err != nil {
		return err
	}
	g.Log.Info().Str("output", c.Output).Int("nodes", len(graph.Order)).Int("edges", len(graph.Edges)).Msg("NIR graph written")
	return nil
}
