package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// Finite-difference gradient checks, layer by layer. Each check takes the
// scalar L = Σ r ⊙ layer(x) (r fixed and random), whose gradient with
// respect to the layer output is r, and compares the backward pass with
// central differences of L computed from the float32 forward pass with the
// sum in float64. For linear layers the central difference is exact up to
// float32 rounding of the forward pass.

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32((2*r.Float64() - 1) * scale)
	}
	return v
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkGrad compares the analytic gradient got of f with respect to the
// values v with central differences of f, and reports the worst mismatch.
func checkGrad(t *testing.T, what string, v, got []float32, f func() float64, eps, tol float64) {
	t.Helper()
	if len(v) != len(got) {
		t.Fatalf("%s: %d values, %d gradients", what, len(v), len(got))
	}
	worst, at := 0.0, -1
	for i := range v {
		old := v[i]
		v[i] = old + float32(eps)
		up := f()
		v[i] = old - float32(eps)
		down := f()
		v[i] = old
		num := (up - down) / (float64(old+float32(eps)) - float64(old-float32(eps)))
		err := math.Abs(num-float64(got[i])) / math.Max(1, math.Abs(num))
		if err > worst {
			worst, at = err, i
		}
	}
	if worst > tol {
		t.Errorf("%s: worst relative gradient error %.3g at %d (tolerance %.3g)", what, worst, at, tol)
	}
}

func TestGradConv2d(t *testing.T) {
	cases := []struct {
		inC, outC, kh, kw, sh, sw, ph, pw, h, w int
	}{
		{1, 2, 3, 3, 1, 1, 0, 0, 6, 6},
		{2, 3, 5, 5, 1, 1, 2, 2, 7, 8},
		{2, 3, 3, 2, 2, 1, 1, 0, 7, 6},
		{3, 2, 3, 3, 2, 3, 1, 2, 9, 10},
		{2, 2, 4, 4, 3, 3, 0, 1, 11, 9},
	}
	for _, tc := range cases {
		name := fmt.Sprintf("in%d_out%d_k%dx%d_s%dx%d_p%dx%d", tc.inC, tc.outC, tc.kh, tc.kw, tc.sh, tc.sw, tc.ph, tc.pw)
		t.Run(name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			c := &network.Conv2d{LayerName: "c", InC: tc.inC, OutC: tc.outC, KH: tc.kh, KW: tc.kw,
				StrideH: tc.sh, StrideW: tc.sw, PadH: tc.ph, PadW: tc.pw}
			c.Weight = randVec(r, tc.outC*tc.inC*tc.kh*tc.kw, 0.5)
			c.Bias = randVec(r, tc.outC, 0.5)
			in := network.Shape{tc.inC, tc.h, tc.w}
			out, err := c.OutShape(in)
			if err != nil {
				t.Fatal(err)
			}
			const batch = 2
			x := randVec(r, batch*in.Size(), 1)
			rr := randVec(r, batch*out.Size(), 1)
			y := make([]float32, len(rr))
			var ws network.Workspace
			loss := func() float64 {
				c.Forward(y, x, in, batch, &ws)
				return dot64(y, rr)
			}
			k := tc.inC * tc.kh * tc.kw * out[1] * out[2]
			dw := make([]float32, len(c.Weight))
			db := make([]float32, len(c.Bias))
			dx := make([]float32, len(x))
			ConvBackward(c, x, rr, in, batch, dw, db, dx, make([]float32, k), make([]float32, k))
			checkGrad(t, "weight", c.Weight, dw, loss, 1e-2, 1e-3)
			checkGrad(t, "bias", c.Bias, db, loss, 1e-2, 1e-3)
			checkGrad(t, "input", x, dx, loss, 1e-2, 1e-3)

			// Without dx the parameter gradients are the same, accumulated.
			dw2 := append([]float32(nil), dw...)
			ConvBackward(c, x, rr, in, batch, dw2, make([]float32, len(db)), nil, make([]float32, k), nil)
			for i := range dw {
				if d := dw2[i] - 2*dw[i]; math.Abs(float64(d)) > 1e-4 {
					t.Fatalf("weight gradient does not accumulate: %v vs 2×%v", dw2[i], dw[i])
				}
			}
		})
	}
}

