package spikes

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// requireReaders is set in CI (.ci/run): there the CRoaring and Python
// checks must run, not skip.
var requireReaders = os.Getenv("EVSNN_REQUIRE_READERS") == "1"

var croaring struct {
	once sync.Once
	dir  string // holds the compiled reader; TestMain removes it
	bin  string
	why  string // why it is missing
}

func TestMain(m *testing.M) {
	code := m.Run()
	if croaring.dir != "" {
		os.RemoveAll(croaring.dir)
	}
	os.Exit(code)
}

// croaringReader compiles testdata/croaring_read.c against the system's
// CRoaring (Debian libroaring-dev), once per test binary; it skips the
// test, loudly, when no C compiler or no roaring.h is found.
func croaringReader(t *testing.T) string {
	t.Helper()
	c := &croaring
	c.once.Do(func() {
		cc, err := exec.LookPath("cc")
		if err != nil {
			c.why = "no C compiler (cc) on PATH"
			return
		}
		dir, err := os.MkdirTemp("", "croaring")
		if err != nil {
			c.why = err.Error()
			return
		}
		c.dir = dir
		bin := filepath.Join(dir, "croaring_read")
		out, err := exec.Command(cc, "-O1", "-o", bin, filepath.Join("testdata", "croaring_read.c"), "-lroaring").CombinedOutput()
		if err != nil {
			c.why = fmt.Sprintf("cannot build testdata/croaring_read.c against CRoaring (apt-get install libroaring-dev): %v: %s", err, bytes.TrimSpace(out))
			return
		}
		c.bin = bin
	})
	if c.bin == "" {
		if requireReaders {
			t.Fatalf("EVSNN_REQUIRE_READERS=1 but %s", c.why)
		}
		t.Skipf("SKIPPED: CRoaring check: %s", c.why)
	}
	return c.bin
}

// croaringEntry is one line of croaring_read's output.
type croaringEntry struct {
	image, layer, first, steps int
	ids                        []uint32
}

// readWithCRoaring runs croaring_read on path.
func readWithCRoaring(t *testing.T, path string) []croaringEntry {
	t.Helper()
	out, err := exec.Command(croaringReader(t), path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("croaring_read: %v: %s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var es []croaringEntry
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<30)
	for sc.Scan() {
		head, ids, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			t.Fatalf("croaring_read: line %q", sc.Text())
		}
		var e croaringEntry
		var card int
		if _, err := fmt.Sscan(head, &e.image, &e.layer, &e.first, &e.steps, &card); err != nil {
			t.Fatalf("croaring_read: line %q: %v", head, err)
		}
		for _, f := range strings.Fields(ids) {
			v, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				t.Fatal(err)
			}
			e.ids = append(e.ids, uint32(v))
		}
		if len(e.ids) != card {
			t.Fatalf("croaring_read: %d ids, cardinality %d", len(e.ids), card)
		}
		es = append(es, e)
	}
	return es
}

// checkWithCRoaring reads the recording at path with CRoaring and checks
// that it finds, entry by entry, the spikes of rasters (one per image)
// under the documented id layout.
func checkWithCRoaring(t *testing.T, path string, h *Header, rasters [][]network.RasterEvent) {
	t.Helper()
	es := readWithCRoaring(t, path)
	lay, err := NewLayout(h.Layers, h.T)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != len(rasters)*len(lay.Slots) {
		t.Fatalf("CRoaring read %d bitmaps, want %d images × %d", len(es), len(rasters), len(lay.Slots))
	}
	for i, e := range es {
		img, sl := i/len(lay.Slots), lay.Slots[i%len(lay.Slots)]
		if e.image != img || e.layer != sl.Layer || e.first != sl.FirstStep || e.steps != sl.Steps {
			t.Fatalf("entry %d: CRoaring read image %d layer %d steps %d+%d, want %d %d %d+%d", i, e.image, e.layer, e.first, e.steps, img, sl.Layer, sl.FirstStep, sl.Steps)
		}
		want := storageIDs(h, rasters[img], sl.Layer, sl.FirstStep, sl.Steps)
		if !slices.Equal(e.ids, want) {
			t.Fatalf("image %d layer %d steps from %d: CRoaring finds %d ids, want %d (or different ones)", img, sl.Layer, sl.FirstStep, len(e.ids), len(want))
		}
	}
}

// TestCRoaring writes the round-trip recordings (array, bitmap and run
// containers; ids up to 2³²−1; fake huge layers in blocks of steps) and
// reads them back with C CRoaring.
func TestCRoaring(t *testing.T) {
	croaringReader(t)
	var kinds [3]uint64 // array, bitmap and run containers seen
	for i, c := range roundTrips {
		t.Run(c.name, func(t *testing.T) {
			tr := newTestRun(uint64(i), c.T, c.images, c.specs...)
			path := tr.write(t, 2, 1)
			checkWithCRoaring(t, path, &tr.hdr, tr.rasters)
			r, err := Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			for img := range c.images {
				for k := range tr.hdr.Layers {
					bs, err := r.Blocks(img, k)
					if err != nil {
						t.Fatal(err)
					}
					for _, b := range bs {
						st := b.Bitmap.Stats()
						kinds[0] += st.ArrayContainers
						kinds[1] += st.BitmapContainers
						kinds[2] += st.RunContainers
					}
				}
			}
		})
	}
	if kinds[0] == 0 || kinds[1] == 0 || kinds[2] == 0 {
		t.Errorf("the recordings hold %d array, %d bitmap and %d run containers: CRoaring did not see every kind", kinds[0], kinds[1], kinds[2])
	}
	t.Logf("CRoaring read %d array, %d bitmap and %d run containers", kinds[0], kinds[1], kinds[2])
}

// TestCRoaringRejects: the C reader is a real check (it fails on a
// damaged bitmap).
func TestCRoaringRejects(t *testing.T) {
	bin := croaringReader(t)
	data := validRecording(t)
	hlen := int(binary.LittleEndian.Uint32(data[12:]))
	data[prefixSize+hlen+10] ^= 0x55
	path := filepath.Join(t.TempDir(), "bad.spikes")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, path).CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("CRC mismatch")) {
		t.Errorf("croaring_read on a damaged bitmap: %v, %s", err, out)
	}
}
