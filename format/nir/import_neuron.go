package nir

import (
	"fmt"
	"math"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// Neuron nodes (IF, LIF) become spiking layers. Their input gain and leak
// potential are folded into the layer that feeds them; several edges into
// one neuron node (NIR sums them) become an evsnn Add before the spiking
// layer.

// scaleIsAmplitude reports whether Scale node name, right after a neuron
// node, is exactly its θ per neuron.
func (im *importer) scaleIsAmplitude(name string, v value) bool {
	p := im.g.Nodes[name].Params["scale"]
	return p.DType == Float32 && len(p.F32) == len(v.amp) && p.Size() == len(v.amp) &&
		slices.EqualFunc(p.F32, v.amp, func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) })
}

// neuronParam reads a per-neuron parameter: one value per neuron (shape as
// the incoming tensor) or a single value. def is used when it is optional
// and missing.
func (im *importer) neuronParam(name, key string, cur network.Shape, required bool, def float64) ([]float64, error) {
	v, p, err := im.floats(name, key, required)
	if err != nil {
		return nil, err
	}
	size := cur.Size()
	out := make([]float64, size)
	switch {
	case v == nil:
		for i := range out {
			out[i] = def
		}
	case len(v) == 1:
		for i := range out {
			out[i] = v[0]
		}
	case len(v) == size && p.Size() == size:
		copy(out, v)
	default:
		return nil, im.errf(name, "parameter %q has shape %v, want the incoming shape %v (or one value)", key, p.Shape, cur)
	}
	return out, nil
}

