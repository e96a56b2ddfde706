package profile

import (
	"fmt"
	"math"
	"math/big"

	"github.com/evsnn/evsnn/network"
)

// ErrorSums are the sums the conversion error of one spiking layer is
// computed from (LayerProfile: MSE, ||x−s̄||, ||x−s̄||/||x||, Pearson, the
// means), over a set of images.
//
// Each image contributes float64 sums over its neurons, in neuron order:
// Σx, Σs̄, Σ(x−s̄)², Σx², and its centred moments (Welford, within the
// image). Across images the sums are kept exactly (arbitrary-precision
// binary floats, which add float64 values without rounding), together
// with the exact squares and products of the per-image sums that the
// between-image part of the moments needs. Exact sums do not depend on the
// order in which images are added, so the sums of disjoint sets of images
// add (Add) to the sums of their union whatever the grouping: a run split
// into shards merges to the one-process figures bit for bit, for any
// number of shards. The figures are computed from the exact sums and
// rounded once (Stats).
//
// The JSON form writes every exact sum as a hexadecimal float (big.Float's
// 'p' format: "0x.8p+1"), which reads back exactly, or "nonfinite" once a
// NaN or infinite activation went into it.
type ErrorSums struct {
	Images  int `json:"images"`
	Neurons int `json:"neurons"`
	// SumX = Σ_i Σx_i, SumS = Σ_i Σs̄_i over images i.
	SumX ExactSum `json:"sum_x"`
	SumS ExactSum `json:"sum_s"`
	// SumXX = Σ_i (Σx_i)², SumSS = Σ_i (Σs̄_i)², SumXS = Σ_i Σx_i·Σs̄_i: the
	// per-image sums' squares and products, exact.
	SumXX ExactSum `json:"sum_x_sq"`
	SumSS ExactSum `json:"sum_s_sq"`
	SumXS ExactSum `json:"sum_xs"`
	// MXX, MSS, MXS are the sums over images of the centred second moments
	// within each image: Σ_j (x_j − x̄_i)², and so on.
	MXX ExactSum `json:"m_xx"`
	MSS ExactSum `json:"m_ss"`
	MXS ExactSum `json:"m_xs"`
	// DD = Σ (x−s̄)² and XX = Σ x² over all images and neurons.
	DD ExactSum `json:"sum_d2"`
	XX ExactSum `json:"sum_x2"`
}

// exactPrec is the precision of exact sums: float64 values span 2^-1074
// to 2^1024 and their products twice that, so a sum of fewer than 2^3000
// of them needs fewer bits than this.
const exactPrec = 1 << 13

// workPrec is the precision Stats computes the moments in: products of
// two exact sums are exact at this precision.
const workPrec = 1 << 15

// ExactSum is a sum of float64 values without rounding. The zero value
// is 0.
type ExactSum struct {
	v   *big.Float // nil: 0
	bad bool       // a NaN or an infinity was added
}

func (e *ExactSum) addBig(x *big.Float) {
	if e.bad {
		return
	}
	// A new value each time: copies of an ExactSum share nothing.
	z := new(big.Float).SetPrec(exactPrec)
	if e.v != nil {
		z.Set(e.v)
	}
	e.v = z.Add(z, x)
	if e.v.Acc() != big.Exact {
		panic("profile: exact sum rounded") // cannot happen below 2^3000 terms
	}
}

// AddFloat adds v.
func (e *ExactSum) AddFloat(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		e.bad = true
		return
	}
	e.addBig(new(big.Float).SetFloat64(v))
}

// AddProduct adds a·b, exactly.
func (e *ExactSum) AddProduct(a, b float64) {
	if math.IsNaN(a) || math.IsInf(a, 0) || math.IsNaN(b) || math.IsInf(b, 0) {
		e.bad = true
		return
	}
	x := new(big.Float).SetPrec(128).SetFloat64(a)
	e.addBig(x.Mul(x, new(big.Float).SetFloat64(b)))
}

// Add adds another exact sum.
func (e *ExactSum) Add(o ExactSum) {
	if o.bad {
		e.bad = true
	}
	if o.v != nil {
		e.addBig(o.v)
	}
}

// Finite reports whether no NaN or infinity went into the sum.
func (e ExactSum) Finite() bool { return !e.bad }

// big returns the sum (a copy at the working precision).
func (e ExactSum) big() *big.Float {
	z := new(big.Float).SetPrec(workPrec)
	if e.v != nil {
		z.Set(e.v)
	}
	return z
}

// Float64 is the sum rounded to the nearest float64 (±Inf beyond its
// range; NaN if not finite).
func (e ExactSum) Float64() float64 {
	if e.bad {
		return math.NaN()
	}
	if e.v == nil {
		return 0
	}
	f, _ := e.v.Float64()
	return f
}

// Equal reports whether two sums are the same number.
func (e ExactSum) Equal(o ExactSum) bool {
	if e.bad || o.bad {
		return e.bad == o.bad
	}
	return e.big().Cmp(o.big()) == 0
}

