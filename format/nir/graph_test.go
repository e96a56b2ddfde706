package nir

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// graphNets returns random graph SNNs of the given kind without MaxPool
// (NIR has none), from successive seeds.
func graphNets(t *testing.T, kind snnref.Kind, count int) []*network.Network {
	t.Helper()
	var nets []*network.Network
	for seed := uint64(1); len(nets) < count; seed++ {
		if seed > 200+100*uint64(count) {
			t.Fatalf("%v: only %d of %d random networks without MaxPool", kind, len(nets), count)
		}
		cfg := snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft}
		if seed%3 == 0 {
			cfg.Alpha, cfg.Reset = 0.5, network.ResetHard
		}
		net := snnref.RandomNet(rand.New(rand.NewPCG(seed, 11)), cfg)
		if !slices.ContainsFunc(net.Layers, func(l network.Layer) bool { return l.Kind() == network.KindMaxPool2d }) {
			nets = append(nets, net)
		}
	}
	return nets
}

// withGAP returns net with a GlobalAvgPool put before its Flatten (and
// the readout's weights shrunk to match), or nil if it has one already or
// its Flatten reads no feature map.
func withGAP(net *network.Network, r *rand.Rand) *network.Network {
	f := slices.IndexFunc(net.Layers, func(l network.Layer) bool { return l.Kind() == network.KindFlatten })
	if f < 0 || slices.ContainsFunc(net.Layers, func(l network.Layer) bool { return l.Kind() == network.KindGlobalAvgPool }) {
		return nil
	}
	shapes, _ := net.Shapes()
	src := net.InputOf(f)
	in := net.ShapeOf(shapes, src)
	if len(in) != 3 || in[1]*in[2] == 1 {
		return nil
	}
	c := net.Clone()
	c.SetInputs()
	c.Layers = slices.Insert(c.Layers, f, network.Layer(&network.GlobalAvgPool{LayerName: "gap"}))
	c.Inputs = slices.Insert(c.Inputs, f, []int{src})
	for i := f + 1; i < len(c.Inputs); i++ {
		for k, j := range c.Inputs[i] {
			if j >= f {
				c.Inputs[i][k] = j + 1
			}
		}
	}
	c.Inputs[f+1] = []int{f} // the Flatten reads the pool
	fc := c.Layers[f+2].(*network.Linear)
	fc.In = in[0]
	fc.Weight = snnref.DyadicSlice(r, fc.Out*fc.In, -12, 12)
	c.Compact()
	if err := c.Validate(); err != nil {
		panic(err)
	}
	return c
}

