package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// distinct returns n values spaced 0.01 apart in random order, centred on
// 0: finite differences with eps 1e-3 never reorder them, so a max-pool
// check sees no ties.
func distinct(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i, p := range r.Perm(n) {
		v[i] = float32(p-n/2) * 0.01
	}
	return v
}

func TestGradMaxPool2d(t *testing.T) {
	for _, p := range []*network.MaxPool2d{
		{KH: 2, KW: 2, StrideH: 2, StrideW: 2},
		{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}, // overlapping, padded (ResNet's stem pool)
		{KH: 3, KW: 2, StrideH: 1, StrideW: 2},                   // overlapping rows
		{KH: 2, KW: 3, StrideH: 3, StrideW: 3, PadW: 1},          // gaps, floor mode
	} {
		t.Run(fmt.Sprintf("k%dx%d_s%dx%d_p%dx%d", p.KH, p.KW, p.StrideH, p.StrideW, p.PadH, p.PadW), func(t *testing.T) {
			r := rand.New(rand.NewPCG(21, 22))
			in := network.Shape{2, 7, 8}
			out, err := p.OutShape(in)
			if err != nil {
				t.Fatal(err)
			}
			const batch = 2
			x := distinct(r, batch*in.Size())
			rr := randVec(r, batch*out.Size(), 1)
			y := make([]float32, len(rr))
			loss := func() float64 {
				p.Forward(y, x, in, batch)
				return dot64(y, rr)
			}
			dx := randVec(r, len(x), 1) // must be overwritten
			MaxPoolBackward(p, dx, rr, x, in, batch)
			checkGrad(t, "maxpool input", x, dx, loss, 1e-3, 1e-3)
		})
	}
}

// On ties the gradient goes to the first maximum in row-major order, as
// PyTorch routes it; padding never takes it.
func TestMaxPoolBackwardTies(t *testing.T) {
	p := &network.MaxPool2d{KH: 2, KW: 2, StrideH: 2, StrideW: 2}
	in := network.Shape{1, 2, 4}
	x := []float32{
		0, 0, 1, 3,
		0, 0, 3, 3,
	}
	dx := make([]float32, 8)
	MaxPoolBackward(p, dx, []float32{5, 7}, x, in, 1)
	want := []float32{5, 0, 0, 7, 0, 0, 0, 0}
	for i := range want {
		if dx[i] != want[i] {
			t.Fatalf("gradient %v, want %v", dx, want)
		}
	}
	// A padded window whose real inputs are all negative: a real input
	// gets the gradient, not the padding.
	p = &network.MaxPool2d{KH: 3, KW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}
	x = []float32{-4, -2, -3, -1}
	dx = make([]float32, 4)
	MaxPoolBackward(p, dx, []float32{1}, x, network.Shape{1, 2, 2}, 1)
	if dx[3] != 1 || dx[0]+dx[1]+dx[2] != 0 {
		t.Errorf("gradient %v, want it at the maximum -1", dx)
	}
}

func TestGradGlobalAvgPool(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	g := &network.GlobalAvgPool{}
	in := network.Shape{3, 5, 7}
	const batch = 2
	x := randVec(r, batch*in.Size(), 1)
	rr := randVec(r, batch*3, 1)
	y := make([]float32, len(rr))
	loss := func() float64 {
		g.Forward(y, x, in, batch)
		return dot64(y, rr)
	}
	dx := randVec(r, len(x), 1)
	GlobalAvgPoolBackward(dx, rr, in, batch)
	checkGrad(t, "gap input", x, dx, loss, 1e-2, 1e-3)
}

// bnRun runs a training-mode BatchNorm on x (batch × [c, plane]) split into
// shards of shard samples, as the stepper does, and returns y; with dy
// it also returns dx and the parameter gradients.
func bnRun(bn *batchNorm, x []float32, batch, plane, shard int, dy []float32) (y, dx, dgamma, dbeta []float32) {
	c := bn.C
	size := c * plane
	var parts [][2]int
	for lo := 0; lo < batch; lo += shard {
		parts = append(parts, [2]int{lo, min(lo+shard, batch)})
	}
	sums := make([][]float64, len(parts))
	for j := range sums {
		sums[j] = make([]float64, 2*c)
	}
	for j, p := range parts {
		bnSums(sums[j], x[p[0]*size:p[1]*size], p[1]-p[0], c, plane)
	}
	bn.setMean(sums, batch*plane)
	for j, p := range parts {
		clear(sums[j])
		bnSqDev(sums[j], x[p[0]*size:p[1]*size], bn.mean64, p[1]-p[0], c, plane)
	}
	bn.setVar(sums)
	y = make([]float32, len(x))
	for _, p := range parts {
		bn.trainForward(y[p[0]*size:p[1]*size], x[p[0]*size:p[1]*size], p[1]-p[0], plane)
	}
	if dy == nil {
		return y, nil, nil, nil
	}
	for j, p := range parts {
		clear(sums[j])
		bn.gradSums(sums[j][:c], sums[j][c:], dy[p[0]*size:p[1]*size], x[p[0]*size:p[1]*size], p[1]-p[0], plane)
	}
	dgamma, dbeta = make([]float32, c), make([]float32, c)
	bn.setGrad(sums, dgamma, dbeta)
	dx = make([]float32, len(x))
	for _, p := range parts {
		bn.trainBackward(dx[p[0]*size:p[1]*size], dy[p[0]*size:p[1]*size], x[p[0]*size:p[1]*size], p[1]-p[0], plane)
	}
	return y, dx, dgamma, dbeta
}

