package dataset

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// npyBytes builds a .npy file of format version major with the given
// header dict (padded and ended with '\n' as numpy does) and data.
func npyBytes(major byte, dict string, data []byte) []byte {
	pre := 10
	if major > 1 {
		pre = 12
	}
	hdr := dict + " "
	for (pre+len(hdr)+1)%64 != 0 {
		hdr += " "
	}
	hdr += "\n"
	out := append([]byte(npyMagic), major, 0)
	if major == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(hdr)))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(hdr)))
	}
	return append(append(out, hdr...), data...)
}

// npyArray builds a version 1.0 .npy file as numpy writes it.
func npyArray(descr string, shape []int, data []byte) []byte {
	return npyBytes(1, fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shapeText(shape)), data)
}

func f32le(v ...float32) []byte {
	var out []byte
	for _, x := range v {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
	}
	return out
}

func TestNPYHeader(t *testing.T) {
	d24 := make([]byte, 24)
	for _, c := range []struct {
		name    string
		file    []byte
		descr   string
		fortran bool
		shape   []int
	}{
		{"numpy", npyArray("<f4", []int{2, 3}, d24), "<f4", false, []int{2, 3}},
		{"no trailing comma", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)}", d24), "<f4", false, []int{2, 3}},
		{"other key order", npyBytes(1, "{'shape': (2, 3), 'fortran_order': True, 'descr': '<f4'}", d24), "<f4", true, []int{2, 3}},
		{"double quotes, no spaces", npyBytes(1, `{"descr":"<f4","fortran_order":False,"shape":(2,3,)}`, d24), "<f4", false, []int{2, 3}},
		{"one dimension", npyArray("|u1", []int{24}, d24), "|u1", false, []int{24}},
		{"one dimension, no comma", npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (24)}", d24), "|u1", false, []int{24}},
		{"python 2 long", npyBytes(1, "{'descr': '|u1', 'fortran_order': False, 'shape': (24L,)}", d24), "|u1", false, []int{24}},
		{"scalar", npyArray(">i8", nil, d24[:8]), ">i8", false, []int{}},
		{"version 2", npyBytes(2, "{'descr': '<i4', 'fortran_order': False, 'shape': (6,), }", d24), "<i4", false, []int{6}},
		{"version 3", npyBytes(3, "{'descr': '<i4', 'fortran_order': False, 'shape': (3, 2), }", d24), "<i4", false, []int{3, 2}},
		{"zero elements", npyArray("<f4", []int{0, 3}, nil), "<f4", false, []int{0, 3}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h, err := readNPYHeader(bytes.NewReader(c.file), int64(len(c.file)))
			if err != nil {
				t.Fatal(err)
			}
			if h.descr != c.descr || h.fortran != c.fortran || !slices.Equal(h.shape, c.shape) {
				t.Fatalf("got %q %v %v, want %q %v %v", h.descr, h.fortran, h.shape, c.descr, c.fortran, c.shape)
			}
		})
	}
}

