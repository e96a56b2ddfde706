package event

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// fanKind is what a projection ends in.
type fanKind int8

const (
	fanConv     fanKind = iota // a Conv2d: shared weights, runs of targets
	fanLinear                  // a Linear: one contiguous row per input
	fanIdentity                // no weighted layer: a shortcut into an Add
	fanSparse                  // a SparseLinear: an explicit list per input
)

// proj is one projection (network.Projection): the events of a source,
// through the pools of its path (folded in: see buildEvents), into the
// fan-out of a Conv2d, a Linear or an identity shortcut, adding to the
// current of a target layer.
type proj struct {
	index    int
	src      int // source id
	target   int // layer number
	delay    int
	weighted int // network index of the Conv2d/Linear, −1 for an identity path
	add      int // network index of the Add it enters, −1
	// direct: the source is constant per image (direct input); the
	// projection is then computed once per image into the target's
	// constant current (directCurrent) and never carries events.
	direct bool
	// path lists the pools and Flatten before the weighted layer (or the
	// Add).
	path    []int
	srcGrid grid
	// The first pool of the path, when its windows are counted: the
	// spikes of one step are counted per window (cnt) and each touched
	// window becomes one event whose amplitude is the pooled value the
	// dense pass computes (ampTab). Without it (no pool, or a window
	// larger than a uint16 count), events start as the source's spikes
	// with amplitude amp1[q].
	counted bool
	wins    windows
	window  int       // positions per window at most (ampTab stride − 1)
	ampTab  []float32 // ampTab[ampBase[w]+m]: amplitude of window w holding m spikes
	ampBase []int32
	amp1    []float32
	// stages are the further pools of the path (summed windows); for a
	// direct projection, all of them.
	stages []sumStage
	// pooled is the grid the fan-out reads: the output of the last pool
	// (before any Flatten), or the source's grid.
	pooled grid
	kind   fanKind
	// Conv2d target (fanConv): see convPlan.
	kh, kw, strH, strW, padH, padW int
	inC, outC, oh, ow              int
	wconv                          []float32
	// convRun[p] is where pooled position p's weights start and which
	// site (spatial position) it is at; siteRun[site] is the fan-out the
	// channels of a site share.
	convRun []convRun
	siteRun []siteRun
	// Linear target (fanLinear): wt[p*out:(p+1)*out] is the column of W
	// for pooled internal position p (the transposed weight matrix, rows in
	// the engine's internal order: Flatten costs nothing).
	out int
	wt  []float32
	// SparseLinear target (fanSparse): see sparsePlan.
	sp sparseFan
	// Identity (fanIdentity): idMap[p] is the target neuron of pooled
	// position p (nil: the same index).
	idMap []int32
	// targetSize is the number of neurons of the target layer.
	targetSize int
	// maxEvents bounds the events of one step at any stage.
	maxEvents int
}

// sumStage is a pool after the first one on a path: each window sums the
// amplitudes of the events that fall into it, in event order (which is the
// dense pass's row-major order within a channel), times 1/divisor.
type sumStage struct {
	wins  windows
	scale []float32 // per output window (internal order)
}

// windows is the geometry of a pool on an input grid: for every input
// position (internal order) the windows (output positions, internal
// order) that contain it, as CSR lists; one[q], when no position lies in
// more than one window, is that window (−1: none), else nil.
type windows struct {
	in, out     grid
	start, list []int32
	one         []int32
	maxSize     int // most input positions in one window
}

func (w *windows) of(q int32) []int32 { return w.list[w.start[q]:w.start[q+1]] }

// poolWindows is the geometry of a pooling window (kernel, stride,
// padding; floor mode) from in to out.
func poolWindows(win network.Window, in, out grid) windows {
	ws := windows{in: in, out: out, start: make([]int32, in.size()+1)}
	oyLo, oyHi := taps(in.h, out.h, win.KH, win.StrideH, win.PadH)
	oxLo, oxHi := taps(in.w, out.w, win.KW, win.StrideW, win.PadW)
	for q := 0; q < in.size(); q++ {
		c, yx := q%in.c, q/in.c
		y, x := yx/in.w, yx%in.w
		for oy := oyLo[y]; oy < oyHi[y]; oy++ {
			for ox := oxLo[x]; ox < oxHi[x]; ox++ {
				ws.list = append(ws.list, int32((oy*out.w+ox)*out.c+c))
			}
		}
		ws.start[q+1] = int32(len(ws.list))
	}
	ws.finish()
	return ws
}

