package event

import "math"

// directCurrent computes, once per image, the constant current that the
// direct input gives every layer it reaches (through pools, plain-max
// MaxPools and a weighted layer, or an identity shortcut), in the order the
// dense engine sums it: the current starts at the layer's bias and each
// nonzero input value, in increasing C,H,W index, adds value × its weight
// row (multiply, then add); the pools on the way compute what the dense
// pools do (directProj).
//
// With delays, a layer's constant current has phases: from step d+1 on it
// includes the direct projections of delay ≤ d (phases[j] for
// delays[j] = d); before the first, only the bias.
func (s *Simulator) directCurrent(x []float32) {
	p := s.p
	if !p.sources[0].direct {
		return // Poisson input: nothing is constant but the biases
	}
	for j, v := range x {
		s.xin[p.input.internal(j)] = v
	}
	for _, m := range p.directPools {
		directMax(p.pools[m], s.xin, s.pools[m].out)
	}
	for k, L := range p.layers {
		if L.delays == nil {
			continue
		}
		st := &s.layers[k]
		for j, d := range L.delays {
			ph := st.phases[j]
			copy(ph, L.bias)
			for _, pi := range L.ins {
				if pr := p.projs[pi]; pr.direct && pr.delay <= d {
					s.directProj(pi, ph)
				}
			}
			// The crossing predictions of the lazy path need 1/(d+δ); the
			// constant-current layer (constLayer) does not.
			if !L.readout && !s.usesConstLayer(L) {
				inv := st.phaseInv[j]
				for q, d := range ph {
					inv[q] = invDrift(d, L.theta[q])
				}
			}
		}
	}
}

// directProj adds the current of direct projection pi to dst: its pools
// as summed stages over the whole tensor (each window sums its inputs in
// row-major order within the channel, then times 1/divisor, as the dense
// pool does), then the fan-out of every nonzero value in increasing C,H,W
// index.
func (s *Simulator) directProj(pi int, dst []float32) {
	p := s.p
	pr := p.projs[pi]
	ps := &s.projs[pi]
	cur := s.xin
	if src := p.sources[pr.src]; src.kind == srcMax {
		cur = s.pools[src.index].out
	}
	for i := range pr.stages {
		st := &pr.stages[i]
		out := ps.fwd[i]
		clear(out)
		for q, v := range cur {
			if v != 0 {
				for _, w := range st.wins.of(int32(q)) {
					out[w] += v
				}
			}
		}
		for w := range out {
			out[w] *= st.scale[w]
		}
		cur = out
	}
	pg := pr.pooled
	for j := range pg.size() {
		q := pg.internal(j)
		if v := cur[q]; v != 0 {
			scatter(pr, q, v, dst)
		}
	}
}

// directMax is the plain max of the direct input over the windows of
// MaxPool mp (padding never wins), into out (internal order).
func directMax(mp *maxPlan, x, out []float32) {
	for w := range out {
		out[w] = float32(math.Inf(-1))
	}
	for q, v := range x {
		for _, w := range mp.wins.of(int32(q)) {
			out[w] = max(out[w], v)
		}
	}
}

// switchDrift is the step t where the direct input delayed by d first
// reaches layer k: neurons are brought up to step t−1 with the current
// they had, then the next phase of the constant current takes over and
// every neuron is updated (and re-predicted) at this step.
func (s *Simulator) switchDrift(k int, t int32) {
	L := s.p.layers[k]
	st := &s.layers[k]
	j := st.next
	st.next++
	if !L.readout && !st.dense && st.cl == nil {
		for q := range st.v {
			if gap := t - 1 - st.last[q]; gap > 0 {
				st.v[q] = replay(st.v[q], L.alpha, st.drift[q], gap)
				st.last[q] = t - 1
			}
		}
		st.all = true
	}
	st.drift = st.phases[j]
	if st.phaseInv != nil {
		st.invd = st.phaseInv[j]
	}
}