func TestNPYHeaderBad(t *testing.T) {
	std := func(shape string) []byte {
		return npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "+shape+", }", nil)
	}
	dict := func(d string) []byte { return npyBytes(1, d, nil) }
	v2 := append([]byte(npyMagic), 2, 0)
	for _, c := range []struct {
		name string
		file []byte
		want []string
	}{
		{"empty", nil, []string{"truncated", "magic number"}},
		{"not npy", []byte("PK\x03\x04 a zip file"), []string{`not a .npy file: it starts with "PK\x03\x04 a"`}},
		{"version 4", append([]byte(npyMagic), 4, 0, 0, 0), []string{".npy format version 4.0"}},
		{"no header length", []byte(npyMagic + "\x01\x00\x05"), []string{"truncated", "header length"}},
		{"header past the end", append([]byte(npyMagic), 1, 0, 100, 0, '{'), []string{"truncated: the header needs 110 bytes, the file has 11"}},
		{"huge header", binary.LittleEndian.AppendUint32(v2, 1<<31), []string{"header of 2147483648 bytes: refusing more than 65536"}},
		{"not a dict", dict("['descr', '<f4']"), []string{"not a dict"}},
		{"no shape", dict("{'descr': '<f4', 'fortran_order': False}"), []string{`no key "shape"`}},
		{"unknown key", dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}"), []string{`unknown key "extra"`}},
		{"key twice", dict("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}"), []string{`key "descr" twice`}},
		{"structured", dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}"), []string{"structured"}},
		{"fortran yes", dict("{'descr': '<f4', 'fortran_order': yes, 'shape': (1,)}"), []string{"want True or False"}},
		{"unterminated", dict("{'descr': '<f4"), []string{"unterminated string"}},
		{"escape", dict(`{'descr': '<f\4', 'fortran_order': False, 'shape': (1,)}`), []string{"escapes"}},
		{"no colon", dict("{'descr' '<f4'}"), []string{`no ':' after key "descr"`}},
		{"no comma", dict("{'descr': '<f4' 'shape': (1,)}"), []string{`no ',' or '}' after the value of "descr"`}},
		{"text after", dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x"), []string{"text after the dict"}},
		{"unclosed", dict("{'descr': '<f4', "), []string{"key: not a quoted string"}},
		{"negative dimension", std("(-2, 3)"), []string{"negative dimension -2"}},
		{"float dimension", std("(2.5,)"), []string{"no ',' or ')' after a dimension"}},
		{"word dimension", std("(None,)"), []string{"not an integer"}},
		{"overflowing dimension", std("(99999999999999999999,)"), []string{"dimension 99999999999999999999", "out of range"}},
		{"2^40 elements", std("(1099511627776,)"), []string{"shape (1099511627776,) declares more than 1073741824 elements: refusing"}},
		{"product overflows", std("(4611686018427387904, 4611686018427387904)"), []string{"more than 1073741824 elements"}},
		{"just over the limit", std("(1024, 1024, 1025)"), []string{"more than 1073741824"}},
		{"33 dimensions", std("(" + string(bytes.Repeat([]byte("1,"), 33)) + ")"), []string{"more than 32 dimensions"}},
		{"dtype too short", dict("{'descr': 'f4', 'fortran_order': False, 'shape': (1,)}"), []string{`dtype "f4": want a byte order`}},
		{"native order", dict("{'descr': '=f4', 'fortran_order': False, 'shape': (1,)}"), []string{`byte order '='`}},
		{"bad size", dict("{'descr': '<f+4', 'fortran_order': False, 'shape': (1,)}"), []string{`item size "+4"`}},
		{"zero size", dict("{'descr': '<V0', 'fortran_order': False, 'shape': (1,)}"), []string{`item size "0"`}},
		{"no byte order for f4", dict("{'descr': '|f4', 'fortran_order': False, 'shape': (1,)}"), []string{"needs a byte order"}},
		{"truncated data", npyArray("<f4", []int{2, 3}, make([]byte, 20)), []string{"truncated: shape (2, 3) of float32 needs 24 bytes of data, the file has 20"}},
		{"trailing data", npyArray("|u1", []int{4}, make([]byte, 5)), []string{"goes on after the 4 bytes of data its shape (4,) of uint8 needs (1 more)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			h, err := readNPYHeader(bytes.NewReader(c.file), int64(len(c.file)))
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("read a bad header: %+v", h)
			}
			wantErr(t, err, "", c.want...)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(c.file))
			}
		})
	}
}

