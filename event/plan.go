package event

import (
	"fmt"
	"math"

	"github.com/evsnn/evsnn/network"
)

// grid is a tensor shape as the engine sees it: C channels on an H×W grid,
// stored channel-last (HWC): element (c, y, x) lives at (y·W+x)·C+c. A
// vector of n values is the grid (n,1,1), for which HWC and CHW coincide.
type grid struct{ c, h, w int }

func (g grid) size() int { return g.c * g.h * g.w }

func gridOf(s network.Shape) grid {
	switch len(s) {
	case 3:
		return grid{s[0], s[1], s[2]}
	case 1:
		return grid{s[0], 1, 1}
	}
	return grid{s.Size(), 1, 1}
}

// user converts an internal (HWC) index into the network's (CHW) index.
func (g grid) user(q int) int {
	c := q % g.c
	yx := q / g.c
	return c*g.h*g.w + yx
}

// internal converts a CHW index into the HWC index.
func (g grid) internal(i int) int {
	hw := g.h * g.w
	c := i / hw
	return (i%hw)*g.c + c
}

// proj is one projection: the spikes of a source (the input or a spiking
// layer), pooled by an optional AvgPool2d and flattened, into a weighted
// layer (Conv2d or Linear). It holds the fan-out structures.
type proj struct {
	delay int
	src   grid // source grid (internal HWC order)
	// Pooling folded into the fan-out. Without a pool, pooled == src and
	// every source neuron is its own "window".
	pool      bool
	pooled    grid
	poolScale float32
	poolStart []int32 // CSR: windows of source neuron q are poolList[poolStart[q]:poolStart[q+1]]
	poolList  []int32
	window    int       // elements per window (kh·kw), 1 without pool
	ampTab    []float32 // ampTab[c*(window+1)+m]: amplitude of a window of channel c with m spikes
	// poolOne[q] is the only window of source neuron q (-1: none) when
	// windows do not overlap; nil otherwise.
	poolOne []int32
	// ampBase[p] = c·(window+1) for pooled position p of channel c.
	ampBase []int32
	// amp1[q] is the amplitude of source neuron q's spike without a pool.
	amp1 []float32
	// For a stride-1 convolution target (nil otherwise): convRun[p] is
	// where pooled position p's weights start and which site (spatial
	// position) it is at; siteRun[site] is the fan-out shared by the
	// channels of a site.
	convRun []convRun
	siteRun []siteRun
	// Target.
	conv bool
	// Conv2d target: weights W'[ci][ky][j][co] = W[co][ci][ky][KW-1-j],
	// so that the targets of input (ci, iy, ix) in kernel row ky are the run
	// ox = ix+padW-(KW-1)+j, j = 0..KW-1, all co: contiguous in HWC.
	kh, kw, strH, strW, padH, padW int
	inC, outC, oh, ow              int
	wconv                          []float32
	// Linear target: wt[p*out:(p+1)*out] is the column of W for pooled
	// internal position p (the transposed weight matrix, rows in the
	// engine's internal order).
	out int
	wt  []float32
	// targetSize is the number of neurons of the target layer.
	targetSize int
}

// convRun and siteRun are the fan-out of one input position of a stride-1
// convolution with channel-last targets: rows row-adds of n floats,
// weights from wconv[w] with stride KW·OutC, targets from acc[y0] with
// stride −OW·OutC. The targets depend only on the site (the spatial
// position py·W+px, shared by its channels); the weights on the channel
// too.
type convRun struct {
	w, site int32
}

type siteRun struct {
	y0, n, rows int32
	py, px      int32
}

