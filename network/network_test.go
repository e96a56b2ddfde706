package network

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// naiveConv is a direct nested-loop cross-correlation in float64.
func naiveConv(c *Conv2d, x []float32, in Shape) ([]float64, Shape) {
	oh := (in[1]+2*c.PadH-c.KH)/c.StrideH + 1
	ow := (in[2]+2*c.PadW-c.KW)/c.StrideW + 1
	out := make([]float64, c.OutC*oh*ow)
	for o := 0; o < c.OutC; o++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				s := float64(c.Bias[o])
				for ci := 0; ci < c.InC; ci++ {
					for ky := 0; ky < c.KH; ky++ {
						for kx := 0; kx < c.KW; kx++ {
							iy, ix := oy*c.StrideH-c.PadH+ky, ox*c.StrideW-c.PadW+kx
							if iy < 0 || iy >= in[1] || ix < 0 || ix >= in[2] {
								continue
							}
							s += float64(c.Weight[((o*c.InC+ci)*c.KH+ky)*c.KW+kx]) * float64(x[(ci*in[1]+iy)*in[2]+ix])
						}
					}
				}
				out[(o*oh+oy)*ow+ox] = s
			}
		}
	}
	return out, Shape{c.OutC, oh, ow}
}

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

func TestConvForwardMatchesNaive(t *testing.T) {
	cases := []struct {
		name                            string
		inC, outC, h, w, kh, kw, sh, sw int
		ph, pw                          int
	}{
		{"5x5 pad 2", 1, 4, 12, 12, 5, 5, 1, 1, 2, 2},
		{"stride 2", 3, 5, 9, 11, 3, 3, 2, 2, 1, 1},
		{"rectangular", 2, 3, 7, 10, 2, 4, 1, 3, 0, 1},
		{"1x1", 4, 2, 5, 5, 1, 1, 1, 1, 0, 0},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &Conv2d{LayerName: "c", InC: tc.inC, OutC: tc.outC, KH: tc.kh, KW: tc.kw, StrideH: tc.sh, StrideW: tc.sw, PadH: tc.ph, PadW: tc.pw,
				Weight: randSlice(r, tc.outC*tc.inC*tc.kh*tc.kw), Bias: randSlice(r, tc.outC)}
			in := Shape{tc.inC, tc.h, tc.w}
			const batch = 3
			x := randSlice(r, batch*in.Size())
			out, err := c.OutShape(in)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, batch*out.Size())
			var ws Workspace
			c.Forward(got, x, in, batch, &ws)
			for b := 0; b < batch; b++ {
				want, wantShape := naiveConv(c, x[b*in.Size():(b+1)*in.Size()], in)
				if !wantShape.Equal(out) {
					t.Fatalf("shape %v, want %v", out, wantShape)
				}
				for i, w := range want {
					if g := float64(got[b*out.Size()+i]); math.Abs(g-w) > 1e-4*(1+math.Abs(w)) {
						t.Fatalf("image %d output %d: %v, want %v", b, i, g, w)
					}
				}
			}
		})
	}
}

func TestLinearAndPoolForward(t *testing.T) {
	l := &Linear{LayerName: "fc", In: 3, Out: 2, Weight: []float32{1, 2, 3, -1, 0, 1}, Bias: []float32{0.5, -0.5}}
	got := make([]float32, 4)
	l.Forward(got, []float32{1, 1, 1, 2, 0, -1}, 2)
	want := []float32{6.5, -0.5, -0.5, -3.5}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("linear: %v, want %v", got, want)
		}
	}
	p := &AvgPool2d{LayerName: "pool", KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	x := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} // [1,3,4]: the last row is dropped (floor mode)
	pooled := make([]float32, 2)
	p.Forward(pooled, x, Shape{1, 3, 4}, 1)
	if pooled[0] != 3.5 || pooled[1] != 5.5 {
		t.Fatalf("pool: %v, want [3.5 5.5]", pooled)
	}
}

