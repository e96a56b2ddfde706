//go:build !hdf5

package format_test

import (
	"errors"
	"testing"

	"github.com/evsnn/evsnn/format"
	"github.com/evsnn/evsnn/format/nir"
)

// Without HDF5 a NIR file is recognised and refused with the error that
// says how to build with HDF5.
func TestNIRWithoutHDF5(t *testing.T) {
	p := write(t, "net.nir", []byte("\x89HDF\r\n\x1a\nrest"))
	l, err := format.Detect(p)
	if err != nil || l.Name != "NIR" {
		t.Fatalf("Detect: %q, %v", l.Name, err)
	}
	if _, err := format.Load(p); !errors.Is(err, nir.ErrNoHDF5) {
		t.Errorf("Load: %v, want ErrNoHDF5", err)
	}
}
