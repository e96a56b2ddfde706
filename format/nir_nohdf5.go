//go:build !hdf5

package format

import (
	"github.com/evsnn/evsnn/format/nir"
	"github.com/evsnn/evsnn/network"
)

// Without HDF5 a NIR file is still recognised, and refused with an error
// that says how to build with HDF5.
func init() {
	Register(Loader{Name: "NIR", Sniff: IsNIR, Load: func(string) (*network.Network, error) { return nil, nir.ErrNoHDF5 }})
}
