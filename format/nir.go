package format

import "bytes"

// hdf5Signature starts every HDF5 file, at offset 0 or, after a user
// block, at 512, 1024, 2048, …
var hdf5Signature = []byte("\x89HDF\r\n\x1a\n")

// IsNIR tells a NIR file by its extension or the HDF5 signature in head.
func IsNIR(path string, head []byte) bool {
	if hasExt(path, ".nir") {
		return true
	}
	for off := 0; off+len(hdf5Signature) <= len(head); off = max(512, 2*off) {
		if bytes.Equal(head[off:off+len(hdf5Signature)], hdf5Signature) {
			return true
		}
	}
	return false
}
