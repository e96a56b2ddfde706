package spikes

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
)

// Reader reads a recording. Open checks the whole structure (prefix,
// header, index, and that the bitmaps tile the space between them); each
// bitmap is checked (CRC, portable format, cardinality, range) when it is
// read. A Reader is safe for concurrent use.
type Reader struct {
	name    string
	ra      io.ReaderAt
	closer  io.Closer
	size    int64
	hdr     Header
	lay     *Layout
	entries []Entry
	// inv[k] tabulates layer k's storage order inverse, built on first
	// use for layers within a total budget (a header may claim layers a
	// table of which the file does not justify).
	inv []lazyTable
}

type lazyTable struct {
	use  bool
	once sync.Once
	tab  []uint32
}

// maxInverse is the total of neurons over the layers that get a table.
const maxInverse = 1 << 22

func (r *Reader) inverse(k int) []uint32 {
	lt := &r.inv[k]
	if !lt.use {
		return nil
	}
	lt.once.Do(func() { lt.tab = r.lay.orders[k].inverse() })
	return lt.tab
}

// Open opens the recording at path.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("spikes: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("spikes: %w", err)
	}
	r, err := NewReader(f, st.Size(), path)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.closer = f
	return r, nil
}

// NewReader reads the recording of size bytes in ra; name is used in
// errors.
func NewReader(ra io.ReaderAt, size int64, name string) (*Reader, error) {
	r := &Reader{name: name, ra: ra, size: size}
	if err := r.open(); err != nil {
		return nil, fmt.Errorf("spikes: %s: %w", name, err)
	}
	return r, nil
}

// Close closes the file Open opened.
func (r *Reader) Close() error {
	if r.closer == nil {
		return nil
	}
	return r.closer.Close()
}

func (r *Reader) read(off, n int64, what string) ([]byte, error) {
	b := make([]byte, n)
	// ReadAt may report io.EOF along with a full read at the end.
	if got, err := r.ra.ReadAt(b, off); got < len(b) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %s (%d bytes at offset %d): %w", what, n, off, err)
	}
	return b, nil
}

