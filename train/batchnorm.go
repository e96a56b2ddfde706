package train

import (
	"fmt"
	"math"

	"github.com/evsnn/evsnn/network"
)

// BatchNorm constants, PyTorch's defaults.
const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

// kindBatchNorm is the Kind of the training graph's BatchNorm nodes. No
// exported network holds one.
const kindBatchNorm network.Kind = "batchnorm"

// batchNorm is BatchNorm2d (on [C,H,W], statistics per channel over the
// batch and the plane) or BatchNorm1d (on [F], per feature over the batch)
// as a node of the training graph. It implements network.Layer so that the
// training graph is a network.Network (shapes, inputs, consumers), but it
// never leaves the package: the exported network folds it into the Conv2d
// or Linear before it (SPEC §1).
//
// In training mode a step normalises with the statistics of its whole
// mini-batch, which the shards compute together (see stepper): the mean
// first, then the mean squared deviation from it, each as per-shard float64
// sums added in shard order. In eval mode it uses the running statistics,
// updated after every training step as PyTorch does: r ← (1−m)·r + m·s,
// momentum m = 0.1, with the unbiased batch variance.
type batchNorm struct {
	LayerName string
	C         int
	// Gamma and Beta are parameters (trained); Mean and Var the running
	// statistics (buffers, saved in checkpoints).
	Gamma, Beta []float32
	Mean, Var   []float32

	// The current step's statistics, written between parallel phases:
	// the batch mean (float64 and float32), 1/sqrt(var+ε), the number of
	// values per channel, and for the backward pass Σdy/N and Σdy·x̂/N.
	mean64  []float64
	mu, inv []float32
	count   int
	k1, k2  []float32
	// Eval mode: y = x·ea + eb, from the running statistics (prepareEval).
	ea, eb []float32
}

func newBatchNorm(name string, c int) *batchNorm {
	bn := &batchNorm{LayerName: name, C: c,
		Gamma: make([]float32, c), Beta: make([]float32, c), Mean: make([]float32, c), Var: make([]float32, c),
		mean64: make([]float64, c), mu: make([]float32, c), inv: make([]float32, c),
		k1: make([]float32, c), k2: make([]float32, c), ea: make([]float32, c), eb: make([]float32, c)}
	for i := range c {
		bn.Gamma[i], bn.Var[i] = 1, 1
	}
	return bn
}

// Kind implements network.Layer.
func (bn *batchNorm) Kind() network.Kind { return kindBatchNorm }

// Name implements network.Layer.
func (bn *batchNorm) Name() string { return bn.LayerName }

// OutShape implements network.Layer: [C,H,W] or [C].
func (bn *batchNorm) OutShape(in network.Shape) (network.Shape, error) {
	if (len(in) != 3 && len(in) != 1) || in[0] != bn.C {
		return nil, fmt.Errorf("batchnorm %q: input %v, want [%d,H,W] or [%d]", bn.LayerName, in, bn.C, bn.C)
	}
	return in.Clone(), nil
}

// NumParams implements network.Layer.
func (bn *batchNorm) NumParams() int { return 2 * bn.C }

// MACs implements network.Layer.
func (bn *batchNorm) MACs(in network.Shape) int { return in.Size() }

// foldScale is γ/sqrt(var+ε) of channel c in float64, the factor SPEC §1
// folds into the weights.
func (bn *batchNorm) foldScale(c int) float64 {
	return float64(bn.Gamma[c]) / math.Sqrt(float64(bn.Var[c])+bnEps)
}

// prepareEval computes the eval-mode affine map from the running
// statistics.
func (bn *batchNorm) prepareEval() {
	for c := range bn.C {
		s := bn.foldScale(c)
		bn.ea[c] = float32(s)
		bn.eb[c] = float32(float64(bn.Beta[c]) - float64(float64(bn.Mean[c])*s))
	}
}

// The kernels below work on n samples of C channels of plane values each
// (plane = H·W, or 1 for BatchNorm1d). Explicit conversions round every
// product, so that no build fuses them into FMAs.

// bnSums adds Σx per channel to sum.
func bnSums(sum []float64, x []float32, n, c, plane int) {
	for b := range n {
		for ch := range c {
			var s float64
			for _, v := range x[(b*c+ch)*plane : (b*c+ch+1)*plane] {
				s += float64(v)
			}
			sum[ch] += s
		}
	}
}

// bnSqDev adds Σ(x−mean)² per channel to sum.
func bnSqDev(sum []float64, x []float32, mean []float64, n, c, plane int) {
	for b := range n {
		for ch := range c {
			m := mean[ch]
			var s float64
			for _, v := range x[(b*c+ch)*plane : (b*c+ch+1)*plane] {
				d := float64(v) - m
				s += float64(d * d)
			}
			sum[ch] += s
		}
	}
}

