package main

import (
	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/format/modelfile"
)

// ImportCSRCmd replaces a Linear layer's weights by a SciPy CSR matrix,
// making it a SparseLinear (per-input fan-out lists).
type ImportCSRCmd struct {
	Model  string `arg:"" help:"Model file (.evsnn or .onnx), an ANN (convert it afterwards) or an SNN." type:"path"`
	Layer  string `required:"" help:"The Linear layer whose weights are replaced (e.g. fc1)." placeholder:"NAME"`
	CSR    string `name:"csr" required:"" help:"The weights: a CSR matrix W [out, in] saved by scipy.sparse.save_npz (PyTorch's layout; every stored entry is a synapse)." type:"path" placeholder:"W.npz"`
	Output string `short:"o" required:"" help:"Where to write the model file (format v3: the layer as a SparseLinear)." type:"path" placeholder:"FILE"`
	JSON   bool   `help:"Print what was replaced as JSON."`
}

// Run implements the command.
func (c *ImportCSRCmd) Run(g *Globals) error {
	net, err := analysis.LoadModel(c.Model, g.Env)
	if err != nil {
		return err
	}
	out, rep, err := analysis.ImportCSR(net, c.Layer, c.CSR)
	if err != nil {
		return err
	}
	if err := modelfile.Save(c.Output, out); err != nil {
		return err
	}
	g.Log.Info().Str("output", c.Output).Msg("model written")
	if c.JSON {
		return writeJSON(g.Out, rep)
	}
	return rep.WriteText(g.Out)
}
