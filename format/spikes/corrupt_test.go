package spikes

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"strings"
	"testing"
)

// fixCRCs recomputes the header, bitmap and index CRCs of a recording
// whose structure is intact enough to find them, so that corruption tests
// and the fuzzer reach the checks behind the CRCs.
func fixCRCs(b []byte) []byte {
	if len(b) < prefixSize+footerSize {
		return b
	}
	le := binary.LittleEndian
	hlen := int(le.Uint32(b[12:]))
	ft := len(b) - footerSize
	if hlen > ft-prefixSize {
		return b
	}
	le.PutUint32(b[ft+20:], crc32.ChecksumIEEE(b[prefixSize:prefixSize+hlen]))
	io, n := le.Uint64(b[ft:]), le.Uint64(b[ft+8:])
	if io > uint64(ft) || n > uint64(ft)/entrySize || io+n*entrySize != uint64(ft) {
		return b
	}
	for i := uint64(0); i < n; i++ {
		e := b[io+i*entrySize:]
		off, l := le.Uint64(e[16:]), le.Uint64(e[24:])
		if off <= uint64(ft) && l <= uint64(ft)-off {
			le.PutUint32(e[40:], crc32.ChecksumIEEE(b[off:off+l]))
		}
	}
	le.PutUint32(b[ft+16:], crc32.ChecksumIEEE(b[io:ft]))
	return b
}

// exercise opens data and reads everything from it; it fails the test if
// an error is not one line naming the file.
func exercise(t *testing.T, data []byte) (openErr, readErr error) {
	t.Helper()
	check := func(err error) error {
		if err != nil && (!strings.Contains(err.Error(), "fuzz.spikes") || strings.Contains(err.Error(), "\n")) {
			t.Fatalf("error not one line naming the file: %q", err)
		}
		return err
	}
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), "fuzz.spikes")
	if check(err) != nil {
		return err, nil
	}
	var total int64
	for _, e := range r.Entries() {
		total += e.Spikes
	}
	// A few bytes of run containers can claim 2³² spikes: read the spikes
	// only of recordings whose claims are small.
	if total > 1<<22 {
		return nil, nil
	}
	first := func(err error) {
		if readErr == nil {
			readErr = check(err)
		}
	}
	for i := 0; i < r.Header().Images; i++ {
		for k := range r.Header().Layers {
			_, err := r.Blocks(i, k)
			first(err)
		}
		_, err := r.Raster(i)
		first(err)
	}
	_, err = r.Summary()
	first(err)
	first(r.WriteCSV(io.Discard, 0, r.Header().Images))
	return nil, readErr
}

func validRecording(t testing.TB) []byte {
	tr := newTestRun(11, 6, 3, layerSpec{[]int{4, 8, 8}, 0.2}, layerSpec{[]int{16, 32, 32}, 0.3}, layerSpec{[]int{10}, 0.5})
	return readFile(t, tr.write(t, 1, 0))
}

// TestCorrupt: every kind of damage is a clear error, at Open for the
// structure, when read for a bitmap.
func TestCorrupt(t *testing.T) {
	good := validRecording(t)
	if oe, re := exercise(t, good); oe != nil || re != nil {
		t.Fatal(oe, re)
	}
	le := binary.LittleEndian
	hlen := int(le.Uint32(good[12:]))
	ft := len(good) - footerSize
	indexOff := int(le.Uint64(good[ft:]))
	firstBlob := prefixSize + hlen
	type mut func(b []byte) []byte
	at := func(off int, v byte) mut { return func(b []byte) []byte { b[off] ^= v; return b } }
	fixed := func(m mut) mut { return func(b []byte) []byte { return fixCRCs(m(b)) } }
	replace := func(old, new string) mut {
		return func(b []byte) []byte {
			if len(old) != len(new) || !bytes.Contains(b[:firstBlob], []byte(old)) {
				t.Fatalf("bad test: %q → %q", old, new)
			}
			return bytes.Replace(b, []byte(old), []byte(new), 1)
		}
	}
	cases := []struct {
		name   string
		m      mut
		atOpen bool
		want   string
	}{
		{"empty", func([]byte) []byte { return nil }, true, "truncated: 0 bytes"},
		{"truncated to 47", func(b []byte) []byte { return b[:47] }, true, "truncated: 47 bytes"},
		{"truncated by one", func(b []byte) []byte { return b[:len(b)-1] }, true, "no end marker"},
		{"cut in the bitmaps", func(b []byte) []byte { return append(b[:firstBlob+20], b[ft:]...) }, true, "index offset"},
		{"magic", at(0, 1), true, "not a spike recording"},
		{"version", at(8, 3), true, "format version 2"},
		{"header length", func(b []byte) []byte { le.PutUint32(b[12:], 1<<30); return b }, true, "header of 1073741824 bytes"},
		{"header byte", at(20, 0x20), true, "header CRC mismatch"},
		{"index byte", at(indexOff+3, 1), true, "index CRC mismatch"},
		{"footer entries", func(b []byte) []byte { le.PutUint64(b[ft+8:], 1<<40); return b }, true, "does not end at the footer"},
		{"end magic", at(len(good)-1, 1), true, "no end marker"},
		{"header T", fixed(replace(`"T":6`, `"T":7`)), true, "block_steps 6, want 7"},
		{"header images", fixed(replace(`"images":3`, `"images":2`)), true, "index has 9 entries"},
		{"header not JSON", fixed(replace(`"T":6`, `"T":x`)), true, "header: invalid character"},
		{"header id order", fixed(replace(`w,h,c,t`, `t,w,h,c`)), true, `id order "t,w,h,c"`},
		{"header shape", fixed(replace(`[4,8,8]`, `[4,8,9]`)), true, "has 288 neurons, the layer 256"},
		{"entry image", fixed(at(indexOff+entrySize, 1)), true, "says image 1, layer 1"},
		{"entry offset", fixed(func(b []byte) []byte { le.PutUint64(b[indexOff+entrySize+16:], 9); return b }), true, "bitmap at offset 9"},
		{"entry spikes", fixed(func(b []byte) []byte { le.PutUint64(b[indexOff+32:], 1<<40); return b }), true, "more than 6 steps × 256 neurons"},
		{"entry reserved", fixed(at(indexOff+46, 1)), true, "reserved field"},
		{"bitmap byte", at(firstBlob+9, 0x40), false, "bitmap CRC mismatch"},
		{"bitmap cookie", fixed(at(firstBlob, 0x10)), false, "not a portable roaring bitmap"},
		{"bitmap spikes", fixed(func(b []byte) []byte { le.PutUint64(b[indexOff+32:], le.Uint64(b[indexOff+32:])-1); return b }), false, "the index says"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := c.m(bytes.Clone(good))
			oe, re := exercise(t, data)
			err := oe
			if !c.atOpen {
				if oe != nil {
					t.Fatalf("Open: %v, want it to succeed", oe)
				}
				err = re
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one with %q", err, c.want)
			}
		})
	}
	// Every truncation fails at Open.
	for n := 0; n < len(good); n += 1 + n/16 {
		if oe, _ := exercise(t, good[:n]); oe == nil {
			t.Errorf("truncated to %d of %d bytes: Open succeeded", n, len(good))
		}
	}
}

