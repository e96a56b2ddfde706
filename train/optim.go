package train

import (
	"fmt"
	"math"
)

// Optimizer names.
const (
	Adam = "adam"
	SGD  = "sgd"
)

// Schedule names.
const (
	// Cosine decays the learning rate from LR to 0 over all steps of all
	// epochs: lr(t) = LR·(1+cos(π·t/total))/2, t = 0, 1, ...
	Cosine = "cosine"
	// Step multiplies the learning rate by Gamma every StepEpochs epochs.
	Step = "step"
	// Constant keeps LR.
	Constant = "constant"
)

// optimizer holds the per-parameter state of Adam (m, v) or SGD with
// momentum (buf in m).
type optimizer struct {
	kind        string
	beta1       float64
	beta2       float64
	eps         float64
	momentum    float64
	weightDecay float64
	m, v        []float32
}

func newOptimizer(cfg *Config, n int) (*optimizer, error) {
	o := &optimizer{kind: cfg.Optimizer, beta1: 0.9, beta2: 0.999, eps: 1e-8,
		momentum: cfg.Momentum, weightDecay: cfg.WeightDecay, m: make([]float32, n)}
	switch o.kind {
	case Adam:
		o.v = make([]float32, n)
	case SGD:
	default:
		return nil, fmt.Errorf("unknown optimizer %q (want adam or sgd)", cfg.Optimizer)
	}
	return o, nil
}

// state returns the tensors a checkpoint must keep.
func (o *optimizer) state() [][]float32 {
	if o.kind == Adam {
		return [][]float32{o.m, o.v}
	}
	return [][]float32{o.m}
}

// stepRange applies one update with learning rate lr to the parameters
// p[lo:hi] from the gradients g[lo:hi]; t is the 1-based number of this
// update (Adam's bias correction). It follows torch.optim.Adam and
// torch.optim.SGD (L2 weight decay added to the gradient; SGD's momentum
// buffer starts at the first gradient, as a zero buffer does).
func (o *optimizer) stepRange(p, g []float32, lo, hi int, lr float64, t int64) {
	p, g = p[lo:hi], g[lo:hi]
	wd := float32(o.weightDecay)
	switch o.kind {
	case Adam:
		b1, b2 := float32(o.beta1), float32(o.beta2)
		bc1 := 1 - math.Pow(o.beta1, float64(t))
		bc2 := 1 - math.Pow(o.beta2, float64(t))
		stepSize := float32(lr / bc1)
		rbc2 := float32(1 / math.Sqrt(bc2))
		eps := float32(o.eps)
		m, v := o.m[lo:hi], o.v[lo:hi]
		g = g[:len(p)]
		for i, gi := range g {
			if wd != 0 {
				gi += wd * p[i]
			}
			// Explicit float32 conversions round every product, so no
			// build (GOAMD64=v3 included) fuses them into FMAs.
			mi := float32(b1*m[i]) + float32((1-b1)*gi)
			vi := float32(b2*v[i]) + float32(float32((1-b2)*gi)*gi)
			m[i], v[i] = mi, vi
			denom := float32(sqrt32(vi)*rbc2) + eps
			p[i] -= float32(stepSize*mi) / denom
		}
	case SGD:
		mu := float32(o.momentum)
		lr32 := float32(lr)
		buf := o.m[lo:hi]
		g = g[:len(p)]
		for i, gi := range g {
			if wd != 0 {
				gi += float32(wd * p[i])
			}
			b := float32(mu*buf[i]) + gi
			buf[i] = b
			p[i] -= float32(lr32 * b)
		}
	}
}

func sqrt32(x float32) float32 { return float32(math.Sqrt(float64(x))) }

// learningRate is the schedule's rate for the 0-based global step t of
// total steps, in epoch (0-based).
func (c *Config) learningRate(t, total int64, epoch int) float64 {
	switch c.Schedule {
	case Cosine:
		if total <= 0 {
			return c.LR
		}
		return c.LR * 0.5 * (1 + math.Cos(math.Pi*float64(t)/float64(total)))
	case Step:
		return c.LR * math.Pow(c.Gamma, float64(epoch/c.StepEpochs))
	default:
		return c.LR
	}
}