// neuron imports an IF or LIF node fed by the values ins (one per incoming
// edge, amplitudes already resolved).
func (im *importer) neuron(name string, ins []value) (value, error) {
	node := im.g.Nodes[name]
	cur := ins[0].shape
	for k, v := range ins[1:] {
		if !v.shape.Equal(cur) {
			return value{}, im.errf(name, "the edges into it carry shapes %v (from %q) and %v (from %q): NIR sums them, so they must agree",
				cur, im.dag.In[name][0], v.shape, im.dag.In[name][k+1])
		}
	}
	if len(ins) == 1 && ins[0].lastW < 0 {
		return value{}, im.errf(name, "a neuron layer must follow an Affine, Linear or Conv2d node (with at most pooling, Flatten or Scale nodes between)")
	}
	lif := node.Type == "LIF"
	r, err := im.neuronParam(name, "r", cur, true, 1)
	if err != nil {
		return value{}, err
	}
	vth, err := im.neuronParam(name, "v_threshold", cur, true, 0)
	if err != nil {
		return value{}, err
	}
	vreset, err := im.neuronParam(name, "v_reset", cur, false, 0)
	if err != nil {
		return value{}, err
	}
	for i, v := range vreset {
		if v != 0 {
			return value{}, im.errf(name, "v_reset of neuron %d is %v: evsnn resets to 0 (hard) or subtracts the threshold (soft)", i, v)
		}
	}
	size := cur.Size()
	gain := make([]float64, size)
	var leak []float64
	alpha := float32(1)
	if lif {
		tau, err := im.neuronParam(name, "tau", cur, true, 0)
		if err != nil {
			return value{}, err
		}
		vleak, err := im.neuronParam(name, "v_leak", cur, true, 0)
		if err != nil {
			return value{}, err
		}
		a0 := 1 - im.dt/tau[0]
		for i, t := range tau {
			if !(t > im.dt) {
				return value{}, im.errf(name, "tau of neuron %d is %v, not above the time step dt = %v: the leak factor 1-dt/tau would not be in (0,1)", i, t, im.dt)
			}
			a := 1 - im.dt/t
			if math.Abs(a-a0) > 1e-6 {
				return value{}, im.errf(name, "tau differs between neurons (%v and %v): evsnn has one leak factor per layer", tau[0], t)
			}
			gain[i] = im.dt * r[i] / t
			if vleak[i] != 0 {
				if leak == nil {
					leak = make([]float64, size)
				}
				leak[i] = im.dt * vleak[i] / t
			}
		}
		alpha = float32(a0)
		if p, ok := node.Metadata[MetaAlpha]; ok {
			if v, err := p.Floats(); err == nil && len(v) == 1 && math.Abs(v[0]-a0) <= 1e-6 && v[0] > 0 && v[0] < 1 {
				alpha = float32(v[0])
			}
		}
		if !(alpha > 0 && alpha < 1) {
			return value{}, im.errf(name, "leak factor 1-dt/tau = %v is not in (0,1)", a0)
		}
	} else {
		for i := range gain {
			gain[i] = im.dt * r[i]
		}
	}
	for i, g := range gain {
		if math.Abs(g-1) <= gainTolerance {
			gain[i] = 1
		} else if g == 0 {
			return value{}, im.errf(name, "input gain of neuron %d is 0 (r = 0)", i)
		}
	}
	th, err := im.thresholds(name, vth, cur)
	if err != nil {
		return value{}, err
	}
	l := &network.Spiking{LayerName: im.layerName(name), Threshold: th, Alpha: alpha, Reset: network.ResetHard}
	if p, ok := node.Metadata[MetaReset]; ok {
		s, _ := p.Text()
		switch network.Reset(s) {
		case network.ResetSoft, network.ResetHard:
			l.Reset = network.Reset(s)
		default:
			return value{}, im.errf(name, "metadata %q is %q, want soft or hard", MetaReset, s)
		}
	}
	if p, ok := node.Metadata[MetaV0Fraction]; ok {
		v, err := p.Floats()
		if err != nil || len(v) != 1 || math.IsNaN(v[0]) || math.IsInf(v[0], 0) {
			return value{}, im.errf(name, "metadata %q: want one finite number", MetaV0Fraction)
		}
		l.V0Fraction = float32(v[0])
		if p.DType == Float32 {
			l.V0Fraction = p.F32[0]
		}
	}
	if p, ok := node.Metadata[MetaV0]; ok {
		if p.DType != Float32 || len(p.F32) != size {
			return value{}, im.errf(name, "metadata %q: want %d float32 values", MetaV0, size)
		}
		l.V0 = clone32(p.F32)
	}
	var src int
	if len(ins) == 1 {
		// The input current of the NIR neuron is gain·(the incoming value)
		// + leak: fold both into the weighted layer before it.
		v := ins[0]
		if err := im.claim(name, v.lastW); err != nil {
			return value{}, err
		}
		scale := gain
		if v.pend != nil {
			for i := range scale {
				scale[i] *= v.pend[i]
			}
		}
		if err := im.foldOut(name, v.lastW, scale, false); err != nil {
			return value{}, err
		}
		if leak != nil {
			if err := im.foldOut(name, v.lastW, leak, true); err != nil {
				return value{}, err
			}
		}
		src = v.src
	} else if src, err = im.join(name, ins, gain, leak, cur); err != nil {
		return value{}, err
	}
	idx, _, err := im.push(l, name, cur, src)
	if err != nil {
		return value{}, err
	}
	return value{src: idx, shape: cur, lastW: -1, amp: expandThreshold(l, cur), afterNeuron: true, neuron: name, sumPool: -1}, nil
}