// taps gives, for every input row y, the range [lo, hi) of output rows
// whose window (k, stride, pad) contains it.
func taps(size, outSize, k, stride, pad int) (lo, hi []int) {
	lo, hi = make([]int, size), make([]int, size)
	for y := range size {
		// o·stride − pad ≤ y < o·stride − pad + k
		a := y + pad - k + 1
		l := 0
		if a > 0 {
			l = (a + stride - 1) / stride
		}
		h := min((y+pad)/stride+1, outSize)
		lo[y], hi[y] = l, max(l, h)
	}
	return lo, hi
}

// globalWindows is GlobalAvgPool's geometry: one window per channel.
func globalWindows(in grid) windows {
	out := grid{in.c, 1, 1}
	ws := windows{in: in, out: out, start: make([]int32, in.size()+1), list: make([]int32, in.size())}
	for q := range in.size() {
		ws.list[q] = int32(q % in.c)
		ws.start[q+1] = int32(q + 1)
	}
	ws.finish()
	return ws
}

func (ws *windows) finish() {
	size := make([]int, ws.out.size())
	one := true
	for q := range ws.in.size() {
		n := ws.start[q+1] - ws.start[q]
		one = one && n <= 1
		for _, w := range ws.of(int32(q)) {
			size[w]++
		}
	}
	for _, s := range size {
		ws.maxSize = max(ws.maxSize, s)
	}
	if one {
		ws.one = make([]int32, ws.in.size())
		for q := range ws.one {
			ws.one[q] = -1
			if l := ws.of(int32(q)); len(l) == 1 {
				ws.one[q] = l[0]
			}
		}
	}
}

// buildProj compiles projection np from source sid into layer k.
func buildProj(p *plan, np network.Projection, sid, k int) (*proj, error) {
	net, shapes := p.net, p.shapes
	src := p.sources[sid]
	L := p.layers[k]
	pr := &proj{src: sid, target: k, weighted: np.Weighted, add: np.Add, direct: src.direct, srcGrid: src.g, targetSize: L.n}
	where := func(err error) error {
		at := np.Target
		if np.Weighted >= 0 {
			at = np.Weighted
		}
		return fmt.Errorf("event: layer %d (%s %q), projection from %s: %w", at, net.Layers[at].Kind(), net.Layers[at].Name(), p.sourceName(sid), err)
	}
	cur := src.g
	pr.maxEvents = cur.size()
	first := true
	for _, j := range np.Path {
		if j == np.Weighted {
			break
		}
		pr.path = append(pr.path, j)
		var ws windows
		var div func(w int) int
		switch l := net.Layers[j].(type) {
		case *network.AvgPool2d:
			og := gridOf(shapes[j])
			ws = poolWindows(l.Window(), cur, og)
			in := cur
			div = func(w int) int {
				yx := w / og.c
				return l.Divisor(in.h, in.w, yx/og.w, yx%og.w)
			}
		case *network.GlobalAvgPool:
			ws = globalWindows(cur)
			plane := cur.h * cur.w
			div = func(int) int { return plane }
		case *network.Flatten:
			continue
		default:
			return nil, where(fmt.Errorf("layer %d (%s) cannot be on a projection", j, net.Layers[j].Kind()))
		}
		// Direct projections run every pool as a summed stage, once per
		// image (directProj).
		if !pr.direct && first && ws.maxSize <= 0xffff {
			pr.countedPool(ws, src.amp, div)
		} else {
			st := sumStage{wins: ws, scale: make([]float32, ws.out.size())}
			for w := range st.scale {
				st.scale[w] = 1 / float32(div(w))
			}
			pr.stages = append(pr.stages, st)
		}
		first = false
		cur = ws.out
		pr.maxEvents = max(pr.maxEvents, cur.size())
	}
	pr.pooled = cur
	if !pr.direct && !pr.counted {
		pr.amp1 = make([]float32, src.g.size())
		for q := range pr.amp1 {
			pr.amp1[q] = src.amp[q%src.g.c]
		}
	}
	var err error
	switch {
	case np.Weighted < 0:
		pr.kind = fanIdentity
		err = pr.identity(L.g)
	default:
		switch l := net.Layers[np.Weighted].(type) {
		case *network.Conv2d:
			pr.kind = fanConv
			err = pr.convPlan(l, net.ShapeOf(shapes, net.InputOf(np.Weighted)), shapes[np.Weighted])
		case *network.Linear:
			pr.kind = fanLinear
			err = pr.linearPlan(l)
		case *network.SparseLinear:
			pr.kind = fanSparse
			err = pr.sparsePlan(l)
		default:
			err = fmt.Errorf("layer %d (%s) is not a weighted layer the engine knows", np.Weighted, l.Kind())
		}
	}
	if err != nil {
		return nil, where(err)
	}
	return pr, nil
}