// MarshalText writes the sum as a hexadecimal float, exactly.
func (e ExactSum) MarshalText() ([]byte, error) {
	if e.bad {
		return []byte("nonfinite"), nil
	}
	if e.v == nil {
		return []byte("0"), nil
	}
	return []byte(e.v.Text('p', 0)), nil
}

// UnmarshalText reads what MarshalText writes.
func (e *ExactSum) UnmarshalText(b []byte) error {
	*e = ExactSum{}
	s := string(b)
	if s == "nonfinite" {
		e.bad = true
		return nil
	}
	if s == "0" {
		return nil
	}
	v, _, err := big.ParseFloat(s, 0, exactPrec, big.ToNearestEven)
	if err != nil || v.IsInf() {
		return fmt.Errorf("exact sum %q: not a hexadecimal float", s)
	}
	if v.Acc() != big.Exact {
		return fmt.Errorf("exact sum %q: more than %d bits", s, exactPrec)
	}
	e.v = v
	return nil
}

// AddImages adds images × neurons ANN activations x and spike counts of a
// layer with thresholds th (one per neuron), simulated for T steps: each
// image's sums in float64, then exactly into the totals.
func (es *ErrorSums) AddImages(x []float32, counts []int32, th []float32, T int) {
	n := len(th)
	if n == 0 {
		return
	}
	es.Neurons = n
	invT := 1 / float64(T)
	for off := 0; off+n <= len(x); off += n {
		var (
			sx, ss, dd, xx       float64
			mx, ms, cxx, css, cx float64
		)
		for j, xv := range x[off : off+n] {
			xf := float64(xv)
			s := float64(th[j]) * float64(counts[off+j]) * invT
			d := xf - s
			dd += d * d
			xx += xf * xf
			sx += xf
			ss += s
			k := float64(j + 1)
			dx := xf - mx
			mx += dx / k
			ds := s - ms
			ms += ds / k
			cxx += dx * (xf - mx)
			css += ds * (s - ms)
			cx += dx * (s - ms)
		}
		es.Images++
		es.SumX.AddFloat(sx)
		es.SumS.AddFloat(ss)
		es.SumXX.AddProduct(sx, sx)
		es.SumSS.AddProduct(ss, ss)
		es.SumXS.AddProduct(sx, ss)
		es.MXX.AddFloat(cxx)
		es.MSS.AddFloat(css)
		es.MXS.AddFloat(cx)
		es.DD.AddFloat(dd)
		es.XX.AddFloat(xx)
	}
}

// Add adds the sums of other images of the same layer.
func (es *ErrorSums) Add(o ErrorSums) error {
	if o.Images == 0 {
		return nil
	}
	if es.Images > 0 && es.Neurons != o.Neurons {
		return fmt.Errorf("conversion error sums of %d neurons and of %d", es.Neurons, o.Neurons)
	}
	es.Images += o.Images
	es.Neurons = o.Neurons
	for _, p := range [][2]*ExactSum{
		{&es.SumX, &o.SumX}, {&es.SumS, &o.SumS}, {&es.SumXX, &o.SumXX}, {&es.SumSS, &o.SumSS}, {&es.SumXS, &o.SumXS},
		{&es.MXX, &o.MXX}, {&es.MSS, &o.MSS}, {&es.MXS, &o.MXS}, {&es.DD, &o.DD}, {&es.XX, &o.XX},
	} {
		p[0].Add(*p[1])
	}
	return nil
}

// convErr holds the figures of a conversion error; nil where undefined or
// not finite.
type convErr struct {
	mse, l2, rel, pearson, xMean, sMean *float64
}