func (r *Reader) open() error {
	if r.size < prefixSize+footerSize {
		return fmt.Errorf("truncated: %d bytes, a spike recording has at least %d", r.size, prefixSize+footerSize)
	}
	pre, err := r.read(0, prefixSize, "the prefix")
	if err != nil {
		return err
	}
	if string(pre[:8]) != Magic {
		return fmt.Errorf("not a spike recording (starts with %q, want %q)", pre[:8], Magic)
	}
	if v := binary.LittleEndian.Uint32(pre[8:]); v != Version {
		return fmt.Errorf("format version %d: this reader knows version %d", v, Version)
	}
	hlen := int64(binary.LittleEndian.Uint32(pre[12:]))
	if hlen > r.size-prefixSize-footerSize || hlen > maxHeader {
		return fmt.Errorf("header of %d bytes does not fit in the file of %d bytes: truncated or corrupt", hlen, r.size)
	}
	fb, err := r.read(r.size-footerSize, footerSize, "the footer")
	if err != nil {
		return err
	}
	if string(fb[24:]) != EndMagic {
		return fmt.Errorf("no end marker %q in the last 8 bytes (found %q): truncated or corrupt", EndMagic, fb[24:])
	}
	le := binary.LittleEndian
	ft := footer{indexOffset: le.Uint64(fb), entries: le.Uint64(fb[8:]), indexCRC: le.Uint32(fb[16:]), headerCRC: le.Uint32(fb[20:])}
	blobStart := prefixSize + hlen
	indexEnd := r.size - footerSize
	if ft.indexOffset < uint64(blobStart) || ft.indexOffset > uint64(indexEnd) {
		return fmt.Errorf("index offset %d outside the file's bitmaps [%d, %d]", ft.indexOffset, blobStart, indexEnd)
	}
	if ft.entries > uint64(indexEnd)/entrySize || int64(ft.entries)*entrySize != indexEnd-int64(ft.indexOffset) {
		return fmt.Errorf("index of %d entries at offset %d does not end at the footer (offset %d)", ft.entries, ft.indexOffset, indexEnd)
	}
	hj, err := r.read(prefixSize, hlen, "the header")
	if err != nil {
		return err
	}
	if crc32.ChecksumIEEE(hj) != ft.headerCRC {
		return fmt.Errorf("header CRC mismatch: corrupt header")
	}
	if err := json.Unmarshal(hj, &r.hdr); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if err := r.hdr.check(); err != nil {
		return err
	}
	if r.lay, err = NewLayout(r.hdr.Layers, r.hdr.T); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	r.inv = make([]lazyTable, len(r.hdr.Layers))
	budget := maxInverse
	for k, l := range r.hdr.Layers {
		if o := &r.lay.orders[k]; !o.flat() && l.Neurons <= budget {
			r.inv[k].use = true
			budget -= l.Neurons
		}
	}
	slots := uint64(len(r.lay.Slots))
	if want := uint64(r.hdr.Images) * slots; ft.entries != want {
		return fmt.Errorf("index has %d entries, the header's %d images × %d bitmaps want %d", ft.entries, r.hdr.Images, slots, want)
	}
	ib, err := r.read(int64(ft.indexOffset), int64(ft.entries)*entrySize, "the index")
	if err != nil {
		return err
	}
	if crc32.ChecksumIEEE(ib) != ft.indexCRC {
		return fmt.Errorf("index CRC mismatch: corrupt index")
	}
	r.entries = make([]Entry, ft.entries)
	off := uint64(blobStart)
	for i := range r.entries {
		re := decodeEntry(ib[i*entrySize:])
		img, sl := i/int(slots), r.lay.Slots[i%int(slots)]
		ly := &r.hdr.Layers[sl.Layer]
		where := fmt.Sprintf("index entry %d (image %d, layer %q, steps %d–%d)", i, img, ly.Name, sl.FirstStep, sl.FirstStep+sl.Steps-1)
		switch {
		case re.image != uint32(img) || re.layer != uint32(sl.Layer) || re.firstStep != uint32(sl.FirstStep) || re.steps != uint32(sl.Steps):
			return fmt.Errorf("%s: says image %d, layer %d, steps from %d, %d steps", where, re.image, re.layer, re.firstStep, re.steps)
		case re.offset != off:
			return fmt.Errorf("%s: bitmap at offset %d, want %d (bitmaps lie back to back in index order)", where, re.offset, off)
		case re.length < 8 || re.length > ft.indexOffset-off:
			return fmt.Errorf("%s: bitmap of %d bytes at offset %d does not fit before the index at %d", where, re.length, re.offset, ft.indexOffset)
		case re.spikes > uint64(sl.Steps)*uint64(ly.Neurons):
			return fmt.Errorf("%s: %d spikes, more than %d steps × %d neurons", where, re.spikes, sl.Steps, ly.Neurons)
		case re.reserved != 0:
			return fmt.Errorf("%s: reserved field is %d, want 0", where, re.reserved)
		}
		off += re.length
		r.entries[i] = Entry{
			Image: img, Layer: sl.Layer, FirstStep: sl.FirstStep, Steps: sl.Steps,
			Offset: int64(re.offset), Length: int64(re.length), Spikes: int64(re.spikes), CRC: re.crc,
		}
	}
	if off != ft.indexOffset {
		return fmt.Errorf("the bitmaps end at offset %d, the index starts at %d", off, ft.indexOffset)
	}
	return nil
}

// Header returns the recording's header.
func (r *Reader) Header() Header { return r.hdr }

// Layout returns the recording's slots.
func (r *Reader) Layout() *Layout { return r.lay }

// Size is the recording's size in bytes.
func (r *Reader) Size() int64 { return r.size }

// Entries returns the index, image by image, in slot order.
func (r *Reader) Entries() []Entry { return r.entries }

