//go:build hdf5

package format_test

import (
	"path/filepath"
	"testing"

	"github.com/evsnn/evsnn/format"
	"github.com/evsnn/evsnn/format/nir"
	"github.com/evsnn/evsnn/internal/fixture"
)

// With HDF5 a NIR file written by format/nir loads back as the network.
func TestNIRRoundTrip(t *testing.T) {
	g, err := nir.FromNetwork(fixture.TinySNN(4))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "snn.h5")
	if err := nir.WriteFile(p, g); err != nil {
		t.Fatal(err)
	}
	l, err := format.Detect(p)
	if err != nil || l.Name != "NIR" {
		t.Fatalf("Detect: %q, %v (by the HDF5 signature)", l.Name, err)
	}
	net, err := format.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if !net.IsSNN() || len(net.SpikingLayers()) != 1 {
		t.Errorf("loaded %d layers, %d spiking", len(net.Layers), len(net.SpikingLayers()))
	}
}