// The training-mode BatchNorm (statistics over the whole batch, across
// shards) against finite differences, 2d and 1d.
func TestGradBatchNorm(t *testing.T) {
	for _, tc := range []struct{ c, plane, batch, shard int }{
		{3, 12, 5, 2}, // BatchNorm2d, three shards of 2, 2, 1
		{4, 1, 7, 3},  // BatchNorm1d
		{2, 6, 4, 16}, // one shard
	} {
		t.Run(fmt.Sprintf("c%d_plane%d_batch%d_shard%d", tc.c, tc.plane, tc.batch, tc.shard), func(t *testing.T) {
			r := rand.New(rand.NewPCG(25, 26))
			bn := newBatchNorm("bn", tc.c)
			copy(bn.Gamma, randVec(r, tc.c, 1))
			copy(bn.Beta, randVec(r, tc.c, 1))
			x := randVec(r, tc.batch*tc.c*tc.plane, 2)
			for i := range x {
				x[i] += float32(i%tc.c) * 0.5 // a different mean per channel
			}
			rr := randVec(r, len(x), 1)
			loss := func() float64 {
				y, _, _, _ := bnRun(bn, x, tc.batch, tc.plane, tc.shard, nil)
				return dot64(y, rr)
			}
			_, dx, dg, db := bnRun(bn, x, tc.batch, tc.plane, tc.shard, rr)
			checkGrad(t, "batchnorm input", x, dx, loss, 1e-2, 2e-3)
			checkGrad(t, "batchnorm gamma", bn.Gamma, dg, loss, 1e-2, 2e-3)
			checkGrad(t, "batchnorm beta", bn.Beta, db, loss, 1e-2, 2e-3)
		})
	}
}

// The output of a training-mode BatchNorm has, per channel over the whole
// batch, mean β and variance γ²·v/(v+ε); the running statistics move 10 %
// of the way to the batch mean and unbiased variance.
func TestBatchNormStatistics(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	const c, plane, batch = 3, 10, 7
	bn := newBatchNorm("bn", c)
	x := randVec(r, batch*c*plane, 3)
	for i := range x {
		x[i] += float32((i/plane)%c) - 1
	}
	y, _, _, _ := bnRun(bn, x, batch, plane, 3, nil)
	for ch := range c {
		var vals []float64
		for b := range batch {
			for i := range plane {
				vals = append(vals, float64(x[(b*c+ch)*plane+i]))
			}
		}
		mean, v := meanVar(vals)
		var outs []float64
		for b := range batch {
			for i := range plane {
				outs = append(outs, float64(y[(b*c+ch)*plane+i]))
			}
		}
		om, ov := meanVar(outs)
		if math.Abs(om) > 1e-6 || math.Abs(ov-v/(v+bnEps)) > 1e-5 {
			t.Errorf("channel %d: output mean %v variance %v, want 0 and %v", ch, om, ov, v/(v+bnEps))
		}
		n := float64(len(vals))
		if d := float64(bn.Mean[ch]) - 0.1*mean; math.Abs(d) > 1e-6 {
			t.Errorf("channel %d: running mean %v, want %v", ch, bn.Mean[ch], 0.1*mean)
		}
		if want := 0.9 + 0.1*v*n/(n-1); math.Abs(float64(bn.Var[ch])-want) > 1e-6 {
			t.Errorf("channel %d: running variance %v, want %v", ch, bn.Var[ch], want)
		}
	}
}

func meanVar(v []float64) (mean, variance float64) {
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	for _, x := range v {
		variance += (x - mean) * (x - mean)
	}
	return mean, variance / float64(len(v))
}

// The whole backward pass of residual networks with BatchNorm (training
// mode, statistics across three shards), MaxPool, identity and 1×1
// shortcuts, GlobalAvgPool and BatchNorm1d, against finite differences.
func TestGradResidualNetwork(t *testing.T) {
	for _, tc := range []struct {
		spec  string
		input []int
	}{
		{"conv4k3p1,bn,relu,maxpool2,res4,res6s2,gap,flatten,fc3", []int{2, 8, 8}},
		{"conv3k3s2p1,bn,relu,res5,maxpool3s2p1,flatten,fc6,bn,relu,fc3", []int{1, 9, 9}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			if testenv.RaceEnabled && tc.input[0] == 1 {
				t.Skip("one network is enough under the race detector")
			}
			a, err := ParseLayers(tc.spec, tc.input)
			if err != nil {
				t.Fatal(err)
			}
			tr, err := NewTrainer(a, 5, Config{})
			if err != nil {
				t.Fatal(err)
			}
			m := tr.m
			r := rand.New(rand.NewPCG(29, 30))
			for _, i := range m.bns { // γ and β away from their initial values
				bn := m.g.Layers[i].(*batchNorm)
				for c := range bn.C {
					bn.Gamma[c] = float32(0.5 + r.Float64())
					bn.Beta[c] = float32(r.Float64() - 0.3)
				}
			}
			checkModelGrad(t, m, randomData(r, 5, m.g.Input, 3), 2, 2e-2)
		})
	}
}
