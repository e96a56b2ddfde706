package spikes

import (
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/evsnn/evsnn/network"
)

// encoded is one image's bitmaps, serialized back to back, and their
// index entries (offsets relative to the start of blobs).
type encoded struct {
	image   int
	blobs   []byte
	entries []Entry
}

// encoder turns an image's spike set into serialized bitmaps. One per
// goroutine (Writer keeps a pool): its scratch is reused.
type encoder struct {
	lay *Layout
	ids []uint32 // a sparse slot's sorted ids
	bm  *roaring.Bitmap
	cs  []container // appendDense's scratch
	img encoded
	// sparse forces the roaring path for dense slots too (tests compare
	// both paths).
	sparse bool
}

func newEncoder(lay *Layout) *encoder {
	return &encoder{lay: lay, bm: roaring.New()}
}

// encodeImage serializes the slots of one image. The result is the
// encoder's own and valid until the next call.
func (e *encoder) encodeImage(image int, set *network.SpikeSet) (*encoded, error) {
	if err := e.lay.fits(set); err != nil {
		return nil, fmt.Errorf("image %d: %w", image, err)
	}
	e.img.image = image
	e.img.blobs = e.img.blobs[:0]
	e.img.entries = e.img.entries[:0]
	for s, sl := range set.Slots() {
		start := len(e.img.blobs)
		n, err := e.encodeSlot(set, s, &sl)
		if err != nil {
			ly := e.lay.Layers[sl.Layer]
			return nil, fmt.Errorf("image %d, layer %d (%q), steps %d–%d: %w", image, sl.Layer, ly.Name, sl.FirstStep, sl.FirstStep+sl.Steps-1, err)
		}
		blob := e.img.blobs[start:]
		e.img.entries = append(e.img.entries, Entry{
			Image: image, Layer: sl.Layer, FirstStep: sl.FirstStep, Steps: sl.Steps,
			Offset: int64(start), Length: int64(len(blob)),
			Spikes: int64(n), CRC: crc32.ChecksumIEEE(blob),
		})
	}
	return &e.img, nil
}

// encodeSlot appends the serialized bitmap of slot s to e.img.blobs and
// returns its number of spikes.
func (e *encoder) encodeSlot(set *network.SpikeSet, s int, sl *network.SpikeSlot) (int, error) {
	universe := uint64(sl.Steps) * uint64(e.lay.Layers[sl.Layer].Neurons) // ≤ 2³²
	if sl.Dense() && !e.sparse {
		// The hot path: the set's bits are the bitmap's.
		if tail := universe % 64; tail != 0 && sl.Words[len(sl.Words)-1]>>tail != 0 {
			return 0, fmt.Errorf("a spike beyond %d steps × %d neurons", sl.Steps, e.lay.Layers[sl.Layer].Neurons)
		}
		var n int
		e.img.blobs, n = e.appendDense(e.img.blobs, sl.Words, sl.Dirty)
		return n, nil
	}
	// Sparse (huge layers): sorted ids through roaring.
	e.ids = set.IDs(s, e.ids[:0])
	if m := len(e.ids); m > 0 && uint64(e.ids[m-1]) >= universe {
		return 0, fmt.Errorf("id %d beyond %d steps × %d neurons", e.ids[m-1], sl.Steps, e.lay.Layers[sl.Layer].Neurons)
	}
	e.bm.Clear()
	e.bm.AddMany(e.ids)
	return len(e.ids), e.serialize(e.bm)
}

// serialize appends bm, run-optimized, to e.img.blobs.
func (e *encoder) serialize(bm *roaring.Bitmap) error {
	bm.RunOptimize()
	_, err := bm.WriteTo((*appender)(&e.img.blobs))
	return err
}

// appender is an io.Writer appending to a byte slice.
type appender []byte

func (a *appender) Write(p []byte) (int, error) {
	*a = append(*a, p...)
	return len(p), nil
}

// fits checks that set was made for the layout's layers and T.
func (l *Layout) fits(set *network.SpikeSet) error {
	if set == nil {
		return fmt.Errorf("no recorded spikes (the run was not made with RecordSpikes)")
	}
	if set.T() != l.T || set.NumLayers() != len(l.Layers) || len(set.Slots()) != len(l.Slots) {
		return fmt.Errorf("spikes of %d layers over T = %d, the recording has %d layers over T = %d", set.NumLayers(), set.T(), len(l.Layers), l.T)
	}
	for k := range l.Layers {
		ly := &l.Layers[k]
		sh := set.Shape(k)
		C, H, W := ly.chw()
		if sh.Size() != ly.Neurons || (len(sh) == 3) != (len(ly.Shape) == 3) || (len(sh) == 3 && (sh[0] != C || sh[1] != H || sh[2] != W)) {
			return fmt.Errorf("layer %d (%q): spikes of shape %v, the recording's is %v", k, ly.Name, sh, network.Shape(ly.Shape))
		}
	}
	return nil
}

// fillSet records events (one image's raster: every event's Layer, Neuron
// and Step in range, ordered by step, layer and neuron as the engines
// record them) in set, which must be empty.
func (l *Layout) fillSet(set *network.SpikeSet, events []network.RasterEvent, scratch []int32) ([]int32, error) {
	group := scratch[:0]
	gk, gt := -1, -1
	flush := func() {
		if len(group) > 0 {
			set.Add(gk, gt, group)
		}
		group = group[:0]
	}
	for i, e := range events {
		k, t, n := int(e.Layer), int(e.Step), int(e.Neuron)
		if k < 0 || k >= len(l.Layers) || t < 1 || t > l.T || n < 0 || n >= l.Layers[k].Neurons {
			return group, fmt.Errorf("raster event %d (layer %d, step %d, neuron %d) out of range", i, k, t, n)
		}
		if k != gk || t != gt {
			if t < gt || (t == gt && k < gk) {
				return group, fmt.Errorf("raster event %d (layer %d, step %d, neuron %d) is not after the previous spike of its layer", i, k, t, n)
			}
			flush()
			gk, gt = k, t
		} else if m := len(group); m > 0 && group[m-1] >= int32(n) {
			return group, fmt.Errorf("raster event %d (layer %d, step %d, neuron %d) is not after the previous spike of its layer", i, k, t, n)
		}
		group = append(group, int32(n))
	}
	flush()
	return group, nil
}

// spikeShapes returns the layers' shapes as network shapes.
func (l *Layout) spikeShapes() []network.Shape {
	sh := make([]network.Shape, len(l.Layers))
	for k, ly := range l.Layers {
		sh[k] = network.Shape(slices.Clone(ly.Shape))
		if len(sh[k]) == 0 {
			sh[k] = network.Shape{ly.Neurons}
		}
	}
	return sh
}
