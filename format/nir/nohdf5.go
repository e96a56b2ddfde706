//go:build !hdf5

package nir

// HDF5 reports whether this build reads and writes NIR files (HDF5). It is
// false: the default build is pure Go.
const HDF5 = false

// WriteFile would write g as a NIR file; this build has no HDF5 support.
func WriteFile(path string, g *Graph) error { return ErrNoHDF5 }

// ReadFile would read a NIR file; this build has no HDF5 support.
func ReadFile(path string) (*Graph, error) { return nil, ErrNoHDF5 }
