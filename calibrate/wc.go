package calibrate

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/evsnn/evsnn/network"
)

// weightCalibrate trains a copy of stage st's weighted layer (weights and,
// unless WCNoBias, bias) with Adam to minimise ||x − ŝ||² over mini-batches
// of the calibration set, where ŝ = θ/T·clip(floor((T·(W r + b) + v(0))/θ),
// 0, T) is the clip-floor rate of SPEC §2 and r the SNN's input rates
// (the previous layer's θ·count/T, pooled and flattened). floor passes the
// gradient straight through; clip passes it inside [0, T]. The learning
// rate is cosine-annealed to 0 as in Li et al.'s implementation; the
// batches are drawn from a generator seeded with (Seed, layer).
func (c *calibrator) weightCalibrate(k int, st *stage, p *params, in, x []float32) (network.Layer, *params, string) {
	opts := &c.opts
	T := opts.T
	count := c.count
	inSize := st.inShape.Size()
	var W, b []float32
	var layer network.Layer
	switch l := c.snn.Layers[st.weighted].(type) {
	case *network.Conv2d:
		cp := *l
		cp.Weight = append([]float32(nil), l.Weight...)
		cp.Bias = append([]float32(nil), p.bias...)
		W, b, layer = cp.Weight, cp.Bias, &cp
	case *network.Linear:
		cp := *l
		cp.Weight = append([]float32(nil), l.Weight...)
		cp.Bias = append([]float32(nil), p.bias...)
		W, b, layer = cp.Weight, cp.Bias, &cp
	}
	// v0[j] and θ per neuron for the surrogate.
	v0 := make([]float32, st.n)
	for j := range v0 {
		v0[j] = p.v0frac * p.theta[j/st.perCh]
		if p.v0 != nil {
			v0[j] += p.v0[j]
		}
	}
	batch := min(opts.WCBatch, count)
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(k)+0x5eed))
	perm := make([]int, count)
	for i := range perm {
		perm[i] = i
	}
	adamW, adamB := newAdam(len(W)), newAdam(len(b))
	gW := make([]float32, len(W))
	gB := make([]float32, len(b))
	z := make([]float32, batch*st.n)
	var firstLoss, lastLoss float64
	ft := float32(T)
	// Work items: groups of samples with their own gradient buffers,
	// summed in a fixed order so the result does not depend on Workers.
	const group = 4
	ngroups := (batch + group - 1) / group
	partW := make([][]float32, ngroups)
	partB := make([][]float32, ngroups)
	for g := range partW {
		partW[g] = make([]float32, len(W))
		partB[g] = make([]float32, len(b))
	}
	idx := make([]int, batch)
	colsBufs := make([][]float32, ngroups)
	if l, ok := layer.(*network.Conv2d); ok {
		for g := range colsBufs {
			colsBufs[g] = make([]float32, l.InC*l.KH*l.KW*st.perCh)
		}
	}
	for it := 0; it < opts.WCIters; it++ {
		// Partial Fisher–Yates: batch distinct images.
		for i := 0; i < batch; i++ {
			j := i + rng.IntN(count-i)
			perm[i], perm[j] = perm[j], perm[i]
			idx[i] = perm[i]
		}
		losses := make([]float64, ngroups)
		parallel(opts.Workers, ngroups, func(g int) {
			lo, hi := g*group, min((g+1)*group, batch)
			pw, pb := partW[g], partB[g]
			clear(pw)
			clear(pb)
			var loss float64
			for s := lo; s < hi; s++ {
				i := idx[s]
				r := in[i*inSize : (i+1)*inSize]
				zs := z[s*st.n : (s+1)*st.n]
				xs := x[i*st.n : (i+1)*st.n]
				var cols []float32
				switch l := layer.(type) {
				case *network.Conv2d:
					cols = convForwardCols(l, zs, r, st, colsBufs[g])
				case *network.Linear:
					l.Forward(zs, r, 1)
				}
				// zs becomes dL/dz in place.
				for j := range zs {
					th := p.theta[j/st.perCh]
					q := (ft*zs[j] + v0[j]) / th
					y := th / ft * float32(math.Floor(float64(max(0, min(ft, q)))))
					e := y - xs[j]
					loss += float64(e) * float64(e)
					if q >= 0 && q <= ft {
						zs[j] = 2 * e / float32(batch)
					} else {
						zs[j] = 0
					}
				}
				switch l := layer.(type) {
				case *network.Conv2d:
					npos := st.perCh
					kk := l.InC * l.KH * l.KW
					blas32.Gemm(blas.NoTrans, blas.Trans, 1,
						blas32.General{Rows: l.OutC, Cols: npos, Stride: npos, Data: zs},
						blas32.General{Rows: kk, Cols: npos, Stride: npos, Data: cols}, 1,
						blas32.General{Rows: l.OutC, Cols: kk, Stride: kk, Data: pw})
					for o := 0; o < l.OutC; o++ {
						var s float32
						for _, v := range zs[o*npos : (o+1)*npos] {
							s += v
						}
						pb[o] += s
					}
				case *network.Linear:
					blas32.Ger(1, blas32.Vector{N: l.Out, Inc: 1, Data: zs}, blas32.Vector{N: l.In, Inc: 1, Data: r},
						blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: pw})
					for o, v := range zs {
						pb[o] += v
					}
				}
			}
			losses[g] = loss
		})
		clear(gW)
		clear(gB)
		var loss float64
		for g := 0; g < ngroups; g++ {
			for i, v := range partW[g] {
				gW[i] += v
			}
			for i, v := range partB[g] {
				gB[i] += v
			}
			loss += losses[g]
		}
		loss /= float64(batch)
		if it == 0 {
			firstLoss = loss
		}
		lastLoss = loss
		lr := opts.WCLR * 0.5 * (1 + math.Cos(math.Pi*float64(it)/float64(opts.WCIters)))
		adamW.step(W, gW, lr)
		if !opts.WCNoBias {
			adamB.step(b, gB, lr)
		}
	}
	q := p.clone()
	copy(q.bias, b)
	detail := fmt.Sprintf("Adam, %d iterations, lr %g, batch %d, seed %d: surrogate loss %.4g → %.4g", opts.WCIters, opts.WCLR, batch, opts.Seed, firstLoss, lastLoss)
	return layer, q, detail
}

