package spikes

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Roaring's portable serialization (github.com/RoaringBitmap/RoaringFormatSpec).
const (
	cookieNoRun   = 12346 // followed by a 32-bit container count
	cookieRun     = 12347 // low 16 bits; the high 16 bits are count−1
	noOffsetBelow = 4     // with run containers, no offset header below 4 containers
	arrayMax      = 4096  // the most values of an array container
)

// checkPortable validates blob as exactly one bitmap in roaring's portable
// serialization, in time linear in its length, before roaring itself
// reads it (roaring trusts its input: a crafted container could make it
// read out of bounds or validate in quadratic time). It returns the
// bitmap's cardinality and largest value (0 when empty).
func checkPortable(blob []byte) (card uint64, maxVal uint32, err error) {
	r := reader{b: blob}
	cookie := r.u32()
	var n int
	var runs []byte
	switch {
	case r.bad:
		return 0, 0, fmt.Errorf("roaring bitmap of %d bytes: no cookie", len(blob))
	case cookie&0xffff == cookieRun:
		n = int(cookie>>16) + 1
		runs = r.next((n + 7) / 8)
	case cookie == cookieNoRun:
		c := r.u32()
		if c > 1<<16 {
			return 0, 0, fmt.Errorf("roaring bitmap: %d containers, at most 65536", c)
		}
		n = int(c)
	default:
		return 0, 0, fmt.Errorf("roaring bitmap: cookie %#x is not a portable roaring bitmap", cookie)
	}
	desc := r.next(4 * n)
	var offs []byte
	if runs == nil || n >= noOffsetBelow {
		offs = r.next(4 * n)
	}
	if r.bad {
		return 0, 0, fmt.Errorf("roaring bitmap of %d bytes: truncated header (%d containers)", len(blob), n)
	}
	prevKey := -1
	for i := 0; i < n; i++ {
		key := int(binary.LittleEndian.Uint16(desc[4*i:]))
		cc := int(binary.LittleEndian.Uint16(desc[4*i+2:])) + 1
		if key <= prevKey {
			return 0, 0, fmt.Errorf("roaring bitmap: container keys not increasing (%d after %d)", key, prevKey)
		}
		prevKey = key
		if offs != nil {
			if off := int(binary.LittleEndian.Uint32(offs[4*i:])); off != r.off {
				return 0, 0, fmt.Errorf("roaring bitmap: container %d at offset %d, the offset header says %d", i, r.off, off)
			}
		}
		var last int
		var got int
		switch {
		case runs != nil && runs[i/8]&(1<<(i%8)) != 0:
			nr := int(r.u16())
			iv := r.next(4 * nr)
			if r.bad {
				return 0, 0, fmt.Errorf("roaring bitmap: run container %d truncated", i)
			}
			if nr == 0 {
				return 0, 0, fmt.Errorf("roaring bitmap: run container %d has no runs", i)
			}
			end := -1
			for j := 0; j < nr; j++ {
				s := int(binary.LittleEndian.Uint16(iv[4*j:]))
				l := int(binary.LittleEndian.Uint16(iv[4*j+2:]))
				if s <= end || s+l > 0xffff {
					return 0, 0, fmt.Errorf("roaring bitmap: run container %d: runs overlap, are out of order or overflow", i)
				}
				end = s + l
				got += l + 1
			}
			last = end
		case cc > arrayMax:
			w := r.next(8192)
			if r.bad {
				return 0, 0, fmt.Errorf("roaring bitmap: bitmap container %d truncated", i)
			}
			for j := 0; j < 1024; j++ {
				x := binary.LittleEndian.Uint64(w[8*j:])
				if x != 0 {
					got += bits.OnesCount64(x)
					last = 64*j + 63 - bits.LeadingZeros64(x)
				}
			}
		default:
			a := r.next(2 * cc)
			if r.bad {
				return 0, 0, fmt.Errorf("roaring bitmap: array container %d truncated", i)
			}
			prev := -1
			for j := 0; j < cc; j++ {
				v := int(binary.LittleEndian.Uint16(a[2*j:]))
				if v <= prev {
					return 0, 0, fmt.Errorf("roaring bitmap: array container %d not increasing", i)
				}
				prev = v
			}
			got, last = cc, prev
		}
		if got != cc {
			return 0, 0, fmt.Errorf("roaring bitmap: container %d holds %d values, its header says %d", i, got, cc)
		}
		card += uint64(cc)
		maxVal = uint32(key)<<16 | uint32(last)
	}
	if r.off != len(blob) {
		return 0, 0, fmt.Errorf("roaring bitmap of %d bytes ends after %d", len(blob), r.off)
	}
	return card, maxVal, nil
}

// reader reads little-endian values off a byte slice; past the end it
// returns zeros and sets bad.
type reader struct {
	b   []byte
	off int
	bad bool
}

func (r *reader) next(n int) []byte {
	if r.bad || n < 0 || n > len(r.b)-r.off {
		r.bad = true
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *reader) u16() uint16 {
	if s := r.next(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if s := r.next(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *reader) u64() uint64 {
	if s := r.next(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}
