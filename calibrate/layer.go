package calibrate

import (
	"fmt"
	"math/bits"

	pool "github.com/evsnn/evsnn/internal/parallel"

	"github.com/evsnn/evsnn/network"
)

// stage is one spiking layer of the network and the part of the network
// that feeds it: the previous spiking layer (or the input), the linear
// weight-free layers after it (AvgPool2d, Flatten) and the weighted layer
// (Conv2d or Linear) right before the spiking layer.
type stage struct {
	index    int           // the spiking (or, in the ANN, ReLU) layer
	weighted int           // the Conv2d or Linear layer before it
	from     int           // the previous spiking layer, -1 for the input
	srcShape network.Shape // output shape of layer from (or the input shape)
	inShape  network.Shape // input shape of the weighted layer
	shape    network.Shape // output shape of the spiking layer
	n        int           // neurons
	channels int           // thresholds/biases: shape[0]
	perCh    int           // neurons per channel
}

// planStages finds the spiking layers of net (an ANN: its ReLUs) and checks
// that each follows a Conv2d or Linear fed only through AvgPool2d/Flatten by
// the previous spiking layer or the input.
func planStages(net *network.Network) ([]stage, error) {
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	var stages []stage
	from := -1
	for _, i := range net.SpikingLayers() {
		w := i - 1
		if w < 0 || net.NextWeighted(from) != w {
			return nil, fmt.Errorf("layer %d (%q): calibration needs every ReLU to follow a conv2d or linear layer fed through avgpool2d/flatten only", i, net.Layers[i].Name())
		}
		st := stage{index: i, weighted: w, from: from, shape: shapes[i]}
		st.srcShape = net.Input
		if from >= 0 {
			st.srcShape = shapes[from]
		}
		st.inShape = net.Input
		if w > 0 {
			st.inShape = shapes[w-1]
		}
		st.n = st.shape.Size()
		st.channels = st.shape[0]
		st.perCh = st.n / st.channels
		stages = append(stages, st)
		from = i
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("the network has no ReLU or spiking layer to calibrate")
	}
	return stages, nil
}

// parallel runs fn(0..n-1) on up to workers goroutines. Callers write
// results by index, so the outcome does not depend on scheduling.
func parallel(workers, n int, fn func(i int)) {
	_ = pool.For(workers, n, func(_, i int) error {
		fn(i)
		return nil
	})
}

// chunkSize is the number of images one parallel work item handles. It is
// fixed so that sums are reduced in the same order for any worker count.
const chunkSize = 8

func chunks(images int) int { return (images + chunkSize - 1) / chunkSize }

func chunkRange(c, images int) (int, int) {
	return c * chunkSize, min((c+1)*chunkSize, images)
}

// trains are the recorded spikes of one spiking layer: one bit per neuron,
// step and image.
type trains struct {
	n, T, words int
	bits        []uint64 // ((image·T)+t)·words + neuron/64
}

func newTrains(images, n, T int) *trains {
	words := (n + 63) / 64
	return &trains{n: n, T: T, words: words, bits: make([]uint64, images*T*words)}
}

func (tr *trains) frame(image, t int) []uint64 {
	o := (image*tr.T + t) * tr.words
	return tr.bits[o : o+tr.words]
}

// drive is the synaptic drive D(t) = W·pool(s_{l−1}(t)) of one layer without
// its bias, for every calibration image and step. With direct input the
// first layer's drive is the same at every step and is stored once.
type drive struct {
	n, steps int
	data     []float32 // (image·steps + t)·n
}

func (d *drive) image(i int) []float32 {
	o := i * d.steps * d.n
	return d.data[o : o+d.steps*d.n]
}

func (d *drive) constant() bool { return d.steps == 1 }

