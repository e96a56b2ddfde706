package nir

import "errors"

// ErrNoHDF5 is what WriteFile and ReadFile return in a build without the
// hdf5 tag.
var ErrNoHDF5 = errors.New("NIR files are HDF5, and this evsnn was built without HDF5 support: " +
	"install the HDF5 C library (Debian: apt-get install libhdf5-dev) and rebuild with `go build -tags hdf5 ./cmd/evsnn`")
