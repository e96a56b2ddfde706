package calibrate

import (
	"fmt"
	"math/bits"

	"github.com/evsnn/evsnn/network"
)

// trains are the recorded spikes of one spiking layer (or the events of a
// count-gated MaxPool): one bit per neuron, step and image.
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

// spikes is a calibrated source of spikes as the layers after it see it:
// a spiking layer, or a count-gated MaxPool behind one.
type spikes struct {
	tr     *trains
	counts []int32   // images × neurons: spikes (events) after T steps
	theta  []float32 // amplitude per channel
	perCh  int       // neurons per channel
}

// poolSpikes derives the events of the count-gated MaxPool l (SPEC §2a)
// from the spike trains of the spiking layer it reads: a window emits at
// step t when the largest spike count among its inputs rises, with the
// amplitude θ of its channel; its count after T steps is that largest
// count.
func poolSpikes(l *network.MaxPool2d, in, out network.Shape, src *spikes, images, T, workers int) *spikes {
	n := out.Size()
	ps := &spikes{tr: newTrains(images, n, T), counts: make([]int32, images*n), theta: src.theta, perCh: n / out[0]}
	C, H, W := in[0], in[1], in[2]
	oh, ow := out[1], out[2]
	win := l.Window()
	parallel(workers, chunks(images), func(ch int) {
		lo, hi := chunkRange(ch, images)
		count := make([]int32, in.Size())
		for i := lo; i < hi; i++ {
			clear(count)
			last := ps.counts[i*n : (i+1)*n]
			for t := 0; t < T; t++ {
				for w, word := range src.tr.frame(i, t) {
					for word != 0 {
						count[w*64+bits.TrailingZeros64(word)]++
						word &= word - 1
					}
				}
				frame := ps.tr.frame(i, t)
				for c := 0; c < C; c++ {
					for oy := 0; oy < oh; oy++ {
						y0, y1 := win.Rows(oy, H)
						for ox := 0; ox < ow; ox++ {
							x0, x1 := win.Cols(ox, W)
							var m int32
							for y := y0; y < y1; y++ {
								for _, v := range count[(c*H+y)*W+x0 : (c*H+y)*W+x1] {
									m = max(m, v)
								}
							}
							if k := (c*oh+oy)*ow + ox; m > last[k] {
								last[k] = m
								frame[k>>6] |= 1 << (k & 63)
							}
						}
					}
				}
			}
		}
	})
	return ps
}

// drive is the synaptic drive D(t) of one layer without its bias — the
// sum of its projections — for every calibration image and step. With
// only the analog input behind it the drive is the same at every step and
// is stored once.
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

// applyPath applies a projection's weight-free layers (average pools,
// global average pools; flatten only reinterprets) to a batch.
func applyPath(net *network.Network, p *proj, src []float32, batch int) []float32 {
	sh := p.srcShape
	for _, j := range p.path {
		out, _ := net.Layers[j].OutShape(sh)
		switch l := net.Layers[j].(type) {
		case *network.AvgPool2d:
			dst := make([]float32, batch*out.Size())
			l.Forward(dst, src, sh, batch)
			src = dst
		case *network.GlobalAvgPool:
			dst := make([]float32, batch*out.Size())
			l.Forward(dst, src, sh, batch)
			src = dst
		}
		sh = out
	}
	return src
}

// analogSource is the analog value a constant projection reads for a
// batch of images: the images themselves, or their plain max pool.
func analogSource(net *network.Network, p *proj, images []float32, batch int) []float32 {
	if p.kind == srcInput {
		return images
	}
	l := net.Layers[p.source].(*network.MaxPool2d)
	out := make([]float32, batch*p.srcShape.Size())
	l.Forward(out, images, net.Input, batch)
	return out
}

// maxDriveBytes bounds the memory of one layer's stored drive.
const maxDriveBytes = 4 << 30