// zeroBiasForward returns a function computing the weighted layer without
// its bias for a batch.
func zeroBiasForward(l network.Layer, in network.Shape) (func(dst, src []float32, batch int, ws *network.Workspace), error) {
	switch l := l.(type) {
	case *network.Conv2d:
		c := *l
		c.Bias = make([]float32, c.OutC)
		return func(dst, src []float32, batch int, ws *network.Workspace) { c.Forward(dst, src, in, batch, ws) }, nil
	case *network.Linear:
		c := *l
		c.Bias = make([]float32, c.Out)
		return func(dst, src []float32, batch int, ws *network.Workspace) { c.Forward(dst, src, batch) }, nil
	}
	return nil, fmt.Errorf("layer %q is %s, not conv2d or linear", l.Name(), l.Kind())
}

// between applies the weight-free layers from st.from+1 to st.weighted−1
// (average pools; flatten only reinterprets) to a batch.
func between(net *network.Network, st *stage, src []float32, batch int) []float32 {
	sh := st.srcShape
	for j := st.from + 1; j < st.weighted; j++ {
		if p, ok := net.Layers[j].(*network.AvgPool2d); ok {
			out, _ := p.OutShape(sh)
			dst := make([]float32, batch*out.Size())
			p.Forward(dst, src, sh, batch)
			src, sh = dst, out
		} else {
			out, _ := net.Layers[j].OutShape(sh)
			sh = out
		}
	}
	return src
}

// maxDriveBytes bounds the memory of one layer's stored drive.
const maxDriveBytes = 4 << 30

// computeDrive computes the drive of stage st. With prev == nil the source
// is the direct (analog) input images; otherwise it is the spike trains of
// the previous spiking layer, whose spikes carry amplitude prevTheta (one
// per channel).
func computeDrive(net *network.Network, st *stage, images []float32, count int, prev *trains, prevTheta []float32, T, workers int) (*drive, error) {
	steps := 1
	if prev != nil {
		steps = T
	}
	if bytes := int64(count) * int64(steps) * int64(st.n) * 4; bytes > maxDriveBytes {
		return nil, fmt.Errorf("layer %q: the drive of %d images × %d steps × %d neurons needs %d MiB; use fewer calibration images",
			net.Layers[st.index].Name(), count, steps, st.n, bytes>>20)
	}
	fwd, err := zeroBiasForward(net.Layers[st.weighted], st.inShape)
	if err != nil {
		return nil, err
	}
	d := &drive{n: st.n, steps: steps, data: make([]float32, count*steps*st.n)}
	var sparse *sparseForward
	if prev != nil {
		sparse = newSparseForward(net.Layers[st.weighted], st.inShape)
	}
	srcSize := st.srcShape.Size()
	perCh := srcSize / st.srcShape[0]
	parallel(workers, chunks(count), func(c int) {
		lo, hi := chunkRange(c, count)
		batch := (hi - lo) * steps
		var src []float32
		if prev == nil {
			src = images[lo*srcSize : hi*srcSize]
		} else {
			src = make([]float32, batch*srcSize)
			for i := lo; i < hi; i++ {
				for t := 0; t < T; t++ {
					dst := src[((i-lo)*T+t)*srcSize:][:srcSize]
					for w, word := range prev.frame(i, t) {
						for word != 0 {
							b := w*64 + bits.TrailingZeros64(word)
							word &= word - 1
							dst[b] = prevTheta[b/perCh]
						}
					}
				}
			}
		}
		in := between(net, st, src, batch)
		out := d.data[lo*steps*st.n : hi*steps*st.n]
		if sparse == nil {
			var ws network.Workspace
			fwd(out, in, batch, &ws)
			return
		}
		inSize := st.inShape.Size()
		tmp := make([]float32, st.n)
		for s := 0; s < batch; s++ {
			sparse.forward(out[s*st.n:(s+1)*st.n], in[s*inSize:(s+1)*inSize], tmp)
		}
	})
	return d, nil
}

