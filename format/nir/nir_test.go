package nir

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/network"
)

func randSlice(r *rand.Rand, n int, scale float32) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = (r.Float32()*2 - 1) * scale
	}
	return s
}

// handNet is a small converted network with every layer kind, per-channel
// and per-layer thresholds, IF and LIF, both resets, V0 and V0Fraction.
func handNet(t testing.TB) *network.Network {
	r := rand.New(rand.NewPCG(1, 2))
	fc1Bias := randSlice(r, 8, 0.2)
	fc1Bias[3] = float32(math.Copysign(0, -1)) // a negative zero must survive
	net := &network.Network{
		Input: network.Shape{2, 6, 6},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "conv1", InC: 2, OutC: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
				Weight: randSlice(r, 3*2*9, 0.5), Bias: randSlice(r, 3, 0.1)},
			&network.Spiking{LayerName: "sp1", Threshold: []float32{0.7, 1.1, 0.9}, Alpha: 1, Reset: network.ResetSoft,
				V0Fraction: 0.5, V0: randSlice(r, 3*6*6, 0.3)},
			&network.AvgPool2d{LayerName: "pool1", KH: 2, KW: 2, StrideH: 2, StrideW: 2},
			&network.Conv2d{LayerName: "conv2", InC: 3, OutC: 4, KH: 2, KW: 2, StrideH: 1, StrideW: 1,
				Weight: randSlice(r, 4*3*4, 0.5), Bias: randSlice(r, 4, 0.1)},
			&network.Spiking{LayerName: "sp2", Threshold: []float32{1.3}, Alpha: 0.875, Reset: network.ResetHard},
			&network.Flatten{LayerName: "flat"},
			&network.Linear{LayerName: "fc1", In: 16, Out: 8, Weight: randSlice(r, 16*8, 0.5), Bias: fc1Bias},
			&network.Spiking{LayerName: "sp3", Threshold: []float32{0.6}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "fc2", In: 8, Out: 5, Weight: randSlice(r, 8*5, 0.5), Bias: make([]float32, 5)},
		},
		Meta: network.Metadata{
			Source:      "test:hand",
			Conversion:  &network.Conversion{Statistic: "max", Images: 7, Neuron: "if", Alpha: 1, Reset: network.ResetSoft, V0Fraction: 0.5, BiasShift: true, BiasShiftT: 16},
			Calibration: &network.Calibration{Method: "bc", T: 16, Images: 3, Seed: 9},
		},
	}
	if err := net.Validate(); err != nil {
		t.Fatal(err)
	}
	return net
}