// layerPlan is a layer of neurons the engine updates: a spiking layer (or
// the readout) together with the projection that feeds it.
type layerPlan struct {
	name     string
	netIndex int // index in Network.Layers of the Spiking layer (readout: of the Linear)
	weighted int // index of the Conv2d/Linear feeding it
	readout  bool
	g        grid
	n        int
	alpha    float32
	hard     bool
	theta    []float32 // per neuron, internal order
	v0       []float32 // per neuron, internal order
	bias     []float32 // per neuron, internal order
	invDrift []float64 // 1/(b+δ) for crossing prediction, 0 when b ≤ 0
	fan      []int32   // SOPs per spike (network.FanOut), internal order
	in       *proj     // projection feeding this layer
	out      *proj     // projection this layer feeds (nil for the readout)
	// directWeighted is set on the first layer when the input is direct:
	// its input current is constant per image, computed by the dense
	// forward pass of the layers before weighted.
	direct bool
}

// plan is a network compiled for the event engine.
type plan struct {
	net    *network.Network
	shapes []network.Shape
	input  grid
	// pre lists the layers (AvgPool2d, Flatten) between the input and the
	// first weighted layer; their dense forward pass computes the constant
	// direct-input current.
	first  int // index of the first weighted layer
	layers []*layerPlan
	opts   network.SimOptions
	// inputFan is the SOP count per input spike (Poisson input).
	inputFan []int32
}

func (p *plan) readout() *layerPlan { return p.layers[len(p.layers)-1] }