// params are one spiking layer's neuron parameters in the form the layer
// simulator uses: everything per channel except the initial potential.
type params struct {
	theta  []float32 // per channel
	bias   []float32 // per channel: the weighted layer's bias
	v0frac float32   // v(0) = v0frac·θ + v0[i]
	v0     []float32 // per neuron, nil for none
	alpha  float32
	hard   bool
}

func (p *params) clone() *params {
	c := *p
	c.theta = append([]float32(nil), p.theta...)
	c.bias = append([]float32(nil), p.bias...)
	if p.v0 != nil {
		c.v0 = append([]float32(nil), p.v0...)
	}
	return &c
}

// simulate runs one image through the layer for T steps (SPEC §2) and
// writes the spike counts; bits, if not nil, receives the spike trains.
func (p *params) simulate(st *stage, d []float32, constant bool, T int, v []float32, counts []int32, tr *trains, image int) {
	n, perCh := st.n, st.perCh
	for c := 0; c < st.channels; c++ {
		base := p.v0frac * p.theta[c]
		for j := c * perCh; j < (c+1)*perCh; j++ {
			v[j] = base
			if p.v0 != nil {
				v[j] += p.v0[j]
			}
			counts[j] = 0
		}
	}
	alpha := p.alpha
	for t := 0; t < T; t++ {
		dt := d
		if !constant {
			dt = d[t*n : (t+1)*n]
		}
		var frame []uint64
		if tr != nil {
			frame = tr.frame(image, t)
			clear(frame)
		}
		for c := 0; c < st.channels; c++ {
			th, b := p.theta[c], p.bias[c]
			lo, hi := c*perCh, (c+1)*perCh
			vs, ds, cs := v[lo:hi], dt[lo:hi], counts[lo:hi]
			for j := range vs {
				vv := alpha*vs[j] + (ds[j] + b)
				if vv >= th {
					if p.hard {
						vv = 0
					} else {
						vv -= th
					}
					cs[j]++
					if frame != nil {
						k := lo + j
						frame[k>>6] |= 1 << (k & 63)
					}
				}
				vs[j] = vv
			}
		}
	}
}

// closedForm reports whether a constant drive's spike count has the closed
// form clip(floor((v(0) + T·I)/θ), 0, T): IF neurons (α = 1), soft reset and
// 0 ≤ v(0) < θ. The search uses it for layers with direct input.
func (p *params) closedForm() bool {
	return p.alpha == 1 && !p.hard && p.v0 == nil && p.v0frac >= 0 && p.v0frac < 1
}

// measurement is the conversion error of one layer configuration.
type measurement struct {
	sq     float64   // Σ over images and neurons of e², e = x − s̄
	errSum []float64 // per neuron: Σ over images of e
	counts []int32   // images × neurons spike counts
	tr     *trains   // the spike trains, if recorded
}

// measure simulates the layer on every calibration image and compares the
// rates with the ANN activations x (images × neurons).
func measure(st *stage, p *params, d *drive, x []float32, images, T, workers int, record bool) *measurement {
	m := &measurement{errSum: make([]float64, st.n), counts: make([]int32, images*st.n)}
	if record {
		m.tr = newTrains(images, st.n, T)
	}
	nc := chunks(images)
	sq := make([]float64, nc)
	sums := make([][]float64, nc)
	parallel(workers, nc, func(c int) {
		lo, hi := chunkRange(c, images)
		v := make([]float32, st.n)
		es := make([]float64, st.n)
		var s float64
		for i := lo; i < hi; i++ {
			counts := m.counts[i*st.n : (i+1)*st.n]
			p.simulate(st, d.image(i), d.constant(), T, v, counts, m.tr, i)
			xi := x[i*st.n : (i+1)*st.n]
			for ch := 0; ch < st.channels; ch++ {
				scale := float64(p.theta[ch]) / float64(T)
				for j := ch * st.perCh; j < (ch+1)*st.perCh; j++ {
					e := float64(xi[j]) - scale*float64(counts[j])
					s += e * e
					es[j] += e
				}
			}
		}
		sq[c], sums[c] = s, es
	})
	for c := 0; c < nc; c++ {
		m.sq += sq[c]
		for j, e := range sums[c] {
			m.errSum[j] += e
		}
	}
	return m
}

