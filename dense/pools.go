package dense

import (
	"math"

	"github.com/evsnn/evsnn/network"
)

// windowTable lists, for every input position j of a [C,H,W] tensor, the
// outputs of a pool of geometry w whose window contains it:
// tgt[start[j]:start[j+1]], in increasing order. Padding is no input.
type windowTable struct {
	start []int32
	tgt   []int32
}

func newWindowTable(w network.Window, in, out network.Shape) windowTable {
	h, wd := in[1], in[2]
	oh, ow := out[1], out[2]
	t := windowTable{start: make([]int32, in.Size()+1)}
	// span is the range [lo, hi) of outputs of n whose window (start
	// o·stride − pad, length k) holds input position p.
	span := func(p, k, stride, pad, n int) (int, int) {
		lo := 0 // o·stride > p+pad−k
		if q := p + pad - k; q >= 0 {
			lo = q/stride + 1
		}
		return lo, min(n, (p+pad)/stride+1) // o·stride ≤ p+pad
	}
	for j := range in.Size() {
		ci, y, x := j/(h*wd), j/wd%h, j%wd
		oy0, oy1 := span(y, w.KH, w.StrideH, w.PadH, oh)
		ox0, ox1 := span(x, w.KW, w.StrideW, w.PadW, ow)
		for oy := oy0; oy < oy1; oy++ {
			for ox := ox0; ox < ox1; ox++ {
				t.tgt = append(t.tgt, int32((ci*oh+oy)*ow+ox))
			}
		}
		t.start[j+1] = int32(len(t.tgt))
	}
	return t
}

// poolOp is an AvgPool2d (any padding, either divisor rule). Fed by an
// event source it adds up only the spikes, from the list of neurons that
// fired, into the windows they belong to, then scales: the same sums, in
// the same order, as network.AvgPool2d.Forward, which adds each window's
// values in row-major order before multiplying by float32(1/divisor).
type poolOp struct {
	win     network.Window
	in      network.Shape
	outSize int
	oh, ow  int
	// scale[o] = float32(1/divisor) of output o's window (per output, not
	// per plane, so that the sparse path needs no division).
	scale []float32
	windowTable
}

func newPoolOp(l *network.AvgPool2d, in, out network.Shape) *poolOp {
	p := &poolOp{win: l.Window(), in: in, outSize: out.Size(), oh: out[1], ow: out[2]}
	p.scale = make([]float32, p.outSize)
	plane := p.oh * p.ow
	for o := range p.scale {
		oy, ox := o%plane/p.ow, o%p.ow
		p.scale[o] = 1 / float32(l.Divisor(in[1], in[2], oy, ox))
	}
	p.windowTable = newWindowTable(p.win, in, out)
	return p
}

// forward computes dst = avgpool(src) for batch images, as
// network.AvgPool2d.Forward does.
func (p *poolOp) forward(dst, src []float32, batch int) {
	c, h, w := p.in[0], p.in[1], p.in[2]
	plane := p.oh * p.ow
	for bc := 0; bc < batch*c; bc++ {
		x := src[bc*h*w : (bc+1)*h*w]
		y := dst[bc*plane : (bc+1)*plane]
		for oy := 0; oy < p.oh; oy++ {
			y0, y1 := p.win.Rows(oy, h)
			for ox := 0; ox < p.ow; ox++ {
				x0, x1 := p.win.Cols(ox, w)
				var s float32
				for iy := y0; iy < y1; iy++ {
					for _, v := range x[iy*w+x0 : iy*w+x1] {
						s += v
					}
				}
				y[oy*p.ow+ox] = s * p.scale[oy*p.ow+ox] // the same for every channel
			}
		}
	}
}

// forwardSpikes computes dst = avgpool(src) for one image whose nonzero
// inputs are the positions fired (in increasing order) with values
// amp[fired[·]] (positive). touched is scratch space for outSize entries.
// (Not inlined: inlined into state.layer it took 11 % more instructions
// on the fixture LeNet, callgrind.)
//
//go:noinline
func (p *poolOp) forwardSpikes(dst []float32, fired []int32, amp []float32, touched []int32) {
	dst = dst[:p.outSize]
	clear(dst)
	touched = touched[:0]
	for _, j := range fired {
		v := amp[j]
		for _, t := range p.tgt[p.start[j]:p.start[j+1]] {
			if dst[t] == 0 {
				touched = append(touched, t)
			}
			dst[t] += v
		}
	}
	for _, t := range touched {
		dst[t] *= p.scale[t]
	}
}

// gapOp is a GlobalAvgPool: each channel's plane summed in order, times
// float32(1/(H·W)), as network.GlobalAvgPool.Forward.
type gapOp struct {
	channels, plane int
}

// forward computes dst = gap(src) for batch images.
func (g *gapOp) forward(dst, src []float32, batch int) {
	scale := 1 / float32(g.plane)
	for bc := 0; bc < batch*g.channels; bc++ {
		var s float32
		for _, v := range src[bc*g.plane : (bc+1)*g.plane] {
			s += v
		}
		dst[bc] = s * scale
	}
}