// compile checks that the network has the form the engine simulates
//
//	input [AvgPool2d] [Flatten] W1 S1 [AvgPool2d] [Flatten] W2 S2 ... WL
//
// (Wi a Conv2d or Linear, Si a Spiking layer, WL a Linear readout) and
// builds the fan-out structures.
func compile(net *network.Network, opts network.SimOptions) (*plan, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	if opts.Delays != nil && len(opts.Delays) != len(net.Layers) {
		return nil, fmt.Errorf("event: %d delays for %d layers", len(opts.Delays), len(net.Layers))
	}
	for i, l := range net.Layers {
		if l.Kind() == network.KindReLU {
			return nil, fmt.Errorf("event: layer %d (relu %q): the network is an ANN; convert it to an SNN first", i, l.Name())
		}
	}
	if last := net.Layers[len(net.Layers)-1]; last.Kind() != network.KindLinear {
		return nil, fmt.Errorf("event: the last layer (%s %q) must be a Linear readout", last.Kind(), last.Name())
	}
	p := &plan{net: net, shapes: shapes, input: gridOf(net.Input), first: -1, opts: opts}
	shapeBefore := func(i int) network.Shape {
		if i == 0 {
			return net.Input
		}
		return shapes[i-1]
	}
	var pool *network.AvgPool2d
	flattened := false
	var cur *layerPlan // layer whose output is the current source (nil: input)
	for i := 0; i < len(net.Layers); i++ {
		switch l := net.Layers[i].(type) {
		case *network.AvgPool2d:
			if pool != nil || flattened {
				return nil, fmt.Errorf("event: layer %d (avgpool2d %q): only one average pool, before any flatten, may sit between two weighted layers", i, l.Name())
			}
			pool = l
		case *network.Flatten:
			flattened = true
		case *network.ReLU:
			return nil, fmt.Errorf("event: layer %d (relu %q): the network is an ANN; convert it to an SNN first", i, l.Name())
		case *network.Spiking:
			return nil, fmt.Errorf("event: layer %d (spiking %q) does not follow a Conv2d or Linear layer", i, l.Name())
		case *network.Conv2d, *network.Linear:
			if opts.Delays != nil {
				for j := range net.Layers {
					if opts.Delays[j] != 0 {
						if k := net.Layers[j].Kind(); k != network.KindConv2d && k != network.KindLinear {
							return nil, fmt.Errorf("event: delay %d on layer %d (%s), which is not a weighted layer", opts.Delays[j], j, k)
						}
					}
				}
			}
			srcGrid := p.input
			srcTheta := ones(p.input.c)
			if cur != nil {
				srcGrid = cur.g
				srcTheta = channelThetas(cur)
			}
			pr, err := buildProj(net.Layers[i], pool, srcGrid, srcTheta, shapeBefore(i), shapes[i])
			if err != nil {
				return nil, fmt.Errorf("event: layer %d (%s %q): %w", i, net.Layers[i].Kind(), net.Layers[i].Name(), err)
			}
			if opts.Delays != nil {
				pr.delay = opts.Delays[i]
			}
			lp := &layerPlan{weighted: i, in: pr, g: gridOf(shapes[i])}
			lp.n = lp.g.size()
			if p.first < 0 {
				p.first = i
				lp.direct = opts.Encoding != network.EncodingPoisson
			}
			if cur != nil {
				cur.out = pr
			}
			bias := layerBias(net.Layers[i])
			lp.bias = make([]float32, lp.n)
			for q := range lp.bias {
				lp.bias[q] = bias[q%lp.g.c]
			}
			if i+1 < len(net.Layers) {
				if s, ok := net.Layers[i+1].(*network.Spiking); ok {
					if err := fillSpiking(lp, s, shapes[i+1]); err != nil {
						return nil, fmt.Errorf("event: layer %d (spiking %q): %w", i+1, s.Name(), err)
					}
					lp.netIndex = i + 1
					lp.name = s.Name()
					fan, err := net.FanOut(i + 1)
					if err != nil {
						return nil, fmt.Errorf("event: %w", err)
					}
					lp.fan = make([]int32, lp.n)
					for j, f := range fan {
						lp.fan[lp.g.internal(j)] = f
					}
					p.layers = append(p.layers, lp)
					cur = lp
					pool, flattened = nil, false
					i++
					continue
				}
			}
			// No spiking layer follows: this must be the last layer, the readout.
			if i != len(net.Layers)-1 {
				return nil, fmt.Errorf("event: layer %d (%s %q) is not followed by a spiking layer and is not the last layer (the readout)", i, net.Layers[i].Kind(), net.Layers[i].Name())
			}
			if _, ok := net.Layers[i].(*network.Linear); !ok {
				return nil, fmt.Errorf("event: the readout (layer %d) must be a Linear layer", i)
			}
			lp.readout = true
			lp.netIndex = i
			lp.name = net.Layers[i].Name()
			p.layers = append(p.layers, lp)
			cur = lp
		default:
			return nil, fmt.Errorf("event: layer %d: unsupported layer type %T", i, l)
		}
	}
	if len(p.layers) == 0 || !p.readout().readout {
		return nil, fmt.Errorf("event: the network must end with a Linear readout layer")
	}
	if opts.Encoding == network.EncodingPoisson {
		fan, err := net.FanOut(-1)
		if err != nil {
			return nil, fmt.Errorf("event: %w", err)
		}
		p.inputFan = make([]int32, len(fan))
		for j, f := range fan {
			p.inputFan[p.input.internal(j)] = f
		}
	}
	return p, nil
}

func ones(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}

// channelThetas is θ per channel of a spiking layer's grid.
func channelThetas(l *layerPlan) []float32 {
	th := make([]float32, l.g.c)
	for c := range th {
		th[c] = l.theta[c] // internal index c is (y=0,x=0,c)
	}
	return th
}

func layerBias(l network.Layer) []float32 {
	switch l := l.(type) {
	case *network.Conv2d:
		return l.Bias
	case *network.Linear:
		return l.Bias
	}
	return nil
}

func fillSpiking(lp *layerPlan, s *network.Spiking, sh network.Shape) error {
	lp.alpha = s.Alpha
	lp.hard = s.Reset == network.ResetHard
	lp.theta = make([]float32, lp.n)
	lp.v0 = make([]float32, lp.n)
	lp.invDrift = make([]float64, lp.n)
	for j := 0; j < lp.n; j++ {
		q := lp.g.internal(j)
		lp.theta[q] = s.ThresholdAt(sh, j)
		lp.v0[q] = s.InitialPotential(sh, j)
	}
	for q := range lp.invDrift {
		lp.invDrift[q] = invDrift(lp.bias[q], lp.theta[q])
	}
	return nil
}

