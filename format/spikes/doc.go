// Package spikes records every spike of a simulation run in a file that
// other programs read without evsnn: each image's spikes, per spiking
// layer, are a 32-bit roaring bitmap in roaring's portable serialization
// (github.com/RoaringBitmap/RoaringFormatSpec), which Python's pyroaring
// (BitMap.deserialize), C CRoaring (roaring_bitmap_portable_deserialize_safe)
// and Java's RoaringBitmap read, inside a small container described here.
// This comment is the format's contract.
//
// # File layout
//
// A recording is one file, little-endian throughout:
//
//	offset     bytes  content
//	0          8      magic "EVSNNSPK"
//	8          4      version, uint32: 1
//	12         4      header length H, uint32
//	16         H      header: JSON, UTF-8 (below)
//	16+H       …      bitmaps, back to back in index order
//	X          48·E   index: E entries (below)
//	size−32    32     footer (below)
//
// The footer, the last 32 bytes:
//
//	0   8   index offset X, uint64
//	8   8   entries E, uint64
//	16  4   CRC-32 of the index (IEEE, as Python's zlib.crc32)
//	20  4   CRC-32 of the header
//	24  8   end magic "EVSPKEND"
//
// An index entry, 48 bytes:
//
//	0   4   image, uint32 (0-based; dataset image first_image + image)
//	4   4   layer, uint32 (index into the header's layers)
//	8   4   first step t₀ of the block, uint32 (steps are 1-based)
//	12  4   steps S of the block, uint32
//	16  8   offset of the bitmap from the start of the file, uint64
//	24  8   length of the bitmap in bytes, uint64
//	32  8   spikes: the bitmap's cardinality, uint64
//	40  4   CRC-32 of the bitmap
//	44  4   reserved, 0
//
// Every image has one entry per slot: image by image, within an image
// layer by layer, within a layer block by block (E = images × slots). The
// bitmaps lie in the same order, the first at 16+H, each where the previous
// ends, the last ending at X; each is exactly its length of portable
// serialization (an image without spikes in a slot has an empty bitmap of
// 8 bytes).
//
// The header is a JSON object (see Header):
//
//	format       "evsnn-spikes"
//	id_order     "w,h,c,t" (the id layout below)
//	T            steps per image
//	images       number of images
//	first_image  dataset index of image 0
//	engine       the simulator ("event", "dense", …)
//	layers       [{name, index (in the network), shape ([C,H,W] or [N]),
//	               neurons, block_steps}], the spiking layers in order
//	provenance   {string: string}, whatever the writer's caller kept
//	             (model, dataset, encoding, seed, command line, …)
//
// Readers must ignore header fields they do not know; a change to anything
// else in this comment makes a new version.
//
// # Ids
//
// A neuron is numbered in the network's C,H,W order: n = (c·H + h)·W + w
// (a layer of another shape than [C,H,W] counts as [N,1,1]). A layer's
// steps are cut into blocks of B = block_steps = min(T, ⌊2³²/N⌋) steps —
// steps 1…B, B+1…2B, …, the last block possibly shorter — so that ids fit
// 32 bits; a layer with T·N ≤ 2³² (every layer of the usual networks) has
// one block. In the block with first step t₀ and S steps, the spike of
// neuron n at step t is the id
//
//	id = p·S + (t − t₀),   p = (w·H + h)·C + c
//
// so with one block id = p·T + (t−1): the ids of one neuron are its spike
// train, neurons ordered by image column w, then row h, then channel c.
//
// The layout is chosen by size. Roaring stores 2¹⁶ ids per container, an
// array of 2 bytes per id up to 4096 ids, else a bitmap of 8192 bytes, or
// runs of 4 bytes each: below about 6 % of a container's ids, 2 bytes per
// spike is all it can do, and it does better only where spikes cluster.
// Convolutional activity clusters in space (where the object is): a
// container of position-major ids covers a few image columns (2¹⁶/(C·T)
// positions) whole, so the columns with the digit fill dense containers
// and the empty margins none. Bitmaps of the LeNet fixture at T = 32 (event
// engine, max thresholds on 1024 training images; the first 1000 test
// images, 26.8 M spikes; TestFixtureRecording), bytes per spike without /
// with RunOptimize:
//
//	time-major, id (t−1)·N + n                 1.847 / 1.846
//	neuron-major, id n·T + (t−1), C,H,W order  1.862 / 1.862
//	neuron-major, positions in H,W,C order     1.629 / 1.629
//	neuron-major, positions in W,H,C order     1.413 / 1.413   (chosen)
//
// Spikes rarely fall in runs (IF neurons fire periodically, not in
// bursts), so RunOptimize gains little here; the writer applies it anyway
// (it costs little, and saturated neurons do make runs). Column-major
// beats row-major on MNIST because digits are taller than wide; on images
// without such a bias the two are alike. All 10,000 test images (283 M
// spikes; 24,421 / 3,679 / 240 per image in the layers of 12,544 / 6,272 /
// 128 neurons) take 1.278, 2.009 and 2.067 bytes per spike — the small,
// sparse layers stay at roaring's 2 bytes — and the whole file, header and
// index included, 392 MB: 1.385 bytes per spike.
//
// # Reading with Python
//
// The header and index need only struct and json; pyroaring decodes the
// bitmaps (numpy turns the ids back into steps and neurons):
//
//	import json, struct, sys, zlib
//	import numpy as np
//	from pyroaring import BitMap
//
//	def read_spikes(path):
//	    """Yields (image, layer name, steps, neurons) per bitmap: numpy arrays
//	    of the 1-based step and the C,H,W neuron index of every spike."""
//	    data = open(path, "rb").read()
//	    magic, version, hlen = struct.unpack_from("<8sII", data, 0)
//	    index, entries, _, _, end = struct.unpack_from("<QQII8s", data, len(data) - 32)
//	    if magic != b"EVSNNSPK" or version != 1 or end != b"EVSPKEND":
//	        raise ValueError(path + ": not a version 1 spike recording")
//	    layers = json.loads(data[16:16 + hlen])["layers"]
//	    for e in range(entries):
//	        image, k, t0, S, off, n, spikes, crc, _ = struct.unpack_from("<IIIIQQQII", data, index + 48 * e)
//	        blob = data[off:off + n]
//	        if zlib.crc32(blob) != crc:
//	            raise ValueError("%s: bitmap %d: CRC mismatch" % (path, e))
//	        ids = np.fromiter(BitMap.deserialize(blob), dtype=np.int64, count=spikes)
//	        shape = layers[k]["shape"]
//	        C, H, W = shape if len(shape) == 3 else (layers[k]["neurons"], 1, 1)
//	        p, dt = np.divmod(ids, S)
//	        q, c = np.divmod(p, C)
//	        w, h = np.divmod(q, H)
//	        yield image, layers[k]["name"], t0 + dt, (c * H + h) * W + w
//
//	if __name__ == "__main__":
//	    print("image,layer,step,neuron")
//	    for image, layer, steps, neurons in read_spikes(sys.argv[1]):
//	        for t, n in zip(steps.tolist(), neurons.tolist()):
//	            print("%d,%s,%d,%d" % (image, layer, t, n))
//
// (testdata/read_spikes.py; TestPythonReader runs it against a pure-Python
// stand-in for pyroaring, which cannot be installed here, and
// TestCRoaring reads recordings with C CRoaring through
// testdata/croaring_read.c.)
//
// # Writing
//
// Create starts a recording of a known number of images; Writer.Add takes
// one image's spikes as a network.SpikeSet — what the engines fill with
// SimOptions.RecordSpikes (ImageRecord.Recorded), or Writer.NewSpikeSet
// for a caller's own — and Writer.AddRaster takes an ImageRecord-style
// raster. A set holds, per slot, the ids above as a bitset (with a mark
// per container that may hold one), or for slots too large for an 8 MB
// bitset a list: the ids are laid out where the engines put them, so the
// writer neither sorts nor converts spikes. Add is safe for concurrent use
// and writes images in order whatever the order they come in, so the file
// does not depend on the number of workers. The recording is written to a
// temporary file beside the target and renamed into place by Close, which
// fails, leaving nothing, unless every image was added. On Linux the
// writer keeps the file out of the page cache as it goes (each 8 MB handed
// to the disk with sync_file_range, waited for and dropped with
// posix_fadvise two chunks later): a recording of hundreds of MB would
// otherwise evict what the machine uses, and cost the kernel fresh memory
// for every page (13–30 µs a page on a VM whose memory the guest has not
// touched yet; 3–4 s of system time for the LeNet test set, against 0.3 s
// with the pages dropped). The writer serializes a bitset slot itself,
// looking only at the marked containers (byte for byte what roaring's
// FromDense, RunOptimize and WriteTo write: FuzzDense and
// TestDenseSparseSame check it), allocation-free per image; list slots go
// through roaring's AddMany, RunOptimize and WriteTo. On the
// LeNet fixture (T = 32, about 25,700 spikes per image) Add costs 57–59
// µs of CPU per image, 2.2–2.3 ns per spike, file writes included, and
// AddRaster, which builds the set from the raster first, 206–238 µs
// (BenchmarkWrite, GOMAXPROCS=1; the event engine takes 1.1–1.4 ms per
// image).
//
// # Reading with Python
//
// The header and index need only struct and json; pyroaring decodes the
// bitmaps (numpy turns the ids back into steps and neurons):
//
//	import json, struct, sys, zlib
//	import numpy as np
//	from pyroaring import BitMap
//
//	def read_spikes(path):
//	    """Yields (image, layer name, steps, neurons) per bitmap: numpy arrays
//	    of the 1-based step and the C,H,W neuron index of every spike."""
//	    data = open(path, "rb").read()
//	    magic, version, hlen = struct.unpack_from("<8sII", data, 0)
//	    index, entries, _, _, end = struct.unpack_from("<QQII8s", data, len(data) - 32)
//	    if magic != b"EVSNNSPK" or version != 1 or end != b"EVSPKEND":
//	        raise ValueError(path + ": not a version 1 spike recording")
//	    layers = json.loads(data[16:16 + hlen])["layers"]
//	    for e in range(entries):
//	        image, k, t0, S, off, n, spikes, crc, _ = struct.unpack_from("<IIIIQQQII", data, index + 48 * e)
//	        blob = data[off:off + n]
//	        if zlib.crc32(blob) != crc:
//	            raise ValueError("%s: bitmap %d: CRC mismatch" % (path, e))
//	        ids = np.fromiter(BitMap.deserialize(blob), dtype=np.int64, count=spikes)
//	        shape = layers[k]["shape"]
//	        C, H, W = shape if len(shape) == 3 else (layers[k]["neurons"], 1, 1)
//	        p, dt = np.divmod(ids, S)
//	        q, c = np.divmod(p, C)
//	        w, h = np.divmod(q, H)
//	        yield image, layers[k]["name"], t0 + dt, (c * H + h) * W + w
//
//	if __name__ == "__main__":
//	    print("image,layer,step,neuron")
//	    for image, layer, steps, neurons in read_spikes(sys.argv[1]):
//	        for t, n in zip(steps.tolist(), neurons.tolist()):
//	            print("%d,%s,%d,%d" % (image, layer, t, n))
//
// (testdata/read_spikes.py; TestPythonReader runs it against a pure-Python
// stand-in for pyroaring, which cannot be installed here, and
// TestCRoaring reads recordings with C CRoaring through
// testdata/croaring_read.c.)
//
// # Writing
//
// Create starts a recording of a known number of images; Writer.Add takes
// one image's spikes as, per slot (Layout.Slots: per layer, one per block
// of steps), the time-major ids (t − t₀)·N + n in increasing order — what
// an engine produces step by step — and Writer.AddRaster takes an
// ImageRecord-style raster. Add is safe for concurrent use and writes
// images in order whatever the order they come in, so the file does not
// depend on the number of workers. The recording is written to a
// temporary file beside the target and renamed into place by Close, which
// fails, leaving nothing, unless every image was added. The writer
// serializes the bitmaps itself from a bitset (byte for byte what roaring's
// FromDense, RunOptimize and WriteTo write: FuzzDense and TestDenseSparseSame
// check it), allocation-free per image; slots too sparse for a bitset
// (huge layers) go through roaring's AddMany, RunOptimize and WriteTo. On
// the LeNet fixture (T = 32, about 28,000 spikes per image) Add costs
// about 190 µs of CPU per image, 7.5 ns per spike, file writes included
// (BenchmarkWrite on a loaded 2-core machine; the event engine took
// 1.25–1.36 ms per image in the same run).
//
// # Reading
//
// Open checks the prefix, footer, header (fields, shapes, block steps),
// header and index CRCs, and that the index's entries are the expected
// slots, their bitmaps tiling the space between header and index; a bitmap
// is checked when read (CRC, a full linear-time validation of the portable
// serialization before roaring sees it, cardinality against the index, ids
// within the block). Any problem is a one-line error naming the file and
// what is wrong (FuzzReader). Reader.Blocks and Bitmap give the bitmaps,
// Spikes and Raster the spikes as network.RasterEvent (Raster in the
// engines' order, ready for analysis/plot.Raster with the header's
// LayerNames, LayerSizes and T), Summary the spikes per layer and step and
// the firing rates, WriteCSV the spikes as CSV.
package spikes
