// Package format reads a model file in any format evsnn knows, telling the
// format from the file itself:
//
//	ONNX         a file named *.onnx: format/onnx (what torch.onnx.export writes)
//	evsnn model  safetensors with evsnn's metadata, any name: format/modelfile
//	NIR          a file named *.nir or starting with the HDF5 signature: format/nir
//
// Load(path) returns the network, validated by the loader; its errors are
// one line and name the file. A file no loader claims is refused with an
// error listing the formats. Loaders are tried in the order they were
// registered: ONNX (by the name), the model file (by its header), then
// NIR.
//
// NIR files need the HDF5 C library: with the hdf5 build tag
// (go build -tags hdf5) nir_hdf5.go registers format/nir's reader; without
// it a NIR file is still recognised and refused with format/nir's
// ErrNoHDF5, which says how to build with HDF5. Other packages may
// Register further formats the same way, from an init function.
//
// Load refuses directories and files larger than MaxBytes before reading
// them.
package format