// simulate runs net on images with the reference simulator, keeping
// everything an engine must reproduce.
func simulate(t *testing.T, net *network.Network, images []float32) *network.SimResult {
	t.Helper()
	res, err := snnref.Run(net, images, nil, network.SimOptions{T: 12, KeepCounts: true, KeepOutputs: true, Raster: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestGraphRoundTrip exports random residual networks (identity and 1×1
// conv shortcuts, Add biases, global average pooling), VGG-like networks
// without MaxPool (padded average pools), chains and MLPs to NIR (through
// a file with the hdf5 tag), imports them back and checks that the network
// is the same bit for bit, graph included, and that the reference
// simulator gives identical spikes. (With the hdf5 tag the default export
// goes through a file; HDF5 writes take a while.)
func TestGraphRoundTrip(t *testing.T) {
	kinds := map[network.Kind]int{}
	for _, kind := range snnref.Kinds {
		count := 6
		switch kind {
		case snnref.VGG:
			count = 4
		case snnref.ResNet:
			count = 16
		}
		if testing.Short() || testenv.RaceEnabled {
			count = (count + 1) / 2
		}
		nets := graphNets(t, kind, count)
		if kind == snnref.ResNet {
			for k, net := range nets[:len(nets)*2/3] {
				if g := withGAP(net, rand.New(rand.NewPCG(uint64(k), 9))); g != nil {
					nets = append(nets, g)
				}
			}
		}
		for k, net := range nets {
			for _, opt := range []ExportOptions{{}, {SumPool: true}, {DT: 0.25}} {
				name := fmt.Sprintf("%v/%d/sumpool=%v,dt=%v", kind, k, opt.SumPool, opt.DT)
				g, err := FromNetworkWith(net, opt)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if opt == (ExportOptions{}) {
					g = throughFile(t, g) // the other options differ in the graph only
				}
				back, err := ToNetwork(g)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				sameNetwork(t, net, back)
				if opt != (ExportOptions{}) {
					continue // the same network: simulated once is enough
				}
				images := snnref.RandomImages(rand.New(rand.NewPCG(uint64(k), 3)), net, 3)
				a, b := simulate(t, net, images), simulate(t, back, images)
				if d := snnref.Diff(a, b); d != "" {
					t.Fatalf("%s: %s", name, d)
				}
				if a.Layers[0].Spikes == 0 {
					t.Fatalf("%s: no spikes", name)
				}
			}
			for _, l := range net.Layers {
				kinds[l.Kind()]++
				if p, ok := l.(*network.AvgPool2d); ok && p.PadH+p.PadW > 0 {
					kinds["padded avgpool2d"]++
				}
				if a, ok := l.(*network.Add); ok && a.Bias != nil {
					kinds["add with bias"]++
				}
			}
		}
	}
	for _, k := range []network.Kind{network.KindAdd, "add with bias", network.KindGlobalAvgPool, "padded avgpool2d", network.KindAvgPool2d} {
		if kinds[k] == 0 {
			t.Errorf("no %s in the test networks", k)
		}
	}
	t.Logf("layers exported: %v", kinds)
}

// stripGraphMetadata removes what evsnn writes to restore its own graph
// bit for bit (Add names and biases, the GlobalAvgPool marker, the
// count_include_pad flag), so that the graph reads as another tool's.
func stripGraphMetadata(g *Graph) {
	for _, n := range g.Nodes {
		for _, k := range []string{MetaAdd, MetaBias, MetaAddBias, MetaLayer, MetaCountIncludePad, MetaName} {
			delete(n.Metadata, k)
		}
	}
}

// TestGraphForeignView imports exported residual networks without evsnn's
// graph metadata, as another tool's file would be read: the Add's bias
// stays in the convolution it was folded into, a GlobalAvgPool comes back
// as an AvgPool2d over the whole map. What the network computes is the
// same: on these dyadic networks the reference simulator gives identical
// spikes.
func TestGraphForeignView(t *testing.T) {
	restructured := 0
	count := 8
	if testing.Short() || testenv.RaceEnabled {
		count = 4
	}
	nets := append(graphNets(t, snnref.ResNet, count), graphNets(t, snnref.VGG, 2)...)
	for k, net := range nets[:4] {
		if g := withGAP(net, rand.New(rand.NewPCG(uint64(k), 9))); g != nil {
			nets = append(nets, g)
		}
	}
	for k, net := range nets {
		opts := []ExportOptions{{}, {SumPool: true}}
		if testing.Short() || testenv.RaceEnabled {
			opts = opts[k%2 : k%2+1] // one of the two, in turn
		}
		for _, opt := range opts {
			g, err := FromNetworkWith(net, opt)
			if err != nil {
				t.Fatal(err)
			}
			stripGraphMetadata(g)
			back, err := ToNetwork(throughFile(t, g))
			if err != nil {
				t.Fatal(err)
			}
			if len(back.Layers) != len(net.Layers) {
				t.Fatalf("net %d: %d layers, want %d", k, len(back.Layers), len(net.Layers))
			}
			for i, l := range back.Layers {
				if fmt.Sprintf("%#v", l) != fmt.Sprintf("%#v", net.Layers[i]) {
					restructured++
					break
				}
			}
			images := snnref.RandomImages(rand.New(rand.NewPCG(uint64(k), 5)), net, 3)
			if d := snnref.Diff(simulate(t, net, images), simulate(t, back, images)); d != "" {
				t.Fatalf("net %d: %s", k, d)
			}
		}
	}
	if restructured == 0 {
		t.Fatal("no network came back different without the metadata: the test tests nothing")
	}
}

// TestGraphExportLayout checks the NIR graph of a residual block: the
// Add is the two edges into the neuron node after it, the identity
// shortcut an edge straight from the amplitude Scale of the spiking layer
// it reads, the Add's bias folded into the convolution of the other branch.
func TestGraphExportLayout(t *testing.T) {
	z := func(n int) []float32 { return make([]float32, n) }
	net := &network.Network{
		Input: network.Shape{1, 4, 4},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "stem", InC: 1, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: z(18), Bias: []float32{0.5, 0.25}},
			&network.Spiking{LayerName: "sp1", Threshold: []float32{1, 2}, Alpha: 1, Reset: network.ResetSoft},
			&network.Conv2d{LayerName: "conv", InC: 2, OutC: 2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: z(36), Bias: []float32{1, 2}},
			&network.Add{LayerName: "add", Bias: []float32{0.125, -0.5}},
			&network.Spiking{LayerName: "sp2", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.AvgPool2d{LayerName: "pool", KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1},
			&network.GlobalAvgPool{LayerName: "gap"},
			&network.Flatten{LayerName: "flat"},
			&network.Linear{LayerName: "fc", In: 2, Out: 3, Weight: z(6), Bias: z(3)},
		},
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2, 1}, {3}, {4}, {5}, {6}, {7}},
	}
	if err := net.Validate(); err != nil {
		t.Fatal(err)
	}
	g, err := FromNetwork(net)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"input", "stem", "sp1", "sp1_amplitude", "conv", "sp2", "sp2_amplitude", "pool", "pool_scale", "gap", "flat", "fc", "output"}
	if !slices.Equal(g.Order, want) {
		t.Fatalf("nodes %v, want %v", g.Order, want)
	}
	var edges []string
	for _, e := range g.Edges {
		edges = append(edges, e[0]+">"+e[1])
	}
	wantEdges := "input>stem stem>sp1 sp1>sp1_amplitude sp1_amplitude>conv conv>sp2 sp1_amplitude>sp2 sp2>sp2_amplitude " +
		"sp2_amplitude>pool pool>pool_scale pool_scale>gap gap>flat flat>fc fc>output"
	if strings.Join(edges, " ") != wantEdges {
		t.Errorf("edges\n%s\nwant\n%s", strings.Join(edges, " "), wantEdges)
	}
	conv := g.Nodes["conv"]
	if b := conv.Params["bias"].F32; fmt.Sprint(b) != "[1.125 1.5]" {
		t.Errorf("conv bias %v, want the Add's bias folded in: [1.125 1.5]", b)
	}
	if fmt.Sprint(conv.Metadata[MetaBias].F32, conv.Metadata[MetaAddBias].F32) != "[1 2] [0.125 -0.5]" {
		t.Errorf("conv metadata %v", conv.Metadata)
	}
	if s, _ := g.Nodes["sp2"].Metadata[MetaAdd].Text(); s != "add" {
		t.Errorf("sp2: Add name %q", s)
	}
	// The padded pool: a SumPool2d and the exact divisor per window
	// (count_include_pad=False: 2×2, 2×3, 3×2 and 3×3 positions inside
	// the 4×4 map).
	if p := g.Nodes["pool"]; p.Type != "SumPool2d" || fmt.Sprint(p.Params["padding"].I64) != "[1 1]" {
		t.Errorf("pool node %s %v", p.Type, p.Params)
	}
	if sc := g.Nodes["pool_scale"].Params["scale"].F32; fmt.Sprint(sc) != fmt.Sprint([]float32{1. / 4, 1. / 6, 1. / 6, 1. / 9, 1. / 4, 1. / 6, 1. / 6, 1. / 9}) {
		t.Errorf("pool scale %v", sc)
	}
	if p := g.Nodes["gap"]; p.Type != "AvgPool2d" || fmt.Sprint(p.Params["kernel_size"].I64, p.Params["stride"].I64) != "[2 2] [2 2]" {
		t.Errorf("gap node %s %v", p.Type, p.Params)
	}
	back, err := ToNetwork(g)
	if err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, net, back)
}

