package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/evsnn/evsnn/internal/fsutil"
	"github.com/evsnn/evsnn/network"
)

// Format and Version identify the evsnn document in __metadata__["evsnn"].
// Decode reads every version from MinVersion to Version; Encode writes the
// lowest that holds the network (see FileVersion).
const (
	Format     = "evsnn-model"
	Version    = 3
	MinVersion = 1
)

// MetadataKey is the __metadata__ key that holds the evsnn document.
const MetadataKey = "evsnn"

// MaxHeaderBytes bounds the JSON header, as Python's safetensors does.
const MaxHeaderBytes = 100_000_000

// maxDim bounds every integer hyperparameter (sizes, kernels, strides,
// padding), so that no shape arithmetic downstream can overflow.
const (
	maxDim      = network.MaxElements
	maxElements = network.MaxElements
)

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

// errorf is an encoding error.
func errorf(format string, args ...any) error {
	return fmt.Errorf("modelfile: encode: "+format, args...)
}

// layerWhere names layer i in errors: layer 3 (conv2d "conv1").
func layerWhere(i int, l network.Layer) string {
	return fmt.Sprintf("layer %d (%s %q)", i, l.Kind(), l.Name())
}

// document is the JSON in __metadata__["evsnn"].
type document struct {
	Format  string            `json:"format"`
	Version int               `json:"version"`
	Input   []int             `json:"input"`
	Layers  []json.RawMessage `json:"layers"`
	// Meta is network.Metadata as encoding/json writes it, so that every
	// field it has (now and later) is stored without code here.
	Meta network.Metadata `json:"meta"`
}

// TensorName is the name of parameter param ("weight", "bias", "threshold",
// "v0") of layer i in a model file.
func TensorName(i int, param string) string {
	return "layers." + strconv.Itoa(i) + "." + param
}

// FileVersion is the version Encode writes for net: 1 for a chain of the
// layers version 1 has (no MaxPool2d, GlobalAvgPool or Add, average pools
// unpadded and without CountIncludePad), so that such files stay as they
// were and older evsnn reads them; 3 for a network with a SparseLinear
// layer (which a version 2 reader cannot hold); 2 otherwise.
func FileVersion(net *network.Network) int {
	for _, l := range net.Layers {
		if l.Kind() == network.KindSparseLinear {
			return 3
		}
	}
	if !net.IsChain() {
		return 2
	}
	for _, l := range net.Layers {
		switch l := l.(type) {
		case *network.Conv2d, *network.Linear, *network.ReLU, *network.Flatten, *network.Spiking:
		case *network.AvgPool2d:
			if l.PadH != 0 || l.PadW != 0 || l.CountIncludePad {
				return 2
			}
		default:
			return 2
		}
	}
	return 1
}

// Encode writes net as an evsnn model file of version FileVersion(net).
// The network must validate; a graph network (not a chain) must name every
// layer that feeds another except the layer right after it, and no layer
// may be called InputName.
func Encode(w io.Writer, net *network.Network) error {
	if net == nil {
		return errorf("nil network")
	}
	if err := net.Validate(); err != nil {
		return errorf("%w", err)
	}
	shapes, err := net.Shapes()
	if err != nil {
		return errorf("%w", err)
	}
	inputs, err := inputNames(net)
	if err != nil {
		return err
	}
	version := FileVersion(net)
	doc := document{Format: Format, Version: version, Input: []int(net.Input), Meta: net.Meta}
	var tensors []outTensor
	for i, l := range net.Layers {
		var in []string
		if inputs != nil {
			in = inputs[i]
		}
		ld, ts, err := encodeLayer(version, i, l, shapes[i], in)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(ld)
		if err != nil {
			return errorf("%s: %w", layerWhere(i, l), err)
		}
		doc.Layers = append(doc.Layers, raw)
		tensors = append(tensors, ts...)
	}
	docJSON, err := json.Marshal(doc)
	if err != nil {
		return errorf("metadata: %w", err)
	}
	return writeSafetensors(w, map[string]string{MetadataKey: string(docJSON)}, tensors)
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

// Decode parses an evsnn model file of any version from MinVersion to
// Version and returns the validated network. Its errors say what is wrong
// and where, and wrap ErrInvalid.
func Decode(data []byte) (*network.Network, error) {
	hdr, buf, err := splitSafetensors(data)
	if err != nil {
		return nil, err
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

	var doc document
	if err := strictUnmarshal([]byte(docJSON), &doc); err != nil {
		return nil, invalid("__metadata__[%q]: %w", MetadataKey, err)
	}
	if doc.Format != Format {
		return nil, invalid("__metadata__[%q]: format %q, want %q", MetadataKey, doc.Format, Format)
	}
	if doc.Version < MinVersion || doc.Version > Version {
		return nil, invalid("__metadata__[%q]: unsupported version %d (this evsnn reads versions %d to %d)", MetadataKey, doc.Version, MinVersion, Version)
	}
	// The version first: a file of a later version may hold tensors this
	// reader does not know.
	tensors, err := parseTensors(entries, buf)
	if err != nil {
		return nil, err
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
	listed := make([][]string, len(doc.Layers))
	for i, raw := range doc.Layers {
		l, in, err := decodeLayer(doc.Version, i, raw, tensors, used)
		if err != nil {
			return nil, err
		}
		net.Layers = append(net.Layers, l)
		listed[i] = in
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
	if net.Inputs, err = resolveInputs(net.Layers, listed); err != nil {
		return nil, err
	}
	net.Compact()
	if err := net.Validate(); err != nil {
		return nil, invalid("%w", err)
	}
	return net, nil
}
