// Package scipy reads sparse weight matrices that SciPy saved, so that a
// projection pruned or built in Python (PyTorch's layout: W [out, in],
// y = W x + b) becomes a network.SparseLinear of an evsnn network.
//
// # The file
//
// scipy.sparse.save_npz(path, m) writes a .npz archive (a zip of .npy
// arrays, deflated by default) holding, for a CSR matrix m of shape
// (rows, cols):
//
//	format   numpy bytes b"csr" (a 0-d |S3 array)
//	shape    int64 [2]: rows, cols
//	indptr   integers [rows+1]: row r's entries are indptr[r] .. indptr[r+1]-1
//	indices  integers [nnz]: each entry's column
//	data     floats [nnz]: each entry's value
//
// and, from SciPy 1.11 on for the sparse array classes (csr_array), a
// 0-d bool _is_array. ReadCSR reads exactly these (the arrays through
// package dataset's strict .npy/.npz reader), as W with rows = out and
// cols = in, and returns it as the fan-out lists of a SparseLinear (CSR by
// input: W's columns), with a zero bias for the caller to set, or lets
// ReplaceWeights put it into a named Linear layer of a network, keeping
// the layer's name and bias.
//
// Every entry the file holds is a synapse, an explicit zero included
// (scipy keeps those too, and m.eliminate_zeros() removes them in
// Python): it costs SOPs in a simulation. The entries of a row may come in
// any order (scipy's has_sorted_indices need not hold); a column twice in
// a row (a matrix scipy would sum) is refused rather than summed. float32
// data is taken bit for bit; float64 data (scipy's default) is rounded to
// the nearest float32, as torch.Tensor.float() does.
//
// # Hostile files
//
// ReadCSR treats the file as untrusted: a wrong format, missing, unknown
// or repeated arrays, arrays of the wrong dtype or shape, sizes above
// MaxSize or MaxSynapses, offsets that do not start at 0, decrease or do
// not end at the number of entries, columns outside the matrix, NaN,
// infinite or float32-overflowing values are refused with a one-line
// error naming the file and the array, before anything is allocated in
// proportion to a declared size (the arrays are read in the order
// format, shape, indptr, indices, data, each bounded by what the earlier
// ones say). FuzzDecodeCSR runs it on arbitrary bytes.
package scipy
