package calibrate

import (
	"github.com/evsnn/evsnn/network"
)

// sparseForward computes a weighted layer without its bias for inputs that
// are mostly zero (pooled spike frames): every nonzero input adds its
// value times its weights to the outputs it reaches, so the cost follows
// the number of spikes, not the layer's size (the event-driven view of
// SPEC §5). Convolutions scatter into a channel-last buffer with weights
// transposed to [InC,KH,KW,OutC] (kx reversed), so the taps of one kernel
// row are one contiguous row-add at stride 1.
type sparseForward struct {
	conv   *network.Conv2d
	lin    *network.Linear
	wt     []float32 // transposed weights
	in     network.Shape
	oh, ow int
}

func newSparseForward(l network.Layer, in network.Shape) *sparseForward {
	s := &sparseForward{in: in}
	switch l := l.(type) {
	case *network.Conv2d:
		s.conv = l
		out, _ := l.OutShape(in)
		s.oh, s.ow = out[1], out[2]
		s.wt = make([]float32, len(l.Weight))
		for o := 0; o < l.OutC; o++ {
			for c := 0; c < l.InC; c++ {
				for ky := 0; ky < l.KH; ky++ {
					for kx := 0; kx < l.KW; kx++ {
						s.wt[((c*l.KH+ky)*l.KW+l.KW-1-kx)*l.OutC+o] = l.Weight[((o*l.InC+c)*l.KH+ky)*l.KW+kx]
					}
				}
			}
		}
	case *network.Linear:
		s.lin = l
		s.wt = make([]float32, len(l.Weight))
		for o := 0; o < l.Out; o++ {
			for i := 0; i < l.In; i++ {
				s.wt[i*l.Out+o] = l.Weight[o*l.In+i]
			}
		}
	}
	return s
}

// forward writes W·src (no bias) of one sample into dst; tmp is scratch of
// the output's size.
func (s *sparseForward) forward(dst, src, tmp []float32) {
	if l := s.lin; l != nil {
		clear(dst)
		for i, v := range src {
			if v != 0 {
				axpy(v, s.wt[i*l.Out:(i+1)*l.Out], dst)
			}
		}
		return
	}
	l := s.conv
	h, w := s.in[1], s.in[2]
	oc := l.OutC
	clear(tmp)
	for c := 0; c < l.InC; c++ {
		plane := src[c*h*w : (c+1)*h*w]
		for y := 0; y < h; y++ {
			for x, v := range plane[y*w : (y+1)*w] {
				if v != 0 {
					s.scatter(c, y, x, v, tmp)
				}
			}
		}
	}
	npos := s.oh * s.ow
	for p := 0; p < npos; p++ {
		row := tmp[p*oc : (p+1)*oc]
		for o, v := range row {
			dst[o*npos+p] = v
		}
	}
}

// scatter adds input (c, y, x) = v to every output it reaches.
func (s *sparseForward) scatter(c, y, x int, v float32, tmp []float32) {
	l := s.conv
	oc := l.OutC
	for ky := 0; ky < l.KH; ky++ {
		oy := y + l.PadH - ky
		if oy < 0 || oy%l.StrideH != 0 {
			continue
		}
		if oy /= l.StrideH; oy >= s.oh {
			continue
		}
		row := s.wt[(c*l.KH+ky)*l.KW*oc:][:l.KW*oc]
		if l.StrideW == 1 {
			ox0 := x + l.PadW - (l.KW - 1) // the output column of kx = KW−1
			lo, hi := max(0, -ox0), min(l.KW, s.ow-ox0)
			if lo < hi {
				axpy(v, row[lo*oc:hi*oc], tmp[(oy*s.ow+ox0+lo)*oc:])
			}
			continue
		}
		for kx := 0; kx < l.KW; kx++ {
			ox := x + l.PadW - kx
			if ox < 0 || ox%l.StrideW != 0 {
				continue
			}
			if ox /= l.StrideW; ox >= s.ow {
				continue
			}
			axpy(v, row[(l.KW-1-kx)*oc:][:oc], tmp[(oy*s.ow+ox)*oc:])
		}
	}
}

// axpy is y += a·x, unrolled by 4 (len(y) ≥ len(x)).
func axpy(a float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs, ys := x[i:i+4:i+4], y[i:i+4:i+4]
		ys[0] += a * xs[0]
		ys[1] += a * xs[1]
		ys[2] += a * xs[2]
		ys[3] += a * xs[3]
	}
	for ; i < len(x); i++ {
		y[i] += a * x[i]
	}
}