// Stats computes the figures from the sums. Between images the moments
// are combined exactly: with m images of n neurons, per-image sums S_i
// and within-image moments M_i,
//
//	m·n·Σ(x−x̄)² = m·n·Σ M_i + m·Σ S_i² − (Σ S_i)²
//
// (and likewise for s̄ and the co-moment), so the result is the same
// number whatever order the images came in.
func (es *ErrorSums) stats() convErr {
	var ce convErr
	if es.Images == 0 || es.Neurons == 0 {
		return ce
	}
	finite := func(v float64) *float64 {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil
		}
		return &v
	}
	cnt := new(big.Float).SetPrec(workPrec).SetInt64(int64(es.Images) * int64(es.Neurons))
	quo := func(s ExactSum) *float64 {
		if !s.Finite() {
			return nil
		}
		f, _ := new(big.Float).SetPrec(53).Quo(s.big(), cnt).Float64()
		return finite(f)
	}
	ce.mse, ce.xMean, ce.sMean = quo(es.DD), quo(es.SumX), quo(es.SumS)
	if es.DD.Finite() {
		l2 := math.Sqrt(es.DD.Float64())
		ce.l2 = finite(l2)
		if es.XX.Finite() && es.XX.Float64() > 0 {
			ce.rel = finite(l2 / math.Sqrt(es.XX.Float64()))
		}
	}
	for _, s := range []ExactSum{es.SumX, es.SumS, es.SumXX, es.SumSS, es.SumXS, es.MXX, es.MSS, es.MXS} {
		if !s.Finite() {
			return ce
		}
	}
	m := new(big.Float).SetPrec(workPrec).SetInt64(int64(es.Images))
	moment := func(within, sq, a, b ExactSum) *big.Float {
		z := new(big.Float).SetPrec(workPrec).Mul(cnt, within.big())
		z.Add(z, new(big.Float).SetPrec(workPrec).Mul(m, sq.big()))
		return z.Sub(z, new(big.Float).SetPrec(workPrec).Mul(a.big(), b.big()))
	}
	vx := moment(es.MXX, es.SumXX, es.SumX, es.SumX)
	vs := moment(es.MSS, es.SumSS, es.SumS, es.SumS)
	cv := moment(es.MXS, es.SumXS, es.SumX, es.SumS)
	if vx.Sign() <= 0 || vs.Sign() <= 0 {
		return ce
	}
	const p = 128
	den := new(big.Float).SetPrec(p).Sqrt(new(big.Float).SetPrec(p).Set(vx))
	den.Mul(den, new(big.Float).SetPrec(p).Sqrt(new(big.Float).SetPrec(p).Set(vs)))
	r, _ := new(big.Float).SetPrec(p).Quo(cv, den).Float64()
	if f := finite(r); f != nil {
		*f = math.Max(-1, math.Min(1, *f))
		ce.pearson = f
	}
	return ce
}

// ConversionSums checks the per-neuron counts res kept (SimOptions.
// KeepCounts) against its totals and, with the ANN's activations on the
// same images, returns the conversion error sums of every spiking layer
// (nil without ann).
func ConversionSums(net *network.Network, res *network.SimResult, ann *network.Activations) ([]ErrorSums, error) {
	if res.Counts == nil {
		return nil, fmt.Errorf("profile: the run kept no spike counts (SimOptions.KeepCounts)")
	}
	if len(res.Counts) != len(res.Layers) {
		return nil, fmt.Errorf("profile: result has counts of %d layers for %d spiking layers", len(res.Counts), len(res.Layers))
	}
	if ann != nil && (len(ann.Output) != len(net.Layers) || ann.Batch != res.Images) {
		return nil, fmt.Errorf("profile: ANN activations of %d images and %d layers, run of %d images of a network of %d layers", ann.Batch, len(ann.Output), res.Images, len(net.Layers))
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	var sums []ErrorSums
	if ann != nil {
		sums = make([]ErrorSums, len(res.Layers))
	}
	for k, st := range res.Layers {
		counts := res.Counts[k]
		if counts == nil {
			continue
		}
		li := st.Layer
		if li < 0 || li >= len(net.Layers) {
			return nil, fmt.Errorf("profile: spiking layer %d (%q) has layer index %d, network has %d layers", k, st.Name, li, len(net.Layers))
		}
		if len(counts) != res.Images*st.Neurons {
			return nil, fmt.Errorf("profile: layer %q has %d counts, want %d images × %d neurons", st.Name, len(counts), res.Images, st.Neurons)
		}
		if err := checkCounts(net, li, st, counts); err != nil {
			return nil, fmt.Errorf("profile: %w", err)
		}
		if ann == nil {
			continue
		}
		sp, ok := net.Layers[li].(*network.Spiking)
		if !ok {
			return nil, fmt.Errorf("profile: layer %q (%d) is %s, not spiking", st.Name, li, net.Layers[li].Kind())
		}
		x := ann.Output[li]
		if len(x) != len(counts) {
			return nil, fmt.Errorf("profile: layer %q: %d ANN activations for %d counts", st.Name, len(x), len(counts))
		}
		sums[k].AddImages(x, counts, thresholds(sp, shapes[li]), res.T)
		sums[k].Neurons = st.Neurons
	}
	return sums, nil
}

// SetConversionError sets every layer's conversion error from its sums
// (one ErrorSums per spiking layer, as ConversionSums returns them; a
// layer without images gets none).
func (p *Profile) SetConversionError(sums []ErrorSums) error {
	if len(sums) != len(p.Layers) {
		return fmt.Errorf("profile: conversion error sums of %d layers for %d spiking layers", len(sums), len(p.Layers))
	}
	for k := range p.Layers {
		l := &p.Layers[k]
		if sums[k].Images > 0 && sums[k].Neurons != l.Neurons {
			return fmt.Errorf("profile: layer %q: conversion error sums of %d neurons, the layer has %d", l.Name, sums[k].Neurons, l.Neurons)
		}
		ce := sums[k].stats()
		l.MSE, l.ErrorL2, l.RelError, l.Pearson, l.ANNMean, l.SNNMean = ce.mse, ce.l2, ce.rel, ce.pearson, ce.xMean, ce.sMean
	}
	return nil
}
