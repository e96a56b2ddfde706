package main

import (
	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/network"
)

// simFlags are the flags every simulating command shares.
type simFlags struct {
	T        int    `name:"T" help:"Time steps." default:"32"`
	Images   int    `help:"Test images to simulate, the first ones (0: all)." default:"0"`
	Encoding string `help:"Input encoding: direct (the analog image every step) or poisson." default:"direct" enum:"direct,poisson"`
	Seed     uint64 `help:"Seed of the Poisson input." default:"1"`
}

// request is what a simulating command asks the library for.
func (g *Globals) request(model string, f simFlags) analysis.Request {
	return analysis.Request{Model: model, Data: g.Data, Images: f.Images,
		Opts: network.SimOptions{T: f.T, Encoding: network.Encoding(f.Encoding), Seed: f.Seed, Workers: g.Workers}}
}

// SimulateCmd runs an SNN on test images.
type SimulateCmd struct {
	Model  string `arg:"" optional:"" help:"SNN or ANN model file (.evsnn, .onnx, .nir; an ANN is converted with the defaults); default: the built-in model." type:"path"`
	Engine string `help:"Simulation engine: event; dense (clock-driven: every product in full); dense-skip (dense, skipping silent inputs: same numbers, cost follows the spikes)." default:"event" enum:"event,dense,dense-skip"`
	simFlags
	JSON bool `help:"Print one JSON object instead of a table."`
	shardFlags
}

// Run implements the command.
func (c *SimulateCmd) Run(g *Globals) error {
	engine, err := engines.ByName(c.Engine)
	if err != nil {
		return analysis.BadInput(err)
	}
	req, err := g.shardRequest(c.Model, c.simFlags, c.shardFlags, c.JSON)
	if err != nil {
		return err
	}
	in, err := analysis.Prepare(req, g.Env)
	if err != nil {
		return err
	}
	sim, err := in.Simulate(engine, g.Env)
	if err != nil {
		return err
	}
	return g.emit(c.shardFlags, c.JSON, in, func() (*analysis.Part, error) { return in.SimulationPart(sim) }, sim, sim.WriteText)
}
