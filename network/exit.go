package network

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// An Exit rule lets an engine stop simulating an image before step T once
// its prediction is settled. After every step t < T the engine calls Done
// with the readout accumulator A(t); when it returns true the image stops:
// its prediction after every later step is taken to be its prediction
// after t, and no further spikes or SOPs are counted (ImageRecord.Steps
// says how many steps ran).
type Exit interface {
	// Done reports whether the image may stop after step t of T, given
	// its readout accumulator after t steps.
	Done(t, T int, acc []float32) bool
	// String names the rule as ParseExit reads it back ("exact",
	// "margin:2.5").
	String() string
}

// ExactExit stops an image only when no later step can change its
// prediction at any t ≤ T: for the leader a and every other class k, the
// margin A_a − A_k minus the most the remaining R = T − t steps can take
// from it stays positive.
//
// The readout adds I(τ) = b + W·s(τ) each step, where s is the spike
// tensor of the readout's source (the last spiking layer, through its
// pools, GlobalAvgPool and Flatten): one spike of source neuron j changes
// class k by E_kj = θ_j·(the path's linear map)·W, and a neuron fires at
// most once per step. So over R steps the margin of a over k changes by at
// least R·(b_a − b_k + Σ_j min(0, E_aj − E_kj)); the margin is linear in
// the number of steps, so it stays positive at every intermediate step if
// it is positive now and after R more. A slack of a few float32 ulps per
// step covers the rounding of the engines' float32 sums, so the rule is
// conservative, never wrong: the accuracy after every step and the final
// predictions are those of the full run (the property test checks it on
// random networks).
type ExactExit struct {
	classes int
	// drift[a][k] = b_a − b_k + Σ_j min(0, E_aj − E_kj): the least the
	// margin of a over k can change in one step.
	drift [][]float64
	// swing bounds |change| of any margin in one step, for the slack.
	swing float64
}

// NewExactExit prepares the exact rule for an SNN.
func NewExactExit(net *Network) (*ExactExit, error) {
	effect, bias, err := readoutEffect(net)
	if err != nil {
		return nil, err
	}
	K := len(bias)
	e := &ExactExit{classes: K, drift: make([][]float64, K)}
	for a := range K {
		e.drift[a] = make([]float64, K)
		for k := range K {
			if k == a {
				continue
			}
			d := bias[a] - bias[k]
			s := math.Abs(d)
			for j := range effect[a] {
				diff := effect[a][j] - effect[k][j]
				d += min(0, diff)
				s += math.Abs(diff)
			}
			e.drift[a][k] = d
			e.swing = max(e.swing, s)
		}
	}
	return e, nil
}

// Done implements Exit.
func (e *ExactExit) Done(t, T int, acc []float32) bool {
	if len(acc) != e.classes || t >= T {
		return t >= T
	}
	a := Argmax(acc)
	R := float64(T - t)
	const ulp = 1.0 / (1 << 22) // 2 ulps of float32 relative
	for k := range acc {
		if k == a {
			continue
		}
		m := float64(acc[a]) - float64(acc[k])
		// Rounding: every one of the R steps adds to both accumulators,
		// whose size grows to at most |A| + R·swing.
		size := math.Abs(float64(acc[a])) + math.Abs(float64(acc[k])) + R*e.swing
		slack := (R + 1) * 4 * ulp * size
		if m <= slack || m+R*e.drift[a][k] <= slack {
			return false
		}
	}
	return true
}

// String implements Exit.
func (e *ExactExit) String() string { return "exact" }

// MarginExit stops an image once the readout margin — top-1 minus top-2 —
// exceeds M in units of the readout's per-step scale, which is the step
// count: (A_1(t) − A_2(t))/t ≥ M, the average per-step margin (in the
// ANN's logit units, since the rate-coded readout A(t)/t approximates the
// ANN's logits). This is the confidence-score exit of SEENN (Li et al.,
// "SEENN: Towards Temporal Spiking Early-Exit Neural Networks", NeurIPS
// 2023) with the margin as its confidence. It may change predictions; pick
// M on the calibration set for a target accuracy loss (package calibrate's
// PickMargin does).
type MarginExit struct {
	M float64
	// MinSteps is the first step at which the rule may stop (≥ 1).
	MinSteps int
}

// Done implements Exit.
func (m MarginExit) Done(t, T int, acc []float32) bool {
	if t >= T {
		return true
	}
	if t < max(m.MinSteps, 1) || len(acc) < 2 {
		return false
	}
	first, second := math.Inf(-1), math.Inf(-1)
	for _, v := range acc {
		switch f := float64(v); {
		case f > first:
			first, second = f, first
		case f > second:
			second = f
		}
	}
	return (first-second)/float64(t) >= m.M
}

// String implements Exit.
func (m MarginExit) String() string {
	s := "margin:" + strconv.FormatFloat(m.M, 'g', -1, 64)
	if m.MinSteps > 1 {
		s += "@" + strconv.Itoa(m.MinSteps)
	}
	return s
}

