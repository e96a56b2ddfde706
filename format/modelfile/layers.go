package modelfile

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/evsnn/evsnn/network"
)

// The per-kind layer documents. Fields are checked against layerFields
// when decoding: every listed field is required and no other is allowed,
// except "inputs" (version 2, optional on every layer; see graph.go).
type conv2dDoc struct {
	Kind        network.Kind `json:"kind"`
	Name        string       `json:"name"`
	Inputs      []string     `json:"inputs,omitempty"`
	InChannels  int          `json:"in_channels"`
	OutChannels int          `json:"out_channels"`
	Kernel      []int        `json:"kernel"`
	Stride      []int        `json:"stride"`
	Padding     []int        `json:"padding"`
}

// avgPool2dDoc is an average pool. Version 1 has kernel and stride only
// (no padding); version 2 adds padding and count_include_pad.
type avgPool2dDoc struct {
	Kind            network.Kind `json:"kind"`
	Name            string       `json:"name"`
	Inputs          []string     `json:"inputs,omitempty"`
	Kernel          []int        `json:"kernel"`
	Stride          []int        `json:"stride"`
	Padding         []int        `json:"padding,omitempty"`
	CountIncludePad *bool        `json:"count_include_pad,omitempty"`
}

type maxPool2dDoc struct {
	Kind    network.Kind `json:"kind"`
	Name    string       `json:"name"`
	Inputs  []string     `json:"inputs,omitempty"`
	Kernel  []int        `json:"kernel"`
	Stride  []int        `json:"stride"`
	Padding []int        `json:"padding"`
}

type linearDoc struct {
	Kind        network.Kind `json:"kind"`
	Name        string       `json:"name"`
	Inputs      []string     `json:"inputs,omitempty"`
	InFeatures  int          `json:"in_features"`
	OutFeatures int          `json:"out_features"`
}

// sparseLinearDoc is a SparseLinear (version 3): the sizes; the synapses
// are the tensors indptr, indices and data.
type sparseLinearDoc struct {
	Kind        network.Kind `json:"kind"`
	Name        string       `json:"name"`
	Inputs      []string     `json:"inputs,omitempty"`
	InFeatures  int          `json:"in_features"`
	OutFeatures int          `json:"out_features"`
}

// plainDoc is a layer without hyperparameters (relu, flatten,
// globalavgpool, add), and the head every layer document starts with.
type plainDoc struct {
	Kind   network.Kind `json:"kind"`
	Name   string       `json:"name"`
	Inputs []string     `json:"inputs,omitempty"`
}

type spikingDoc struct {
	Kind       network.Kind  `json:"kind"`
	Name       string        `json:"name"`
	Inputs     []string      `json:"inputs,omitempty"`
	Alpha      float32       `json:"alpha"`
	Reset      network.Reset `json:"reset"`
	V0Fraction float32       `json:"v0_fraction"`
}

// layerFields lists, per version and kind, the required fields of a layer
// document.
var layerFields = map[int]map[network.Kind][]string{
	1: {
		network.KindConv2d:    {"kind", "name", "in_channels", "out_channels", "kernel", "stride", "padding"},
		network.KindAvgPool2d: {"kind", "name", "kernel", "stride"},
		network.KindLinear:    {"kind", "name", "in_features", "out_features"},
		network.KindReLU:      {"kind", "name"},
		network.KindFlatten:   {"kind", "name"},
		network.KindSpiking:   {"kind", "name", "alpha", "reset", "v0_fraction"},
	},
	2: {
		network.KindConv2d:        {"kind", "name", "in_channels", "out_channels", "kernel", "stride", "padding"},
		network.KindAvgPool2d:     {"kind", "name", "kernel", "stride", "padding", "count_include_pad"},
		network.KindMaxPool2d:     {"kind", "name", "kernel", "stride", "padding"},
		network.KindGlobalAvgPool: {"kind", "name"},
		network.KindAdd:           {"kind", "name"},
		network.KindLinear:        {"kind", "name", "in_features", "out_features"},
		network.KindReLU:          {"kind", "name"},
		network.KindFlatten:       {"kind", "name"},
		network.KindSpiking:       {"kind", "name", "alpha", "reset", "v0_fraction"},
	},
}

// Version 3 is version 2 and the sparse projection.
func init() {
	v3 := map[network.Kind][]string{network.KindSparseLinear: {"kind", "name", "in_features", "out_features"}}
	for k, f := range layerFields[2] {
		v3[k] = f
	}
	layerFields[3] = v3
}

// optionalFields are the fields a layer document of a version may have.
var optionalFields = map[int][]string{2: {"inputs"}, 3: {"inputs"}}