// join makes the Add that sums the edges into neuron node name and returns
// its index. The neuron's input current is gain·(Σ branches + the Add's
// bias) + leak. A branch that ends in a weighted layer takes its gain (and
// any pending scale) into that layer; an identity branch (a shortcut from
// the input or a neuron) with a factor other than 1 gets a diagonal 1×1
// Conv2d (a diagonal Linear on vectors) to carry it; the Add's bias is
// gain·(the bias a branch carries) + leak.
func (im *importer) join(name string, ins []value, gain, leak []float64, cur network.Shape) (int, error) {
	srcs := make([]int, len(ins))
	var carried []float32
	for k, v := range ins {
		scale := slices.Clone(gain)
		if v.pend != nil {
			for i := range scale {
				scale[i] *= v.pend[i]
			}
		}
		if v.addBias != nil {
			if carried != nil {
				return 0, im.errf(name, "two of its branches carry an Add bias (evsnn.add_bias)")
			}
			carried = v.addBias
		}
		switch {
		case v.lastW >= 0:
			if err := im.claim(name, v.lastW); err != nil {
				return 0, err
			}
			if err := im.foldOut(name, v.lastW, scale, false); err != nil {
				return 0, err
			}
			srcs[k] = v.src
		case allOnes(scale):
			srcs[k] = v.src
		default:
			idx, err := im.diagonal(name, im.dag.In[name][k], v, scale)
			if err != nil {
				return 0, err
			}
			srcs[k] = idx
		}
	}
	add := &network.Add{}
	if s, ok := im.g.Nodes[name].Metadata[MetaAdd].Text(); ok && !im.used[s] {
		add.LayerName = s
		im.names[s] = true
	} else {
		add.LayerName = im.freshName(name + "_add")
	}
	c := cur[0]
	g, ok := perChannel(gain, c)
	if !ok && carried != nil {
		return 0, im.errf(name, "the input gain (r, tau) differs within a channel; the Add's bias cannot take it")
	}
	switch {
	case carried != nil && allOnes(g) && leak == nil:
		add.Bias = clone32(carried) // bit for bit, −0 included
	case carried != nil || leak != nil:
		var lk []float64
		if leak != nil {
			if lk, ok = perChannel(leak, c); !ok {
				return 0, im.errf(name, "v_leak differs within a channel; only per-channel values fold into the Add before it")
			}
		}
		add.Bias = make([]float32, c)
		for i := range add.Bias {
			b := 0.0
			if carried != nil {
				b = g[i] * float64(carried[i])
			}
			if lk != nil {
				b += lk[i]
			}
			add.Bias[i] = float32(b)
		}
	}
	idx, _, err := im.push(add, name, cur, srcs...)
	return idx, err
}

// diagonal inserts a layer that scales branch v (the edge from node from
// into neuron node name) elementwise by scale: a 1×1 Conv2d for [C,H,W]
// (the scale must be per channel), a Linear for vectors.
func (im *importer) diagonal(name, from string, v value, scale []float64) (int, error) {
	lname := im.freshName(name + "_in_" + from)
	var l network.Layer
	switch len(v.shape) {
	case 3:
		c := v.shape[0]
		s, ok := perChannel(scale, c)
		if !ok {
			return 0, im.errf(name, "the edge from %q needs a factor (input gain, 1/θ of the unit NIR spike, Scale) that differs within a channel; evsnn can scale a shortcut only per channel", from)
		}
		w := make([]float32, c*c)
		for i := range c {
			w[i*c+i] = float32(s[i])
		}
		l = &network.Conv2d{LayerName: lname, InC: c, OutC: c, KH: 1, KW: 1, StrideH: 1, StrideW: 1, Weight: w, Bias: make([]float32, c)}
	case 1:
		n := v.shape[0]
		if n > maxReadout {
			return 0, im.errf(name, "the edge from %q needs a factor on %d values; evsnn would need a %d×%d diagonal layer (limit %d)", from, n, n, n, maxReadout)
		}
		w := make([]float32, n*n)
		for i := range n {
			w[i*n+i] = float32(scale[i])
		}
		l = &network.Linear{LayerName: lname, In: n, Out: n, Weight: w, Bias: make([]float32, n)}
	default:
		return 0, im.errf(name, "the edge from %q carries shape %v", from, v.shape)
	}
	idx, _, err := im.push(l, name, v.shape, v.src)
	return idx, err
}

// claim records that neuron node name folds into weighted layer w: a
// Conv2d or Linear feeds one neuron layer (or Add).
func (im *importer) claim(name string, w int) error {
	if other, ok := im.claimed[w]; ok {
		return im.errf(name, "layer %q also feeds node %q: in evsnn a Conv2d or Linear feeds one neuron layer (or one Add)", im.layers[w].Name(), other)
	}
	im.claimed[w] = name
	return nil
}

