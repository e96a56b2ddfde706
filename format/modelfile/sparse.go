package modelfile

import (
	"encoding/binary"
	"slices"
	"strconv"

	"github.com/evsnn/evsnn/network"
)

// A SparseLinear (version 3) is stored as its fan-out lists, CSR by input
// (network.SparseLinear), which is CSC of the weight matrix W [out, in]:
//
//	layers.<i>.indptr   I32 [in+1]   offsets: the synapses of input j are
//	                                 indptr[j] .. indptr[j+1]-1
//	layers.<i>.indices  I32 [nnz]    the output of each synapse, increasing
//	                                 within an input
//	layers.<i>.data     F32 [nnz]    the weight of each synapse
//	layers.<i>.bias     F32 [out]
//
// the names and layout of scipy.sparse, so that Python reads the weights as
// scipy.sparse.csc_matrix((data, indices, indptr), shape=(out, in)).

// sparseLinear decodes a SparseLinear layer, checking its lists before
// anything indexes with them.
func (d *layerDecoder) sparseLinear() (network.Layer, error) {
	var c sparseLinearDoc
	if err := d.unmarshal(&c); err != nil {
		return nil, err
	}
	if err := d.dims("features", c.InFeatures, c.OutFeatures); err != nil {
		return nil, err
	}
	ptr, err := d.intParam("indptr", []int{c.InFeatures + 1})
	if err != nil {
		return nil, err
	}
	ind, err := d.intParam("indices", nil)
	if err != nil {
		return nil, err
	}
	nnz := len(ind)
	w, err := d.param("data", []int{nnz}, true)
	if err != nil {
		return nil, err
	}
	b, err := d.param("bias", []int{c.OutFeatures}, true)
	if err != nil {
		return nil, err
	}
	pname, iname := TensorName(d.i, "indptr"), TensorName(d.i, "indices")
	if ptr[0] != 0 {
		return nil, invalid("%s: tensor %q starts at %d, want 0", d.where, pname, ptr[0])
	}
	if int(ptr[c.InFeatures]) != nnz {
		return nil, invalid("%s: tensor %q ends at %d, but there are %d synapses (indices and data)", d.where, pname, ptr[c.InFeatures], nnz)
	}
	for j := range c.InFeatures {
		lo, hi := ptr[j], ptr[j+1]
		if hi < lo {
			return nil, invalid("%s: tensor %q: offset %d of input %d is below offset %d of input %d (offsets must not decrease)", d.where, pname, hi, j+1, lo, j)
		}
		if int(hi) > nnz {
			return nil, invalid("%s: tensor %q: offset %d of input %d is past the %d synapses", d.where, pname, hi, j+1, nnz)
		}
		prev := int32(-1)
		for _, o := range ind[lo:hi] {
			if o < 0 || int(o) >= c.OutFeatures {
				return nil, invalid("%s: tensor %q: input %d has a synapse to output %d, outside [0, %d)", d.where, iname, j, o, c.OutFeatures)
			}
			if o <= prev {
				return nil, invalid("%s: tensor %q: the outputs of input %d are not increasing (%d after %d)", d.where, iname, j, o, prev)
			}
			prev = o
		}
	}
	return &network.SparseLinear{LayerName: c.Name, In: c.InFeatures, Out: c.OutFeatures,
		Ptr: ptr, Targets: ind, Weights: w, Bias: b}, nil
}

// intParam fetches the layer's required I32 tensor of that name, a vector
// of the given shape (any length if nil), and marks it used.
func (d *layerDecoder) intParam(name string, shape []int) ([]int32, error) {
	full := TensorName(d.i, name)
	t, ok := d.tensors[full]
	switch {
	case !ok:
		return nil, invalid("%s: tensor %q is missing", d.where, full)
	case t.dtype != "I32":
		return nil, invalid("%s: tensor %q has dtype %s, want I32", d.where, full, t.dtype)
	case len(t.shape) != 1 || shape != nil && !slices.Equal(t.shape, shape):
		want := "a vector"
		if shape != nil {
			want = "[" + strconv.Itoa(shape[0]) + "]"
		}
		return nil, invalid("%s: tensor %q has shape %v, want %s", d.where, full, t.shape, want)
	}
	d.used[full] = true
	out := make([]int32, len(t.data)/4)
	for k := range out {
		out[k] = int32(binary.LittleEndian.Uint32(t.data[4*k:]))
	}
	return out, nil
}