// knownKinds lists the kinds of a version, for error messages.
func knownKinds(version int) string {
	var ks []string
	for k := range layerFields[version] {
		ks = append(ks, string(k))
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

// encodeLayer returns the document (of a file of the given version) and the
// tensors of layer i, whose output shape is out and whose producers' names
// are inputs (nil: the chain default).
func encodeLayer(version, i int, l network.Layer, out network.Shape, inputs []string) (any, []outTensor, error) {
	var tensors []outTensor
	var ld any
	switch l := l.(type) {
	case *network.Conv2d:
		ld = conv2dDoc{Kind: l.Kind(), Name: l.LayerName, Inputs: inputs, InChannels: l.InC, OutChannels: l.OutC,
			Kernel: []int{l.KH, l.KW}, Stride: []int{l.StrideH, l.StrideW}, Padding: []int{l.PadH, l.PadW}}
		tensors = append(tensors,
			outTensor{name: TensorName(i, "weight"), shape: []int{l.OutC, l.InC, l.KH, l.KW}, data: l.Weight},
			outTensor{name: TensorName(i, "bias"), shape: []int{l.OutC}, data: l.Bias})
	case *network.AvgPool2d:
		d := avgPool2dDoc{Kind: l.Kind(), Name: l.LayerName, Inputs: inputs, Kernel: []int{l.KH, l.KW}, Stride: []int{l.StrideH, l.StrideW}}
		if version >= 2 {
			cip := l.CountIncludePad
			d.Padding, d.CountIncludePad = []int{l.PadH, l.PadW}, &cip
		}
		ld = d
	case *network.MaxPool2d:
		ld = maxPool2dDoc{Kind: l.Kind(), Name: l.LayerName, Inputs: inputs, Kernel: []int{l.KH, l.KW},
			Stride: []int{l.StrideH, l.StrideW}, Padding: []int{l.PadH, l.PadW}}
	case *network.Linear:
		ld = linearDoc{Kind: l.Kind(), Name: l.LayerName, Inputs: inputs, InFeatures: l.In, OutFeatures: l.Out}
		tensors = append(tensors,
			outTensor{name: TensorName(i, "weight"), shape: []int{l.Out, l.In}, data: l.Weight},
			outTensor{name: TensorName(i, "bias"), shape: []int{l.Out}, data: l.Bias})
	case *network.SparseLinear:
		// CSR by input is CSC of W [out, in]: scipy.sparse.csc_matrix((data,
		// indices, indptr), shape=(out, in)) reads it as it is.
		ld = sparseLinearDoc{Kind: l.Kind(), Name: l.LayerName, Inputs: inputs, InFeatures: l.In, OutFeatures: l.Out}
		tensors = append(tensors,
			outTensor{name: TensorName(i, "indptr"), shape: []int{len(l.Ptr)}, ints: l.Ptr, i32: true},
			outTensor{name: TensorName(i, "indices"), shape: []int{len(l.Targets)}, ints: l.Targets, i32: true},
			outTensor{name: TensorName(i, "data"), shape: []int{len(l.Weights)}, data: l.Weights},
			outTensor{name: TensorName(i, "bias"), shape: []int{l.Out}, data: l.Bias})
	case *network.Add:
		ld = plainDoc{Kind: l.Kind(), Name: l.LayerName, Inputs: inputs}
		if l.Bias != nil {
			tensors = append(tensors, outTensor{name: TensorName(i, "bias"), shape: []int{len(l.Bias)}, data: l.Bias})
		}
	case *network.ReLU, *network.Flatten, *network.GlobalAvgPool:
		ld = plainDoc{Kind: l.Kind(), Name: l.Name(), Inputs: inputs}
	case *network.Spiking:
		ld = spikingDoc{Kind: l.Kind(), Name: l.LayerName, Inputs: inputs, Alpha: l.Alpha, Reset: l.Reset, V0Fraction: l.V0Fraction}
		tensors = append(tensors, outTensor{name: TensorName(i, "threshold"), shape: []int{len(l.Threshold)}, data: l.Threshold})
		if l.V0 != nil {
			tensors = append(tensors, outTensor{name: TensorName(i, "v0"), shape: []int(out.Clone()), data: l.V0})
		}
	default:
		return nil, nil, fmt.Errorf("modelfile: encode: layer %d (%q): type %T cannot be stored", i, l.Name(), l)
	}
	return ld, tensors, nil
}

// layerDecoder decodes the document of layer i of a file of a given
// version, taking its tensors from the file.
type layerDecoder struct {
	version int
	i       int
	raw     json.RawMessage
	where   string // "layer 3 (conv2d \"conv1\")", for errors
	tensors map[string]*tensor
	used    map[string]bool
}

// decodeLayer returns layer i and the names of its inputs as the document
// lists them (nil: the chain default).
func decodeLayer(version, i int, raw json.RawMessage, tensors map[string]*tensor, used map[string]bool) (network.Layer, []string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, nil, invalid("layer %d: not a JSON object: %w", i, err)
	}
	var head plainDoc
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, nil, invalid("layer %d: %w", i, err)
	}
	where := fmt.Sprintf("layer %d (%s %q)", i, head.Kind, head.Name)
	want, ok := layerFields[version][head.Kind]
	if !ok {
		if _, has := fields["kind"]; !has {
			return nil, nil, invalid("layer %d: no \"kind\"", i)
		}
		return nil, nil, invalid("layer %d (%q): unknown layer kind %q in a version %d file (known: %s)", i, head.Name, head.Kind, version, knownKinds(version))
	}
	for _, f := range want {
		if _, has := fields[f]; !has {
			return nil, nil, invalid("%s: missing field %q", where, f)
		}
	}
	for f := range fields {
		if !slices.Contains(want, f) && !slices.Contains(optionalFields[version], f) {
			return nil, nil, invalid("%s: unknown field %q", where, f)
		}
	}
	if raw, has := fields["inputs"]; has {
		// null, [] and a list of names that is not a list are all
		// mistakes: a chain layer omits the field.
		if len(head.Inputs) == 0 {
			return nil, nil, invalid("%s: inputs %s: want a non-empty list of layer names", where, raw)
		}
	}
	d := &layerDecoder{version: version, i: i, raw: raw, where: where, tensors: tensors, used: used}
	l, err := d.decode(head)
	if err != nil {
		return nil, nil, err
	}
	return l, head.Inputs, nil
}

