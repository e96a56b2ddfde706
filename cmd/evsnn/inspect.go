package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/evsnn/evsnn/network"
)

// InspectCmd prints a model's structure.
type InspectCmd struct {
	Model    string `arg:"" optional:"" help:"Model file (.evsnn or .onnx); default: the built-in model." type:"path"`
	JSON     bool   `help:"Print JSON instead of a table."`
	Accuracy bool   `help:"Also run the ANN on the MNIST test set and report its accuracy."`
	Images   int    `help:"Test images for --accuracy (0: all)." default:"0"`
}

type inspectLayer struct {
	Index     int       `json:"index"`
	Kind      string    `json:"kind"`
	Name      string    `json:"name"`
	Output    []int     `json:"output_shape"`
	Params    int       `json:"params"`
	MACs      int       `json:"macs"`
	Threshold []float32 `json:"threshold,omitempty"`
	Neuron    string    `json:"neuron,omitempty"`
}

type inspectReport struct {
	Input       []int            `json:"input_shape"`
	Layers      []inspectLayer   `json:"layers"`
	Params      int              `json:"params"`
	MACs        int              `json:"macs"`
	SNN         bool             `json:"snn"`
	Meta        network.Metadata `json:"meta"`
	Accuracy    *float64         `json:"ann_accuracy,omitempty"`
	Images      int              `json:"images,omitempty"`
	WallSeconds float64          `json:"wall_seconds,omitempty"`
}

// Run implements the command.
func (c *InspectCmd) Run(g *Globals) error {
	net, err := g.LoadModel(c.Model)
	if err != nil {
		return err
	}
	rep, err := describe(net)
	if err != nil {
		return badInput(err)
	}
	if c.Accuracy {
		set, err := g.TestSet(c.Images)
		if err != nil {
			return err
		}
		start := time.Now()
		preds, err := net.Predict(set.Images, set.N, 256)
		if err != nil {
			return err
		}
		correct := 0
		for i, p := range preds {
			if p == set.Labels[i] {
				correct++
			}
		}
		acc := float64(correct) / float64(set.N)
		rep.Accuracy, rep.Images = &acc, set.N
		rep.WallSeconds = time.Since(start).Seconds()
		g.Log.Info().Int("images", set.N).Int("correct", correct).Dur("wall", time.Since(start)).Msg("ANN accuracy")
	}
	if c.JSON {
		return writeJSON(g.Out, rep)
	}
	printInspect(g.Out, rep)
	return nil
}

func describe(net *network.Network) (*inspectReport, error) {
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	rep := &inspectReport{Input: net.Input, SNN: net.IsSNN(), Meta: net.Meta}
	in := net.Input
	for i, l := range net.Layers {
		il := inspectLayer{Index: i, Kind: string(l.Kind()), Name: l.Name(), Output: shapes[i], Params: l.NumParams(), MACs: l.MACs(in)}
		if s, ok := l.(*network.Spiking); ok {
			il.Threshold = s.Threshold
			il.Neuron = "IF"
			if s.Alpha < 1 {
				il.Neuron = fmt.Sprintf("LIF α=%g", s.Alpha)
			}
			il.Neuron += ", " + string(s.Reset) + " reset"
		}
		rep.Layers = append(rep.Layers, il)
		rep.Params += il.Params
		rep.MACs += il.MACs
		in = shapes[i]
	}
	return rep, nil
}

func printInspect(w io.Writer, rep *inspectReport) {
	kind := "ANN"
	if rep.SNN {
		kind = "SNN"
	}
	fmt.Fprintf(w, "%s, input %v", kind, network.Shape(rep.Input))
	if rep.Meta.Source != "" {
		fmt.Fprintf(w, ", from %s", rep.Meta.Source)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "#\tlayer\tkind\toutput\tparams\tMACs\t")
	for _, l := range rep.Layers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%v\t%d\t%d\t", l.Index, l.Name, l.Kind, network.Shape(l.Output), l.Params, l.MACs)
		if l.Neuron != "" {
			fmt.Fprintf(tw, " %s, θ=%s", l.Neuron, formatThresholds(l.Threshold))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprintf(tw, "\ttotal\t\t\t%d\t%d\t\n", rep.Params, rep.MACs)
	tw.Flush()
	if cv := rep.Meta.Conversion; cv != nil {
		fmt.Fprintf(w, "conversion: threshold %s over %d images, %s, %s reset, v(0)=%g·θ", cv.Statistic, cv.Images, cv.Neuron, cv.Reset, cv.V0Fraction)
		if cv.BiasShift {
			fmt.Fprintf(w, ", bias shift θ/2T for T=%d", cv.BiasShiftT)
		}
		fmt.Fprintln(w)
	}
	if cb := rep.Meta.Calibration; cb != nil {
		fmt.Fprintf(w, "calibration: %s for T=%d on %d images (seed %d)\n", cb.Method, cb.T, cb.Images, cb.Seed)
	}
	if rep.Accuracy != nil {
		fmt.Fprintf(w, "ANN accuracy: %.2f %% on %d MNIST test images\n", 100**rep.Accuracy, rep.Images)
	}
}

func formatThresholds(th []float32) string {
	if len(th) == 1 {
		return fmt.Sprintf("%.4g", th[0])
	}
	lo, hi := th[0], th[0]
	for _, v := range th {
		lo, hi = min(lo, v), max(hi, v)
	}
	return fmt.Sprintf("%.4g..%.4g per channel", lo, hi)
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