// thresholds turns per-neuron thresholds into evsnn's one-per-layer or
// one-per-channel form (the evsnn metadata, when it matches, bit for bit).
func (im *importer) thresholds(name string, vth []float64, cur network.Shape) ([]float32, error) {
	node := im.g.Nodes[name]
	for i, v := range vth {
		if !(v > 0) || float32(v) == 0 || math.IsInf(float64(float32(v)), 0) {
			return nil, im.errf(name, "v_threshold of neuron %d is %v: evsnn needs positive, finite thresholds", i, v)
		}
	}
	exact := make([]float32, len(vth))
	if p := node.Params["v_threshold"]; p.DType == Float32 && len(p.F32) == len(vth) {
		copy(exact, p.F32)
	} else {
		for i, v := range vth {
			exact[i] = float32(v)
		}
	}
	if p, ok := node.Metadata[MetaThreshold]; ok && p.DType == Float32 && (len(p.F32) == 1 || len(p.F32) == cur[0]) {
		l := &network.Spiking{Threshold: p.F32}
		match := true
		for i := range exact {
			if math.Float32bits(l.ThresholdAt(cur, i)) != math.Float32bits(exact[i]) {
				match = false
				break
			}
		}
		if match {
			return clone32(p.F32), nil
		}
	}
	if slices.IndexFunc(exact, func(v float32) bool { return v != exact[0] }) < 0 {
		return []float32{exact[0]}, nil
	}
	c := cur[0]
	per := len(exact) / c
	th := make([]float32, c)
	for i, v := range exact {
		if v != exact[i/per*per] {
			return nil, im.errf(name, "v_threshold differs within channel %d: evsnn has one threshold per layer or per channel", i/per)
		}
		th[i/per] = v
	}
	return th, nil
}

// foldOut multiplies (add = false) or adds to (add = true) the output of
// weighted layer w elementwise by v, a vector over its output shape.
func (im *importer) foldOut(name string, w int, v []float64, add bool) error {
	if !add && allOnes(v) {
		return nil
	}
	switch l := im.layers[w].(type) {
	case *network.Linear:
		if len(v) != l.Out {
			return im.errf(name, "internal: %d values for %d outputs", len(v), l.Out)
		}
		for o, s := range v {
			if add {
				l.Bias[o] = float32(float64(l.Bias[o]) + s)
				continue
			}
			if s == 1 {
				continue
			}
			row := l.Weight[o*l.In : (o+1)*l.In]
			for j := range row {
				row[j] = float32(float64(row[j]) * s)
			}
			l.Bias[o] = float32(float64(l.Bias[o]) * s)
		}
	case *network.Conv2d:
		s, ok := perChannel(v, l.OutC)
		if !ok {
			what := "the input gain (r, tau) or a Scale"
			if add {
				what = "v_leak"
			}
			return im.errf(name, "%s differs within a channel of convolution %q; only per-channel values fold into a convolution", what, l.LayerName)
		}
		per := l.InC * l.KH * l.KW
		for o, x := range s {
			if add {
				l.Bias[o] = float32(float64(l.Bias[o]) + x)
				continue
			}
			if x == 1 {
				continue
			}
			blk := l.Weight[o*per : (o+1)*per]
			for j := range blk {
				blk[j] = float32(float64(blk[j]) * x)
			}
			l.Bias[o] = float32(float64(l.Bias[o]) * x)
		}
	default:
		return fmt.Errorf("node %q: internal: layer %d is not weighted", name, w)
	}
	return nil
}

// perChannel returns one value per channel if v (a vector over a tensor
// with c channels first) is constant within each channel.
func perChannel(v []float64, c int) ([]float64, bool) {
	if c <= 0 || len(v)%c != 0 {
		return nil, false
	}
	per := len(v) / c
	out := make([]float64, c)
	for i, x := range v {
		if x != v[i/per*per] {
			return nil, false
		}
		out[i/per] = x
	}
	return out, true
}