// sameNetwork fails unless a and b are equal, every float bit for bit.
func sameNetwork(t testing.TB, a, b *network.Network) {
	t.Helper()
	if !a.Input.Equal(b.Input) {
		t.Fatalf("input %v, want %v", b.Input, a.Input)
	}
	if len(a.Layers) != len(b.Layers) {
		t.Fatalf("%d layers, want %d", len(b.Layers), len(a.Layers))
	}
	for i := range a.Layers {
		// %#v prints every float32 in its shortest exact form, -0 included.
		if x, y := fmt.Sprintf("%#v", a.Layers[i]), fmt.Sprintf("%#v", b.Layers[i]); x != y {
			t.Fatalf("layer %d differs:\n got %s\nwant %s", i, y, x)
		}
	}
	if fmt.Sprint(a.Inputs) != fmt.Sprint(b.Inputs) {
		t.Fatalf("inputs %v, want %v", b.Inputs, a.Inputs)
	}
	ma, _ := json.Marshal(a.Meta)
	mb, _ := json.Marshal(b.Meta)
	if string(ma) != string(mb) {
		t.Fatalf("metadata %s, want %s", mb, ma)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		opt  ExportOptions
	}{
		{"default", ExportOptions{}},
		{"sumpool", ExportOptions{SumPool: true}},
		{"dt=1e-4", ExportOptions{DT: 1e-4}},
		{"dt=0.3", ExportOptions{DT: 0.3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			net := handNet(t)
			orig := net.Clone()
			g, err := FromNetworkWith(net, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			sameNetwork(t, orig, net) // export leaves the network alone
			back, err := ToNetwork(g)
			if err != nil {
				t.Fatal(err)
			}
			sameNetwork(t, orig, back)
		})
	}
}

func TestExportLayout(t *testing.T) {
	g, err := FromNetwork(handNet(t))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"input", "conv1", "sp1", "sp1_amplitude", "pool1", "conv2", "sp2", "sp2_amplitude", "flat", "fc1", "sp3", "sp3_amplitude", "fc2", "output"}
	if strings.Join(g.Order, ",") != strings.Join(want, ",") {
		t.Fatalf("nodes %v, want %v", g.Order, want)
	}
	chain, err := g.Chain()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(chain, ",") != strings.Join(want, ",") {
		t.Fatalf("chain %v, want %v", chain, want)
	}
	types := map[string]string{"input": "Input", "conv1": "Conv2d", "sp1": "IF", "sp1_amplitude": "Scale", "pool1": "AvgPool2d",
		"sp2": "LIF", "flat": "Flatten", "fc1": "Affine", "fc2": "Linear", "output": "Output"}
	for name, typ := range types {
		if g.Nodes[name].Type != typ {
			t.Errorf("node %s has type %s, want %s", name, g.Nodes[name].Type, typ)
		}
	}
	lif := g.Nodes["sp2"]
	for _, k := range []string{"tau", "r", "v_leak", "v_threshold", "v_reset"} {
		p := lif.Params[k]
		if fmt.Sprint(p.Shape) != "[4 2 2]" || p.DType != Float32 {
			t.Errorf("LIF %s: shape %v type %v, want [4 2 2] float32", k, p.Shape, p.DType)
		}
	}
	if tau := lif.Params["tau"].F32[0]; tau != 8 {
		t.Errorf("tau = %v, want 1/(1-0.875) = 8", tau)
	}
	if r := lif.Params["r"].F32[0]; r != 8 {
		t.Errorf("r = %v, want tau/dt = 8", r)
	}
	if th := g.Nodes["sp1"].Params["v_threshold"].F32; th[0] != 0.7 || th[36] != 1.1 || th[72] != 0.9 {
		t.Errorf("per-channel threshold expanded wrongly: %v %v %v", th[0], th[36], th[72])
	}
	c := g.Nodes["conv1"]
	if got := fmt.Sprint(c.Params["input_shape"].I64, c.Params["stride"].I64, c.Params["padding"].I64, c.Params["dilation"].I64, c.Params["groups"].I64, c.Params["groups"].Shape); got != "[6 6] [1 1] [1 1] [1 1] [1] []" {
		t.Errorf("conv1 params %s", got)
	}
	if f := g.Nodes["flat"]; fmt.Sprint(f.Params["start_dim"].I64, f.Params["end_dim"].I64, f.Params["input_type"].I64) != "[0] [-1] [4 2 2]" {
		t.Errorf("flatten params %v", f.Params)
	}
}

func TestExportANNRefused(t *testing.T) {
	net := &network.Network{Input: network.Shape{3}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc1", In: 3, Out: 2, Weight: make([]float32, 6), Bias: make([]float32, 2)},
		&network.ReLU{LayerName: "relu1"},
		&network.Linear{LayerName: "fc2", In: 2, Out: 2, Weight: make([]float32, 4), Bias: make([]float32, 2)},
	}}
	_, err := FromNetwork(net)
	if err == nil || !strings.Contains(err.Error(), `"relu1"`) || !strings.Contains(err.Error(), "convert") {
		t.Fatalf("error %v, want one naming relu1 and saying to convert", err)
	}
}

func TestExportNamesUnique(t *testing.T) {
	net := handNet(t)
	net.Layers[0].(*network.Conv2d).LayerName = ""
	net.Layers[2].(*network.AvgPool2d).LayerName = "a/b"
	net.Layers[5].(*network.Flatten).LayerName = "input"
	orig := net.Clone()
	g, err := FromNetwork(net)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ToNetwork(g)
	if err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, orig, back)
}

