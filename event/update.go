package event

import "math/bits"

// replay advances v through gap steps with the constant current d, in the
// same float32 operations a per-step update performs.
func replay(v, alpha, d float32, gap int32) float32 {
	if alpha == 1 {
		if d == 0 {
			return v
		}
		for ; gap > 0; gap-- {
			v += d
		}
		return v
	}
	for ; gap > 0; gap-- {
		v = float32(alpha*v) + d
	}
	return v
}

// update brings the touched neurons of spiking layer k through step t:
// catch-up of skipped steps, the step's update, spike and reset, and the
// prediction of the next crossing.
func (s *Simulator) update(k int, t int32, res *ImageResult) {
	L := s.p.layers[k]
	st := &s.layers[k]
	cnt := L.n
	for _, pi := range L.rowMarked {
		if st.all {
			clear(s.projs[pi].evRows)
		} else {
			s.expandRowMarks(pi)
		}
	}
	if !st.all {
		cnt = st.touched.Count()
	}
	st.lastTouched = cnt
	dense := st.dense
	switch s.policy {
	case policySparse:
		dense = false
	case policyDense:
		dense = true
	default:
		// A lazy update costs some 50 times a neuron of a dense sweep
		// (catch-up, crossing prediction, bookkeeping; measured on the
		// fixture and graph benchmarks), so a layer is swept once a
		// thirty-second of it is touched, and returns to lazy updates
		// below a hundred-and-twenty-eighth (the gap keeps it from
		// switching back and forth: each switch touches every neuron).
		if st.dense {
			dense = cnt*128 >= L.n
		} else {
			dense = cnt*32 >= L.n
		}
	}
	if dense != st.dense {
		if dense {
			s.enterDense(k, t)
		} else {
			s.leaveDense(k, t)
		}
	}
	if dense {
		st.touched.Clear()
		st.all = false
		s.sweep(k, t, res)
	} else {
		s.updateSparse(k, t, res)
	}
	s.spikeStats(k, t, res)
}

// enterDense switches layer k to dense sweeps from step t on: every neuron
// is brought up to step t-1 and the crossing queue's entries are voided.
func (s *Simulator) enterDense(k int, t int32) {
	L := s.p.layers[k]
	st := &s.layers[k]
	var replays int64
	for q := range st.v {
		if gap := t - 1 - st.last[q]; gap > 0 {
			st.v[q] = replay(st.v[q], L.alpha, st.drift[q], gap)
			replays += int64(gap)
		}
	}
	clear(st.sched)
	st.deferred = st.deferred[:0]
	st.dense = true
}

// leaveDense switches layer k back to lazy updates at step t: all neurons
// are current after step t-1; each gets its crossing prediction (those
// that cross at t join the touched set).
func (s *Simulator) leaveDense(k int, t int32) {
	L := s.p.layers[k]
	st := &s.layers[k]
	T := int32(s.steps)
	h := int32(st.cross.Horizon())
	for q := range st.v {
		st.last[q] = t - 1
		v, d, th := st.v[q], st.drift[q], L.theta[q]
		if v < th && !(d > 0) {
			continue
		}
		n := nextCrossing(v, d, th, L.alpha, st.invd[q], h)
		switch {
		case n == 1:
			st.touched.Add(q)
		case n > 1 && t-1+n <= T:
			st.sched[q] = t - 1 + n
			st.cross.Push(int(t-1+n), int32(q))
		}
	}
	st.dense = false
}

// sweep is the dense update of every neuron of layer k at step t, for
// steps where most neurons are touched anyway: the same float32 operations
// as the lazy path, without its bookkeeping.
func (s *Simulator) sweep(k int, t int32, res *ImageResult) {
	L := s.p.layers[k]
	st := &s.layers[k]
	stepNeurons(st.v, st.acc, st.drift, L.theta, st.bits, L.alpha, L.hard)
	st.spikes = drainBits(st.bits, nil, st.spikes[:0])
	res.Work.Updates[k] += int64(L.n)
}

// drainBits appends the set bits of words (as indices, or as ids[index]
// when ids is not nil) in increasing order and clears the words.
func drainBits(words []uint64, ids []int32, dst []int32) []int32 {
	for wi, w := range words {
		if w == 0 {
			continue
		}
		words[wi] = 0
		base := wi << 6
		for w != 0 {
			i := base + bits.TrailingZeros64(w)
			w &= w - 1
			if ids != nil {
				dst = append(dst, ids[i])
			} else {
				dst = append(dst, int32(i))
			}
		}
	}
	return dst
}

// updateSparse brings the touched neurons of layer k through step t.
func (s *Simulator) updateSparse(k int, t int32, res *ImageResult) {
	L := s.p.layers[k]
	st := &s.layers[k]
	if len(st.deferred) > 0 && !st.all {
		s.predictDeferred(k, t)
	}
	idx := st.list[:0]
	if st.all {
		st.touched.Clear()
		for q := range st.v {
			idx = append(idx, int32(q))
		}
		st.all = false
	} else {
		idx = st.touched.DrainTo(idx)
	}
	st.list = idx
	v, acc, drift, theta, last, sched, invd := st.v, st.acc, st.drift, L.theta, st.last, st.sched, st.invd
	alpha, hard := L.alpha, L.hard
	T := int32(s.steps)
	h := int32(st.cross.Horizon())
	lazy := !L.constOnly && t < T
	deferred := st.deferred[:0]
	spikes := st.spikes[:0]
	var replays int64
	for _, q := range idx {
		vq := v[q]
		d := drift[q]
		if gap := t - 1 - last[q]; gap > 0 {
			vq = replay(vq, alpha, d, gap)
			replays += int64(gap)
		}
		I := acc[q] + d
		acc[q] = 0
		if alpha == 1 {
			vq += I
		} else {
			vq = float32(alpha*vq) + I
		}
		th := theta[q]
		if vq >= th {
			if hard {
				vq = 0
			} else {
				vq -= th
			}
			spikes = append(spikes, q)
		}
		v[q] = vq
		last[q] = t
		var next int32
		if vq >= th || d > 0 {
			if lazy {
				// Predict next step, and only if nothing touches it then.
				deferred = append(deferred, q)
			} else if n := nextCrossing(vq, d, th, alpha, invd[q], h); n > 0 && t+n <= T {
				next = t + n
			}
		}
		if next != sched[q] {
			sched[q] = next
			if next != 0 {
				st.cross.Push(int(next), q)
			}
		}
	}
	st.spikes = spikes
	st.deferred = deferred
	res.Work.Updates[k] += int64(len(idx))
	res.Work.Replays[k] += replays
}

// spikeStats records the spikes of layer k at step t.
func (s *Simulator) spikeStats(k int, t int32, res *ImageResult) {
	st := &s.layers[k]
	spikes := st.spikes
	if len(spikes) == 0 {
		return
	}
	counts := st.counts
	st.counted = true
	var first, firstN int64
	for _, q := range spikes {
		c := counts[q]
		if c == 0 {
			first += int64(t)
			firstN++
		}
		counts[q] = c + 1
	}
	res.Spikes[k] += int64(len(spikes))
	res.SpikesByStep[k][t-1] = int32(len(spikes))
	res.FirstSpikeSum[k] += first
	res.FirstSpikers[k] += firstN
}