// TestAddBiasNode: an Add with a bias and no weighted branch (two
// identity shortcuts) keeps its bias in an identity node on its first
// branch, a 1×1 Conv2d on feature maps and an Affine on vectors; import
// turns it back into the Add's bias. Read as another tool would, the node
// is a layer of its own, and the spikes are the same.
func TestAddBiasNode(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	d := func(n int) []float32 { return snnref.DyadicSlice(r, n, -8, 12) }
	sp := func(name string) *network.Spiking {
		return &network.Spiking{LayerName: name, Threshold: []float32{snnref.Dyadic(r, 8, 20)}, Alpha: 1, Reset: network.ResetSoft}
	}
	maps := &network.Network{
		Input: network.Shape{2, 5, 5},
		Layers: []network.Layer{
			&network.Conv2d{LayerName: "c1", InC: 2, OutC: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: d(54), Bias: d(3)},
			sp("s1"),
			&network.Conv2d{LayerName: "c2", InC: 3, OutC: 3, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: d(81), Bias: d(3)},
			sp("s2"),
			&network.Add{LayerName: "sum", Bias: []float32{0.25, -0.125, 0.5}},
			sp("s3"),
			&network.Flatten{LayerName: "flat"},
			&network.Linear{LayerName: "fc", In: 75, Out: 4, Weight: d(300), Bias: d(4)},
		},
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2}, {3, 1}, {4}, {5}, {6}},
	}
	vectors := &network.Network{
		Input: network.Shape{6},
		Layers: []network.Layer{
			&network.Linear{LayerName: "f1", In: 6, Out: 5, Weight: d(30), Bias: d(5)},
			sp("s1"),
			&network.Linear{LayerName: "f2", In: 5, Out: 5, Weight: d(25), Bias: d(5)},
			sp("s2"),
			&network.Add{LayerName: "sum", Bias: []float32{0.25, -0.125, 0.5, 0, 1}},
			sp("s3"),
			&network.Linear{LayerName: "fc", In: 5, Out: 3, Weight: d(15), Bias: d(3)},
		},
		Inputs: [][]int{{network.InputNode}, {0}, {1}, {2}, {3, 1}, {4}, {5}},
	}
	for _, tc := range []struct {
		net  *network.Network
		kind string
	}{{maps, "Conv2d"}, {vectors, "Affine"}} {
		if err := tc.net.Validate(); err != nil {
			t.Fatal(err)
		}
		g, err := FromNetwork(tc.net)
		if err != nil {
			t.Fatal(err)
		}
		n := g.Nodes["sum"]
		if n == nil || n.Type != tc.kind {
			t.Fatalf("no %s node for the Add's bias: %v", tc.kind, g.Order)
		}
		if role, _ := n.Metadata[MetaRole].Text(); role != RoleAddBias {
			t.Fatalf("bias node role %q", role)
		}
		if !slices.Contains(g.Edges, [2]string{"s2_amplitude", "sum"}) || !slices.Contains(g.Edges, [2]string{"sum", "s3"}) ||
			!slices.Contains(g.Edges, [2]string{"s1_amplitude", "s3"}) {
			t.Fatalf("edges %v", g.Edges)
		}
		back, err := ToNetwork(throughFile(t, g))
		if err != nil {
			t.Fatal(err)
		}
		sameNetwork(t, tc.net, back)

		delete(n.Metadata, MetaRole)
		foreign, err := ToNetwork(g)
		if err != nil {
			t.Fatal(err)
		}
		if len(foreign.Layers) != len(tc.net.Layers)+1 {
			t.Fatalf("without its role the bias node should be a layer: %d layers", len(foreign.Layers))
		}
		images := snnref.RandomImages(rand.New(rand.NewPCG(2, 2)), tc.net, 4)
		a, b := simulate(t, tc.net, images), simulate(t, foreign, images)
		if !slices.Equal(a.Predictions, b.Predictions) || fmt.Sprint(a.Counts) != fmt.Sprint(b.Counts) || fmt.Sprint(a.Outputs) != fmt.Sprint(b.Outputs) {
			t.Fatalf("%s: the bias node as a layer computes something else", tc.kind)
		}
		if a.Layers[2].Spikes == 0 {
			t.Fatal("the layer after the Add never spikes")
		}
	}
}

