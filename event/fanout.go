package event

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// convRun and siteRun are the fan-out of one input position of a
// convolution with channel-last targets: rows row-adds of n floats,
// weights from wconv[w] with stride ws, targets from acc[y0] with stride
// −OW·OutC. The targets depend only on the site (the spatial position
// py·W+px, shared by its channels); the weights on the channel too.
type convRun struct {
	w, site int32
}

type siteRun struct {
	y0, n, rows, ws int32
	py, px          int32
}

// convPlan lays out the weights of a Conv2d target so that the targets of
// every input position are a few contiguous runs (see doc.go, "Fan-out").
//
// For stride s (per axis) and input row iy, the kernel rows that reach an
// output are ky ≡ iy+pad (mod s): ky = ρ + a·s, reaching output row
// oy = (iy+pad−ρ)/s − a. Weights are grouped by the residue class (ρy, ρx)
// of the position, and within a class stored as W'[ci][a][b'][co] with b'
// the kernel column index reversed, so that the targets of one kernel row
// (all b', all co) are consecutive outputs ox, all channels: one run of
// nB·OutC floats, the next row of the class one output row up. For
// stride 1 there is one class and W'[ci][ky][KW−1−kx][co].
func (pr *proj) convPlan(l *network.Conv2d, inShape, outShape network.Shape) error {
	pg := pr.pooled
	if len(inShape) != 3 || pg.c != l.InC || pg.h != inShape[1] || pg.w != inShape[2] {
		return fmt.Errorf("input %v does not match the pooled source grid %d×%d×%d", inShape, pg.c, pg.h, pg.w)
	}
	pr.kh, pr.kw, pr.strH, pr.strW, pr.padH, pr.padW = l.KH, l.KW, l.StrideH, l.StrideW, l.PadH, l.PadW
	pr.inC, pr.outC, pr.oh, pr.ow = l.InC, l.OutC, outShape[1], outShape[2]
	sh, sw := l.StrideH, l.StrideW
	cy, cx := min(sh, l.KH), min(sw, l.KW) // residue classes with taps
	nA := func(r int) int { return (l.KH - r + sh - 1) / sh }
	nB := func(r int) int { return (l.KW - r + sw - 1) / sw }
	blockOff := make([]int, cy*cx)
	off := 0
	for ry := range cy {
		for rx := range cx {
			blockOff[ry*cx+rx] = off
			off += l.InC * nA(ry) * nB(rx) * l.OutC
		}
	}
	pr.wconv = make([]float32, off)
	for co := 0; co < l.OutC; co++ {
		for ci := 0; ci < l.InC; ci++ {
			for ky := 0; ky < l.KH; ky++ {
				ry, a := ky%sh, ky/sh
				A := nA(ry)
				for kx := 0; kx < l.KW; kx++ {
					rx, b := kx%sw, kx/sw
					B := nB(rx)
					j := blockOff[ry*cx+rx] + ((ci*A+a)*B+(B-1-b))*l.OutC + co
					pr.wconv[j] = l.Weight[((co*l.InC+ci)*l.KH+ky)*l.KW+kx]
				}
			}
		}
	}
	pr.convRun = make([]convRun, pg.size())
	pr.siteRun = make([]siteRun, pg.h*pg.w)
	for p := range pr.convRun {
		ci, site := p%pg.c, p/pg.c
		iy, ix := site/pg.w, site%pg.w
		c := convRun{site: int32(site)}
		r := siteRun{py: int32(iy), px: int32(ix)}
		ry, oyTop := (iy+pr.padH)%sh, (iy+pr.padH)/sh
		rx, oxTop := (ix+pr.padW)%sw, (ix+pr.padW)/sw
		if ry < cy && rx < cx {
			A, B := nA(ry), nB(rx)
			aLo, aHi := max(0, oyTop-pr.oh+1), min(A-1, oyTop)
			oxFirst := oxTop - (B - 1)
			bLo, bHi := max(0, -oxFirst), min(B, pr.ow-oxFirst)
			if aLo <= aHi && bLo < bHi {
				c.w = int32(blockOff[ry*cx+rx] + ((ci*A+aLo)*B+bLo)*pr.outC)
				r.y0 = int32(((oyTop-aLo)*pr.ow + oxFirst + bLo) * pr.outC)
				r.n = int32((bHi - bLo) * pr.outC)
				r.rows = int32(aHi - aLo + 1)
				r.ws = int32(B * pr.outC)
			}
		}
		if err := pr.checkRun(c, r); err != nil {
			return fmt.Errorf("pooled position %d: %w", p, err)
		}
		pr.convRun[p], pr.siteRun[site] = c, r
	}
	return nil
}

// checkRun verifies that a run's weights and targets lie inside wconv and
// the target layer, so that deliver may hand runs to the assembly kernel
// without checking them again for every event.
func (pr *proj) checkRun(c convRun, r siteRun) error {
	if r.rows == 0 {
		return nil
	}
	yStride := pr.ow * pr.outC
	wLast := int(c.w) + int(r.rows-1)*int(r.ws) + int(r.n)
	yLast := int(r.y0) - int(r.rows-1)*yStride
	if c.w < 0 || r.n <= 0 || wLast > len(pr.wconv) || yLast < 0 || int(r.y0)+int(r.n) > pr.targetSize {
		return fmt.Errorf("internal error: fan-out run %+v %+v outside the weights (%d) or targets (%d)", c, r, len(pr.wconv), pr.targetSize)
	}
	return nil
}

// scatter adds amp × the fan-out of pooled position pos to acc.
func scatter(pr *proj, pos int, amp float32, acc []float32) {
	switch pr.kind {
	case fanLinear:
		axpy(amp, pr.wt[pos*pr.out:(pos+1)*pr.out], acc)
	case fanConv:
		c := pr.convRun[pos]
		r := &pr.siteRun[c.site]
		axpyRows(amp, pr.wconv[c.w:], int(r.ws), acc, int(r.y0), -pr.ow*pr.outC, int(r.n), int(r.rows))
	case fanSparse:
		pr.sp.scatter(pos, amp, acc)
	case fanIdentity:
		if pr.idMap != nil {
			pos = int(pr.idMap[pos])
		}
		acc[pos] += amp
	}
}