// affineLIFGraph is Input(3) → Affine → LIF → Affine → LIF → Output, as
// another tool might write it.
func affineLIFGraph() *Graph {
	g := NewGraph()
	add := func(name, typ string, p map[string]Param) {
		if err := g.Add(name, &Node{Type: typ, Params: p}); err != nil {
			panic(err)
		}
	}
	vec := func(v ...float32) Param { return F32Array([]int{len(v)}, v) }
	add("in", "Input", map[string]Param{"shape": I64Array(3)})
	add("fc1", "Affine", map[string]Param{
		"weight": F32Array([]int{2, 3}, []float32{0.5, -0.25, 1, 0.75, 0.5, -0.5}),
		"bias":   vec(0.125, -0.0625),
	})
	add("lif1", "LIF", map[string]Param{
		"tau": vec(2, 2), "r": vec(2, 2), "v_leak": vec(0, 0), "v_threshold": vec(1, 0.75), "v_reset": vec(0, 0),
	})
	add("fc2", "Affine", map[string]Param{
		"weight": F32Array([]int{2, 2}, []float32{1, -0.5, 0.25, 1.5}),
		"bias":   vec(0.25, 0),
	})
	add("lif2", "LIF", map[string]Param{
		"tau": vec(4, 4), "r": vec(4, 4), "v_leak": vec(0, 0), "v_threshold": vec(0.5, 1), "v_reset": vec(0, 0),
	})
	add("out", "Output", map[string]Param{"shape": I64Array(2)})
	for _, e := range [][2]string{{"in", "fc1"}, {"fc1", "lif1"}, {"lif1", "fc2"}, {"fc2", "lif2"}, {"lif2", "out"}} {
		g.Connect(e[0], e[1])
	}
	return g
}

func TestImportForeignLIF(t *testing.T) {
	net, err := ToNetwork(affineLIFGraph())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"fc1", "lif1", "fc2", "lif2", "readout"}
	if len(net.Layers) != len(want) {
		t.Fatalf("%d layers, want %v", len(net.Layers), want)
	}
	for i, l := range net.Layers {
		if l.Name() != want[i] {
			t.Fatalf("layer %d is %q, want %q", i, l.Name(), want[i])
		}
	}
	l1 := net.Layers[1].(*network.Spiking)
	if l1.Alpha != 0.5 || l1.Reset != network.ResetHard || fmt.Sprint(l1.Threshold) != "[1 0.75]" {
		t.Fatalf("lif1 = %+v", l1)
	}
	// tau = r = 2: the gain dt·r/tau is 1, nothing folds into fc1.
	if fc1 := net.Layers[0].(*network.Linear); fmt.Sprint(fc1.Weight, fc1.Bias) != "[0.5 -0.25 1 0.75 0.5 -0.5] [0.125 -0.0625]" {
		t.Fatalf("fc1 = %v %v", fc1.Weight, fc1.Bias)
	}
	// A NIR spike is 1, an evsnn spike θ: fc2's columns are divided by θ of lif1.
	if fc2 := net.Layers[2].(*network.Linear); fmt.Sprint(fc2.Weight) != "[1 -0.6666667 0.25 2]" {
		t.Fatalf("fc2 = %v", fc2.Weight)
	}
	if l2 := net.Layers[3].(*network.Spiking); l2.Alpha != 0.75 {
		t.Fatalf("lif2 alpha %v, want 0.75", l2.Alpha)
	}
	if ro := net.Layers[4].(*network.Linear); fmt.Sprint(ro.Weight) != "[2 0 0 1]" {
		t.Fatalf("readout = %v, want diag(1/θ)", ro.Weight)
	}
}

