package spikes

import (
	"fmt"
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/evsnn/evsnn/network"
)

// maxDenseWords bounds the reader's dense scratch bitset of one block
// (8 MB).
const maxDenseWords = 1 << 20

// Spikes returns the spikes of one image and spiking layer as raster
// events (Layer = layer), ordered by step and neuron.
func (r *Reader) Spikes(image, layer int) ([]network.RasterEvent, error) {
	bs, err := r.Blocks(image, layer)
	if err != nil {
		return nil, err
	}
	if err := r.checkRasterable(layer); err != nil {
		return nil, err
	}
	n := int64(0)
	for _, b := range bs {
		n += b.Spikes
	}
	if n > maxEvents {
		return nil, fmt.Errorf("spikes: %s: image %d, layer %q: %d spikes, more than %d raster events at once: use Blocks", r.name, image, r.hdr.Layers[layer].Name, n, maxEvents)
	}
	var ev []network.RasterEvent
	for _, b := range bs {
		ev = r.appendBlock(ev, &b)
	}
	return ev, nil
}

// Raster returns every spike of one image, ordered by step, layer and
// neuron: the order of the engines' ImageRecord.Raster, and what
// analysis/plot.Raster draws (with Header.LayerNames, LayerSizes and T).
func (r *Reader) Raster(image int) ([]network.RasterEvent, error) {
	var n int64
	for k := range r.hdr.Layers {
		es, err := r.LayerEntries(image, k)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			n += e.Spikes
		}
	}
	if n > maxEvents {
		return nil, fmt.Errorf("spikes: %s: image %d: %d spikes, more than %d raster events at once: use Blocks", r.name, image, n, maxEvents)
	}
	per := make([][]network.RasterEvent, len(r.hdr.Layers))
	total := 0
	for k := range per {
		ev, err := r.Spikes(image, k)
		if err != nil {
			return nil, err
		}
		per[k], total = ev, total+len(ev)
	}
	// Merge the layers step by step (each is ordered by step).
	out := make([]network.RasterEvent, 0, total)
	pos := make([]int, len(per))
	for len(out) < total {
		t := int32(-1)
		for k, ev := range per {
			if pos[k] < len(ev) && (t < 0 || ev[pos[k]].Step < t) {
				t = ev[pos[k]].Step
			}
		}
		for k, ev := range per {
			j := pos[k]
			for j < len(ev) && ev[j].Step == t {
				j++
			}
			out = append(out, ev[pos[k]:j]...)
			pos[k] = j
		}
	}
	return out, nil
}

// appendBlock appends the spikes of one block, ordered by step and neuron.
func (r *Reader) appendBlock(ev []network.RasterEvent, b *Block) []network.RasterEvent {
	ly := &r.hdr.Layers[b.Layer]
	o := &r.lay.orders[b.Layer]
	inv := r.inverse(b.Layer)
	N, S := uint64(ly.Neurons), uint64(b.Steps)
	nw := (S*N + 63) / 64
	start := len(ev)
	if nw <= maxDenseWords && nw <= 16*uint64(b.Spikes)+1<<14 {
		// Back to time-major order through a bitset of (t − t₀)·N + n.
		w := make([]uint64, nw)
		forEach(b.Bitmap, func(id uint32) {
			dt, p := uint64(id)%S, uint64(id)/S
			v := dt*N + uint64(o.neuronAt(int(p), inv))
			w[v>>6] |= 1 << (v & 63)
		})
		for i, x := range w {
			for x != 0 {
				v := uint64(i)*64 + uint64(bits.TrailingZeros64(x))
				x &= x - 1
				ev = append(ev, network.RasterEvent{Layer: int32(b.Layer), Neuron: int32(v % N), Step: int32(uint64(b.FirstStep) + v/N)})
			}
		}
		return ev
	}
	forEach(b.Bitmap, func(id uint32) {
		dt, p := uint64(id)%S, uint64(id)/S
		ev = append(ev, network.RasterEvent{Layer: int32(b.Layer), Neuron: int32(o.neuronAt(int(p), inv)), Step: int32(uint64(b.FirstStep) + dt)})
	})
	network.SortRaster(ev[start:])
	return ev
}

// forEach calls f with every id of bm, in increasing order.
func forEach(bm *roaring.Bitmap, f func(uint32)) {
	var buf [1024]uint32
	it := bm.ManyIterator()
	for {
		n := it.NextMany(buf[:])
		if n == 0 {
			return
		}
		for _, id := range buf[:n] {
			f(id)
		}
	}
}

// stepCounts adds the spikes of b at each step to counts (indexed t−1).
func stepCounts(counts []int64, b *Block) {
	S := uint32(b.Steps)
	c := counts[b.FirstStep-1 : b.FirstStep-1+b.Steps]
	if S&(S-1) == 0 {
		mask := S - 1
		forEach(b.Bitmap, func(id uint32) { c[id&mask]++ })
		return
	}
	forEach(b.Bitmap, func(id uint32) { c[id%S]++ })
}

// imageRange checks [first, first+n) against the recording.
func (r *Reader) imageRange(first, n int) bool {
	return first >= 0 && n >= 0 && first <= r.hdr.Images && n <= r.hdr.Images-first
}
