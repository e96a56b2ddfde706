package analysis

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/network"
)

// Inspection is a model's graph as `evsnn inspect --json` prints it: every
// node with its inputs, output shape, parameters and MACs.
type Inspection struct {
	Input  []int            `json:"input_shape"`
	Layers []NodeInfo       `json:"layers"`
	Params int              `json:"params"`
	MACs   int              `json:"macs"`
	SNN    bool             `json:"snn"`
	Chain  bool             `json:"chain"`
	Meta   network.Metadata `json:"meta"`
	// With --accuracy: the ANN's accuracy on the test images.
	Accuracy    *float64 `json:"ann_accuracy,omitempty"`
	Images      int      `json:"images,omitempty"`
	Data        string   `json:"data,omitempty"`
	WallSeconds float64  `json:"wall_seconds,omitempty"`
}

// NodeInfo is one node of an Inspection.
type NodeInfo struct {
	Index int    `json:"index"`
	Kind  string `json:"kind"`
	Name  string `json:"name"`
	// Inputs are the indices of the nodes it reads; -1 is the network
	// input (network.InputNode).
	Inputs []int `json:"inputs"`
	Output []int `json:"output_shape"`
	Params int   `json:"params"`
	// MACs per image: multiply-accumulates of a Conv2d or Linear, the
	// accumulates of a pool, the additions of an Add, the comparisons of
	// a MaxPool (network.Layer.MACs).
	MACs      int       `json:"macs"`
	Threshold []float32 `json:"threshold,omitempty"`
	Neuron    string    `json:"neuron,omitempty"`
}

// Inspect describes the graph of net.
func Inspect(net *network.Network) (*Inspection, error) {
	shapes, err := net.Shapes()
	if err != nil {
		return nil, BadInput(err)
	}
	rep := &Inspection{Input: net.Input, SNN: net.IsSNN(), Chain: net.IsChain(), Meta: net.Meta}
	for i, l := range net.Layers {
		inputs := append([]int{}, net.InputsOf(i)...)
		in := net.ShapeOf(shapes, inputs[0])
		il := NodeInfo{Index: i, Kind: string(l.Kind()), Name: l.Name(), Inputs: inputs, Output: shapes[i], Params: l.NumParams(), MACs: l.MACs(in)}
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
	}
	return rep, nil
}

// MeasureAccuracy runs the network as an ANN on set and records its
// accuracy.
func (rep *Inspection) MeasureAccuracy(net *network.Network, set *dataset.Set, env Env) error {
	if err := Fits(net, set); err != nil {
		return err
	}
	_, acc, wall, err := predict(net, set, env)
	if err != nil {
		return err
	}
	rep.Accuracy, rep.Images, rep.Data, rep.WallSeconds = &acc, set.N, set.Name, wall.Seconds()
	return nil
}

// WriteText prints the inspection as a table.
func (rep *Inspection) WriteText(w io.Writer) error {
	ew := &bytes.Buffer{}
	kind := "ANN"
	if rep.SNN {
		kind = "SNN"
	}
	fmt.Fprintf(ew, "%s, input %v", kind, network.Shape(rep.Input))
	if !rep.Chain {
		fmt.Fprint(ew, ", a graph")
	}
	if rep.Meta.Source != "" {
		fmt.Fprintf(ew, ", from %s", rep.Meta.Source)
	}
	fmt.Fprintln(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "#\tlayer\tkind\toutput\tparams\tMACs\t"
	if !rep.Chain {
		head = "#\tlayer\tkind\tinputs\toutput\tparams\tMACs\t"
	}
	fmt.Fprintln(tw, head)
	for _, l := range rep.Layers {
		fmt.Fprintf(tw, "%d\t%s\t%s\t", l.Index, l.Name, l.Kind)
		if !rep.Chain {
			fmt.Fprintf(tw, "%s\t", rep.inputNames(l.Inputs))
		}
		fmt.Fprintf(tw, "%v\t%d\t%d\t", network.Shape(l.Output), l.Params, l.MACs)
		if l.Neuron != "" {
			fmt.Fprintf(tw, " %s, θ=%s", l.Neuron, FormatThresholds(l.Threshold))
		}
		fmt.Fprintln(tw)
	}
	if rep.Chain {
		fmt.Fprintf(tw, "\ttotal\t\t\t%d\t%d\t\n", rep.Params, rep.MACs)
	} else {
		fmt.Fprintf(tw, "\ttotal\t\t\t\t%d\t%d\t\n", rep.Params, rep.MACs)
	}
	tw.Flush()
	if cv := rep.Meta.Conversion; cv != nil {
		fmt.Fprintf(ew, "conversion: threshold %s over %d images, %s, %s reset, v(0)=%g·θ", cv.Statistic, cv.Images, cv.Neuron, cv.Reset, cv.V0Fraction)
		if cv.BiasShift {
			fmt.Fprintf(ew, ", bias shift θ/2T for T=%d", cv.BiasShiftT)
		}
		fmt.Fprintln(ew)
	}
	if cb := rep.Meta.Calibration; cb != nil {
		fmt.Fprintf(ew, "calibration: %s for T=%d on %d images (seed %d)\n", cb.Method, cb.T, cb.Images, cb.Seed)
	}
	if rep.Accuracy != nil {
		fmt.Fprintf(ew, "ANN accuracy: %.2f %% on %d %s images\n", 100**rep.Accuracy, rep.Images, rep.Data)
	}
	return flush(w, ew)
}

func (rep *Inspection) inputNames(inputs []int) string {
	names := make([]string, len(inputs))
	for k, i := range inputs {
		if i == network.InputNode {
			names[k] = "input"
		} else {
			names[k] = rep.Layers[i].Name
		}
	}
	return strings.Join(names, "+")
}
