package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"

	"github.com/evsnn/evsnn/internal/fsutil"
	"github.com/evsnn/evsnn/network"
)

// Format and Version identify the evsnn document in __metadata__["evsnn"].
const (
	Format  = "evsnn-model"
	Version = 1
)

// MetadataKey is the __metadata__ key that holds the evsnn document.
const MetadataKey = "evsnn"

// MaxHeaderBytes bounds the JSON header, as Python's safetensors does.
const MaxHeaderBytes = 100_000_000

// maxDim bounds every integer hyperparameter (sizes, kernels, strides,
// padding), so that no shape arithmetic downstream can overflow.
const maxDim = network.MaxElements

// ErrInvalid is wrapped by every error Decode returns for input that is not
// a valid evsnn model file (as opposed to an I/O error of Load).
var ErrInvalid = errors.New("invalid evsnn model file")

// decodeError is what Decode returns: its message says what is wrong and
// where; it matches ErrInvalid with errors.Is.
type decodeError struct {
	msg   string
	cause error
}

func (e *decodeError) Error() string { return "modelfile: " + e.msg }

func (e *decodeError) Unwrap() []error {
	if e.cause != nil {
		return []error{ErrInvalid, e.cause}
	}
	return []error{ErrInvalid}
}

func invalid(format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &decodeError{msg: err.Error(), cause: errors.Unwrap(err)}
}

// document is the JSON in __metadata__["evsnn"].
type document struct {
	Format  string            `json:"format"`
	Version int               `json:"version"`
	Input   []int             `json:"input"`
	Layers  []json.RawMessage `json:"layers"`
	Meta    network.Metadata  `json:"meta"`
}

// The per-kind layer documents. Fields are checked against layerFields when
// decoding: every listed field is required and no other is allowed.
type conv2dDoc struct {
	Kind        network.Kind `json:"kind"`
	Name        string       `json:"name"`
	InChannels  int          `json:"in_channels"`
	OutChannels int          `json:"out_channels"`
	Kernel      []int        `json:"kernel"`
	Stride      []int        `json:"stride"`
	Padding     []int        `json:"padding"`
}

type avgPool2dDoc struct {
	Kind   network.Kind `json:"kind"`
	Name   string       `json:"name"`
	Kernel []int        `json:"kernel"`
	Stride []int        `json:"stride"`
}

type linearDoc struct {
	Kind        network.Kind `json:"kind"`
	Name        string       `json:"name"`
	InFeatures  int          `json:"in_features"`
	OutFeatures int          `json:"out_features"`
}

type plainDoc struct {
	Kind network.Kind `json:"kind"`
	Name string       `json:"name"`
}

type spikingDoc struct {
	Kind       network.Kind  `json:"kind"`
	Name       string        `json:"name"`
	Alpha      float32       `json:"alpha"`
	Reset      network.Reset `json:"reset"`
	V0Fraction float32       `json:"v0_fraction"`
}

var layerFields = map[network.Kind][]string{
	network.KindConv2d:    {"kind", "name", "in_channels", "out_channels", "kernel", "stride", "padding"},
	network.KindAvgPool2d: {"kind", "name", "kernel", "stride"},
	network.KindLinear:    {"kind", "name", "in_features", "out_features"},
	network.KindReLU:      {"kind", "name"},
	network.KindFlatten:   {"kind", "name"},
	network.KindSpiking:   {"kind", "name", "alpha", "reset", "v0_fraction"},
}

// tensorInfo is one entry of the safetensors header.
type tensorInfo struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// outTensor is a tensor on its way into a file.
type outTensor struct {
	name  string
	shape []int
	data  []float32
}

// TensorName is the name of parameter param ("weight", "bias", "threshold",
// "v0") of layer i in a model file.
func TensorName(i int, param string) string {
	return "layers." + strconv.Itoa(i) + "." + param
}

