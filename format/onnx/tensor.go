package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/evsnn/evsnn/format/onnx/onnxpb"
	"github.com/evsnn/evsnn/network"
)

// maxIntElements bounds integer tensors: they hold shapes, pads, axes and
// indices, never weights.
const maxIntElements = 1 << 12

// maxAttrInts bounds the length of an INTS attribute this importer reads.
const maxAttrInts = 64

// floatTensor is a constant float32 tensor (a weight, bias or BatchNorm
// parameter).
type floatTensor struct {
	dims network.Shape // may hold zeros; printed as [a,b,c]
	data []float32
}

// symInt is one element of an integer tensor computed from shapes: a
// known value, or the (unknown) batch size.
type symInt struct {
	v     int64
	batch bool
}

func (s symInt) String() string {
	if s.batch {
		return "N"
	}
	return fmt.Sprint(s.v)
}

// intTensor is a small integer tensor of rank 0 or 1, possibly holding the
// symbolic batch size (the output of Shape and what is computed from it).
type intTensor struct {
	scalar bool
	vals   []symInt
}

func (t *intTensor) known() ([]int64, bool) {
	out := make([]int64, len(t.vals))
	for i, v := range t.vals {
		if v.batch {
			return nil, false
		}
		out[i] = v.v
	}
	return out, true
}

var dataTypeName = onnxpb.TensorProto_DataType_name

func typeName(dt int32) string {
	if s, ok := dataTypeName[dt]; ok {
		return s
	}
	return fmt.Sprintf("data type %d", dt)
}

// tensorDims checks a tensor's dims and returns them as ints and the
// element count, refusing counts above network.MaxElements before anything
// is allocated.
func tensorDims(t *onnxpb.TensorProto) (network.Shape, int, error) {
	d64 := t.GetDims()
	if len(d64) > 16 {
		return nil, 0, fmt.Errorf("%d dimensions", len(d64))
	}
	dims := make(network.Shape, len(d64))
	n := 1
	zero := false
	for i, d := range d64 {
		if d < 0 {
			return nil, 0, fmt.Errorf("dims %v: negative dimension", d64)
		}
		if d == 0 {
			zero = true
		}
		if d > network.MaxElements {
			return nil, 0, fmt.Errorf("dims %v: more than %d elements", d64, network.MaxElements)
		}
		dims[i] = int(d)
	}
	if zero {
		return dims, 0, nil
	}
	for _, d := range dims {
		if n > network.MaxElements/d {
			return nil, 0, fmt.Errorf("dims %v: more than %d elements", d64, network.MaxElements)
		}
		n *= d
	}
	return dims, n, nil
}

func checkStorage(t *onnxpb.TensorProto) error {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return &unsupportedErr{"data stored in an external file (external_data); re-export with the weights inside the .onnx file"}
	}
	if t.GetSegment() != nil {
		return &unsupportedErr{"segmented tensor"}
	}
	return nil
}

// decodeFloat reads a FLOAT tensor from raw_data (little-endian) or
// float_data, checking that the data length matches the dims and that every
// value is finite.
func decodeFloat(t *onnxpb.TensorProto) (*floatTensor, error) {
	if err := checkStorage(t); err != nil {
		return nil, err
	}
	if dt := t.GetDataType(); dt != int32(onnxpb.TensorProto_FLOAT) {
		return nil, &unsupportedErr{fmt.Sprintf("%s values where FLOAT weights are needed", typeName(dt))}
	}
	dims, n, err := tensorDims(t)
	if err != nil {
		return nil, err
	}
	raw, fd := t.GetRawData(), t.GetFloatData()
	var data []float32
	switch {
	case len(raw) > 0 && len(fd) > 0:
		return nil, fmt.Errorf("both raw_data and float_data set")
	case len(raw) > 0:
		if len(raw)%4 != 0 || len(raw)/4 != n {
			return nil, fmt.Errorf("%d bytes of raw_data, dims %v need %d", len(raw), dims, 4*int64(n))
		}
		data = make([]float32, n)
		for i := range data {
			data[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	default:
		if len(fd) != n {
			return nil, fmt.Errorf("%d float_data values, dims %v need %d", len(fd), dims, n)
		}
		data = append([]float32(nil), fd...)
	}
	for i, v := range data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("value %d is %v", i, v)
		}
	}
	return &floatTensor{dims: dims, data: data}, nil
}