// forwardSpikes is forward for one image from its event list: skipping
// the zeros changes no sum.
func (g *gapOp) forwardSpikes(dst []float32, fired []int32, amp []float32) {
	dst = dst[:g.channels]
	clear(dst)
	for _, j := range fired {
		dst[int(j)/g.plane] += amp[j]
	}
	scale := 1 / float32(g.plane)
	for c := range dst {
		dst[c] *= scale
	}
}

// addOp is an Add: its inputs in order, then its bias (per channel), as
// network.Add.Forward.
type addOp struct {
	bias  []float32
	plane int
}

// forward computes one image's sum; srcs are the inputs' slices of it.
func (a *addOp) forward(dst []float32, srcs [][]float32) {
	copy(dst, srcs[0])
	for _, s := range srcs[1:] {
		s = s[:len(dst)]
		for i, v := range s {
			dst[i] += v
		}
	}
	for c, bv := range a.bias {
		y := dst[c*a.plane : (c+1)*a.plane]
		for i := range y {
			y[i] += bv
		}
	}
}

// maxPoolOp is the count-gated MaxPool2d of SPEC §2a on an event source
// (a spiking layer, or the Poisson input): a window emits an event of
// amplitude amp (θ of its channel; 1 on the input) at a step where the
// largest spike count among its inputs rises. Only a window holding a
// neuron that fired can rise, to that neuron's new count, so the pool
// visits the windows of the neurons that fired: the events are those of
// the full scan over every window, at a cost that follows the spikes.
type maxPoolOp struct {
	windowTable
	outSize int
	amp     []float32 // per output: the amplitude of its events
	fanOut  []int32   // SOPs per event, per output
	charge  int       // spiking layer (index k) its SOPs are charged to; -1: the input
}

func newMaxPoolOp(net *network.Network, i int, l *network.MaxPool2d, in, out network.Shape) (*maxPoolOp, error) {
	m := &maxPoolOp{windowTable: newWindowTable(l.Window(), in, out), outSize: out.Size(), charge: -1}
	var err error
	if m.fanOut, err = net.FanOut(i); err != nil {
		return nil, err
	}
	m.amp = make([]float32, out.Size())
	plane := out[1] * out[2]
	src := net.InputOf(i)
	for w := range m.amp {
		m.amp[w] = 1
		if src != network.InputNode {
			sp := net.Layers[src].(*network.Spiking)
			m.amp[w] = sp.ThresholdAt(in, w/plane*in[1]*in[2])
		}
	}
	if src != network.InputNode {
		for k, li := range net.SpikingLayers() {
			if li == src {
				m.charge = k
			}
		}
	}
	return m, nil
}

// step computes one image's events at a step: fired lists the inputs that
// fired, cnt their counts after this step, last the windows' largest
// counts before it (updated). The events go to ev, in the order the
// windows were reached, not sorted: all events of a channel have the same
// amplitude and no pool mixes channels, so the order in which a pool adds
// them up changes no sum. mark is all false on entry and on return. It
// returns the number of events and their SOPs.
func (m *maxPoolOp) step(fired []int32, cnt []int32, last []int32, ev []int32, mark []bool) (int, int64) {
	n := 0
	for _, j := range fired {
		c := cnt[j]
		for _, w := range m.tgt[m.start[j]:m.start[j+1]] {
			if c > last[w] {
				last[w] = c
				if !mark[w] {
					mark[w] = true
					ev[n] = w
					n++
				}
			}
		}
	}
	var sops int64
	for _, w := range ev[:n] {
		mark[w] = false
		sops += int64(m.fanOut[w])
	}
	return n, sops
}

// plainMax is a MaxPool2d on the direct input: the plain max of each
// window's positions inside the input (padding never wins), as
// network.MaxPool2d.Forward, without allocating.
type plainMax struct {
	win    network.Window
	in     network.Shape
	oh, ow int
}

// forward computes dst = maxpool(src) for batch images.
func (m *plainMax) forward(dst, src []float32, batch int) {
	c, h, w := m.in[0], m.in[1], m.in[2]
	plane := m.oh * m.ow
	for bc := 0; bc < batch*c; bc++ {
		x := src[bc*h*w : (bc+1)*h*w]
		y := dst[bc*plane : (bc+1)*plane]
		for oy := 0; oy < m.oh; oy++ {
			y0, y1 := m.win.Rows(oy, h)
			for ox := 0; ox < m.ow; ox++ {
				x0, x1 := m.win.Cols(ox, w)
				v := float32(math.Inf(-1))
				for iy := y0; iy < y1; iy++ {
					for _, u := range x[iy*w+x0 : iy*w+x1] {
						v = max(v, u)
					}
				}
				y[oy*m.ow+ox] = v
			}
		}
	}
}
