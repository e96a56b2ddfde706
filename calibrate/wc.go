package calibrate

import (
	"fmt"
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/evsnn/evsnn/network"
)

// wcLayer is one weighted layer weight calibration trains: a copy of the
// network's, its input rates and its gradient buffers.
type wcLayer struct {
	proj  int // index in stage.projs
	conv  *network.Conv2d
	lin   *network.Linear
	w     []float32 // the copy's weights, trained in place
	zeros []int     // with WCKeepZeros: the weights held at zero
	in    []float32 // images × inSize input rates
	size  int       // inSize
	adam  *adam
	grad  []float32
	parts [][]float32 // per work group
	cols  [][]float32 // per work group: im2col buffers of a convolution
}

// weightCalibrate trains copies of stage st's weighted layers — every
// Conv2d or Linear whose output reaches the layer: the one before it or,
// after an Add, the weighted layers of all branches (a residual block's
// second conv and its 1×1 shortcut conv together) — and, unless WCNoBias,
// the layer's bias, with Adam, to minimise ||x − ŝ||² over mini-batches of
// the calibration set. ŝ = θ/T·clip(floor((T·z + v(0))/θ), 0, T) is the
// clip-floor rate of SPEC §2, z = Σ_p W_p r_p + b + the identity
// branches' rates, r_p the SNN's input rates of each projection (its
// source's θ·count/T after the path's pools). floor passes the gradient
// straight through; clip passes it inside [0, T]. The learning rate is
// cosine-annealed to 0 as in Li et al.'s implementation; the batches are
// drawn from a generator seeded with (Seed, layer). ins[j] holds the rates
// of projection j. It returns the trained layers by projection (nil for
// identity paths) and the parameters with the trained bias.
func (c *calibrator) weightCalibrate(k int, st *stage, p *params, ins [][]float32, x []float32) ([]network.Layer, *params, string) {
	opts := &c.opts
	T := opts.T
	count := c.sub.fit // the images it is fitted to
	n := st.n
	batch := min(opts.WCBatch, count)
	// Work items: groups of samples with their own gradient buffers,
	// summed in a fixed order so the result does not depend on Workers.
	const group = 4
	ngroups := (batch + group - 1) / group
	layers := make([]network.Layer, len(st.projs))
	var wl []*wcLayer
	// resid is what the identity branches add: fixed during training.
	var resid []float32
	trained := 0
	for j := range st.projs {
		pj := &st.projs[j]
		fixed := pj.weighted < 0 || (c.opts.study.wcFirstOnly && trained > 0)
		if fixed {
			if resid == nil {
				resid = make([]float32, count*n)
			}
			out := ins[j][:count*pj.inShape.Size()]
			if pj.weighted >= 0 {
				f, _ := zeroBiasForward(c.snn.Layers[pj.weighted], pj.inShape)
				out = make([]float32, count*n)
				var ws network.Workspace
				f(out, ins[j], count, &ws)
			}
			addTo(resid, out)
			continue
		}
		trained++
		l := &wcLayer{proj: j, in: ins[j], size: pj.inShape.Size()}
		switch orig := c.snn.Layers[pj.weighted].(type) {
		case *network.Conv2d:
			cp := *orig
			cp.Weight = append([]float32(nil), orig.Weight...)
			cp.Bias = make([]float32, cp.OutC) // the stage's bias is trained separately
			l.conv, l.w, layers[j] = &cp, cp.Weight, &cp
		case *network.Linear:
			cp := *orig
			cp.Weight = append([]float32(nil), orig.Weight...)
			cp.Bias = make([]float32, cp.Out)
			l.lin, l.w, layers[j] = &cp, cp.Weight, &cp
		}
		if opts.WCKeepZeros {
			for i, v := range l.w {
				if v == 0 {
					l.zeros = append(l.zeros, i)
				}
			}
		}
		l.adam, l.grad = newAdam(len(l.w)), make([]float32, len(l.w))
		l.parts = make([][]float32, ngroups)
		l.cols = make([][]float32, ngroups)
		for g := range l.parts {
			l.parts[g] = make([]float32, len(l.w))
			if l.conv != nil {
				l.cols[g] = make([]float32, l.conv.InC*l.conv.KH*l.conv.KW*st.perCh)
			}
		}
		wl = append(wl, l)
	}
	b := append([]float32(nil), p.bias...)
	// v0[j] and θ per neuron for the surrogate.
	v0 := make([]float32, n)
	for j := range v0 {
		v0[j] = p.v0frac * p.theta[j/st.perCh]
		if p.v0 != nil {
			v0[j] += p.v0[j]
		}
	}
	rng := rand.New(rand.NewPCG(opts.Seed, uint64(k)+0x5eed))
	perm := make([]int, count)
	for i := range perm {
		perm[i] = i
	}
	adamB := newAdam(len(b))
	gB := make([]float32, len(b))
	partB := make([][]float32, ngroups)
	for g := range partB {
		partB[g] = make([]float32, len(b))
	}
	z := make([]float32, batch*n)
	idx := make([]int, batch)
	losses := make([]float64, ngroups)
	var firstLoss, lastLoss float64
	ft := float32(T)
	for it := 0; it < opts.WCIters; it++ {
		// Partial Fisher–Yates: batch distinct images.
		for i := 0; i < batch; i++ {
			j := i + rng.IntN(count-i)
			perm[i], perm[j] = perm[j], perm[i]
			idx[i] = perm[i]
		}
		parallel(opts.Workers, ngroups, func(g int) {
			lo, hi := g*group, min((g+1)*group, batch)
			pb := partB[g]
			clear(pb)
			for _, l := range wl {
				clear(l.parts[g])
			}
			var loss float64
			for s := lo; s < hi; s++ {
				i := idx[s]
				zs := z[s*n : (s+1)*n]
				for ch := 0; ch < st.channels; ch++ {
					row := zs[ch*st.perCh : (ch+1)*st.perCh]
					for j := range row {
						row[j] = b[ch]
					}
				}
				if resid != nil {
					addTo(zs, resid[i*n:(i+1)*n])
				}
				for _, l := range wl {
					r := l.in[i*l.size : (i+1)*l.size]
					if l.conv != nil {
						convAccumulate(l.conv, zs, r, st.projs[l.proj].inShape, st.shape, l.cols[g])
					} else {
						blas32.Gemv(blas.NoTrans, 1, blas32.General{Rows: l.lin.Out, Cols: l.lin.In, Stride: l.lin.In, Data: l.w},
							blas32.Vector{N: l.lin.In, Inc: 1, Data: r}, 1, blas32.Vector{N: n, Inc: 1, Data: zs})
					}
				}
				// zs becomes dL/dz in place.
				xs := x[i*n : (i+1)*n]
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
				for ch := 0; ch < st.channels; ch++ {
					var sum float32
					for _, v := range zs[ch*st.perCh : (ch+1)*st.perCh] {
						sum += v
					}
					pb[ch] += sum
				}
				for _, l := range wl {
					if l.conv != nil {
						kk := l.conv.InC * l.conv.KH * l.conv.KW
						blas32.Gemm(blas.NoTrans, blas.Trans, 1,
							blas32.General{Rows: l.conv.OutC, Cols: st.perCh, Stride: st.perCh, Data: zs},
							blas32.General{Rows: kk, Cols: st.perCh, Stride: st.perCh, Data: l.cols[g]}, 1,
							blas32.General{Rows: l.conv.OutC, Cols: kk, Stride: kk, Data: l.parts[g]})
					} else {
						r := l.in[i*l.size : (i+1)*l.size]
						blas32.Ger(1, blas32.Vector{N: l.lin.Out, Inc: 1, Data: zs}, blas32.Vector{N: l.lin.In, Inc: 1, Data: r},
							blas32.General{Rows: l.lin.Out, Cols: l.lin.In, Stride: l.lin.In, Data: l.parts[g]})
					}
				}
			}
			losses[g] = loss
		})
		var loss float64
		for g := 0; g < ngroups; g++ {
			loss += losses[g]
		}
		loss /= float64(batch)
		if it == 0 {
			firstLoss = loss
		}
		lastLoss = loss
		lr := opts.WCLR * 0.5 * (1 + math.Cos(math.Pi*float64(it)/float64(opts.WCIters)))
		for _, l := range wl {
			clear(l.grad)
			for g := 0; g < ngroups; g++ {
				addTo(l.grad, l.parts[g])
			}
			for _, i := range l.zeros {
				l.grad[i] = 0 // Adam's moments stay 0, so does the weight
			}
			l.adam.step(l.w, l.grad, lr)
		}
		if !opts.WCNoBias {
			clear(gB)
			for g := 0; g < ngroups; g++ {
				addTo(gB, partB[g])
			}
			adamB.step(b, gB, lr)
		}
	}
	q := p.clone()
	copy(q.bias, b)
	// The trained layers carry the network's biases; the stage's trained
	// bias is written back by setStageBias.
	for _, l := range wl {
		copy(biasOf(layers[l.proj]), biasOf(c.snn.Layers[st.projs[l.proj].weighted]))
	}
	names := ""
	for i, l := range wl {
		if i > 0 {
			names += "+"
		}
		names += c.snn.Layers[st.projs[l.proj].weighted].Name()
	}
	detail := fmt.Sprintf("Adam on %s, %d iterations, lr %g, batch %d, seed %d: surrogate loss %.4g → %.4g", names, opts.WCIters, opts.WCLR, batch, opts.Seed, firstLoss, lastLoss)
	return layers, q, detail
}

// convAccumulate adds W·r (no bias) of one sample to z and leaves the
// im2col patch matrix it used in cols.
func convAccumulate(l *network.Conv2d, z, r []float32, in, out network.Shape, cols []float32) {
	oh, ow := out[1], out[2]
	npos := oh * ow
	kk := l.InC * l.KH * l.KW
	cols = cols[:kk*npos]
	l.Im2col(cols, r, in, oh, ow)
	blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
		blas32.General{Rows: l.OutC, Cols: kk, Stride: kk, Data: l.Weight},
		blas32.General{Rows: kk, Cols: npos, Stride: npos, Data: cols}, 1,
		blas32.General{Rows: l.OutC, Cols: npos, Stride: npos, Data: z})
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
