package event

import (
	"math/bits"

	"github.com/evsnn/evsnn/network"
)

// groupMaxOut is the longest Linear row for which the events of a step are
// added by one grouped call (targets kept in registers across events);
// longer rows are added event by event.
const groupMaxOut = 1024

// deliver performs the row-adds of projection pi's events into its target
// layer's current accumulator and marks the touched neurons.
func (s *Simulator) deliver(pi int, evs []ev, w *Work) {
	if len(evs) == 0 {
		return
	}
	pr := s.p.projs[pi]
	k := pr.target
	st := &s.layers[k]
	acc := st.acc
	mark := !s.p.layers[k].readout
	w.Events[k] += int64(len(evs))
	switch pr.kind {
	case fanIdentity:
		// A shortcut: one target per event.
		if m := pr.idMap; m != nil {
			for _, e := range evs {
				acc[m[e.pos]] += e.amp
			}
			if mark {
				for _, e := range evs {
					st.touched.Add(int(m[e.pos]))
				}
			}
		} else {
			for _, e := range evs {
				acc[e.pos] += e.amp
			}
			if mark {
				for _, e := range evs {
					st.touched.Add(int(e.pos))
				}
			}
		}
		w.Adds[k] += int64(len(evs))
		return
	case fanSparse:
		s.deliverSparse(pr, evs, w)
		return
	case fanLinear:
		out := pr.out
		w.Adds[k] += int64(len(evs) * out)
		st.all = true
		if out > groupMaxOut {
			// Long rows: one streaming row-add per event (the target row
			// stays in L1; each weight row is read once, front to back).
			for _, e := range evs {
				axpy(e.amp, pr.wt[int(e.pos)*out:int(e.pos+1)*out], acc)
			}
			return
		}
		// Every event adds a row to the same targets: one grouped call.
		ps := &s.projs[pi]
		offs, amps := ps.offs[:0], ps.amps[:0]
		for _, e := range evs {
			offs = append(offs, e.pos*int32(out))
			amps = append(amps, e.amp)
		}
		ps.offs, ps.amps = offs, amps
		convGroup(acc, 0, 0, out, 1, pr.wt, 0, offs, amps)
		return
	}
	// Conv2d. Events of one site (its channels) share their target rows:
	// one grouped call each. Runs were checked against wconv and acc when
	// the plan was compiled, so the kernel is called without checks.
	ps := &s.projs[pi]
	runs, sites := pr.convRun, pr.siteRun
	yStride := -pr.ow * pr.outC
	rowMarks := ps.evRows != nil
	asm := haveStep
	wp := &pr.wconv[0]
	// A site has at most one event per channel: offs and amps (of
	// capacity inC) never grow.
	offs, amps := ps.offs[:pr.inC:pr.inC], ps.amps[:pr.inC:pr.inC]
	var adds int
	for i := 0; i < len(evs); {
		c := runs[evs[i].pos]
		site := c.site
		offs[0], amps[0] = c.w, evs[i].amp
		m := 1
		for i++; i < len(evs) && m < len(offs); i++ {
			c := runs[evs[i].pos]
			if c.site != site {
				break
			}
			offs[m], amps[m] = c.w, evs[i].amp
			m++
		}
		r := &sites[site]
		if r.rows == 0 {
			continue
		}
		if asm {
			convGroupAsm(&acc[r.y0], yStride, int(r.n), int(r.rows), wp, int(r.ws), &offs[0], &amps[0], m)
		} else {
			convGroup(acc, int(r.y0), yStride, int(r.n), int(r.rows), pr.wconv, int(r.ws), offs[:m], amps[:m])
		}
		adds += int(r.n*r.rows) * m
		if mark {
			if rowMarks {
				ps.evRows[r.py] |= 1 << uint(r.px)
			} else {
				for i := 0; i < int(r.rows); i++ {
					lo := int(r.y0) + i*yStride
					st.touched.AddRange(lo, lo+int(r.n))
				}
			}
		}
	}
	w.Adds[k] += int64(adds)
}

// expandRowMarks turns the per-row marks of pooled event positions of a
// convolution (projection pi) into the touched neurons of its target:
// output (oy, ox) is touched if an event at (py, px) has
// py = oy·strH − padH + ky and px = ox·strW − padW + kx for some kernel
// tap. Bit-parallel over rows of at most 64 positions: with the row's
// marks m shifted by padW, g = m | m>>1 | … | m>>(KW−1) has bit j set when
// a mark lies in columns [j−padW, j−padW+KW), and output ox is touched
// when bit ox·strW of g is.
func (s *Simulator) expandRowMarks(pi int) {
	pr := s.p.projs[pi]
	ps := &s.projs[pi]
	st := &s.layers[pr.target]
	ph := len(ps.evRows)
	any := uint64(0)
	for _, m := range ps.evRows {
		any |= m
	}
	if any == 0 {
		return
	}
	for oy := 0; oy < pr.oh; oy++ {
		var m uint64
		for ky, py := 0, oy*pr.strH-pr.padH; ky < pr.kh; ky, py = ky+1, py+1 {
			if py >= 0 && py < ph {
				m |= ps.evRows[py]
			}
		}
		if m == 0 {
			continue
		}
		m <<= uint(pr.padW)
		var g uint64
		for kx := 0; kx < pr.kw; kx++ {
			g |= m >> uint(kx)
		}
		row := oy * pr.ow
		if pr.strW == 1 {
			g &= ^uint64(0) >> uint(64-pr.ow)
			for g != 0 {
				ox := bits.TrailingZeros64(g)
				g &= g - 1
				lo := (row + ox) * pr.outC
				st.touched.AddRange(lo, lo+pr.outC)
			}
			continue
		}
		for g != 0 {
			j := bits.TrailingZeros64(g)
			g &= g - 1
			if ox := j / pr.strW; j%pr.strW == 0 && ox < pr.ow {
				lo := (row + ox) * pr.outC
				st.touched.AddRange(lo, lo+pr.outC)
			}
		}
	}
	clear(ps.evRows)
}

// readout adds this step's current to the accumulator and records the
// prediction.
func (s *Simulator) readout(t int32, res *ImageResult) {
	st := &s.layers[len(s.layers)-1]
	A, acc, d := s.a, st.acc, st.drift
	for o := range A {
		I := acc[o] + d[o]
		acc[o] = 0
		A[o] += I
	}
	if order := s.p.readout().userOrder; order != nil {
		res.PredictionByStep[t-1] = argmaxOrder(A, order)
		return
	}
	res.PredictionByStep[t-1] = network.Argmax(A)
}

// argmaxOrder is network.Argmax over v[order[0]], v[order[1]], ...
func argmaxOrder(v []float32, order []int32) int {
	best := 0
	for i, q := range order {
		if v[q] > v[order[best]] {
			best = i
		}
	}
	return best
}
