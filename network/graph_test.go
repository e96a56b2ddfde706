package network

import (
	"slices"
	"strings"
	"testing"
)

// residual builds input → conv → relu → maxpool → {conv → relu → conv} +
// maxpool → relu → gap → flatten → linear: the shape of the fixture ResNet's
// first block.
func residual() *Network {
	conv := func(name string, in, out int) *Conv2d {
		return &Conv2d{LayerName: name, InC: in, OutC: out, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
			Weight: make([]float32, out*in*9), Bias: make([]float32, out)}
	}
	return &Network{
		Input: Shape{1, 8, 8},
		Layers: []Layer{
			conv("stem", 1, 2),            // 0
			&ReLU{LayerName: "stem_relu"}, // 1
			&MaxPool2d{LayerName: "pool", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, // 2
			conv("c1", 2, 2),                 // 3
			&ReLU{LayerName: "r1"},           // 4
			conv("c2", 2, 2),                 // 5
			&Add{LayerName: "add"},           // 6
			&ReLU{LayerName: "r2"},           // 7
			&GlobalAvgPool{LayerName: "gap"}, // 8
			&Flatten{LayerName: "flat"},      // 9
			&Linear{LayerName: "fc", In: 2, Out: 3, Weight: make([]float32, 6), Bias: make([]float32, 3)}, // 10
		},
		Inputs: [][]int{{-1}, {0}, {1}, {2}, {3}, {4}, {5, 2}, {6}, {7}, {8}, {9}},
	}
}

func TestGraphShapesAndProjections(t *testing.T) {
	n := residual()
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	sh, _ := n.Shapes()
	if !sh[2].Equal(Shape{2, 4, 4}) || !sh[8].Equal(Shape{2, 1, 1}) || !sh[9].Equal(Shape{2}) {
		t.Fatalf("shapes %v", sh)
	}
	projs, err := n.Projections()
	if err != nil {
		t.Fatal(err)
	}
	type pr struct{ src, weighted, add, target int }
	var got []pr
	for _, p := range projs {
		got = append(got, pr{p.Source, p.Weighted, p.Add, p.Target})
	}
	want := []pr{{-1, 0, -1, 1}, {2, 3, -1, 4}, {4, 5, 6, 7}, {2, -1, 6, 7}, {7, 10, -1, 10}}
	if !slices.Equal(got, want) {
		t.Fatalf("projections %v, want %v", got, want)
	}
	// A spike of the pool reaches c1 (3×3 taps × 2 channels, fewer at the
	// borders) and its one identity target in the Add.
	fan, err := n.FanOut(2)
	if err != nil {
		t.Fatal(err)
	}
	if fan[5] != 2*9+1 || fan[0] != 2*4+1 {
		t.Fatalf("pool fan-out: centre %d, corner %d; want 19, 9", fan[5], fan[0])
	}
	// A spike of r2 goes through the GAP to all 3 readout classes.
	if fan, _ := n.FanOut(7); fan[0] != 3 {
		t.Fatalf("r2 fan-out %d, want 3", fan[0])
	}
	// The stem's spikes only enter the MaxPool: no SOPs of their own.
	if fan, err := n.FanOut(1); err != nil || fan[0] != 0 {
		t.Fatalf("stem fan-out %v, %v", fan[:1], err)
	}
}

func TestGraphForward(t *testing.T) {
	n := residual()
	for i, l := range n.Layers {
		switch l := l.(type) {
		case *Conv2d:
			for j := range l.Weight {
				l.Weight[j] = float32((i+j)%5-2) / 4
			}
			l.Bias[0] = 0.25
		case *Linear:
			for j := range l.Weight {
				l.Weight[j] = float32(j%3) - 1
			}
		}
	}
	x := make([]float32, 64)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	act, err := n.Forward(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	// The Add is the sum of c2's output and the pool's.
	for j := range act.Output[6] {
		if act.Output[6][j] != act.Output[5][j]+act.Output[2][j] {
			t.Fatalf("add[%d] = %v, want %v", j, act.Output[6][j], act.Output[5][j]+act.Output[2][j])
		}
	}
	// GAP is the mean of each channel of r2.
	for c := 0; c < 2; c++ {
		var s float32
		for _, v := range act.Output[7][c*16 : (c+1)*16] {
			s += v
		}
		if got := act.Output[8][c]; got != s*(1.0/16) {
			t.Fatalf("gap[%d] = %v, want %v", c, got, s/16)
		}
	}
	// MaxPool of the stem ReLU.
	for c := 0; c < 2; c++ {
		m := float32(0)
		for y := 0; y < 2; y++ {
			for x := 0; x < 2; x++ {
				m = max(m, act.Output[1][c*64+y*8+x])
			}
		}
		if act.Output[2][c*16] != m {
			t.Fatalf("maxpool[%d,0,0] = %v, want %v", c, act.Output[2][c*16], m)
		}
	}
}

// chain makes n the chain stem conv → mid... → flatten → linear.
func chain(n *Network, mid ...Layer) {
	stem := n.Layers[0]
	n.Inputs = nil
	n.Layers = append(append([]Layer{stem}, mid...), &Flatten{LayerName: "f"})
	sh, err := n.Shapes()
	if err != nil {
		panic(err)
	}
	in := sh[len(sh)-1][0]
	n.Layers = append(n.Layers, &Linear{LayerName: "out", In: in, Out: 2, Weight: make([]float32, 2*in), Bias: make([]float32, 2)})
}

func TestGraphValidateErrors(t *testing.T) {
	cases := []struct {
		name string
		edit func(n *Network)
		want string
	}{
		{"cycle", func(n *Network) { n.Inputs[3] = []int{5} }, "topological order"},
		{"dangling reference", func(n *Network) { n.Inputs[3] = []int{-7} }, "topological order"},
		{"dangling node", func(n *Network) { n.Inputs[6] = []int{5, 1}; n.Inputs[3] = []int{1} }, "not used"},
		{"add of different shapes", func(n *Network) { n.Inputs[6] = []int{5, 1} }, "one shape"},
		{"add with one input", func(n *Network) { n.Inputs[6] = []int{5} }, "two or more"},
		{"conv with two inputs", func(n *Network) { n.Inputs[3] = []int{2, 2} }, "only an Add"},
		{"maxpool after conv", func(n *Network) {
			chain(n, &MaxPool2d{LayerName: "m", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, &ReLU{LayerName: "r"})
		}, "MaxPool must read"},
		{"relu after pool", func(n *Network) {
			chain(n, &ReLU{LayerName: "r"}, &AvgPool2d{LayerName: "p", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, &ReLU{LayerName: "r2"})
		}, "ReLU must follow"},
		{"conv then conv", func(n *Network) {
			chain(n, &Conv2d{LayerName: "c2", InC: 2, OutC: 2, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Weight: make([]float32, 4), Bias: make([]float32, 2)}, &ReLU{LayerName: "r"})
		}, "put a ReLU between"},
		{"add not followed by relu", func(n *Network) { n.Inputs[8] = []int{6} }, "must be followed by a ReLU"},
		{"missing inputs", func(n *Network) { n.Inputs = n.Inputs[:5] }, "inputs of 5 layers"},
		{"last is relu", func(n *Network) { n.Layers = n.Layers[:8]; n.Inputs = n.Inputs[:8] }, "Linear readout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := residual()
			tc.edit(n)
			err := n.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}
