package dataset

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// TestReadNPY reads arrays of every dtype the accessors take, and checks
// that each accessor refuses the others.
func TestReadNPY(t *testing.T) {
	f64 := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.Float64bits(1.5)), math.Float64bits(-2))
	i16 := []byte{0xff, 0xff, 0x02, 0x00} // -1, 2
	u64 := binary.LittleEndian.AppendUint64(nil, 7)
	be32 := binary.BigEndian.AppendUint32(nil, math.Float32bits(3))
	for _, c := range []struct {
		name   string
		file   []byte
		dtype  string
		floats []float64
		ints   []int64
		bytes  string
	}{
		{"float32", npyArray("<f4", []int{2}, f32le(0.25, -1)), "float32", []float64{0.25, -1}, nil, ""},
		{"float64", npyArray("<f8", []int{2, 1}, f64), "float64", []float64{1.5, -2}, nil, ""},
		{"big-endian float32", npyArray(">f4", []int{1}, be32), "float32", []float64{3}, nil, ""},
		{"int16", npyArray("<i2", []int{2}, i16), "int16", nil, []int64{-1, 2}, ""},
		{"uint64", npyArray("<u8", []int{1}, u64), "uint64", nil, []int64{7}, ""},
		{"bool", npyArray("|b1", []int{}, []byte{1}), "bool", nil, []int64{1}, ""},
		{"bytes", npyArray("|S3", []int{}, []byte("csr")), "|S3", nil, nil, "csr"},
		{"short bytes", npyArray("|S5", []int{}, []byte("csc\x00\x00")), "|S5", nil, nil, "csc"},
		// numpy's U counts 4-byte characters: '<U3' is 12 bytes.
		{"unicode", npyArray("<U3", []int{}, []byte("c\x00\x00\x00s\x00\x00\x00r\x00\x00\x00")), "<U3", nil, nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := ReadNPY(bytes.NewReader(c.file), int64(len(c.file)), 10)
			if err != nil {
				t.Fatal(err)
			}
			if a.DType != c.dtype {
				t.Errorf("dtype %q, want %q", a.DType, c.dtype)
			}
			f, ferr := a.Float64s()
			if (ferr == nil) != (c.floats != nil) || !slices.Equal(f, c.floats) {
				t.Errorf("Float64s = %v, %v; want %v", f, ferr, c.floats)
			}
			i, ierr := a.Int64s()
			if (ierr == nil) != (c.ints != nil) || !slices.Equal(i, c.ints) {
				t.Errorf("Int64s = %v, %v; want %v", i, ierr, c.ints)
			}
			b, berr := a.Bytes()
			if (berr == nil) != (c.bytes != "") || string(b) != c.bytes {
				t.Errorf("Bytes = %q, %v; want %q", b, berr, c.bytes)
			}
		})
	}
}

// TestReadNPYBad: the bound on elements, non-finite floats, bad bools and
// too large unsigned values are refused with one line.
func TestReadNPYBad(t *testing.T) {
	huge := binary.LittleEndian.AppendUint64(nil, math.MaxUint64)
	for _, c := range []struct {
		name string
		file []byte
		get  func(*NPYArray) error
		want string
	}{
		{"too many elements", npyArray("<f4", []int{3, 5}, make([]byte, 60)), nil, "15 elements, more than the 10 allowed"},
		{"truncated", npyArray("<f4", []int{3}, make([]byte, 8)), nil, "truncated"},
		{"NaN", npyArray("<f4", []int{2}, f32le(1, float32(math.NaN()))), func(a *NPYArray) error { _, err := a.Float64s(); return err }, "element 1 is NaN"},
		{"uint64 too large", npyArray("<u8", []int{1}, huge), func(a *NPYArray) error { _, err := a.Int64s(); return err }, "above the largest int64"},
		{"bool of 2", npyArray("|b1", []int{1}, []byte{2}), func(a *NPYArray) error { _, err := a.Int64s(); return err }, "bool array is 2"},
		{"bytes array", npyArray("|S3", []int{1}, []byte("csr")), func(a *NPYArray) error { _, err := a.Bytes(); return err }, "want one bytes value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a, err := ReadNPY(bytes.NewReader(c.file), int64(len(c.file)), 10)
			if err == nil && c.get != nil {
				err = c.get(a)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line with %q", err, c.want)
			}
		})
	}
}

// TestNPZ reads the arrays of an archive by name and refuses what numpy
// does not write: entries that are no .npy, names twice, missing arrays.
func TestNPZ(t *testing.T) {
	zipOf := func(entries ...string) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i := 0; i < len(entries); i += 2 {
			w, err := zw.Create(entries[i])
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(entries[i+1]))
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	data := zipOf("b.npy", string(npyArray("<f4", []int{1}, f32le(2))), "a.npy", string(npyArray("|S3", []int{}, []byte("csr"))))
	z, err := NewNPZ(bytes.NewReader(data), int64(len(data)), "m.npz")
	if err != nil {
		t.Fatal(err)
	}
	if got := z.Names(); !slices.Equal(got, []string{"a", "b"}) || !z.Has("a") || z.Has("c") {
		t.Fatalf("names %v", got)
	}
	if a, err := z.Array("b", 4); err != nil || a.Len() != 1 {
		t.Fatalf("b: %v", err)
	}
	if _, err := z.Array("c", 4); err == nil || err.Error() != "m.npz: no array c (it has a, b)" {
		t.Fatalf("missing array: %v", err)
	}
	if _, err := z.Array("b", 0); err == nil || !strings.HasPrefix(err.Error(), "m.npz: b.npy: ") {
		t.Fatalf("bounded array: %v", err)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a zip", []byte("hello"), "m.npz: not a .npz (zip) file"},
		{"other entry", zipOf("a.npy", "", "notes.txt", ""), "m.npz: entry notes.txt is not a .npy array"},
		{"twice", zipOf("a.npy", "", "a.npy", ""), "m.npz: array a twice"},
	} {
		if _, err := NewNPZ(bytes.NewReader(c.data), int64(len(c.data)), "m.npz"); err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

// TestNPZLyingEntry: an entry that declares far more bytes than the file
// holds is refused as truncated without allocating what it declares.
func TestNPZLyingEntry(t *testing.T) {
	const n = 1 << 28 // float32 elements declared: 1 GiB
	file := npyArray("<f4", []int{n}, f32le(1, 2))
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "data.npy", Method: zip.Store,
		CompressedSize64: uint64(len(file) - 8 + 4*n), UncompressedSize64: uint64(len(file) - 8 + 4*n)})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(file)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	z, err := NewNPZ(bytes.NewReader(data), int64(len(data)), "lie.npz")
	if err != nil {
		t.Skipf("archive/zip refuses the entry itself: %v", err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = z.Array("data", n)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "lie.npz: data.npy: ") {
		t.Fatalf("error %v, want one naming the entry", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 8<<20 {
		t.Fatalf("allocated %d bytes for a %d-byte archive", got, len(data))
	}
	t.Log(err)
}