// TestImportMatchesNIRSemantics simulates foreign graphs both as NIR
// (forward Euler, unit spikes, v > θ, reset to v_reset) and, after import,
// as evsnn (SPEC §2), and compares spikes and outputs.
func TestImportMatchesNIRSemantics(t *testing.T) {
	vec := func(v ...float32) Param { return F32Array([]int{len(v)}, v) }
	full := func(n int, v float32) Param {
		s := make([]float32, n)
		for i := range s {
			s[i] = v
		}
		return vec(s...)
	}
	r := rand.New(rand.NewPCG(3, 4))
	dyad := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.IntN(33)-16) / 16
		}
		return s
	}
	var total [2]int
	for trial := range 20 {
		g := NewGraph()
		add := func(name, typ string, p map[string]Param) {
			if err := g.Add(name, &Node{Type: typ, Params: p}); err != nil {
				t.Fatal(err)
			}
		}
		// Thresholds off the dyadic grid: no exact ties between v > θ and v ≥ θ.
		th := func(n int) Param {
			s := make([]float32, n)
			for i := range s {
				s[i] = float32(r.IntN(8)+4)/8 + 1.0/(1<<20)
			}
			return vec(s...)
		}
		add("in", "Input", map[string]Param{"shape": I64Array(4)})
		add("scale_in", "Scale", map[string]Param{"scale": vec(1, 0.5, 2, 1)})
		add("a1", "Affine", map[string]Param{"weight": F32Array([]int{6, 4}, dyad(24)), "bias": vec(dyad(6)...)})
		add("s1", "Scale", map[string]Param{"scale": vec(0.5, 1, 2, 1, 1, 0.25)})
		add("n1", "LIF", map[string]Param{"tau": full(6, 2), "r": full(6, 1), "v_leak": vec(dyad(6)...), "v_threshold": th(6), "v_reset": full(6, 0)})
		add("a2", "Linear", map[string]Param{"weight": F32Array([]int{5, 6}, dyad(30))})
		add("n2", "IF", map[string]Param{"r": full(5, 0.5), "v_threshold": th(5), "v_reset": full(5, 0)})
		add("s2", "Scale", map[string]Param{"scale": vec(1, 2, 3, 0.5, 1)})
		add("a3", "Affine", map[string]Param{"weight": F32Array([]int{3, 5}, dyad(15)), "bias": vec(dyad(3)...)})
		add("out", "Output", map[string]Param{"shape": I64Array(3)})
		for i := 0; i+1 < len(g.Order); i++ {
			g.Connect(g.Order[i], g.Order[i+1])
		}
		net, err := ToNetwork(g)
		if err != nil {
			t.Fatal(err)
		}
		x := []float32{1, 0.5, 0.25, 0.75}
		const T = 10
		nirSpikes, nirOut := simNIR(t, g, x, T, 1)
		snnSpikes, snnOut := simSNN(net, x, T)
		if fmt.Sprint(nirSpikes) != fmt.Sprint(snnSpikes) {
			t.Fatalf("trial %d: spikes differ:\nNIR   %v\nevsnn %v", trial, nirSpikes, snnSpikes)
		}
		for k := range nirSpikes {
			for _, s := range nirSpikes[k] {
				total[k] += len(s)
			}
		}
		for i := range nirOut {
			if math.Abs(nirOut[i]-snnOut[i]) > 1e-4*(1+math.Abs(nirOut[i])) {
				t.Fatalf("trial %d: output %d: NIR %v, evsnn %v", trial, i, nirOut[i], snnOut[i])
			}
		}
	}
	if total[0] < 50 || total[1] < 50 {
		t.Fatalf("too few spikes to test anything: %v", total)
	}
	t.Logf("spikes per layer over all trials: %v", total)
}

