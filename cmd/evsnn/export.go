package main

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strings"

	"github.com/evsnn/evsnn/format/nir"
	"github.com/evsnn/evsnn/network"
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
	net, err := g.LoadModel(c.Model)
	if err != nil {
		return err
	}
	if !net.IsSNN() {
		return badInputf("%s is an ANN: NIR describes spiking networks; convert it first (evsnn convert %s -o snn.evsnn), then export the SNN", c.Model, c.Model)
	}
	graph, err := nir.FromNetworkWith(net, nir.ExportOptions{DT: c.DT, SumPool: c.SumPool})
	if err != nil {
		return badInput(err)
	}
	if err := nir.WriteFile(c.Output, graph); err != nil {
		return err
	}
	g.Log.Info().Str("output", c.Output).Int("nodes", len(graph.Order)).Int("edges", len(graph.Edges)).Msg("NIR graph written")
	return nil
}

// hdf5Signature starts every HDF5 file (at offset 0, or 512, 1024, 2048, …
// after a user block).
var hdf5Signature = []byte("\x89HDF\r\n\x1a\n")

// isNIRFile tells a NIR file by its extension or the HDF5 signature.
func isNIRFile(path string, head []byte) bool {
	if strings.EqualFold(filepath.Ext(path), ".nir") {
		return true
	}
	for off := 0; off+len(hdf5Signature) <= len(head); off = max(512, 2*off) {
		if bytes.Equal(head[off:off+len(hdf5Signature)], hdf5Signature) {
			return true
		}
	}
	return false
}

// loadNIR reads a NIR file into an evsnn network.
func loadNIR(path string) (*network.Network, error) {
	graph, err := nir.ReadFile(path)
	if err != nil {
		return nil, err
	}
	net, err := nir.ToNetwork(graph)
	if err != nil {
		return nil, fmt.Errorf("NIR: %w", err)
	}
	if net.Meta.Source == "nir" {
		net.Meta.Source = "nir:" + filepath.Base(path)
	}
	return net, nil
}

func init() {
	if !nir.HDF5 {
		// Without HDF5 a NIR file still gets a clear answer.
		modelLoaders = append(modelLoaders, modelLoader{
			name:  "NIR",
			sniff: isNIRFile,
			load: func(path string) (*network.Network, error) {
				return nil, nir.ErrNoHDF5
			},
		})
	}
}