// convForwardCols computes z = W·r + b for one sample and returns the
// im2col patch matrix it used, written into cols.
func convForwardCols(l *network.Conv2d, z, r []float32, st *stage, cols []float32) []float32 {
	oh, ow := st.shape[1], st.shape[2]
	npos := oh * ow
	kk := l.InC * l.KH * l.KW
	cols = cols[:kk*npos]
	l.Im2col(cols, r, st.inShape, oh, ow)
	for o := 0; o < l.OutC; o++ {
		row := z[o*npos : (o+1)*npos]
		for i := range row {
			row[i] = l.Bias[o]
		}
	}
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas32.General{Rows: l.OutC, Cols: kk, Stride: kk, Data: l.Weight},
		blas32.General{Rows: kk, Cols: npos, Stride: npos, Data: cols}, 1,
		blas32.General{Rows: l.OutC, Cols: npos, Stride: npos, Data: z})
	return cols
}

// adam is the Adam optimiser (Kingma & Ba) with PyTorch's defaults:
// β1 = 0.9, β2 = 0.999, ε = 1e-8, no weight decay.
type adam struct {
	m, v []float32
	t    int
}

func newAdam(n int) *adam { return &adam{m: make([]float32, n), v: make([]float32, n)} }

func (a *adam) step(w, g []float32, lr float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	a.t++
	c1 := 1 - math.Pow(b1, float64(a.t))
	c2 := 1 - math.Pow(b2, float64(a.t))
	step := float32(lr / c1)
	sc2 := float32(math.Sqrt(c2))
	for i, gi := range g {
		a.m[i] = b1*a.m[i] + (1-b1)*gi
		a.v[i] = b2*a.v[i] + (1-b2)*gi*gi
		w[i] -= step * a.m[i] / (float32(math.Sqrt(float64(a.v[i])))/sc2 + eps)
	}
}
