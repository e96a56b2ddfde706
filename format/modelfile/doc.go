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
//	the rest      the tensors' bytes, little-endian float32 (F32) or, for
//	              the synapse indices of a sparse layer, int32 (I32), back
//	              to back; data_offsets are relative to the start of this
//	              part
//
// __metadata__["evsnn"] is a JSON document (a string, since safetensors
// metadata maps strings to strings) holding everything that is not a float
// array. Version 2 (a residual block here):
//
//	{"format": "evsnn-model", "version": 2, "input": [1, 28, 28],
//	 "layers": [
//	   {"kind": "conv2d", "name": "conv1", "in_channels": 1, "out_channels": 16,
//	    "kernel": [3, 3], "stride": [1, 1], "padding": [1, 1]},
//	   {"kind": "spiking", "name": "sp1", "alpha": 1, "reset": "soft", "v0_fraction": 0},
//	   {"kind": "maxpool2d", "name": "max1", "kernel": [2, 2], "stride": [2, 2], "padding": [0, 0]},
//	   {"kind": "conv2d", "name": "conv2", ...},
//	   {"kind": "spiking", "name": "sp2", ...},
//	   {"kind": "conv2d", "name": "conv3", ...},
//	   {"kind": "add", "name": "add1", "inputs": ["conv3", "max1"]},
//	   {"kind": "spiking", "name": "sp3", ...},
//	   {"kind": "avgpool2d", "name": "pool", "kernel": [3, 3], "stride": [2, 2],
//	    "padding": [1, 1], "count_include_pad": true},
//	   {"kind": "globalavgpool", "name": "gap"},
//	   {"kind": "flatten", "name": "flatten"},
//	   {"kind": "linear", "name": "fc", "in_features": 16, "out_features": 10}],
//	 "meta": {"source": "...", "conversion": {...}, "calibration": {...}}}
//
// (An ANN has {"kind": "relu", "name": ...} where an SNN has spiking
// layers.) The layers are the nodes of the network's graph in topological order
// (network.Network). A layer reads the layer before it (layer 0: the
// network input) unless it lists "inputs": the names of its producers, in
// order, each the name of an earlier layer or "input" (InputName) for the
// network input. So a chain lists no inputs at all, and a graph lists them
// only where it branches or joins (an Add, the first layer of a branch).
// Encode writes "inputs" exactly where they differ from that default;
// Decode also takes them on every layer. A producer named in "inputs"
// must have a non-empty, unique name, and in a file that lists inputs no
// layer may be called "input". A network whose graph is a chain is read
// back with Inputs == nil.
//
// "meta" is network.Metadata exactly as encoding/json writes it, so every
// provenance field it has — the conversion statistic, the calibration
// method and its settings, and fields added later — is stored and read
// back without code here (unknown fields are refused on reading, as
// everywhere in the document, so a file written by a newer evsnn with more
// provenance says so instead of losing it).
//
// Every float array is a tensor named after the index of its layer in
// "layers":
//
//	layers.<i>.weight     conv2d [out, in, kh, kw]; linear [out, in]
//	layers.<i>.bias       conv2d, linear [out]; add [channels], only if the
//	                      Add has a bias
//	layers.<i>.threshold  spiking [1] or [channels]
//	layers.<i>.v0         spiking, only if the layer has per-neuron initial
//	                      potentials: the layer's shape, e.g. [16, 28, 28]
//	layers.<i>.indptr     sparselinear, I32 [in+1]: input j's synapses are
//	                      indptr[j] .. indptr[j+1]−1
//	layers.<i>.indices    sparselinear, I32 [nnz]: each synapse's output,
//	                      increasing within an input
//	layers.<i>.data       sparselinear [nnz]: each synapse's weight
//	layers.<i>.bias       sparselinear [out]
//
// A sparselinear layer ({"kind": "sparselinear", "name": ..., "in_features":
// N, "out_features": M}, version 3) is network.SparseLinear: its fan-out
// lists, CSR by input, which is CSC of the weight matrix W [out, in], under
// scipy.sparse's names, so that Python reads W as
// scipy.sparse.csc_matrix((data, indices, indptr), shape=(out, in)).
// Explicit zero weights are synapses like any other (they cost SOPs) and
// are kept. Decode checks the lists before using them: indptr starts at 0,
// never decreases and ends at nnz; every index is in [0, out) and the
// indices of an input increase; the weights are finite.
//
// The scalars alpha and v0_fraction are JSON numbers written with the
// shortest decimal that parses back to the same float32, so they round-trip
// bit for bit (−0 and subnormals included), as the tensors do. NaN and ±Inf
// are refused everywhere: Encode refuses a network that holds one
// (network.Validate), Decode a file that does.
//
// # Versions
//
// Encode writes the lowest version that holds the network (FileVersion):
// version 1 for a chain of the layers version 1 has, so that such files
// are byte for byte what evsnn wrote before graph networks and older evsnn
// still reads them; version 3 for a network with a sparselinear layer;
// version 2 for everything else. Version 1 is the same document without
// "inputs", with the kinds conv2d, avgpool2d (kernel and stride only: no
// padding, CountIncludePad false), linear, relu, flatten and spiking.
// Version 3 is version 2 with the kind sparselinear and its I32 tensors.
// The version says what a file may hold, so a new kind takes a new one:
// files without sparse layers stay what they were, and a reader that
// cannot hold a sparse layer refuses the file as a whole (this reader
// checks the version before the tensors and names it; evsnn's version 2
// reader stops at the I32 dtype, naming the tensor). Decode reads all
// three. testdata/ holds two version 1 files written by the version 1
// encoder.
//
// # Why safetensors
//
// Python's safetensors (and so PyTorch, NumPy and JAX users) reads the
// weights of an evsnn model with safetensors.numpy.load_file or safe_open,
// with no evsnn code; the graph is in the metadata, which safe_open's
// metadata() returns as a string of JSON; the header is plain JSON that a
// person can read with head -c; the tensors are raw little-endian arrays at
// known offsets, so a reader can map them without parsing or copying; and
// the whole format fits in a paragraph, which keeps this reader small
// enough to harden.
//
// # Hostile input
//
// Decode treats its input as untrusted. It refuses a header longer than
// 100,000,000 bytes (the limit Python's safetensors uses) or than the file,
// tensors whose data_offsets leave the file, overlap or leave holes, dtypes
// other than F32 (and I32 where a sparse layer's indices are), synapse
// lists that are not what the format says, shapes whose element count does not match their bytes or
// exceeds network.MaxElements, missing or unused tensors, unknown layer
// kinds and fields, unknown format versions, inputs that name no earlier
// layer (so no cycle can be expressed), and networks that do not validate
// (non-finite parameters, shapes that do not fit, the placement rules of
// network.Validate). Every size is checked before anything is allocated,
// so memory stays proportional to the file. Each error is one line that
// names the tensor or the layer at fault, and wraps ErrInvalid.
package modelfile