// TestCheckPortable: the validator accepts what roaring writes and
// rejects damaged containers.
func TestCheckPortable(t *testing.T) {
	le := binary.LittleEndian
	build := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	u16 := func(v ...uint16) []byte {
		b := make([]byte, 2*len(v))
		for i, x := range v {
			le.PutUint16(b[2*i:], x)
		}
		return b
	}
	u32 := func(v ...uint32) []byte {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			le.PutUint32(b[4*i:], x)
		}
		return b
	}
	bitmap := make([]byte, 8192)
	for i := 0; i < 5000; i++ {
		bitmap[i/8] |= 1 << (i % 8)
	}
	cases := []struct {
		name string
		blob []byte
		card uint64
		max  uint32
		want string
	}{
		{"empty", build(u32(cookieNoRun, 0)), 0, 0, ""},
		{"array", build(u32(cookieNoRun, 1), u16(3, 2), u32(16), u16(1, 5, 9)), 3, 3<<16 | 9, ""},
		{"bitmap", build(u32(cookieNoRun, 1), u16(0, 4999), u32(16), bitmap), 5000, 4999, ""},
		{"run", build(u32(cookieRun), []byte{1}, u16(7, 99), u16(2), u16(10, 49, 70, 49)), 100, 7<<16 | 119, ""},
		{"no cookie", []byte{1, 2}, 0, 0, "no cookie"},
		{"too many containers", build(u32(cookieNoRun, 1<<17)), 0, 0, "131072 containers"},
		{"truncated header", build(u32(cookieNoRun, 2), u16(0, 0)), 0, 0, "truncated header"},
		{"keys", build(u32(cookieNoRun, 2), u16(5, 0, 5, 0), u32(24, 26), u16(1), u16(2)), 0, 0, "keys not increasing"},
		{"offset", build(u32(cookieNoRun, 1), u16(0, 0), u32(17), u16(1)), 0, 0, "offset header says 17"},
		{"array order", build(u32(cookieNoRun, 1), u16(0, 1), u32(16), u16(5, 5)), 0, 0, "not increasing"},
		{"bitmap count", build(u32(cookieNoRun, 1), u16(0, 5000), u32(16), bitmap), 0, 0, "holds 5000 values, its header says 5001"},
		{"runs overlap", build(u32(cookieRun), []byte{1}, u16(0, 79), u16(2), u16(10, 49, 50, 29)), 0, 0, "runs overlap"},
		{"run overflow", build(u32(cookieRun), []byte{1}, u16(0, 9), u16(1), u16(65530, 9)), 0, 0, "overflow"},
		{"no runs", build(u32(cookieRun), []byte{1}, u16(0, 0), u16(0)), 0, 0, "has no runs"},
		{"trailing", build(u32(cookieNoRun, 0), []byte{0}), 0, 0, "ends after 8"},
		{"array truncated", build(u32(cookieNoRun, 1), u16(0, 3), u32(16), u16(1, 2)), 0, 0, "array container 0 truncated"},
	}
	for _, c := range cases {
		card, mx, err := checkPortable(c.blob)
		switch {
		case c.want == "" && (err != nil || card != c.card || mx != c.max):
			t.Errorf("%s: card %d, max %d, err %v; want %d, %d", c.name, card, mx, err, c.card, c.max)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}