// Col2im must be the adjoint of Im2col: <im2col(x), c> = <x, col2im(c)>.
func TestCol2imAdjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []*network.Conv2d{
		{InC: 2, OutC: 1, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1},
		{InC: 1, OutC: 1, KH: 5, KW: 2, StrideH: 2, StrideW: 3, PadH: 2, PadW: 4},
		{InC: 3, OutC: 1, KH: 2, KW: 2, StrideH: 2, StrideW: 2, PadH: 0, PadW: 0},
	} {
		in := network.Shape{c.InC, 9, 8}
		out, err := c.OutShape(in)
		if err != nil {
			t.Fatal(err)
		}
		k := c.InC * c.KH * c.KW * out[1] * out[2]
		x := randVec(r, in.Size(), 1)
		cv := randVec(r, k, 1)
		cols := make([]float32, k)
		c.Im2col(cols, x, in, out[1], out[2])
		dx := randVec(r, in.Size(), 1) // Col2im must overwrite it
		Col2im(c, dx, cv, in, out[1], out[2])
		a, b := dot64(cols, cv), dot64(x, dx)
		if math.Abs(a-b) > 1e-4*math.Max(1, math.Abs(a)) {
			t.Errorf("%+v: <im2col x, c> = %v, <x, col2im c> = %v", *c, a, b)
		}
	}
}

func TestGradLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	l := &network.Linear{LayerName: "fc", In: 13, Out: 7, Weight: randVec(r, 13*7, 0.5), Bias: randVec(r, 7, 0.5)}
	const batch = 3
	x := randVec(r, batch*13, 1)
	rr := randVec(r, batch*7, 1)
	y := make([]float32, len(rr))
	loss := func() float64 {
		l.Forward(y, x, batch)
		return dot64(y, rr)
	}
	dw := make([]float32, len(l.Weight))
	db := make([]float32, len(l.Bias))
	dx := make([]float32, len(x))
	LinearBackward(l, x, rr, batch, dw, db, dx)
	checkGrad(t, "weight", l.Weight, dw, loss, 1e-2, 1e-3)
	checkGrad(t, "bias", l.Bias, db, loss, 1e-2, 1e-3)
	checkGrad(t, "input", x, dx, loss, 1e-2, 1e-3)
}

func TestGradAvgPool2d(t *testing.T) {
	for _, p := range []*network.AvgPool2d{
		{KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{KH: 3, KW: 2, StrideH: 2, StrideW: 1}, // overlapping windows
		{KH: 2, KW: 3, StrideH: 3, StrideW: 3}, // gaps, floor mode
	} {
		r := rand.New(rand.NewPCG(7, 8))
		in := network.Shape{2, 7, 8}
		out, err := p.OutShape(in)
		if err != nil {
			t.Fatal(err)
		}
		const batch = 2
		x := randVec(r, batch*in.Size(), 1)
		rr := randVec(r, batch*out.Size(), 1)
		y := make([]float32, len(rr))
		loss := func() float64 {
			p.Forward(y, x, in, batch)
			return dot64(y, rr)
		}
		dx := randVec(r, len(x), 1) // must be overwritten
		AvgPoolBackward(p, dx, rr, in, batch)
		checkGrad(t, fmt.Sprintf("avgpool %+v input", *p), x, dx, loss, 1e-2, 1e-3)
	}
}

func TestGradReLU(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := randVec(r, 50, 1)
	for i, v := range x { // keep away from the kink
		if math.Abs(float64(v)) < 0.05 {
			x[i] = 0.5
		}
	}
	rr := randVec(r, len(x), 1)
	y := make([]float32, len(x))
	loss := func() float64 {
		for i, v := range x {
			y[i] = max(v, 0)
		}
		return dot64(y, rr)
	}
	loss()
	g := append([]float32(nil), rr...)
	ReLUBackward(g, y)
	checkGrad(t, "relu input", x, g, loss, 1e-3, 1e-3)
}

func TestGradSoftmaxCrossEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const batch, k = 4, 10
	z := randVec(r, batch*k, 3)
	labels := []int{3, 0, 9, 3}
	dz := make([]float32, len(z))
	loss := func() float64 {
		l, _ := SoftmaxCrossEntropy(make([]float32, len(z)), z, labels, k, 1)
		return l / batch
	}
	l, _ := SoftmaxCrossEntropy(dz, z, labels, k, 1.0/batch)
	// Check the loss itself against a direct float64 formula.
	var want float64
	for b, y := range labels {
		var s float64
		for _, v := range z[b*k : (b+1)*k] {
			s += math.Exp(float64(v))
		}
		want += math.Log(s) - float64(z[b*k+y])
	}
	if math.Abs(l-want) > 1e-9*math.Abs(want) {
		t.Errorf("loss %v, want %v", l, want)
	}
	checkGrad(t, "logits", z, dz, loss, 1e-3, 1e-3)
}

