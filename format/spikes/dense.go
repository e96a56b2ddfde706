package spikes

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// The kinds of roaring containers.
const (
	kindArray = iota
	kindBitmap
	kindRun
)

// container describes one container of a bitmap being serialized.
type container struct {
	key, card, runs int
	kind            int
}

// bitmapMemSize is what roaring-go's RunOptimize takes as a bitmap
// container's size when it chooses a container kind (its in-memory size on
// 64-bit platforms: the 8192-byte words and a 32-byte header). Using it
// keeps appendDense's bytes those of roaring's RunOptimize + WriteTo.
const bitmapMemSize = 8192 + 32

// appendDense appends to dst the portable serialization of the set whose
// bits are words (bit v of words[v/64] for id v), exactly as roaring-go's
// FromDense, RunOptimize and WriteTo would produce it, without building
// the bitmap: the writer's hot path. Each 2¹⁶-id container is an array
// (2 bytes per id), a bitmap (8192 bytes) or runs (2 + 4 bytes per run),
// by roaring's rule: runs when smaller than both others, else an array up
// to 4096 ids, else a bitmap. Only the containers marked in dirty (bit
// key for container key; every container if dirty is nil) are looked at,
// the others must be empty. It returns the set's cardinality too.
func (e *encoder) appendDense(dst []byte, words, dirty []uint64) ([]byte, int) {
	cs := e.cs[:0]
	hasRun := false
	total := 0
	for key := 0; key*1024 < len(words); key++ {
		if dirty != nil && dirty[key>>6]&(1<<(key&63)) == 0 {
			if dirty[key>>6]>>(key&63) == 0 {
				key |= 63 // no container left in this word of dirty
			}
			continue
		}
		card, runs := cardRuns(words[key*1024 : min(len(words), (key+1)*1024)])
		if card == 0 {
			continue
		}
		total += card
		c := container{key: key, card: card, runs: runs, kind: kindArray}
		switch {
		case 2+4*runs < min(bitmapMemSize, 2*card):
			c.kind, hasRun = kindRun, true
		case card > arrayMax:
			c.kind = kindBitmap
		}
		cs = append(cs, c)
	}
	e.cs = cs
	// The size is known: grow dst once and fill it in place.
	n := len(cs)
	size := 8 + 8*n // cookie and count, descriptive header, offsets
	if hasRun {
		size = 4 + (n+7)/8 + 4*n
		if n >= noOffsetBelow {
			size += 4 * n
		}
	}
	header := size
	for _, c := range cs {
		size += c.bytes()
	}
	start := len(dst)
	dst = slices.Grow(dst, size)[:start+size]
	b := dst[start:]
	le := binary.LittleEndian
	if hasRun {
		le.PutUint16(b, cookieRun)
		le.PutUint16(b[2:], uint16(n-1))
		flags := b[4 : 4+(n+7)/8]
		clear(flags)
		for i, c := range cs {
			if c.kind == kindRun {
				flags[i/8] |= 1 << (i % 8)
			}
		}
		b = b[4+len(flags):]
	} else {
		le.PutUint32(b, cookieNoRun)
		le.PutUint32(b[4:], uint32(n))
		b = b[8:]
	}
	for i, c := range cs {
		le.PutUint16(b[4*i:], uint16(c.key))
		le.PutUint16(b[4*i+2:], uint16(c.card-1))
	}
	b = b[4*n:]
	if !hasRun || n >= noOffsetBelow {
		off := header
		for i, c := range cs {
			le.PutUint32(b[4*i:], uint32(off))
			off += c.bytes()
		}
		b = b[4*n:]
	}
	for _, c := range cs {
		chunk := words[c.key*1024 : min(len(words), (c.key+1)*1024)]
		switch c.kind {
		case kindArray:
			putArray(b[:2*c.card], chunk)
		case kindBitmap:
			for j, x := range chunk {
				le.PutUint64(b[8*j:], x)
			}
			clear(b[8*len(chunk) : 8192])
		case kindRun:
			le.PutUint16(b, uint16(c.runs))
			putRuns(b[2:], chunk)
		}
		b = b[c.bytes():]
	}
	return dst, total
}

// cardRuns returns the number of set bits of chunk and of runs of them,
// two words at a time so that the sums do not wait on each other.
func cardRuns(chunk []uint64) (card, runs int) {
	var c1, r1 int
	prev := uint64(0) // the previous word
	i := 0
	for ; i+1 < len(chunk); i += 2 {
		x, y := chunk[i], chunk[i+1]
		card += bits.OnesCount64(x)
		c1 += bits.OnesCount64(y)
		runs += bits.OnesCount64(x &^ (x<<1 | prev>>63)) // run starts
		r1 += bits.OnesCount64(y &^ (y<<1 | x>>63))
		prev = y
	}
	if i < len(chunk) {
		x := chunk[i]
		card += bits.OnesCount64(x)
		runs += bits.OnesCount64(x &^ (x<<1 | prev>>63))
	}
	return card + c1, runs + r1
}

// putArray writes the set bits of chunk to b as 16-bit little-endian
// values in increasing order; b holds exactly as many. A word of at most
// four bits writes four values whatever its count (those past its count
// are overwritten by the next word's), so that the loop's exit does not
// depend on the data; the last words, without room for that, go bit by
// bit.
func putArray(b []byte, chunk []uint64) {
	le := binary.LittleEndian
	k := 0
	for j, x := range chunk {
		if x == 0 {
			continue
		}
		base := uint16(64 * j)
		if n := bits.OnesCount64(x); n <= 4 && k+8 <= len(b) {
			out := b[k : k+8 : k+8]
			le.PutUint16(out[0:], base+uint16(bits.TrailingZeros64(x)))
			x &= x - 1
			le.PutUint16(out[2:], base+uint16(bits.TrailingZeros64(x)))
			x &= x - 1
			le.PutUint16(out[4:], base+uint16(bits.TrailingZeros64(x)))
			x &= x - 1
			le.PutUint16(out[6:], base+uint16(bits.TrailingZeros64(x)))
			k += 2 * n
			continue
		}
		for x != 0 {
			le.PutUint16(b[k:], base+uint16(bits.TrailingZeros64(x)))
			k += 2
			x &= x - 1
		}
	}
}

// bytes is the container's serialized size.
func (c *container) bytes() int {
	switch c.kind {
	case kindArray:
		return 2 * c.card
	case kindBitmap:
		return 8192
	}
	return 2 + 4*c.runs
}

// putRuns writes the runs of set bits of chunk as (start, length−1)
// pairs into b.
func putRuns(b []byte, chunk []uint64) {
	le := binary.LittleEndian
	k := 0
	put := func(start, end int) {
		le.PutUint16(b[k:], uint16(start))
		le.PutUint16(b[k+2:], uint16(end-start))
		k += 4
	}
	inRun, start := false, 0
	for j, x := range chunk {
		i := 0
		for i < 64 {
			if !inRun {
				m := x >> i
				if m == 0 {
					break
				}
				i += bits.TrailingZeros64(m)
				start, inRun = 64*j+i, true
			} else {
				m := ^x >> i
				if m == 0 {
					break
				}
				i += bits.TrailingZeros64(m)
				put(start, 64*j+i-1)
				inRun = false
			}
		}
	}
	if inRun {
		put(start, 64*len(chunk)-1)
	}
}
