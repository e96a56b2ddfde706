//go:build !hdf5

package nir

import "testing"

// throughFile would write g to a NIR file and read it back; without HDF5
// the graph stays in memory.
func throughFile(t *testing.T, g *Graph) *Graph { return g }

func TestNoHDF5(t *testing.T) {
	if err := WriteFile(t.TempDir()+"/x.nir", NewGraph()); err != ErrNoHDF5 {
		t.Fatalf("WriteFile: %v, want ErrNoHDF5", err)
	}
	if _, err := ReadFile("x.nir"); err != ErrNoHDF5 {
		t.Fatalf("ReadFile: %v, want ErrNoHDF5", err)
	}
}
