package spikes

import (
	"bufio"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/evsnn/evsnn/network"
)

// Writer writes a recording. Images may be added in any order and from
// several goroutines at once (Add is safe for concurrent use): each is
// encoded by the goroutine that adds it, and written in image order, so
// the file does not depend on the number of workers or on scheduling. An
// image added before its predecessors waits in memory until they come.
//
// The recording goes to a temporary file beside the target; Close renames
// it over the target once every image is in, so a partial recording never
// appears under the final name.
type Writer struct {
	path string
	hdr  Header
	lay  *Layout
	encs sync.Pool // *encoder
	sets sync.Pool // *rasterScratch, AddRaster's

	mu      sync.Mutex
	f       *os.File
	bw      *bufio.Writer
	drop    *cacheDropper
	off     int64 // bytes written so far
	next    int   // the next image to write
	pending map[int]*encoded
	index   []byte
	ierr    error // an I/O error: the writer is dead
	closed  bool
}

// Create starts a recording of h.Images images at path. h.Format,
// h.IDOrder, each layer's BlockSteps (and Neurons, if zero) are filled in.
func Create(path string, h Header) (*Writer, error) {
	h.Layers = slices.Clone(h.Layers)
	h.complete()
	if err := h.check(); err != nil {
		return nil, fmt.Errorf("spikes: %s: %w", path, err)
	}
	lay, err := NewLayout(h.Layers, h.T)
	if err != nil {
		return nil, fmt.Errorf("spikes: %s: %w", path, err)
	}
	if n := uint64(h.Images) * uint64(len(lay.Slots)); n > maxEntries {
		return nil, fmt.Errorf("spikes: %s: %d images × %d slots = %d bitmaps: at most %d", path, h.Images, len(lay.Slots), n, maxEntries)
	}
	hj, err := json.Marshal(&h)
	if err != nil {
		return nil, fmt.Errorf("spikes: %s: header: %w", path, err)
	}
	if len(hj) > maxHeader {
		return nil, fmt.Errorf("spikes: %s: header of %d bytes: at most %d", path, len(hj), maxHeader)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("spikes: create %s: %w", path, err)
	}
	w := &Writer{path: path, hdr: h, lay: lay, f: f, bw: bufio.NewWriterSize(f, 1<<20), drop: newCacheDropper(f), pending: map[int]*encoded{}}
	w.encs.New = func() any { return newEncoder(lay) }
	w.sets.New = func() any { return &rasterScratch{set: w.NewSpikeSet()} }
	pre := appendPrefix(nil, len(hj))
	w.write(pre)
	w.write(hj)
	w.index = make([]byte, 0, entrySize*len(lay.Slots)*min(h.Images, 1<<16))
	if w.ierr != nil {
		w.remove()
		return nil, w.ierr
	}
	return w, nil
}

// Header returns the recording's header as written.
func (w *Writer) Header() Header { return w.hdr }

// Layout returns the slots each image's id lists must follow.
func (w *Writer) Layout() *Layout { return w.lay }

// NewSpikeSet returns an empty spike set of the recording's layers and T,
// for callers that build an image's spikes themselves (engines fill the
// sets of their ImageRecords, SimOptions.RecordSpikes).
func (w *Writer) NewSpikeSet() *network.SpikeSet {
	set, err := network.NewSpikeSet(w.lay.spikeShapes(), w.hdr.T)
	if err != nil {
		panic(err) // Create checked the layers
	}
	return set
}

// Add records image (0 ≤ image < Header.Images) from its spikes: set must
// be of the recording's layers and T (an engine's ImageRecord.Recorded, or
// NewSpikeSet). Add keeps nothing of set and leaves it as it was. Each
// image must be added exactly once.
func (w *Writer) Add(image int, set *network.SpikeSet) error {
	if image < 0 || image >= w.hdr.Images {
		return fmt.Errorf("spikes: %s: image %d: the recording has %d images", w.path, image, w.hdr.Images)
	}
	enc := w.encs.Get().(*encoder)
	defer w.encs.Put(enc)
	img, err := enc.encodeImage(image, set)
	if err != nil {
		return fmt.Errorf("spikes: %s: %w", w.path, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return fmt.Errorf("spikes: %s: Add after Close", w.path)
	case w.ierr != nil:
		return w.ierr
	case image < w.next || w.pending[image] != nil:
		return fmt.Errorf("spikes: %s: image %d added twice", w.path, image)
	case image > w.next:
		w.pending[image] = &encoded{image: image, blobs: slices.Clone(img.blobs), entries: slices.Clone(img.entries)}
		return nil
	}
	w.writeImage(img)
	for w.ierr == nil {
		p := w.pending[w.next]
		if p == nil {
			break
		}
		delete(w.pending, w.next)
		w.writeImage(p)
	}
	return w.ierr
}

// rasterScratch is AddRaster's reused set and neuron list.
type rasterScratch struct {
	set     *network.SpikeSet
	neurons []int32
}

// AddRaster records image from its raster (every spike of the image,
// ordered by step, layer and neuron, as the engines' ImageRecord.Raster).
func (w *Writer) AddRaster(image int, events []network.RasterEvent) error {
	sc := w.sets.Get().(*rasterScratch)
	defer w.sets.Put(sc)
	sc.set.Reset()
	var err error
	sc.neurons, err = w.lay.fillSet(sc.set, events, sc.neurons)
	if err != nil {
		return fmt.Errorf("spikes: %s: image %d: %w", w.path, image, err)
	}
	return w.Add(image, sc.set)
}

// writeImage appends an image's bitmaps and index entries (w.mu held).
func (w *Writer) writeImage(img *encoded) {
	for i := range img.entries {
		e := img.entries[i]
		e.Offset += w.off
		w.index = appendEntry(w.index, &e)
	}
	w.write(img.blobs)
	w.next++
}

func (w *Writer) write(b []byte) {
	if w.ierr != nil {
		return
	}
	if _, err := w.bw.Write(b); err != nil {
		w.ierr = fmt.Errorf("spikes: write %s: %w", w.path, err)
	}
	w.off += int64(len(b))
	w.drop.advance(w.off - int64(w.bw.Buffered()))
}

// Close writes the index and renames the recording into place. It fails,
// leaving no file at the target, if an image is missing.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("spikes: %s: closed twice", w.path)
	}
	w.closed = true
	if w.ierr != nil {
		w.remove()
		return w.ierr
	}
	if w.next != w.hdr.Images {
		w.remove()
		return fmt.Errorf("spikes: %s: %d of %d images added (image %d is missing); nothing written", w.path, w.next+len(w.pending), w.hdr.Images, w.next)
	}
	hj, _ := json.Marshal(&w.hdr)
	ft := footer{
		indexOffset: uint64(w.off),
		entries:     uint64(len(w.index) / entrySize),
		indexCRC:    crc32.ChecksumIEEE(w.index),
		headerCRC:   crc32.ChecksumIEEE(hj),
	}
	w.write(w.index)
	w.write(appendFooter(nil, ft))
	err := w.ierr
	if err == nil {
		err = w.bw.Flush()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if err == nil {
		err = w.f.Chmod(0o644)
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(w.f.Name(), w.path)
	}
	if err != nil {
		os.Remove(w.f.Name())
		return fmt.Errorf("spikes: write %s: %w", w.path, err)
	}
	return nil
}

// Abort discards the recording. It is a no-op after Close.
func (w *Writer) Abort() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		w.remove()
	}
}

func (w *Writer) remove() {
	w.f.Close()
	os.Remove(w.f.Name())
	w.pending = nil
}