// Crossing predictions (see doc.go). For IF neurons with constant current
// d > 0 starting from v, |v| ≤ 8θ, the float32 sequence v ← fl(v+d) stays
// below v + n(d+δ) with δ = 2^-22·(8θ+d), four times the largest rounding
// error of one step. invDrift is 1/(d+δ).
func invDrift(d, theta float32) float64 {
	if !(d > 0) {
		return 0
	}
	delta := math.Ldexp(8*float64(theta)+float64(d), -22)
	return 1 / (float64(d) + delta)
}

func buildProj(target network.Layer, pool *network.AvgPool2d, src grid, srcTheta []float32, inShape, outShape network.Shape) (*proj, error) {
	pr := &proj{src: src, pooled: src, window: 1, poolScale: 1}
	if pool != nil {
		pr.pool = true
		pg := grid{src.c, (src.h-pool.KH)/pool.StrideH + 1, (src.w-pool.KW)/pool.StrideW + 1}
		pr.pooled = pg
		pr.window = pool.KH * pool.KW
		pr.poolScale = 1 / float32(pool.KH*pool.KW)
		pr.poolStart = make([]int32, src.size()+1)
		for q := 0; q < src.size(); q++ {
			c, yx := q%src.c, q/src.c
			y, x := yx/src.w, yx%src.w
			for py := 0; py < pg.h; py++ {
				if y < py*pool.StrideH || y >= py*pool.StrideH+pool.KH {
					continue
				}
				for px := 0; px < pg.w; px++ {
					if x < px*pool.StrideW || x >= px*pool.StrideW+pool.KW {
						continue
					}
					pr.poolList = append(pr.poolList, int32((py*pg.w+px)*pg.c+c))
				}
			}
			pr.poolStart[q+1] = int32(len(pr.poolList))
		}
	}
	// Amplitudes: exactly what the dense AvgPool2d.Forward produces for a
	// window holding m spikes of amplitude θ (summed in order, then scaled).
	pr.ampTab = make([]float32, src.c*(pr.window+1))
	for c := 0; c < src.c; c++ {
		var s float32
		for m := 1; m <= pr.window; m++ {
			s += srcTheta[c]
			if pr.pool {
				pr.ampTab[c*(pr.window+1)+m] = s * pr.poolScale
			} else {
				pr.ampTab[c*(pr.window+1)+m] = s
			}
		}
	}
	pg := pr.pooled
	pr.ampBase = make([]int32, pg.size())
	for p := range pr.ampBase {
		pr.ampBase[p] = int32((p % pg.c) * (pr.window + 1))
	}
	if !pr.pool {
		pr.amp1 = make([]float32, src.size())
		for q := range pr.amp1 {
			pr.amp1[q] = pr.ampTab[(q%src.c)*2+1]
		}
	} else if len(pr.poolList) <= src.size() {
		one := true
		pr.poolOne = make([]int32, src.size())
		for q := range pr.poolOne {
			switch pr.poolStart[q+1] - pr.poolStart[q] {
			case 0:
				pr.poolOne[q] = -1
			case 1:
				pr.poolOne[q] = pr.poolList[pr.poolStart[q]]
			default:
				one = false
			}
		}
		if !one {
			pr.poolOne = nil
		}
	}
	switch l := target.(type) {
	case *network.Conv2d:
		if len(inShape) != 3 || pg.c != l.InC || pg.h != inShape[1] || pg.w != inShape[2] {
			return nil, fmt.Errorf("input %v does not match the pooled source grid %d×%d×%d", inShape, pg.c, pg.h, pg.w)
		}
		pr.conv = true
		pr.kh, pr.kw, pr.strH, pr.strW, pr.padH, pr.padW = l.KH, l.KW, l.StrideH, l.StrideW, l.PadH, l.PadW
		pr.inC, pr.outC, pr.oh, pr.ow = l.InC, l.OutC, outShape[1], outShape[2]
		pr.wconv = make([]float32, len(l.Weight))
		for co := 0; co < l.OutC; co++ {
			for ci := 0; ci < l.InC; ci++ {
				for ky := 0; ky < l.KH; ky++ {
					for kx := 0; kx < l.KW; kx++ {
						j := l.KW - 1 - kx
						pr.wconv[((ci*l.KH+ky)*l.KW+j)*l.OutC+co] = l.Weight[((co*l.InC+ci)*l.KH+ky)*l.KW+kx]
					}
				}
			}
		}
		pr.targetSize = outShape.Size()
		if pr.strH == 1 && pr.strW == 1 {
			pr.convRun = make([]convRun, pg.size())
			pr.siteRun = make([]siteRun, pg.h*pg.w)
			for p := range pr.convRun {
				pr.convRun[p], pr.siteRun[p/pg.c] = pr.runOf(p)
				if err := pr.checkRun(pr.convRun[p], pr.siteRun[p/pg.c]); err != nil {
					return nil, fmt.Errorf("pooled position %d: %w", p, err)
				}
			}
		}
	case *network.Linear:
		if pg.size() != l.In {
			return nil, fmt.Errorf("%d inputs, the pooled source has %d values", l.In, pg.size())
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
		pr.targetSize = l.Out
	default:
		return nil, fmt.Errorf("not a weighted layer")
	}
	return pr, nil
}

// checkRun verifies that a run's weights and targets lie inside wconv and
// the target layer, so that deliver may hand runs to the assembly kernel
// without checking them again for every event.
func (pr *proj) checkRun(c convRun, r siteRun) error {
	if r.rows == 0 {
		return nil
	}
	wStride, yStride := pr.kw*pr.outC, pr.ow*pr.outC
	wLast := int(c.w) + int(r.rows-1)*wStride + int(r.n)
	yLast := int(r.y0) - int(r.rows-1)*yStride
	if c.w < 0 || r.n <= 0 || wLast > len(pr.wconv) || yLast < 0 || int(r.y0)+int(r.n) > pr.targetSize {
		return fmt.Errorf("internal error: fan-out run %+v %+v outside the weights (%d) or targets (%d)", c, r, len(pr.wconv), pr.targetSize)
	}
	return nil
}

// runOf computes the runs of pooled position p (stride-1 convolution).
func (pr *proj) runOf(p int) (convRun, siteRun) {
	pg := pr.pooled
	kh, kw, outC, ow, oh := pr.kh, pr.kw, pr.outC, pr.ow, pr.oh
	ci := p % pg.c
	yx := p / pg.c
	py, px := yx/pg.w, yx%pg.w
	oxFirst := px + pr.padW - (kw - 1)
	jlo, jhi := 0, kw
	if oxFirst < 0 {
		jlo = -oxFirst
	}
	if ow-oxFirst < jhi {
		jhi = ow - oxFirst
	}
	kyLo, kyHi := 0, kh-1
	if d := py + pr.padH - (oh - 1); d > kyLo {
		kyLo = d
	}
	if d := py + pr.padH; d < kyHi {
		kyHi = d
	}
	c := convRun{site: int32(yx)}
	r := siteRun{py: int32(py), px: int32(px)}
	if kyLo > kyHi || jlo >= jhi {
		return c, r
	}
	oy0 := py + pr.padH - kyLo
	c.w = int32(((ci*kh+kyLo)*kw + jlo) * outC)
	r.y0 = int32((oy0*ow + oxFirst + jlo) * outC)
	r.n = int32((jhi - jlo) * outC)
	r.rows = int32(kyHi - kyLo + 1)
	return c, r
}