// TestExportMaxPoolRefused: NIR has no max pooling; the export stops with
// one line that names the layer, and writes nothing.
func TestExportMaxPoolRefused(t *testing.T) {
	found := 0
	for seed := uint64(1); seed <= 20; seed++ {
		for _, kind := range []snnref.Kind{snnref.ResNet, snnref.VGG} {
			net := snnref.RandomNet(rand.New(rand.NewPCG(seed, 11)), snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft})
			i := slices.IndexFunc(net.Layers, func(l network.Layer) bool { return l.Kind() == network.KindMaxPool2d })
			if i < 0 {
				continue
			}
			found++
			g, err := FromNetwork(net)
			want := fmt.Sprintf("layer %d (maxpool2d %q): NIR has no max pooling", i, net.Layers[i].Name())
			if err == nil || g != nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%v seed %d: graph %v, error %v; want one line starting %q", kind, seed, g != nil, err, want)
			}
		}
	}
	if found < 5 {
		t.Fatalf("only %d networks with a MaxPool", found)
	}
}

// TestImportDAGMatchesNIRSemantics simulates foreign NIR graphs with
// several edges into a neuron node — a weighted branch, a Scale branch and
// a shortcut straight from an earlier neuron node (spikes of 1 in NIR, of
// θ in evsnn) — in NIR's semantics (simNIR: the edges into a node are
// summed) and, after import, with the reference simulator, and compares
// every spike and the output. The join neuron is a LIF with an input gain
// other than 1 and a leak potential, which import folds into the weighted
// branch, into diagonal layers on the other branches and into the Add's
// bias.
func TestImportDAGMatchesNIRSemantics(t *testing.T) {
	vec := func(v ...float32) Param { return F32Array([]int{len(v)}, v) }
	full := func(n int, v float32) Param {
		s := make([]float32, n)
		for i := range s {
			s[i] = v
		}
		return vec(s...)
	}
	r := rand.New(rand.NewPCG(8, 9))
	dyad := func(n int) []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.IntN(33)-16) / 16
		}
		return s
	}
	// Thresholds off the dyadic grid: no exact ties between v > θ and v ≥ θ.
	th := func(n int) Param {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.IntN(8)+4)/8 + 1.0/(1<<20)
		}
		return vec(s...)
	}
	spikes := [3]int{}
	for trial := range 20 {
		g := NewGraph()
		add := func(name, typ string, p map[string]Param) {
			if err := g.Add(name, &Node{Type: typ, Params: p}); err != nil {
				t.Fatal(err)
			}
		}
		add("in", "Input", map[string]Param{"shape": I64Array(4)})
		add("a1", "Affine", map[string]Param{"weight": F32Array([]int{6, 4}, dyad(24)), "bias": vec(dyad(6)...)})
		add("n1", "LIF", map[string]Param{"tau": full(6, 2), "r": full(6, 2), "v_leak": full(6, 0), "v_threshold": th(6), "v_reset": full(6, 0)})
		add("s1", "Scale", map[string]Param{"scale": vec(0.5, 1, 2, 1, 0.25, 1)})
		add("a2", "Linear", map[string]Param{"weight": F32Array([]int{6, 6}, dyad(36))})
		add("s2", "Scale", map[string]Param{"scale": F32Scalar(-0.5)})
		add("n2", "LIF", map[string]Param{"tau": full(6, 2), "r": full(6, 1.5), "v_leak": vec(dyad(6)...), "v_threshold": th(6), "v_reset": full(6, 0)})
		add("a3", "Affine", map[string]Param{"weight": F32Array([]int{5, 6}, dyad(30)), "bias": vec(dyad(5)...)})
		add("n3", "IF", map[string]Param{"r": full(5, 1), "v_threshold": th(5), "v_reset": full(5, 0)})
		add("a4", "Affine", map[string]Param{"weight": F32Array([]int{3, 5}, dyad(15)), "bias": vec(dyad(3)...)})
		add("out", "Output", map[string]Param{"shape": I64Array(3)})
		for _, e := range [][2]string{{"in", "a1"}, {"a1", "n1"}, {"n1", "s1"}, {"s1", "a2"}, {"a2", "n2"}, {"n1", "n2"},
			{"n1", "s2"}, {"s2", "n2"}, {"n2", "a3"}, {"a3", "n3"}, {"n3", "a4"}, {"a4", "out"}} {
			g.Connect(e[0], e[1])
		}
		net, err := ToNetwork(g)
		if err != nil {
			t.Fatal(err)
		}
		if trial == 0 {
			for i, l := range net.Layers {
				t.Logf("layer %d: %s %q <- %v", i, l.Kind(), l.Name(), net.InputsOf(i))
			}
		}
		const T = 10
		for img := range 3 {
			x := dyad(4)
			for i := range x {
				x[i] = (x[i] + 1) / 2
			}
			nirSpikes, nirOut := simNIR(t, g, x, T, 1)
			res, err := snnref.Run(net, x, nil, network.SimOptions{T: T, Raster: true, KeepOutputs: true})
			if err != nil {
				t.Fatal(err)
			}
			got := make([][][]int, len(res.Layers))
			for k := range got {
				got[k] = make([][]int, T)
			}
			for _, e := range res.Raster {
				got[e.Layer][e.Step-1] = append(got[e.Layer][e.Step-1], int(e.Neuron))
			}
			if fmt.Sprint(nirSpikes) != fmt.Sprint(got) {
				t.Fatalf("trial %d image %d: spikes differ:\nNIR   %v\nevsnn %v", trial, img, nirSpikes, got)
			}
			for k := range nirSpikes {
				for _, s := range nirSpikes[k] {
					spikes[k] += len(s)
				}
			}
			for i := range nirOut {
				if d := math.Abs(nirOut[i] - float64(res.Outputs[i])); d > 1e-4*(1+math.Abs(nirOut[i])) {
					t.Fatalf("trial %d image %d: output %d: NIR %v, evsnn %v", trial, img, i, nirOut[i], res.Outputs[i])
				}
			}
		}
	}
	for k, n := range spikes {
		if n < 50 {
			t.Fatalf("neuron node %d spiked only %d times: the test tests little (%v)", k, n, spikes)
		}
	}
	t.Logf("spikes per neuron node over all trials: %v", spikes)
}

// TestExportAddTwice: an Add of one input with itself would be two equal
// edges, which NIR cannot hold; the export says so.
func TestExportAddTwice(t *testing.T) {
	z := func(n int) []float32 { return make([]float32, n) }
	net := &network.Network{
		Input: network.Shape{3},
		Layers: []network.Layer{
			&network.Linear{LayerName: "f1", In: 3, Out: 2, Weight: z(6), Bias: z(2)},
			&network.Spiking{LayerName: "s1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Add{LayerName: "twice"},
			&network.Spiking{LayerName: "s2", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
			&network.Linear{LayerName: "out", In: 2, Out: 2, Weight: z(4), Bias: z(2)},
		},
		Inputs: [][]int{{network.InputNode}, {0}, {1, 1}, {2}, {3}},
	}
	if err := net.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := FromNetwork(net)
	if err == nil || !strings.Contains(err.Error(), `layer 2 (add "twice")`) || !strings.Contains(err.Error(), "twice") {
		t.Fatalf("error %v", err)
	}
}