// trainForward writes y = γ·x̂ + β, x̂ = (x−μ)·inv, with the batch
// statistics.
func (bn *batchNorm) trainForward(y, x []float32, n, plane int) {
	c := bn.C
	for b := range n {
		for ch := range c {
			mu, inv, g, be := bn.mu[ch], bn.inv[ch], bn.Gamma[ch], bn.Beta[ch]
			off := (b*c + ch) * plane
			yy := y[off : off+plane]
			for i, v := range x[off : off+plane] {
				xh := float32(v-mu) * inv
				yy[i] = float32(g*xh) + be
			}
		}
	}
}

// evalForward writes y = x·ea + eb.
func (bn *batchNorm) evalForward(y, x []float32, n, plane int) {
	c := bn.C
	for b := range n {
		for ch := range c {
			a, e := bn.ea[ch], bn.eb[ch]
			off := (b*c + ch) * plane
			yy := y[off : off+plane]
			for i, v := range x[off : off+plane] {
				yy[i] = float32(v*a) + e
			}
		}
	}
}

// gradSums adds Σdy to sdy and Σdy·x̂ to sdyx, per channel.
func (bn *batchNorm) gradSums(sdy, sdyx []float64, dy, x []float32, n, plane int) {
	c := bn.C
	for b := range n {
		for ch := range c {
			mu, inv := bn.mu[ch], bn.inv[ch]
			off := (b*c + ch) * plane
			var s, sx float64
			g := dy[off : off+plane]
			for i, v := range x[off : off+plane] {
				xh := float32(v-mu) * inv
				s += float64(g[i])
				sx += float64(float64(g[i]) * float64(xh))
			}
			sdy[ch] += s
			sdyx[ch] += sx
		}
	}
}

// trainBackward writes the input gradient of the training-mode BatchNorm,
// dx = γ·inv·(dy − Σdy/N − x̂·Σ(dy·x̂)/N), from the batch sums in k1, k2.
func (bn *batchNorm) trainBackward(dx, dy, x []float32, n, plane int) {
	c := bn.C
	for b := range n {
		for ch := range c {
			mu, inv, k1, k2 := bn.mu[ch], bn.inv[ch], bn.k1[ch], bn.k2[ch]
			s := bn.Gamma[ch] * inv
			off := (b*c + ch) * plane
			g := dy[off : off+plane]
			d := dx[off : off+plane]
			for i, v := range x[off : off+plane] {
				xh := float32(v-mu) * inv
				d[i] = s * (float32(g[i]-k1) - float32(xh*k2))
			}
		}
	}
}

// setMean finishes the first pass: the batch mean from the shards' sums,
// added in shard order.
func (bn *batchNorm) setMean(sums [][]float64, count int) {
	bn.count = count
	for ch := range bn.C {
		var s float64
		for _, p := range sums {
			s += p[ch]
		}
		bn.mean64[ch] = s / float64(count)
		bn.mu[ch] = float32(bn.mean64[ch])
	}
}

// setVar finishes the second pass: the biased batch variance normalises,
// the unbiased one goes into the running variance.
func (bn *batchNorm) setVar(sums [][]float64) {
	n := float64(bn.count)
	for ch := range bn.C {
		var s float64
		for _, p := range sums {
			s += p[ch]
		}
		v := s / n
		bn.inv[ch] = float32(1 / math.Sqrt(v+bnEps))
		unbiased := v * n / (n - 1)
		bn.Mean[ch] = float32(float64((1-bnMomentum)*float64(bn.Mean[ch])) + float64(bnMomentum*bn.mean64[ch]))
		bn.Var[ch] = float32(float64((1-bnMomentum)*float64(bn.Var[ch])) + float64(bnMomentum*unbiased))
	}
}

// setGrad finishes the backward reduction: dβ = Σdy and dγ = Σdy·x̂ go to
// the parameter gradients, Σdy/N and Σdy·x̂/N to k1, k2.
func (bn *batchNorm) setGrad(sums [][]float64, dgamma, dbeta []float32) {
	n := float64(bn.count)
	c := bn.C
	for ch := range c {
		var s, sx float64
		for _, p := range sums {
			s += p[ch]
			sx += p[c+ch]
		}
		dbeta[ch] += float32(s)
		dgamma[ch] += float32(sx)
		bn.k1[ch] = float32(s / n)
		bn.k2[ch] = float32(sx / n)
	}
}
