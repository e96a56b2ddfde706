package event

import (
	"math/bits"

	"github.com/evsnn/evsnn/network"
)

// ev is one fan-out event: a (pooled) position and the amplitude it
// carries into the fan-out.
type ev struct {
	pos int32
	amp float32
}

// marks is a set of window (or neuron) indices marked during a step,
// drained in increasing order: a bitset with a second level (bit i of
// top: word i may be nonzero), so that draining costs in proportion to
// the marked words, not to the size of the set.
type marks struct {
	words []uint64
	top   []uint64
}

func newMarks(n int) marks {
	w := (n + 63) / 64
	return marks{words: make([]uint64, w), top: make([]uint64, (w+63)/64)}
}

// add marks i.
func (m *marks) add(i int32) {
	w := uint(i) >> 6
	m.words[w] |= 1 << (uint(i) & 63)
	m.top[w>>6] |= 1 << (w & 63)
}

// or marks the bits b of word w.
func (m *marks) or(w int, b uint64) {
	m.words[w] |= b
	m.top[uint(w)>>6] |= 1 << (uint(w) & 63)
}

// drainTo appends the marked indices in increasing order to dst and
// clears them.
func (m *marks) drainTo(dst []int32) []int32 {
	for ti, tw := range m.top {
		if tw == 0 {
			continue
		}
		m.top[ti] = 0
		for tw != 0 {
			wi := ti<<6 + bits.TrailingZeros64(tw)
			tw &= tw - 1
			wd := m.words[wi]
			m.words[wi] = 0
			base := int32(wi << 6)
			for wd != 0 {
				dst = append(dst, base+int32(bits.TrailingZeros64(wd)))
				wd &= wd - 1
			}
		}
	}
	return dst
}

// inputSpikes draws the Poisson input spikes of step t (internal order).
func (s *Simulator) inputSpikes(image int, t int32) []int32 {
	sp := s.inSp[:0]
	seed := s.p.opts.Seed
	for i, q := range s.pixQ {
		if network.PoissonUniform(seed, image, int(t), int(s.pixU[i])) < s.pixX[i] {
			sp = append(sp, q)
		}
	}
	s.inSp = sp
	return sp
}

// events returns the events projection pi delivers at step t: the
// source's spikes of this step through the pools of the path, or, with a
// delay d, those of step t−d.
func (s *Simulator) events(pi int, t int32) []ev {
	pr := s.p.projs[pi]
	ps := &s.projs[pi]
	evs := buildEvents(pr, s.srcSpk[pr.src], ps, ps.evs[:0])
	ps.evs = evs
	for i := range pr.stages {
		evs = sumEvents(&pr.stages[i], ps, i, evs)
	}
	if pr.delay > 0 {
		if t+int32(pr.delay) <= int32(s.steps) {
			for _, e := range evs {
				ps.delayed.Push(int(t)+pr.delay, e)
			}
		}
		evs = ps.delayed.Pop(int(t))
	}
	return evs
}

// buildEvents turns the spikes of a source (internal order) into the
// events of the first pool of the path: spikes of one pooling window in
// the same step merge into one event whose amplitude is the pooled value
// the dense pass computes. Without a counted pool, each spike is an event.
func buildEvents(pr *proj, spikes []int32, ps *projState, out []ev) []ev {
	if ps.counted {
		// The source counted its spikes into the windows itself
		// (constLayer.spikesToWindows).
		ps.counted = false
		return windowEvents(pr, ps, out)
	}
	if len(spikes) == 0 {
		return out
	}
	if !pr.counted {
		amp := pr.amp1
		for _, q := range spikes {
			out = append(out, ev{q, amp[q]})
		}
		return out
	}
	cnt := ps.cnt
	if one := pr.wins.one; one != nil {
		for _, q := range spikes {
			if w := one[q]; w >= 0 {
				cnt[w]++
				ps.win.add(w)
			}
		}
	} else {
		for _, q := range spikes {
			for _, w := range pr.wins.of(q) {
				cnt[w]++
				ps.win.add(w)
			}
		}
	}
	return windowEvents(pr, ps, out)
}

// windowEvents turns the counted pooling windows of a step into events,
// clearing the counts. Windows come in increasing internal order, so that
// the events of one position (all its channels) are adjacent for the
// grouped fan-out.
func windowEvents(pr *proj, ps *projState, out []ev) []ev {
	cnt, m := ps.cnt, &ps.win
	base, tab := pr.ampBase, pr.ampTab
	for ti, tw := range m.top {
		if tw == 0 {
			continue
		}
		m.top[ti] = 0
		for tw != 0 {
			wi := ti<<6 + bits.TrailingZeros64(tw)
			tw &= tw - 1
			wd := m.words[wi]
			m.words[wi] = 0
			for wd != 0 {
				w := int32(wi<<6 + bits.TrailingZeros64(wd))
				wd &= wd - 1
				out = append(out, ev{w, tab[base[w]+int32(cnt[w])]})
				cnt[w] = 0
			}
		}
	}
	return out
}

// sumEvents passes the events of one step through a further pool of the
// path (stage i): each window adds the amplitudes of its events in event
// order — for one channel that is the row-major order in which the dense
// pool sums its window, zeros left out — and emits their sum times
// 1/divisor.
func sumEvents(st *sumStage, ps *projState, i int, in []ev) []ev {
	sums, m := ps.sums[i], &ps.smarks[i]
	for _, e := range in {
		for _, w := range st.wins.of(e.pos) {
			sums[w] += e.amp
			m.add(w)
		}
	}
	out := ps.sevs[i][:0]
	for ti, tw := range m.top {
		if tw == 0 {
			continue
		}
		m.top[ti] = 0
		for tw != 0 {
			wi := ti<<6 + bits.TrailingZeros64(tw)
			tw &= tw - 1
			wd := m.words[wi]
			m.words[wi] = 0
			for wd != 0 {
				w := int32(wi<<6 + bits.TrailingZeros64(wd))
				wd &= wd - 1
				out = append(out, ev{w, sums[w] * st.scale[w]})
				sums[w] = 0
			}
		}
	}
	ps.sevs[i] = out
	return out
}

// maxStep is the count-gated MaxPool m at step t (SPEC §2a): each spike of
// its source raises the spike count of its neuron; a window whose largest
// count rises emits one event. It costs in proportion to the source's
// spikes (and the windows each lies in), never to the number of windows.
func (s *Simulator) maxStep(m int, w *Work) {
	mp := s.p.pools[m]
	ms := &s.pools[m]
	if ms.counted {
		// The source (a constant-current layer) did it itself
		// (constLayer.spikesToMax).
		ms.counted = false
	} else {
		spikes := s.srcSpk[mp.in]
		cnt, mx := ms.cnt, ms.max
		if one := mp.wins.one; one != nil {
			for _, q := range spikes {
				c := cnt[q] + 1
				cnt[q] = c
				if win := one[q]; win >= 0 && c > mx[win] {
					mx[win] = c
					ms.win.add(win)
				}
			}
			w.PoolChecks += int64(len(spikes))
		} else {
			for _, q := range spikes {
				c := cnt[q] + 1
				cnt[q] = c
				ws := mp.wins.of(q)
				for _, win := range ws {
					if c > mx[win] {
						mx[win] = c
						ms.win.add(win)
					}
				}
				w.PoolChecks += int64(len(ws))
			}
		}
	}
	ms.spikes = ms.win.drainTo(ms.spikes[:0])
	s.srcSpk[mp.src] = ms.spikes
}
