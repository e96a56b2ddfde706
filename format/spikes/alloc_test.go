package spikes

import (
	"path/filepath"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"
)

// TestAddAllocs: once warm, adding an image in order allocates nothing
// (the writer sits in the engines' per-image loop).
func TestAddAllocs(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("sync.Pool drops items under the race detector")
	}
	tr := newTestRun(4, 8, 2, layerSpec{[]int{8, 12, 12}, 0.1}, layerSpec{[]int{16, 6, 6}, 0.4}, layerSpec{[]int{30}, 0.2})
	lay, err := NewLayout(tr.hdr.Layers, tr.hdr.T)
	if err != nil {
		t.Fatal(err)
	}
	set := mustSet(t, lay, tr.rasters[0])
	h := tr.hdr
	h.Images = 1000
	w, err := Create(filepath.Join(t.TempDir(), "a.spikes"), h)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	i := 0
	add := func() {
		if err := w.Add(i, set); err != nil {
			t.Fatal(err)
		}
		i++
	}
	add()
	if n := testing.AllocsPerRun(100, add); n != 0 {
		t.Errorf("Add allocates %v times per image", n)
	}
	raster := func() {
		if err := w.AddRaster(i, tr.rasters[1]); err != nil {
			t.Fatal(err)
		}
		i++
	}
	raster()
	if n := testing.AllocsPerRun(100, raster); n != 0 {
		t.Errorf("AddRaster allocates %v times per image", n)
	}
}