// LayerEntries returns the index entries of one image and spiking layer
// (one per block of steps).
func (r *Reader) LayerEntries(image, layer int) ([]Entry, error) {
	if image < 0 || image >= r.hdr.Images {
		return nil, fmt.Errorf("spikes: %s: image %d: the recording has %d images", r.name, image, r.hdr.Images)
	}
	if layer < 0 || layer >= len(r.hdr.Layers) {
		return nil, fmt.Errorf("spikes: %s: layer %d: the recording has %d spiking layers", r.name, layer, len(r.hdr.Layers))
	}
	base := image * len(r.lay.Slots)
	return r.entries[base+r.lay.first[layer] : base+r.lay.first[layer+1]], nil
}

// Block is the bitmap of one image, spiking layer and block of steps: it
// holds id p·S + (t − t₀) for every spike of neuron (c·H + h)·W + w at step
// t, p = (w·H + h)·C + c (a layer of shape [N] has C = N, H = W = 1), S the
// block's steps and t₀ its first step.
type Block struct {
	Entry
	Bitmap *roaring.Bitmap
}

// Blocks returns the bitmaps of one image and spiking layer.
func (r *Reader) Blocks(image, layer int) ([]Block, error) {
	es, err := r.LayerEntries(image, layer)
	if err != nil {
		return nil, err
	}
	bs := make([]Block, len(es))
	for j := range es {
		b, err := r.blob(&es[j])
		if err != nil {
			return nil, err
		}
		bm := roaring.New()
		if _, err := bm.FromBuffer(b); err != nil {
			return nil, r.entryErr(&es[j], err)
		}
		bs[j] = Block{es[j], bm}
	}
	return bs, nil
}

// Bitmap returns the bitmap of one image and spiking layer, for a layer
// recorded in one block (T·N ≤ 2³²): ids p·T + (t−1), see Block.
func (r *Reader) Bitmap(image, layer int) (*roaring.Bitmap, error) {
	bs, err := r.Blocks(image, layer)
	if err != nil {
		return nil, err
	}
	if len(bs) != 1 {
		return nil, fmt.Errorf("spikes: %s: layer %q is recorded in %d blocks of steps (its ids do not fit 32 bits): use Blocks", r.name, r.hdr.Layers[layer].Name, len(bs))
	}
	return bs[0].Bitmap, nil
}

// blob reads and checks the serialized bitmap of e.
func (r *Reader) blob(e *Entry) ([]byte, error) {
	b, err := r.read(e.Offset, e.Length, "a bitmap")
	if err != nil {
		return nil, r.entryErr(e, err)
	}
	if crc32.ChecksumIEEE(b) != e.CRC {
		return nil, r.entryErr(e, fmt.Errorf("bitmap CRC mismatch: corrupt bitmap"))
	}
	card, maxVal, err := checkPortable(b)
	if err != nil {
		return nil, r.entryErr(e, err)
	}
	if card != uint64(e.Spikes) {
		return nil, r.entryErr(e, fmt.Errorf("bitmap holds %d spikes, the index says %d", card, e.Spikes))
	}
	if card > 0 && uint64(maxVal) >= uint64(e.Steps)*uint64(r.hdr.Layers[e.Layer].Neurons) {
		return nil, r.entryErr(e, fmt.Errorf("bitmap holds id %d, beyond %d steps × %d neurons", maxVal, e.Steps, r.hdr.Layers[e.Layer].Neurons))
	}
	return b, nil
}

func (r *Reader) entryErr(e *Entry, err error) error {
	return fmt.Errorf("spikes: %s: image %d, layer %q, steps %d–%d (offset %d): %w",
		r.name, e.Image, r.hdr.Layers[e.Layer].Name, e.FirstStep, e.FirstStep+e.Steps-1, e.Offset, err)
}

// checkRasterable reports whether layer's neurons fit RasterEvent's int32.
func (r *Reader) checkRasterable(layer int) error {
	if n := r.hdr.Layers[layer].Neurons; int64(n) > math.MaxInt32+1 {
		return fmt.Errorf("spikes: %s: layer %q has %d neurons, too many for raster events (int32): use Blocks", r.name, r.hdr.Layers[layer].Name, n)
	}
	return nil
}