// writeFile writes b to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Arrays numpy can write but testdata/npy has none of: other label types,
// byte orders, sizes.
func TestNPYArrays(t *testing.T) {
	be := binary.BigEndian.AppendUint32(nil, math.Float32bits(0.25))
	be = binary.BigEndian.AppendUint32(be, math.Float32bits(-3))
	for _, c := range []struct {
		name   string
		x, y   []byte
		pixels []float32
		labels []int
	}{
		{"float32 and int8", npyArray("<f4", []int{2, 1, 1, 1}, f32le(0.5, 1)), npyArray("|i1", []int{2}, []byte{3, 127}), []float32{0.5, 1}, []int{3, 127}},
		{"big-endian", npyArray(">f4", []int{1, 2, 1, 1}, be), npyArray(">i4", []int{1}, []byte{0, 1, 0, 0}), []float32{0.25, -3}, []int{65536}},
		{"uint16 labels", npyArray("|u1", []int{2, 1, 1}, []byte{0, 255}), npyArray("<u2", []int{2}, []byte{1, 2, 0, 0}), []float32{0, 1}, []int{513, 0}},
		{"int64 [N, 1] labels", npyArray("|u1", []int{2, 1, 1}, []byte{51, 102}), npyArray("<i8", []int{2, 1}, binary.LittleEndian.AppendUint64(make([]byte, 8), MaxLabel)), []float32{0.2, 0.4}, []int{0, MaxLabel}},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			x := writeFile(t, dir, "x.npy", c.x)
			writeFile(t, dir, "y.npy", c.y)
			s, err := Load("npy", x, Test, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(s.Images, c.pixels) || !slices.Equal(s.Labels, c.labels) {
				t.Fatalf("got %v %v, want %v %v", s.Images, s.Labels, c.pixels, c.labels)
			}
		})
	}
	for _, c := range []struct {
		name string
		y    []byte
		want string
	}{
		{"int8 -1", npyArray("|i1", []int{2}, []byte{0, 0xff}), "label -1 of image 1 is negative"},
		{"int16 big-endian -2", npyArray(">i2", []int{2}, []byte{0, 0, 0xff, 0xfe}), "label -2 of image 1 is negative"},
		{"int64 min", npyArray("<i8", []int{1}, binary.LittleEndian.AppendUint64(nil, 1<<63)), "label -9223372036854775808 of image 0 is negative"},
		{"uint64 max", npyArray("<u8", []int{1}, binary.LittleEndian.AppendUint64(nil, math.MaxUint64)), "label 18446744073709551615 of image 0 is above 1048576"},
		{"above MaxLabel", npyArray("<i4", []int{1}, binary.LittleEndian.AppendUint32(nil, MaxLabel+1)), "label 1048577 of image 0 is above"},
		{"bool", npyArray("|b1", []int{1}, []byte{1}), "dtype bool: labels must be integers"},
		{"float16", npyArray("<f2", []int{1}, []byte{0, 0}), "dtype float16: labels must be integers"},
		{"complex", npyArray("<c8", []int{1}, make([]byte, 8)), `dtype "<c8": labels must be integers`},
		{"int128?", npyArray("<i16", []int{1}, make([]byte, 16)), "dtype int128: labels must be integers"},
		{"scalar", npyArray("<i8", nil, make([]byte, 8)), "labels of shape (): want [N]"},
		{"truncated", npyArray("<i8", []int{2}, make([]byte, 15)), "truncated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			x := writeFile(t, dir, "x.npy", npyArray("|u1", []int{1, 1, 1}, []byte{7}))
			yPath := writeFile(t, dir, "y.npy", c.y)
			_, err := Load("npy", x, Test, 0)
			wantErr(t, err, "npy: "+yPath+": ", c.want)
		})
	}
	// A dimension of x of 2^40 is refused before anything is allocated,
	// and so is one the file has no room for.
	for _, shape := range []string{"(1, 1, 1048576, 1048576)", "(1, 1, 1024, 1024)"} {
		dir := t.TempDir()
		x := writeFile(t, dir, "x.npy", npyBytes(1, "{'descr': '<f4', 'fortran_order': False, 'shape': "+shape+", }", make([]byte, 16)))
		writeFile(t, dir, "y.npy", npyArray("|u1", []int{1}, []byte{0}))
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Load("npy", x, Test, 0)
		runtime.ReadMemStats(&after)
		wantErr(t, err, "npy: "+x+": ")
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
			t.Errorf("%s: allocated %d bytes", shape, alloc)
		}
		t.Log(err)
	}
}
