// Package modelfile reads and writes evsnn's own model file: a network's
// layer graph, its weights and its spiking parameters in one file.
//
// # Format
//
// The file is a safetensors file (https://huggingface.co/docs/safetensors):
//
//	8 bytes       N, the header length, unsigned little-endian
//	N bytes       a JSON object (padded with spaces to a multiple of 8):
//	                "__metadata__": {"evsnn": "<the evsnn document>"}
//	                "<tensor name>": {"dtype": "F32", "shape": [...],
//	                                  "data_offsets": [begin, end]}, ...
//	the rest      the tensors' bytes, little-endian float32, back to back;
//	              data_offsets are relative to the start of this part
//
// __metadata__["evsnn"] is a JSON document (a string, since safetensors
// metadata maps strings to strings) holding everything that is not a float
// array:
//
//	{"format": "evsnn-model", "version": 1, "input": [1, 28, 28],
//	 "layers": [
//	   {"kind": "conv2d", "name": "conv1", "in_channels": 1, "out_channels": 16,
//	    "kernel": [5, 5], "stride": [1, 1], "padding": [2, 2]},
//	   {"kind": "spiking", "name": "relu1", "alpha": 1, "reset": "soft", "v0_fraction": 0},
//	   {"kind": "avgpool2d", "name": "pool1", "kernel": [2, 2], "stride": [2, 2]},
//	   {"kind": "flatten", "name": "flatten"},
//	   {"kind": "linear", "name": "fc1", "in_features": 1568, "out_features": 128},
//	   {"kind": "relu", "name": "relu3"}, ...],
//	 "meta": {"source": "...", "conversion": {...}, "calibration": {...}}}
//
// "meta" is network.Metadata as JSON. Every float array is a tensor named
// after the index of its layer in "layers":
//
//	layers.<i>.weight     conv2d [out, in, kh, kw]; linear [out, in]
//	layers.<i>.bias       conv2d, linear [out]
//	layers.<i>.threshold  spiking [1] or [channels]
//	layers.<i>.v0         spiking, only if the layer has per-neuron initial
//	                      potentials: the layer's shape, e.g. [16, 28, 28]
//
// The scalars alpha and v0_fraction are JSON numbers written with the
// shortest decimal that parses back to the same float32, so they round-trip
// bit for bit, as the tensors do.
//
// # Why safetensors
//
// Python's safetensors (and so PyTorch, NumPy and JAX users) reads the
// weights of an evsnn model with safetensors.numpy.load_file or safe_open,
// with no evsnn code; the header is plain JSON that a person can read with
// head -c; the tensors are raw little-endian arrays at known offsets, so a
// reader can map them without parsing or copying; and the whole format fits
// in a paragraph, which keeps this reader small enough to harden.
//
// # Hostile input
//
// Decode treats its input as untrusted. It refuses a header longer than
// 100,000,000 bytes (the limit Python's safetensors uses) or than the file,
// tensors whose data_offsets leave the file, overlap or leave holes, dtypes
// other than F32, shapes whose element count does not match their bytes or
// exceeds network.MaxElements, missing or unused tensors, unknown layer kinds
// and fields, unknown format versions, and non-finite parameters
// (network.Validate). Every size is checked before anything is allocated, so
// memory stays proportional to the file. Each error names the tensor or the
// layer at fault and wraps ErrInvalid.
package modelfile