func lenet() *Network {
	r := rand.New(rand.NewPCG(3, 4))
	return &Network{
		Input: Shape{1, 12, 12},
		Layers: []Layer{
			&Conv2d{LayerName: "conv1", InC: 1, OutC: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1, Weight: randSlice(r, 36), Bias: randSlice(r, 4)},
			&ReLU{LayerName: "relu1"},
			&AvgPool2d{LayerName: "pool1", KH: 2, KW: 2, StrideH: 2, StrideW: 2},
			&Conv2d{LayerName: "conv2", InC: 4, OutC: 6, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 0, PadW: 0, Weight: randSlice(r, 216), Bias: randSlice(r, 6)},
			&ReLU{LayerName: "relu2"},
			&Flatten{LayerName: "flatten"},
			&Linear{LayerName: "fc", In: 96, Out: 10, Weight: randSlice(r, 960), Bias: randSlice(r, 10)},
		},
	}
}

func TestShapesAndValidate(t *testing.T) {
	net := lenet()
	shapes, err := net.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	want := []Shape{{4, 12, 12}, {4, 12, 12}, {4, 6, 6}, {6, 4, 4}, {6, 4, 4}, {96}, {10}}
	for i := range want {
		if !shapes[i].Equal(want[i]) {
			t.Errorf("layer %d: shape %v, want %v", i, shapes[i], want[i])
		}
	}
	bad := []struct {
		name   string
		mutate func(n *Network)
		want   string
	}{
		{"NaN weight", func(n *Network) { n.Layers[0].(*Conv2d).Weight[5] = float32(math.NaN()) }, "weight[5] is NaN"},
		{"Inf bias", func(n *Network) { n.Layers[6].(*Linear).Bias[1] = float32(math.Inf(1)) }, "bias[1] is +Inf"},
		{"short weight", func(n *Network) { l := n.Layers[6].(*Linear); l.Weight = l.Weight[:10] }, "weight has 10 values"},
		{"wrong in features", func(n *Network) { l := n.Layers[6].(*Linear); l.In, l.Weight = 95, l.Weight[:950] }, "input has 96 features, weights expect 95"},
		{"wrong channels", func(n *Network) { n.Input = Shape{2, 12, 12} }, "input has 2 channels"},
		{"absurd dims", func(n *Network) { l := n.Layers[6].(*Linear); l.In, l.Out = 1<<20, 1<<20 }, "more than"},
		{"duplicate name", func(n *Network) { n.Layers[1].(*ReLU).LayerName = "conv1" }, "already used"},
		{"no layers", func(n *Network) { n.Layers = nil }, "no layers"},
		{"linear on a map", func(n *Network) { n.Layers = append(n.Layers[:5], n.Layers[6:]...) }, "not a vector"},
		{"zero threshold", func(n *Network) {
			n.Layers[1] = &Spiking{LayerName: "relu1", Threshold: []float32{0}, Alpha: 1, Reset: ResetSoft}
		}, "threshold 0 is 0"},
		{"bad alpha", func(n *Network) {
			n.Layers[1] = &Spiking{LayerName: "relu1", Threshold: []float32{1}, Alpha: 1.5, Reset: ResetSoft}
		}, "alpha"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			n := lenet()
			tc.mutate(n)
			err := n.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestCloneIsDeep(t *testing.T) {
	net := lenet()
	net.Layers[1] = &Spiking{LayerName: "relu1", Threshold: []float32{1}, Alpha: 1, Reset: ResetSoft, V0: make([]float32, 576)}
	net.Meta.Conversion = &Conversion{Statistic: "max"}
	c := net.Clone()
	c.Layers[0].(*Conv2d).Weight[0] = 42
	c.Layers[1].(*Spiking).Threshold[0] = 7
	c.Layers[1].(*Spiking).V0[3] = 1
	c.Meta.Conversion.Statistic = "p99"
	if net.Layers[0].(*Conv2d).Weight[0] == 42 || net.Layers[1].(*Spiking).Threshold[0] == 7 ||
		net.Layers[1].(*Spiking).V0[3] == 1 || net.Meta.Conversion.Statistic != "max" {
		t.Fatal("Clone shares memory with the original")
	}
}

func TestFanOut(t *testing.T) {
	net := lenet()
	// relu1 (4×12×12) → pool 2×2 → conv2 3×3 no pad, 6 outputs, on a 6×6 map.
	fan, err := net.FanOut(1)
	if err != nil {
		t.Fatal(err)
	}
	// A neuron at (y,x) lands in pooled (y/2,x/2); pooled row p of a 6-row
	// map feeds output rows o with o ≤ p ≤ o+2, o in 0..3: taps 1,2,3,3,2,1.
	taps := []int32{1, 2, 3, 3, 2, 1}
	for _, tc := range []struct{ c, y, x int }{{0, 0, 0}, {1, 5, 7}, {3, 11, 11}, {2, 4, 2}} {
		want := 6 * taps[tc.y/2] * taps[tc.x/2]
		if got := fan[(tc.c*12+tc.y)*12+tc.x]; got != want {
			t.Errorf("neuron (%d,%d,%d): fan-out %d, want %d", tc.c, tc.y, tc.x, got, want)
		}
	}
	// relu2 → flatten → fc: every neuron reaches all 10 outputs.
	fan2, err := net.FanOut(4)
	if err != nil {
		t.Fatal(err)
	}
	for j, f := range fan2 {
		if f != 10 {
			t.Fatalf("relu2 neuron %d: fan-out %d, want 10", j, f)
		}
	}
	if _, err := net.FanOut(6); err == nil {
		t.Error("FanOut of the readout: no error")
	}
}

func TestForwardAndPredict(t *testing.T) {
	net := lenet()
	r := rand.New(rand.NewPCG(5, 6))
	x := randSlice(r, 5*net.Input.Size())
	act, err := net.Forward(x, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range act.Output[1] {
		if v < 0 {
			t.Fatalf("relu output %d is %v", i, v)
		}
	}
	preds, err := net.Predict(x, 5, 2)
	if err != nil {
		t.Fatal(err)
	}
	logits := act.Logits()
	for i, p := range preds {
		if want := Argmax(logits[i*10 : (i+1)*10]); p != want {
			t.Errorf("image %d: Predict %d, Forward argmax %d", i, p, want)
		}
	}
	if _, err := net.Forward(x[:10], 5); err == nil {
		t.Error("Forward with too few inputs: no error")
	}
}

func TestArgmaxFirstOnTies(t *testing.T) {
	for _, tc := range []struct {
		v    []float32
		want int
	}{{[]float32{1, 3, 3}, 1}, {[]float32{5}, 0}, {[]float32{-1, -1}, 0}, {[]float32{0, 1, 2}, 2}} {
		if got := Argmax(tc.v); got != tc.want {
			t.Errorf("Argmax(%v) = %d, want %d", tc.v, got, tc.want)
		}
	}
}

func TestPoissonIsDeterministicAndUnbiased(t *testing.T) {
	x := make([]float32, 1000)
	for i := range x {
		x[i] = 0.3
	}
	a, b := make([]float32, 1000), make([]float32, 1000)
	total := 0
	for step := 1; step <= 20; step++ {
		na := PoissonFrame(a, x, 7, 3, step)
		nb := PoissonFrame(b, x, 7, 3, step)
		if na != nb {
			t.Fatal("same seed, image and step gave different spikes")
		}
		total += na
	}
	if rate := float64(total) / 20000; math.Abs(rate-0.3) > 0.02 {
		t.Errorf("rate %.3f, want ≈ 0.3", rate)
	}
	if PoissonUniform(7, 3, 1, 0) == PoissonUniform(8, 3, 1, 0) && PoissonUniform(7, 3, 1, 1) == PoissonUniform(8, 3, 1, 1) {
		t.Error("the seed does not change the draws")
	}
}

func TestSimOptionsCheck(t *testing.T) {
	for _, tc := range []struct {
		opts SimOptions
		want string
	}{
		{SimOptions{T: 0}, "T = 0"},
		{SimOptions{T: 4, Encoding: "rate"}, "encoding"},
		{SimOptions{T: 4, Workers: -1}, "workers"},
		{SimOptions{T: 4, Delays: []int{0, -1}}, "delay"},
		{SimOptions{T: 4}, ""},
	} {
		err := tc.opts.Check()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Check(%+v) = %v, want %q", tc.opts, err, tc.want)
		}
	}
}