// computeDrive computes the drive of stage st on count images: the sum,
// in projection order, of every projection's weighted (or identity)
// output of its source — the analog input, or the recorded spikes src
// returns for a spiking layer or a MaxPool, each spike carrying its
// channel's θ.
func computeDrive(net *network.Network, st *stage, images []float32, count int, src func(layer int) *spikes, T, workers int) (*drive, error) {
	steps := T
	if st.constant() {
		steps = 1
	}
	if bytes := int64(count) * int64(steps) * int64(st.n) * 4; bytes > maxDriveBytes {
		return nil, fmt.Errorf("layer %q: the drive of %d images × %d steps × %d neurons needs %d MiB; use fewer calibration images",
			net.Layers[st.index].Name(), count, steps, st.n, bytes>>20)
	}
	type kernel struct {
		dense  func(dst, src []float32, batch int, ws *network.Workspace)
		sparse *sparseForward
		sp     *spikes
	}
	ks := make([]kernel, len(st.projs))
	for k := range st.projs {
		p := &st.projs[k]
		if !p.kind.constant() {
			ks[k].sp = src(p.source)
		}
		if p.weighted < 0 {
			continue
		}
		if p.kind.constant() {
			f, err := zeroBiasForward(net.Layers[p.weighted], p.inShape)
			if err != nil {
				return nil, err
			}
			ks[k].dense = f
		} else {
			ks[k].sparse = newSparseForward(net.Layers[p.weighted], p.inShape)
		}
	}
	d := &drive{n: st.n, steps: steps, data: make([]float32, count*steps*st.n)}
	size := net.Input.Size()
	parallel(workers, chunks(count), func(c int) {
		lo, hi := chunkRange(c, count)
		imgs := hi - lo
		out := d.data[lo*steps*st.n : hi*steps*st.n]
		var ws network.Workspace
		tmp := make([]float32, st.n)
		contrib := make([]float32, st.n)
		for k := range st.projs {
			p := &st.projs[k]
			if p.kind.constant() {
				x := analogSource(net, p, images[lo*size:hi*size], imgs)
				in := applyPath(net, p, x, imgs)
				y := in
				if ks[k].dense != nil {
					y = make([]float32, imgs*st.n)
					ks[k].dense(y, in, imgs, &ws)
				}
				for i := 0; i < imgs; i++ {
					yi := y[i*st.n : (i+1)*st.n]
					for t := 0; t < steps; t++ {
						addTo(out[(i*steps+t)*st.n:][:st.n], yi)
					}
				}
				continue
			}
			sp := ks[k].sp
			srcSize := p.srcShape.Size()
			batch := imgs * T
			frames := make([]float32, batch*srcSize)
			for i := lo; i < hi; i++ {
				for t := 0; t < T; t++ {
					dst := frames[((i-lo)*T+t)*srcSize:][:srcSize]
					for w, word := range sp.tr.frame(i, t) {
						for word != 0 {
							b := w*64 + bits.TrailingZeros64(word)
							word &= word - 1
							dst[b] = sp.theta[b/sp.perCh]
						}
					}
				}
			}
			in := applyPath(net, p, frames, batch)
			inSize := p.inShape.Size()
			for s := 0; s < batch; s++ {
				o := out[s*st.n : (s+1)*st.n]
				x := in[s*inSize : (s+1)*inSize]
				if ks[k].sparse == nil {
					addTo(o, x)
					continue
				}
				ks[k].sparse.forward(contrib, x, tmp)
				addTo(o, contrib)
			}
		}
	})
	return d, nil
}

// addTo is dst += src.
func addTo(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// rates is a projection's input as rates, for every image: the analog
// input (or its max pool), or the source's θ·count/T, after the path's
// pools — what weight calibration's surrogate sees.
func rates(net *network.Network, p *proj, images []float32, count int, sp *spikes, T int) []float32 {
	var r []float32
	if p.kind.constant() {
		r = analogSource(net, p, images, count)
	} else {
		r = make([]float32, len(sp.counts))
		size := p.srcShape.Size()
		for i, n := range sp.counts {
			if n != 0 {
				r[i] = sp.theta[(i%size)/sp.perCh] * float32(n) / float32(T)
			}
		}
	}
	return applyPath(net, p, r, count)
}