// searchScores evaluates threshold candidates (each a per-channel θ
// vector) on the calibration set and returns the squared error per
// candidate and channel. bias(θ) gives the per-channel bias a candidate
// runs with (the bias shift depends on θ). Constant drives whose counts
// have a closed form use it; everything else is simulated step by step.
func searchScores(st *stage, base *params, cands [][]float32, biasFor func(theta []float32) []float32, d *drive, x []float32, images, T, workers int) [][]float64 {
	ps := make([]*params, len(cands))
	for k, th := range cands {
		p := base.clone()
		p.theta = th
		p.bias = biasFor(th)
		ps[k] = p
	}
	nc := chunks(images)
	partial := make([][][]float64, nc)
	parallel(workers, nc, func(c int) {
		lo, hi := chunkRange(c, images)
		v := make([]float32, st.n)
		counts := make([]int32, st.n)
		scores := make([][]float64, len(ps))
		for k := range scores {
			scores[k] = make([]float64, st.channels)
		}
		for i := lo; i < hi; i++ {
			di, xi := d.image(i), x[i*st.n:(i+1)*st.n]
			for k, p := range ps {
				sc := scores[k]
				if d.constant() && p.closedForm() {
					closedFormScores(st, p, di, xi, T, sc)
					continue
				}
				p.simulate(st, di, d.constant(), T, v, counts, nil, 0)
				for ch := 0; ch < st.channels; ch++ {
					scale := float64(p.theta[ch]) / float64(T)
					var s float64
					for j := ch * st.perCh; j < (ch+1)*st.perCh; j++ {
						e := float64(xi[j]) - scale*float64(counts[j])
						s += e * e
					}
					sc[ch] += s
				}
			}
		}
		partial[c] = scores
	})
	out := make([][]float64, len(ps))
	for k := range out {
		out[k] = make([]float64, st.channels)
		for c := 0; c < nc; c++ {
			for ch, s := range partial[c][k] {
				out[k][ch] += s
			}
		}
	}
	return out
}

// closedFormScores adds to sc (per channel) the squared error of IF
// neurons with soft reset under a constant drive d, whose count has the
// closed form n(T) = clip(floor((v(0) + T·(D+b))/θ), 0, T) =
// clip(floor(T·(D+b)/θ + v0frac), 0, T). It equals the step-by-step
// simulation up to float rounding at exact ties.
func closedFormScores(st *stage, p *params, d, x []float32, T int, sc []float64) {
	ft := float32(T)
	for c := 0; c < st.channels; c++ {
		th, b := p.theta[c], p.bias[c]
		scale := ft / th
		out := th / ft
		lo, hi := c*st.perCh, (c+1)*st.perCh
		ds, xs := d[lo:hi], x[lo:hi]
		var s float32
		for j, dj := range ds {
			q := (dj+b)*scale + p.v0frac
			var k float32
			if q >= ft {
				k = ft
			} else if q > 0 {
				k = float32(int32(q))
			}
			e := xs[j] - out*k
			s += e * e
		}
		sc[c] += float64(s)
	}
}

// paramsOf reads a spiking layer's parameters from a network.
func paramsOf(net *network.Network, st *stage) *params {
	sp := net.Layers[st.index].(*network.Spiking)
	return &params{
		theta:  expand(sp.Threshold, st.channels),
		bias:   append([]float32(nil), biasOf(net.Layers[st.weighted])...),
		v0frac: sp.V0Fraction,
		v0:     sp.V0,
		alpha:  sp.Alpha,
		hard:   sp.Reset == network.ResetHard,
	}
}