// ParseExit reads "exact", "margin:M" or "margin:M@S" (stop no earlier
// than step S) for net. "" and "none" mean no early exit (nil). Targets
// such as "loss:0.1" need a calibration set and are resolved by the
// caller (calibrate.PickMargin) into a margin.
func ParseExit(net *Network, s string) (Exit, error) {
	switch s = strings.TrimSpace(s); {
	case s == "" || s == "none":
		return nil, nil
	case s == "exact":
		return NewExactExit(net)
	case strings.HasPrefix(s, "margin:"):
		spec := strings.TrimPrefix(s, "margin:")
		var rule MarginExit
		if at := strings.IndexByte(spec, '@'); at >= 0 {
			n, err := strconv.Atoi(spec[at+1:])
			if err != nil || n < 1 {
				return nil, fmt.Errorf("early exit %q: the step after @ must be an integer ≥ 1", s)
			}
			rule.MinSteps, spec = n, spec[:at]
		}
		m, err := strconv.ParseFloat(spec, 64)
		if err != nil || math.IsNaN(m) || math.IsInf(m, 0) || m < 0 {
			return nil, fmt.Errorf("early exit %q: the margin must be a finite number ≥ 0", s)
		}
		rule.M = m
		return rule, nil
	}
	return nil, fmt.Errorf("early exit %q: want none, exact, margin:M[@S] or loss:X", s)
}

// readoutEffect returns, for the readout's source, E[k][j]: how much one
// spike of source neuron j adds to class k (θ_j through the path's pools
// and the readout's weights), and the readout's bias per class.
func readoutEffect(net *Network) ([][]float64, []float64, error) {
	shapes, err := net.Shapes()
	if err != nil {
		return nil, nil, err
	}
	projs, err := net.Projections()
	if err != nil {
		return nil, nil, err
	}
	last := len(net.Layers) - 1
	var ro *Linear
	switch l := net.Layers[last].(type) {
	case *Linear:
		ro = l
	case *SparseLinear:
		ro = &Linear{In: l.In, Out: l.Out, Weight: l.Dense(), Bias: l.Bias}
	default:
		return nil, nil, fmt.Errorf("early exit: the readout is %s, not a Linear", net.nodeName(last))
	}
	var p *Projection
	for i := range projs {
		if projs[i].Target == last {
			p = &projs[i]
		}
	}
	if p == nil || p.Source == InputNode {
		return nil, nil, errors.New("early exit: the readout is not fed by a spiking layer")
	}
	amp, err := sourceAmplitudes(net, shapes, p.Source)
	if err != nil {
		return nil, nil, err
	}
	in := net.ShapeOf(shapes, p.Source)
	E := make([][]float64, ro.Out)
	for k := range E {
		E[k] = make([]float64, in.Size())
	}
	for j := range in.Size() {
		// reach: the readout inputs neuron j's unit spike reaches, with
		// their coefficients.
		pos, coef := []int{j}, []float64{1}
		cur := in
		for _, q := range p.Path[:len(p.Path)-1] {
			out := shapes[q]
			switch l := net.Layers[q].(type) {
			case *AvgPool2d:
				var np []int
				var nc []float64
				for m, x := range pos {
					for _, w := range windowsOf(l.window(), cur, out, x) {
						oy, ox := int(w)/out[2]%out[1], int(w)%out[2]
						np = append(np, int(w))
						nc = append(nc, coef[m]/float64(l.Divisor(cur[1], cur[2], oy, ox)))
					}
				}
				pos, coef = np, nc
			case *GlobalAvgPool:
				plane := cur.Size() / cur[0]
				for m := range pos {
					pos[m] /= plane
					coef[m] /= float64(plane)
				}
			case *Flatten:
			default:
				return nil, nil, fmt.Errorf("early exit: %s on the readout's path", net.nodeName(q))
			}
			cur = out
		}
		for m, x := range pos {
			for k := range E {
				E[k][j] += amp[j] * coef[m] * float64(ro.Weight[k*ro.In+x])
			}
		}
	}
	bias := make([]float64, ro.Out)
	for k := range bias {
		bias[k] = float64(ro.Bias[k])
	}
	return E, bias, nil
}

// sourceAmplitudes is the amplitude of a spike of each neuron of source i:
// θ of a spiking layer, θ of the channel's spiking layer for a MaxPool.
func sourceAmplitudes(net *Network, shapes []Shape, i int) ([]float64, error) {
	src := i
	if net.Layers[i].Kind() == KindMaxPool2d {
		src = net.InputOf(i)
	}
	if src == InputNode {
		return nil, errors.New("early exit: the readout reads the input")
	}
	sp, ok := net.Layers[src].(*Spiking)
	if !ok {
		return nil, fmt.Errorf("early exit: %s is not a spiking layer (convert the network first)", net.nodeName(src))
	}
	sh := shapes[i]
	amp := make([]float64, sh.Size())
	per := sh.Size() / sh[0]
	for j := range amp {
		amp[j] = float64(sp.ThresholdAt(shapes[src], j/per*(shapes[src].Size()/shapes[src][0])))
	}
	return amp, nil
}
