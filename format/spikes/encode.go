package spikes

import (
	"fmt"
	"hash/crc32"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// maxDenseWords bounds the dense scratch bitset of one slot (8 MB).
const maxDenseWords = 1 << 20

// encoded is one image's bitmaps, serialized back to back, and their
// index entries (offsets relative to the start of blobs).
type encoded struct {
	image   int
	blobs   []byte
	entries []Entry
}

// encoder turns an image's time-major id lists into serialized bitmaps.
// One per goroutine (Writer keeps a pool): its scratch is reused.
type encoder struct {
	lay   *Layout
	words []uint64 // dense scratch, all zero between calls
	sids  []uint32 // storage ids of one sparse slot
	bm    *roaring.Bitmap
	cs    []container // appendDense's scratch
	img   encoded
	// sparse forces the sorting path (tests compare both paths).
	sparse bool
}

func newEncoder(lay *Layout) *encoder {
	return &encoder{lay: lay, bm: roaring.New()}
}

// encodeImage serializes the slots of one image; ids[s] are slot s's
// time-major ids (t − t₀)·N + n, strictly increasing. The result is the
// encoder's own and valid until the next call.
func (e *encoder) encodeImage(image int, ids [][]uint32) (*encoded, error) {
	lay := e.lay
	if len(ids) != len(lay.Slots) {
		return nil, fmt.Errorf("image %d: %d id lists, the recording has %d slots (one per layer and block of steps)", image, len(ids), len(lay.Slots))
	}
	e.img.image = image
	e.img.blobs = e.img.blobs[:0]
	e.img.entries = e.img.entries[:0]
	for s, sl := range lay.Slots {
		start := len(e.img.blobs)
		if err := e.encodeSlot(sl, ids[s]); err != nil {
			ly := lay.Layers[sl.Layer]
			return nil, fmt.Errorf("image %d, layer %d (%q), steps %d–%d: %w", image, sl.Layer, ly.Name, sl.FirstStep, sl.FirstStep+sl.Steps-1, err)
		}
		blob := e.img.blobs[start:]
		e.img.entries = append(e.img.entries, Entry{
			Image: image, Layer: sl.Layer, FirstStep: sl.FirstStep, Steps: sl.Steps,
			Offset: int64(start), Length: int64(len(blob)),
			Spikes: int64(len(ids[s])), CRC: crc32.ChecksumIEEE(blob),
		})
	}
	return &e.img, nil
}

// encodeSlot appends the serialized bitmap of one slot to e.img.blobs.
func (e *encoder) encodeSlot(sl Slot, in []uint32) error {
	ly := &e.lay.Layers[sl.Layer]
	o := &e.lay.orders[sl.Layer]
	N := uint64(ly.Neurons)
	S := uint64(sl.Steps)
	universe := S * N // ≤ 2³²
	nw := int((universe + 63) / 64)
	dense := !e.sparse && nw <= maxDenseWords && nw <= 16*len(in)+1<<14
	var w []uint64
	if dense {
		if len(e.words) < nw {
			e.words = make([]uint64, nw)
		}
		w = e.words[:nw]
	}
	// Storage id of time-major id (t−t₀)·N + n: position(n)·S + (t−t₀).
	// The step is tracked as ids increase, so no division is needed. Dense
	// slots set the storage ids' bits in w (all zero between calls), sparse
	// ones collect them to sort.
	if dense && o.pos != nil {
		// The hot loop: a tabulated order into a bitset.
		pos := o.pos
		var base, dt uint64
		prev := int64(-1)
		for _, id := range in {
			if int64(id) <= prev || uint64(id) >= universe {
				clear(w)
				return checkIDs(in, S, N) // names the first bad id
			}
			prev = int64(id)
			for uint64(id) >= base+N {
				base += N
				dt++
			}
			v := uint64(pos[uint64(id)-base])*S + dt
			w[v>>6] |= 1 << (v & 63)
		}
		e.img.blobs = e.appendDense(e.img.blobs, w)
		clear(w)
		return nil
	}
	if err := checkIDs(in, S, N); err != nil {
		return err
	}
	sids := e.sids[:0]
	var base, dt uint64
	for _, id := range in {
		for uint64(id) >= base+N {
			base += N
			dt++
		}
		v := uint64(o.position(int(uint64(id)-base)))*S + dt
		if dense {
			w[v>>6] |= 1 << (v & 63)
		} else {
			sids = append(sids, uint32(v))
		}
	}
	if dense {
		e.img.blobs = e.appendDense(e.img.blobs, w)
		clear(w)
		return nil
	}
	// Sparse (huge layers): sort the storage ids and let roaring build
	// and serialize the bitmap.
	e.sids = sids
	slices.Sort(sids)
	e.bm.Clear()
	e.bm.AddMany(sids)
	return e.serialize(e.bm)
}

// checkIDs checks that ids increase and stay below S steps × N neurons.
func checkIDs(ids []uint32, S, N uint64) error {
	prev := int64(-1)
	for i, id := range ids {
		if int64(id) <= prev {
			return fmt.Errorf("spike %d: id %d after %d: ids must increase", i, id, prev)
		}
		prev = int64(id)
	}
	if len(ids) > 0 && uint64(ids[len(ids)-1]) >= S*N {
		return fmt.Errorf("spike %d: id %d beyond %d steps × %d neurons", len(ids)-1, ids[len(ids)-1], S, N)
	}
	return nil
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