// decodeInt reads a small INT64, INT32 or BOOL tensor of rank 0 or 1.
func decodeInt(t *onnxpb.TensorProto) (*intTensor, error) {
	if err := checkStorage(t); err != nil {
		return nil, err
	}
	dims, n, err := tensorDims(t)
	if err != nil {
		return nil, err
	}
	if len(dims) > 1 {
		return nil, fmt.Errorf("integer tensor of rank %d, only scalars and vectors are read", len(dims))
	}
	if n > maxIntElements {
		return nil, fmt.Errorf("integer tensor with %d elements, more than %d", n, maxIntElements)
	}
	raw := t.GetRawData()
	out := &intTensor{scalar: len(dims) == 0, vals: make([]symInt, n)}
	var size int
	var typed int
	switch dt := t.GetDataType(); dt {
	case int32(onnxpb.TensorProto_INT64):
		size, typed = 8, len(t.GetInt64Data())
	case int32(onnxpb.TensorProto_INT32):
		size, typed = 4, len(t.GetInt32Data())
	case int32(onnxpb.TensorProto_BOOL):
		size, typed = 1, len(t.GetInt32Data())
	default:
		return nil, &unsupportedErr{fmt.Sprintf("%s values where INT64 values are needed", typeName(dt))}
	}
	switch {
	case len(raw) > 0 && typed > 0:
		return nil, fmt.Errorf("both raw_data and typed data set")
	case len(raw) > 0:
		if len(raw) != size*n {
			return nil, fmt.Errorf("%d bytes of raw_data, dims %v need %d", len(raw), dims, size*n)
		}
		for i := range out.vals {
			switch size {
			case 8:
				out.vals[i].v = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			case 4:
				out.vals[i].v = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			default:
				out.vals[i].v = int64(raw[i])
			}
		}
	default:
		if typed != n {
			return nil, fmt.Errorf("%d values, dims %v need %d", typed, dims, n)
		}
		for i := range out.vals {
			if size == 8 {
				out.vals[i].v = t.GetInt64Data()[i]
			} else {
				out.vals[i].v = int64(t.GetInt32Data()[i])
			}
		}
	}
	return out, nil
}

// attrs is a node's attributes by name.
type attrs map[string]*onnxpb.AttributeProto

func getAttrs(nd *onnxpb.NodeProto, allowed ...string) (attrs, error) {
	a := attrs{}
	for _, at := range nd.GetAttribute() {
		name := at.GetName()
		if _, dup := a[name]; dup {
			return nil, fmt.Errorf("attribute %s given twice", quote(name))
		}
		if at.GetRefAttrName() != "" {
			return nil, fmt.Errorf("attribute %s refers to a function attribute", quote(name))
		}
		ok := false
		for _, s := range allowed {
			if s == name {
				ok = true
				break
			}
		}
		if !ok {
			return nil, &unsupportedErr{fmt.Sprintf("attribute %s", quote(name))}
		}
		a[name] = at
	}
	return a, nil
}

func (a attrs) typed(name string, want onnxpb.AttributeProto_AttributeType) (*onnxpb.AttributeProto, error) {
	at, ok := a[name]
	if !ok {
		return nil, nil
	}
	if t := at.GetType(); t != want && t != onnxpb.AttributeProto_UNDEFINED {
		return nil, fmt.Errorf("attribute %s has type %s, want %s", name, t, want)
	}
	return at, nil
}

func (a attrs) int(name string, def int64) (int64, error) {
	at, err := a.typed(name, onnxpb.AttributeProto_INT)
	if at == nil || err != nil {
		return def, err
	}
	return at.GetI(), nil
}

func (a attrs) float(name string, def float32) (float32, error) {
	at, err := a.typed(name, onnxpb.AttributeProto_FLOAT)
	if at == nil || err != nil {
		return def, err
	}
	return at.GetF(), nil
}

func (a attrs) str(name, def string) (string, error) {
	at, err := a.typed(name, onnxpb.AttributeProto_STRING)
	if at == nil || err != nil {
		return def, err
	}
	s := at.GetS()
	if len(s) > 64 {
		return "", fmt.Errorf("attribute %s: %d-byte string", name, len(s))
	}
	return string(s), nil
}

// ints returns an INTS attribute, nil if absent.
func (a attrs) ints(name string) ([]int64, error) {
	at, err := a.typed(name, onnxpb.AttributeProto_INTS)
	if at == nil || err != nil {
		return nil, err
	}
	v := at.GetInts()
	if len(v) > maxAttrInts {
		return nil, fmt.Errorf("attribute %s has %d values", name, len(v))
	}
	if v == nil {
		v = []int64{}
	}
	return v, nil
}