// Encode writes net as an evsnn model file. The network must validate.
func Encode(w io.Writer, net *network.Network) error {
	if net == nil {
		return fmt.Errorf("modelfile: encode: nil network")
	}
	if err := net.Validate(); err != nil {
		return fmt.Errorf("modelfile: encode: %w", err)
	}
	shapes, err := net.Shapes()
	if err != nil {
		return fmt.Errorf("modelfile: encode: %w", err)
	}
	doc := document{Format: Format, Version: Version, Input: []int(net.Input), Meta: net.Meta}
	var tensors []outTensor
	in := net.Input
	for i, l := range net.Layers {
		var ld any
		switch l := l.(type) {
		case *network.Conv2d:
			ld = conv2dDoc{Kind: l.Kind(), Name: l.LayerName, InChannels: l.InC, OutChannels: l.OutC,
				Kernel: []int{l.KH, l.KW}, Stride: []int{l.StrideH, l.StrideW}, Padding: []int{l.PadH, l.PadW}}
			tensors = append(tensors,
				outTensor{TensorName(i, "weight"), []int{l.OutC, l.InC, l.KH, l.KW}, l.Weight},
				outTensor{TensorName(i, "bias"), []int{l.OutC}, l.Bias})
		case *network.AvgPool2d:
			ld = avgPool2dDoc{Kind: l.Kind(), Name: l.LayerName, Kernel: []int{l.KH, l.KW}, Stride: []int{l.StrideH, l.StrideW}}
		case *network.Linear:
			ld = linearDoc{Kind: l.Kind(), Name: l.LayerName, InFeatures: l.In, OutFeatures: l.Out}
			tensors = append(tensors,
				outTensor{TensorName(i, "weight"), []int{l.Out, l.In}, l.Weight},
				outTensor{TensorName(i, "bias"), []int{l.Out}, l.Bias})
		case *network.ReLU:
			ld = plainDoc{Kind: l.Kind(), Name: l.LayerName}
		case *network.Flatten:
			ld = plainDoc{Kind: l.Kind(), Name: l.LayerName}
		case *network.Spiking:
			ld = spikingDoc{Kind: l.Kind(), Name: l.LayerName, Alpha: l.Alpha, Reset: l.Reset, V0Fraction: l.V0Fraction}
			tensors = append(tensors, outTensor{TensorName(i, "threshold"), []int{len(l.Threshold)}, l.Threshold})
			if l.V0 != nil {
				tensors = append(tensors, outTensor{TensorName(i, "v0"), []int(in.Clone()), l.V0})
			}
		default:
			return fmt.Errorf("modelfile: encode: layer %d (%q): type %T cannot be stored", i, l.Name(), l)
		}
		raw, err := json.Marshal(ld)
		if err != nil {
			return fmt.Errorf("modelfile: encode: layer %d (%s %q): %w", i, l.Kind(), l.Name(), err)
		}
		doc.Layers = append(doc.Layers, raw)
		in = shapes[i]
	}
	docJSON, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("modelfile: encode: metadata: %w", err)
	}

	// The header: __metadata__ first, then the tensors in layer order.
	var hdr bytes.Buffer
	hdr.WriteString(`{"__metadata__":`)
	meta, err := json.Marshal(map[string]string{MetadataKey: string(docJSON)})
	if err != nil {
		return fmt.Errorf("modelfile: encode: metadata: %w", err)
	}
	hdr.Write(meta)
	var off int64
	for _, t := range tensors {
		n := int64(len(t.data)) * 4
		entry, err := json.Marshal(struct {
			DType       string  `json:"dtype"`
			Shape       []int   `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}{"F32", t.shape, []int64{off, off + n}})
		if err != nil {
			return fmt.Errorf("modelfile: encode: tensor %s: %w", t.name, err)
		}
		name, _ := json.Marshal(t.name)
		hdr.WriteByte(',')
		hdr.Write(name)
		hdr.WriteByte(':')
		hdr.Write(entry)
		off += n
	}
	hdr.WriteByte('}')
	// Pad with spaces so that the data starts 8-byte aligned, as the
	// safetensors writers do.
	for (8+hdr.Len())%8 != 0 {
		hdr.WriteByte(' ')
	}
	if hdr.Len() > MaxHeaderBytes {
		return fmt.Errorf("modelfile: encode: header of %d bytes exceeds the %d-byte limit", hdr.Len(), MaxHeaderBytes)
	}

	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 0, 64<<10)
	for _, t := range tensors {
		for _, v := range t.data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// Save writes net to path atomically: on any error the file is left as it
// was.
func Save(path string, net *network.Network) error {
	return fsutil.WriteAtomic(path, func(w io.Writer) error { return Encode(w, net) })
}

// Load reads the model file at path.
func Load(path string) (*network.Network, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("modelfile: %w", err)
	}
	net, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return net, nil
}

// IsModelFile reports whether data starts like an evsnn model file: a
// plausible safetensors header length, a JSON object, and the evsnn format
// name within the header bytes present. It looks at no more than the
// header, so the first few hundred bytes of a file are enough to sniff.
func IsModelFile(data []byte) bool {
	if len(data) < 9 {
		return false
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n < 2 || n > MaxHeaderBytes || data[8] != '{' {
		return false
	}
	hdr := data[8:]
	if uint64(len(hdr)) > n {
		hdr = hdr[:n]
	}
	return bytes.Contains(hdr, []byte(Format))
}

// Decode parses an evsnn model file and returns the validated network. Its
// errors say what is wrong and where, and wrap ErrInvalid.
func Decode(data []byte) (*network.Network, error) {
	if len(data) < 8 {
		return nil, invalid("file of %d bytes is too short for a safetensors header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > MaxHeaderBytes {
		return nil, invalid("header length %d exceeds the %d-byte limit", n, MaxHeaderBytes)
	}
	if n > uint64(len(data)-8) {
		return nil, invalid("header length %d exceeds the %d bytes that follow it (truncated file?)", n, len(data)-8)
	}
	hdr := data[8 : 8+n]
	buf := data[8+n:]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, invalid("header does not start with '{': not a safetensors file")
	}

	var entries map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &entries); err != nil {
		return nil, invalid("header is not a JSON object: %w", err)
	}
	rawMeta, ok := entries["__metadata__"]
	if !ok {
		return nil, invalid("header has no __metadata__: a safetensors file, but not an evsnn model")
	}
	delete(entries, "__metadata__")
	var meta map[string]string
	if err := json.Unmarshal(rawMeta, &meta); err != nil {
		return nil, invalid("__metadata__ is not a map of strings: %w", err)
	}
	docJSON, ok := meta[MetadataKey]
	if !ok {
		return nil, invalid("__metadata__ has no %q key: a safetensors file, but not an evsnn model", MetadataKey)
	}

	tensors, err := parseTensors(entries, buf)
	if err != nil {
		return nil, err
	}

	var doc document
	if err := strictUnmarshal([]byte(docJSON), &doc); err != nil {
		return nil, invalid("__metadata__[%q]: %w", MetadataKey, err)
	}
	if doc.Format != Format {
		return nil, invalid("__metadata__[%q]: format %q, want %q", MetadataKey, doc.Format, Format)
	}
	if doc.Version != Version {
		return nil, invalid("__metadata__[%q]: unsupported version %d (this evsnn reads version %d)", MetadataKey, doc.Version, Version)
	}
	if len(doc.Input) == 0 {
		return nil, invalid("input shape is missing")
	}
	for _, d := range doc.Input {
		if d <= 0 || d > maxDim {
			return nil, invalid("input shape %v: dimensions must be in 1..%d", doc.Input, maxDim)
		}
	}
	if err := network.Shape(doc.Input).Valid(); err != nil {
		return nil, invalid("input: %w", err)
	}
	if len(doc.Layers) == 0 {
		return nil, invalid("network has no layers")
	}

	net := &network.Network{Input: network.Shape(doc.Input), Meta: doc.Meta}
	used := map[string]bool{}
	for i, raw := range doc.Layers {
		l, err := decodeLayer(i, raw, tensors, used)
		if err != nil {
			return nil, err
		}
		net.Layers = append(net.Layers, l)
	}
	if len(used) != len(tensors) {
		var extra []string
		for name := range tensors {
			if !used[name] {
				extra = append(extra, name)
			}
		}
		sort.Strings(extra)
		return nil, invalid("tensor %q belongs to no layer (%d unused tensors)", extra[0], len(extra))
	}
	if err := net.Validate(); err != nil {
		return nil, invalid("%w", err)
	}
	return net, nil
}

// tensor is a parsed, bounds-checked header entry; data is a view into the
// file's data section.
type tensor struct {
	shape []int
	data  []byte
	begin int64
	end   int64
}

func parseTensors(entries map[string]json.RawMessage, buf []byte) (map[string]*tensor, error) {
	tensors := make(map[string]*tensor, len(entries))
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(entries[name], &fields); err != nil {
			return nil, invalid("tensor %q: header entry is not a JSON object: %w", name, err)
		}
		for _, f := range []string{"dtype", "shape", "data_offsets"} {
			if _, ok := fields[f]; !ok {
				return nil, invalid("tensor %q: header entry has no %q", name, f)
			}
		}
		if len(fields) != 3 {
			return nil, invalid("tensor %q: header entry has fields other than dtype, shape and data_offsets", name)
		}
		var info tensorInfo
		if err := json.Unmarshal(entries[name], &info); err != nil {
			return nil, invalid("tensor %q: %w", name, err)
		}
		if info.DType != "F32" {
			return nil, invalid("tensor %q: dtype %q, evsnn model files hold only F32", name, info.DType)
		}
		if len(info.DataOffsets) != 2 {
			return nil, invalid("tensor %q: data_offsets has %d values, want [begin, end]", name, len(info.DataOffsets))
		}
		begin, end := info.DataOffsets[0], info.DataOffsets[1]
		if begin < 0 || end < begin || end > int64(len(buf)) {
			return nil, invalid("tensor %q: data_offsets [%d, %d] out of range of the %d data bytes", name, begin, end, len(buf))
		}
		count := int64(1)
		shape := make([]int, len(info.Shape))
		for k, d := range info.Shape {
			if d < 0 || d > maxDim || (d > 0 && count > network.MaxElements/d) {
				return nil, invalid("tensor %q: shape %v is absurd (more than %d elements or a negative dimension)", name, info.Shape, network.MaxElements)
			}
			count *= d
			shape[k] = int(d)
		}
		if count*4 != end-begin {
			return nil, invalid("tensor %q: shape %v needs %d bytes, data_offsets [%d, %d] hold %d", name, info.Shape, count*4, begin, end, end-begin)
		}
		tensors[name] = &tensor{shape: shape, data: buf[begin:end], begin: begin, end: end}
	}

	// The data must be covered exactly: no overlaps, no holes, nothing
	// after the last tensor (as Python's safetensors demands).
	sort.Slice(names, func(a, b int) bool {
		ta, tb := tensors[names[a]], tensors[names[b]]
		if ta.begin != tb.begin {
			return ta.begin < tb.begin
		}
		if ta.end != tb.end {
			return ta.end < tb.end
		}
		return names[a] < names[b]
	})
	var pos int64
	prev := ""
	for _, name := range names {
		t := tensors[name]
		switch {
		case t.begin < pos:
			return nil, invalid("tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", name, t.begin, t.end, prev, pos)
		case t.begin > pos:
			return nil, invalid("tensor %q: data_offsets [%d, %d] leave a hole of %d bytes before it", name, t.begin, t.end, t.begin-pos)
		}
		pos = t.end
		prev = name
	}
	if pos != int64(len(buf)) {
		return nil, invalid("%d bytes after the last tensor are not part of any tensor", int64(len(buf))-pos)
	}
	return tensors, nil
}

func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

func decodeLayer(i int, raw json.RawMessage, tensors map[string]*tensor, used map[string]bool) (network.Layer, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, invalid("layer %d: not a JSON object: %w", i, err)
	}
	var head plainDoc
	if err := json.Unmarshal(raw, &head); err != nil {
		return nil, invalid("layer %d: %w", i, err)
	}
	where := fmt.Sprintf("layer %d (%s %q)", i, head.Kind, head.Name)
	want, ok := layerFields[head.Kind]
	if !ok {
		if _, has := fields["kind"]; !has {
			return nil, invalid("layer %d: no \"kind\"", i)
		}
		return nil, invalid("layer %d (%q): unknown layer kind %q (known: conv2d, avgpool2d, linear, relu, flatten, spiking)", i, head.Name, head.Kind)
	}
	for _, f := range want {
		if _, has := fields[f]; !has {
			return nil, invalid("%s: missing field %q", where, f)
		}
	}
	if len(fields) != len(want) {
		for f := range fields {
			if !slices.Contains(want, f) {
				return nil, invalid("%s: unknown field %q", where, f)
			}
		}
	}

	// param fetches a tensor of the expected shape and marks it used.
	param := func(name string, shape []int, required bool) ([]float32, error) {
		full := TensorName(i, name)
		t, ok := tensors[full]
		if !ok {
			if required {
				return nil, invalid("%s: tensor %q is missing", where, full)
			}
			return nil, nil
		}
		if shape != nil && !slices.Equal(t.shape, shape) {
			return nil, invalid("%s: tensor %q has shape %v, want %v", where, full, t.shape, shape)
		}
		used[full] = true
		out := make([]float32, len(t.data)/4)
		for k := range out {
			v := math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*k:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, invalid("%s: tensor %q: element %d is %v", where, full, k, v)
			}
			out[k] = v
		}
		return out, nil
	}
	dims := func(what string, vals ...int) error {
		for _, v := range vals {
			if v <= 0 || v > maxDim {
				return invalid("%s: %s %v: values must be in 1..%d", where, what, vals, maxDim)
			}
		}
		return nil
	}
	pair := func(what string, v []int, min int) error {
		if len(v) != 2 {
			return invalid("%s: %s has %d values, want 2", where, what, len(v))
		}
		for _, x := range v {
			if x < min || x > maxDim {
				return invalid("%s: %s %v: values must be in %d..%d", where, what, v, min, maxDim)
			}
		}
		return nil
	}

	switch head.Kind {
	case network.KindConv2d:
		var d conv2dDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, invalid("%s: %w", where, err)
		}
		if err := dims("channels", d.InChannels, d.OutChannels); err != nil {
			return nil, err
		}
		if err := pair("kernel", d.Kernel, 1); err != nil {
			return nil, err
		}
		if err := pair("stride", d.Stride, 1); err != nil {
			return nil, err
		}
		if err := pair("padding", d.Padding, 0); err != nil {
			return nil, err
		}
		// The weight tensor's shape was bounded when parsed; comparing it
		// with these dimensions checks them without multiplying.
		w, err := param("weight", []int{d.OutChannels, d.InChannels, d.Kernel[0], d.Kernel[1]}, true)
		if err != nil {
			return nil, err
		}
		b, err := param("bias", []int{d.OutChannels}, true)
		if err != nil {
			return nil, err
		}
		return &network.Conv2d{LayerName: d.Name, InC: d.InChannels, OutC: d.OutChannels,
			KH: d.Kernel[0], KW: d.Kernel[1], StrideH: d.Stride[0], StrideW: d.Stride[1],
			PadH: d.Padding[0], PadW: d.Padding[1], Weight: w, Bias: b}, nil
	case network.KindAvgPool2d:
		var d avgPool2dDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, invalid("%s: %w", where, err)
		}
		if err := pair("kernel", d.Kernel, 1); err != nil {
			return nil, err
		}
		if err := pair("stride", d.Stride, 1); err != nil {
			return nil, err
		}
		return &network.AvgPool2d{LayerName: d.Name, KH: d.Kernel[0], KW: d.Kernel[1], StrideH: d.Stride[0], StrideW: d.Stride[1]}, nil
	case network.KindLinear:
		var d linearDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, invalid("%s: %w", where, err)
		}
		if err := dims("features", d.InFeatures, d.OutFeatures); err != nil {
			return nil, err
		}
		w, err := param("weight", []int{d.OutFeatures, d.InFeatures}, true)
		if err != nil {
			return nil, err
		}
		b, err := param("bias", []int{d.OutFeatures}, true)
		if err != nil {
			return nil, err
		}
		return &network.Linear{LayerName: d.Name, In: d.InFeatures, Out: d.OutFeatures, Weight: w, Bias: b}, nil
	case network.KindReLU:
		return &network.ReLU{LayerName: head.Name}, nil
	case network.KindFlatten:
		return &network.Flatten{LayerName: head.Name}, nil
	case network.KindSpiking:
		var d spikingDoc
		if err := json.Unmarshal(raw, &d); err != nil {
			return nil, invalid("%s: %w", where, err)
		}
		full := TensorName(i, "threshold")
		if t, ok := tensors[full]; ok && (len(t.shape) != 1 || t.shape[0] == 0) {
			return nil, invalid("%s: tensor %q has shape %v, want [1] or [channels]", where, full, t.shape)
		}
		th, err := param("threshold", nil, true)
		if err != nil {
			return nil, err
		}
		// v0 may have any shape; Validate checks that it has one value per
		// neuron of the layer.
		v0, err := param("v0", nil, false)
		if err != nil {
			return nil, err
		}
		return &network.Spiking{LayerName: d.Name, Threshold: th, Alpha: d.Alpha, Reset: d.Reset,
			V0Fraction: d.V0Fraction, V0: v0}, nil
	}
	return nil, invalid("%s: unknown layer kind", where)
}