// The whole backward pass of a small network with every layer type
// (strided, padded, non-square convolutions, pooling, flatten, two linear
// layers) against finite differences of the mean cross-entropy.
func TestGradNetwork(t *testing.T) {
	arch, err := ParseLayers("conv3k3s2p1,relu,pool2s1,conv4k2p1,relu,flatten,fc6,relu,fc3", []int{2, 9, 8})
	if err != nil {
		t.Fatal(err)
	}
	net, err := Build(arch, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range net.Layers { // make the biases nonzero and the ReLUs mixed
		switch l := l.(type) {
		case *network.Conv2d:
			for i := range l.Bias {
				l.Bias[i] += 0.05
			}
		case *network.Linear:
			for i := range l.Bias {
				l.Bias[i] += 0.05
			}
		}
	}
	m, err := newModel(net, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkModelGrad(t, m, randomData(rand.New(rand.NewPCG(13, 14)), 3, net.Input, 3), 3, 2e-2)
}

// randomData is n random samples of shape sh with labels below classes.
func randomData(r *rand.Rand, n int, sh network.Shape, classes int) Dataset {
	d := Dataset{Images: randVec(r, n*sh.Size(), 1), Shape: sh}
	for range n {
		d.Labels = append(d.Labels, r.IntN(classes))
	}
	return d
}

// checkModelGrad compares the gradient of the mean training loss of all of
// d, computed by the stepper in shards of shard samples (so BatchNorms
// reduce their statistics across shards), with central differences of that
// loss, for every parameter of m.
func checkModelGrad(t *testing.T, m *model, d Dataset, shard int, tol float64) {
	t.Helper()
	n := d.Len()
	st := newStepper(m, Config{BatchSize: n, ShardSize: shard, Workers: 2}.WithDefaults())
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	st.gradient(d, idx)
	grad := append([]float32(nil), st.grads[0]...)
	loss := func() float64 {
		l, _ := st.gradient(d, idx)
		return l / float64(n)
	}
	for i, l := range m.g.Layers {
		if m.ranges[i].wn == 0 {
			continue
		}
		w, b := m.slices(m.params, i)
		gw, gb := m.slices(grad, i)
		// eps small enough that few ReLUs flip; a flip shows as a large
		// error at one element.
		checkGrad(t, l.Name()+" weight", w, gw, loss, 1e-3, tol)
		checkGrad(t, l.Name()+" bias", b, gb, loss, 1e-3, tol)
	}
}

// The package's own forward kernels give exactly network's results.
func TestForwardMatchesNetwork(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, spec := range []string{DefaultArchitectureSpec, "conv3k3s2p1,relu,pool2s1,conv4k2p1,relu,flatten,fc6,relu,fc3", "conv5k4s3p2,relu,flatten,fc300,relu,fc70",
		"conv4k3p1,relu,maxpool3s2p1,conv6k3,relu,maxpool2,gap,flatten,fc5"} {
		arch, err := ParseLayers(spec, []int{2, 28, 28})
		if err != nil {
			t.Fatal(err)
		}
		net, err := Build(arch, 3)
		if err != nil {
			t.Fatal(err)
		}
		const n = 5
		x := randVec(r, n*net.Input.Size(), 1)
		act, err := net.Forward(x, n)
		if err != nil {
			t.Fatal(err)
		}
		m, err := newModel(net, nil)
		if err != nil {
			t.Fatal(err)
		}
		s := m.newScratch(n, false)
		copy(s.x, x)
		m.forward(s, n)
		exact := true
		for i := range net.Layers {
			if net.Layers[i].Kind() == network.KindLinear {
				exact = false
			}
			for j, v := range act.Output[i] {
				// Up to the first Linear the outputs match exactly; a
				// Linear may differ in rounding (gonum blocks its dot
				// products on its parallel path).
				if d := math.Abs(float64(s.outs[i][j] - v)); d > 1e-5*math.Max(1, math.Abs(float64(v))) ||
					(exact && d != 0) {
					t.Fatalf("%s: layer %d value %d: %v, network.Forward %v", spec, i, j, s.outs[i][j], v)
				}
			}
		}
	}
}