// sourceName names source sid for messages.
func (p *plan) sourceName(sid int) string {
	s := p.sources[sid]
	if s.net == network.InputNode {
		return "the input"
	}
	l := p.net.Layers[s.net]
	return fmt.Sprintf("layer %d (%s %q)", s.net, l.Kind(), l.Name())
}

// countedPool makes ws the counted first pool: amplitudes are exactly what
// the dense pool computes for a window holding m spikes of amplitude
// amp[c] (θ added m times in order, times float32(1/divisor)), tabulated
// per (channel, divisor).
func (pr *proj) countedPool(ws windows, amp []float32, div func(w int) int) {
	pr.counted = true
	pr.wins = ws
	pr.window = ws.maxSize
	type class struct{ c, d int }
	ids := map[class]int32{}
	out := ws.out
	pr.ampBase = make([]int32, out.size())
	for w := range pr.ampBase {
		key := class{w % out.c, div(w)}
		id, ok := ids[key]
		if !ok {
			id = int32(len(ids))
			ids[key] = id
			scale := 1 / float32(key.d)
			var s float32
			pr.ampTab = append(pr.ampTab, 0)
			for m := 1; m <= pr.window; m++ {
				s += amp[key.c]
				pr.ampTab = append(pr.ampTab, s*scale)
			}
		}
		pr.ampBase[w] = id * int32(pr.window+1)
	}
}

// identity maps the pooled positions onto the target layer's neurons.
func (pr *proj) identity(tg grid) error {
	pg := pr.pooled
	if pg.size() != tg.size() {
		return fmt.Errorf("%d values reach a layer of %d neurons", pg.size(), tg.size())
	}
	if pg != tg {
		pr.idMap = make([]int32, pg.size())
		for q := range pr.idMap {
			pr.idMap[q] = int32(tg.internal(pg.user(q)))
		}
	}
	return nil
}

// linearPlan builds the transposed weights of a Linear target.
func (pr *proj) linearPlan(l *network.Linear) error {
	pg := pr.pooled
	if pg.size() != l.In {
		return fmt.Errorf("%d inputs, the pooled source has %d values", l.In, pg.size())
	}
	pr.out = l.Out
	pr.wt = make([]float32, l.In*l.Out)
	f := make([]int, pg.size()) // flattened C,H,W index = column of W
	for pq := range f {
		f[pq] = pg.user(pq)
	}
	// Transpose in tiles so that both matrices are walked in cache.
	const tile = 64
	for p0 := 0; p0 < l.In; p0 += tile {
		p1 := min(p0+tile, l.In)
		for o0 := 0; o0 < l.Out; o0 += tile {
			o1 := min(o0+tile, l.Out)
			for o := o0; o < o1; o++ {
				wrow := l.Weight[o*l.In : (o+1)*l.In]
				for pq := p0; pq < p1; pq++ {
					pr.wt[pq*l.Out+o] = wrow[f[pq]]
				}
			}
		}
	}
	return nil
}