func (d *layerDecoder) decode(head plainDoc) (network.Layer, error) {
	switch head.Kind {
	case network.KindConv2d:
		var c conv2dDoc
		if err := d.unmarshal(&c); err != nil {
			return nil, err
		}
		if err := d.dims("channels", c.InChannels, c.OutChannels); err != nil {
			return nil, err
		}
		if err := d.window(c.Kernel, c.Stride, c.Padding); err != nil {
			return nil, err
		}
		// The weight tensor's shape was bounded when parsed; comparing it
		// with these dimensions checks them without multiplying.
		w, err := d.param("weight", []int{c.OutChannels, c.InChannels, c.Kernel[0], c.Kernel[1]}, true)
		if err != nil {
			return nil, err
		}
		b, err := d.param("bias", []int{c.OutChannels}, true)
		if err != nil {
			return nil, err
		}
		return &network.Conv2d{LayerName: c.Name, InC: c.InChannels, OutC: c.OutChannels,
			KH: c.Kernel[0], KW: c.Kernel[1], StrideH: c.Stride[0], StrideW: c.Stride[1],
			PadH: c.Padding[0], PadW: c.Padding[1], Weight: w, Bias: b}, nil
	case network.KindAvgPool2d:
		var p avgPool2dDoc
		if err := d.unmarshal(&p); err != nil {
			return nil, err
		}
		pad := p.Padding
		if d.version == 1 {
			pad = []int{0, 0}
		}
		if err := d.window(p.Kernel, p.Stride, pad); err != nil {
			return nil, err
		}
		l := &network.AvgPool2d{LayerName: p.Name, KH: p.Kernel[0], KW: p.Kernel[1], StrideH: p.Stride[0], StrideW: p.Stride[1],
			PadH: pad[0], PadW: pad[1]}
		if d.version >= 2 {
			if p.CountIncludePad == nil {
				return nil, invalid("%s: count_include_pad is null, want true or false", d.where)
			}
			l.CountIncludePad = *p.CountIncludePad
		}
		return l, nil
	case network.KindMaxPool2d:
		var p maxPool2dDoc
		if err := d.unmarshal(&p); err != nil {
			return nil, err
		}
		if err := d.window(p.Kernel, p.Stride, p.Padding); err != nil {
			return nil, err
		}
		return &network.MaxPool2d{LayerName: p.Name, KH: p.Kernel[0], KW: p.Kernel[1], StrideH: p.Stride[0], StrideW: p.Stride[1],
			PadH: p.Padding[0], PadW: p.Padding[1]}, nil
	case network.KindLinear:
		var c linearDoc
		if err := d.unmarshal(&c); err != nil {
			return nil, err
		}
		if err := d.dims("features", c.InFeatures, c.OutFeatures); err != nil {
			return nil, err
		}
		w, err := d.param("weight", []int{c.OutFeatures, c.InFeatures}, true)
		if err != nil {
			return nil, err
		}
		b, err := d.param("bias", []int{c.OutFeatures}, true)
		if err != nil {
			return nil, err
		}
		return &network.Linear{LayerName: c.Name, In: c.InFeatures, Out: c.OutFeatures, Weight: w, Bias: b}, nil
	case network.KindSparseLinear:
		return d.sparseLinear()
	case network.KindAdd:
		if err := d.vector("bias", "[channels]"); err != nil {
			return nil, err
		}
		// The bias is optional; Validate checks it has one value per
		// channel.
		b, err := d.param("bias", nil, false)
		if err != nil {
			return nil, err
		}
		return &network.Add{LayerName: head.Name, Bias: b}, nil
	case network.KindReLU:
		return &network.ReLU{LayerName: head.Name}, nil
	case network.KindFlatten:
		return &network.Flatten{LayerName: head.Name}, nil
	case network.KindGlobalAvgPool:
		return &network.GlobalAvgPool{LayerName: head.Name}, nil
	case network.KindSpiking:
		var s spikingDoc
		if err := d.unmarshal(&s); err != nil {
			return nil, err
		}
		if err := d.vector("threshold", "[1] or [channels]"); err != nil {
			return nil, err
		}
		th, err := d.param("threshold", nil, true)
		if err != nil {
			return nil, err
		}
		// v0 may have any shape; Validate checks that it has one value per
		// neuron of the layer.
		v0, err := d.param("v0", nil, false)
		if err != nil {
			return nil, err
		}
		return &network.Spiking{LayerName: s.Name, Threshold: th, Alpha: s.Alpha, Reset: s.Reset,
			V0Fraction: s.V0Fraction, V0: v0}, nil
	}
	return nil, invalid("%s: unknown layer kind", d.where)
}

