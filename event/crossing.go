package event

import "math"

// initialSchedule predicts the first crossing of every neuron of layer k
// from its initial potential.
func (s *Simulator) initialSchedule(k int) {
	L := s.p.layers[k]
	st := &s.layers[k]
	T := int32(s.steps)
	h := int32(st.cross.Horizon())
	cacheable := L.delays == nil // v(0), bias and θ are the same for every image
	if cacheable && st.initDone {
		for _, e := range st.initSched {
			st.sched[e.q] = e.n
			st.cross.Push(int(e.n), e.q)
		}
		return
	}
	st.initSched = st.initSched[:0]
	defer func() { st.initDone = cacheable }()
	for q := range st.v {
		v, d, th := st.v[q], st.drift[q], L.theta[q]
		if v < th && !(d > 0) {
			continue
		}
		n := nextCrossing(v, d, th, L.alpha, st.invd[q], h)
		if n > 0 && n <= T {
			st.sched[q] = n
			st.cross.Push(int(n), int32(q))
			st.initSched = append(st.initSched, schedEntry{int32(q), n})
		}
	}
}

type schedEntry struct{ q, n int32 }

// nextCrossing returns a lower bound n ≥ 1 (capped at h) on the number of
// steps until a neuron at potential v driven by the constant current d
// alone reaches th, or 0 if it never does. invd is invDrift(d, th).
func nextCrossing(v, d, th, alpha float32, invd float64, h int32) int32 {
	if v >= th {
		return 1
	}
	if !(d > 0) {
		return 0
	}
	if alpha == 1 {
		var x float64
		if v >= -8*th {
			x = (float64(th) - float64(v)) * invd
		} else {
			delta := math.Ldexp(-float64(v)+float64(th)+float64(d), -22)
			x = (float64(th) - float64(v)) / (float64(d) + delta)
		}
		if x >= float64(h) {
			return h
		}
		n := int32(x)
		if float64(n) < x {
			n++
		}
		if n < 1 {
			n = 1
		}
		return n
	}
	return lifCrossing(v, d, th, alpha, h)
}

// lifCrossing is nextCrossing for 0 < alpha < 1: v_n ≤ L + αⁿ(v−L) with
// L = (d+δ)/(1−α), δ = 2^-21·(max(|v|,θ)+d) bounding two roundings a step.
func lifCrossing(v, d, th, alpha float32, h int32) int32 {
	m := math.Max(math.Abs(float64(v)), float64(th)) + float64(d)
	delta := math.Ldexp(m, -21)
	a := float64(alpha)
	L := (float64(d) + delta) / (1 - a)
	if L <= float64(th) {
		return 0
	}
	r := (L - float64(th)) / (L - float64(v))
	x := math.Log(r) / math.Log(a)
	if x >= float64(h) {
		return h
	}
	n := int32(math.Ceil(x)) - 1 // one step early: guards log's rounding
	if n < 1 {
		n = 1
	}
	return n
}

// predictDeferred handles the neurons updated at step t-1 whose next
// crossing was left unpredicted: those touched at step t need none; for the
// others the prediction is made now, from their state after step t-1.
func (s *Simulator) predictDeferred(k int, t int32) {
	L := s.p.layers[k]
	st := &s.layers[k]
	T := int32(s.steps)
	h := int32(st.cross.Horizon())
	words := st.touched.Words()
	for _, q := range st.deferred {
		if words[q>>6]&(1<<(uint(q)&63)) != 0 {
			continue
		}
		n := nextCrossing(st.v[q], st.drift[q], L.theta[q], L.alpha, st.invd[q], h)
		switch {
		case n == 1:
			st.touched.Add(int(q))
		case n > 1 && t-1+n <= T:
			st.sched[q] = t - 1 + n
			st.cross.Push(int(t-1+n), q)
		}
	}
	st.deferred = st.deferred[:0]
}