// simNIR runs a graph of vectors in NIR's semantics, forward Euler with
// step dt, the nodes in topological order, the edges into a node summed:
// spikes[k][t] lists the spiking neuron indices of the k-th neuron node
// (in that order) at step t; out is the output summed over the steps.
func simNIR(t testing.TB, g *Graph, x []float32, T int, dt float64) ([][][]int, []float64) {
	dag, err := g.DAG()
	if err != nil {
		t.Fatal(err)
	}
	state := map[string][]float64{}
	var spikes [][][]int
	var out []float64
	f := func(n *Node, k string) []float64 { v, _ := n.Params[k].Floats(); return v }
	for step := 0; step < T; step++ {
		vals := map[string][]float64{}
		k := 0
		for _, name := range dag.Order {
			n := g.Nodes[name]
			var cur []float64
			for _, src := range dag.In[name] {
				if cur == nil {
					cur = make([]float64, len(vals[src]))
				}
				for i, v := range vals[src] {
					cur[i] += v
				}
			}
			switch n.Type {
			case "Input":
				cur = make([]float64, len(x))
				for i, v := range x {
					cur[i] = float64(v)
				}
			case "Affine", "Linear":
				w := f(n, "weight")
				out := n.Params["weight"].Shape[0]
				y := make([]float64, out)
				for o := range y {
					for j, v := range cur {
						y[o] += w[o*len(cur)+j] * v
					}
					if n.Type == "Affine" {
						y[o] += f(n, "bias")[o]
					}
				}
				cur = y
			case "Scale":
				s := f(n, "scale")
				for i := range cur {
					if len(s) == 1 {
						cur[i] *= s[0]
					} else {
						cur[i] *= s[i]
					}
				}
			case "IF", "LIF":
				v := state[name]
				if v == nil {
					v = make([]float64, len(cur))
					state[name] = v
				}
				r, th, vr := f(n, "r"), f(n, "v_threshold"), f(n, "v_reset")
				var fired []int
				for i := range v {
					if n.Type == "IF" {
						v[i] += dt * r[i] * cur[i]
					} else {
						tau, vl := f(n, "tau"), f(n, "v_leak")
						v[i] += dt / tau[i] * (vl[i] - v[i] + r[i]*cur[i])
					}
					cur[i] = 0
					if v[i] > th[i] {
						cur[i] = 1
						v[i] = vr[i]
						fired = append(fired, i)
					}
				}
				if len(spikes) <= k {
					spikes = append(spikes, make([][]int, T))
				}
				spikes[k][step] = fired
				k++
			case "Output":
				if out == nil {
					out = make([]float64, len(cur))
				}
				for i, v := range cur {
					out[i] += v
				}
			default:
				t.Fatalf("simNIR: node type %s", n.Type)
			}
			vals[name] = cur
		}
	}
	return spikes, out
}

// simSNN runs a vector network in evsnn's semantics (SPEC §2), direct input.
func simSNN(net *network.Network, x []float32, T int) ([][][]int, []float64) {
	var spikes [][][]int
	v := make([][]float32, len(net.Layers))
	var out []float64
	for step := 0; step < T; step++ {
		cur := append([]float32(nil), x...)
		k := 0
		for i, l := range net.Layers {
			switch l := l.(type) {
			case *network.Linear:
				y := make([]float32, l.Out)
				for o := range y {
					acc := l.Bias[o]
					for j, s := range cur {
						acc += l.Weight[o*l.In+j] * s
					}
					y[o] = acc
				}
				cur = y
			case *network.Spiking:
				sh := network.Shape{len(cur)}
				if v[i] == nil {
					v[i] = make([]float32, len(cur))
					for j := range v[i] {
						v[i][j] = l.InitialPotential(sh, j)
					}
				}
				var fired []int
				for j := range cur {
					th := l.ThresholdAt(sh, j)
					vt := l.Alpha*v[i][j] + cur[j]
					cur[j] = 0
					if vt >= th {
						cur[j] = th
						fired = append(fired, j)
						if l.Reset == network.ResetSoft {
							vt -= th
						} else {
							vt = 0
						}
					}
					v[i][j] = vt
				}
				if len(spikes) <= k {
					spikes = append(spikes, make([][]int, T))
				}
				spikes[k][step] = fired
				k++
			}
		}
		if out == nil {
			out = make([]float64, len(cur))
		}
		for j, s := range cur {
			out[j] += float64(s)
		}
	}
	return spikes, out
}