func (d *layerDecoder) unmarshal(v any) error {
	if err := json.Unmarshal(d.raw, v); err != nil {
		return invalid("%s: %w", d.where, err)
	}
	return nil
}

// vector checks that tensor param, if present, is a non-empty vector.
func (d *layerDecoder) vector(param, want string) error {
	full := TensorName(d.i, param)
	if t, ok := d.tensors[full]; ok && (len(t.shape) != 1 || t.shape[0] == 0) {
		return invalid("%s: tensor %q has shape %v, want %s", d.where, full, t.shape, want)
	}
	return nil
}

// param fetches the layer's tensor of that name, checks its shape (if
// shape is not nil) and its values (finite), and marks it used.
func (d *layerDecoder) param(name string, shape []int, required bool) ([]float32, error) {
	full := TensorName(d.i, name)
	t, ok := d.tensors[full]
	if !ok {
		if required {
			return nil, invalid("%s: tensor %q is missing", d.where, full)
		}
		return nil, nil
	}
	if shape != nil && !slices.Equal(t.shape, shape) {
		return nil, invalid("%s: tensor %q has shape %v, want %v", d.where, full, t.shape, shape)
	}
	if t.dtype != "F32" {
		return nil, invalid("%s: tensor %q has dtype %s, want F32", d.where, full, t.dtype)
	}
	d.used[full] = true
	out := make([]float32, len(t.data)/4)
	for k := range out {
		v := math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*k:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, invalid("%s: tensor %q: element %d is %v", d.where, full, k, v)
		}
		out[k] = v
	}
	return out, nil
}

// dims checks sizes (channels, features): each in 1..maxDim.
func (d *layerDecoder) dims(what string, vals ...int) error {
	for _, v := range vals {
		if v <= 0 || v > maxDim {
			return invalid("%s: %s %v: values must be in 1..%d", d.where, what, vals, maxDim)
		}
	}
	return nil
}

// window checks a kernel, stride and padding: two values each, kernel and
// stride positive, everything bounded (network.Validate checks the rest).
func (d *layerDecoder) window(kernel, stride, padding []int) error {
	for _, p := range []struct {
		what string
		v    []int
		min  int
	}{{"kernel", kernel, 1}, {"stride", stride, 1}, {"padding", padding, 0}} {
		if len(p.v) != 2 {
			return invalid("%s: %s has %d values, want 2", d.where, p.what, len(p.v))
		}
		for _, x := range p.v {
			if x < p.min || x > maxDim {
				return invalid("%s: %s %v: values must be in %d..%d", d.where, p.what, p.v, p.min, maxDim)
			}
		}
	}
	return nil
}
