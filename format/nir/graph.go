package nir

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// DType is the element type of a parameter, as it is (or will be) stored in
// the HDF5 file.
type DType uint8

// The element types a NIR file uses.
const (
	Float32 DType = iota + 1
	Float64
	Int64
	String
)

// String names the type.
func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Int64:
		return "int64"
	case String:
		return "string"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Param is one parameter of a node (one HDF5 dataset): a typed array with a
// shape. A scalar has a nil (empty) Shape and one element. Exactly the slice
// matching DType is set.
type Param struct {
	DType DType
	Shape []int
	F32   []float32
	F64   []float64
	I64   []int64
	Str   []string
}

// F32Array is a float32 parameter of the given shape (nil: a scalar).
func F32Array(shape []int, v []float32) Param {
	return Param{DType: Float32, Shape: slices.Clone(shape), F32: v}
}

// F32Scalar is a scalar float32 parameter.
func F32Scalar(v float32) Param { return Param{DType: Float32, F32: []float32{v}} }

// F64Scalar is a scalar float64 parameter.
func F64Scalar(v float64) Param { return Param{DType: Float64, F64: []float64{v}} }

// I64Array is a one-dimensional int64 parameter.
func I64Array(v ...int) Param {
	p := Param{DType: Int64, Shape: []int{len(v)}, I64: make([]int64, len(v))}
	for i, x := range v {
		p.I64[i] = int64(x)
	}
	return p
}

// I64Scalar is a scalar int64 parameter.
func I64Scalar(v int) Param { return Param{DType: Int64, I64: []int64{int64(v)}} }

// Str is a scalar string parameter.
func Str(s string) Param { return Param{DType: String, Str: []string{s}} }

// Len is the number of elements.
func (p Param) Len() int {
	switch p.DType {
	case Float32:
		return len(p.F32)
	case Float64:
		return len(p.F64)
	case Int64:
		return len(p.I64)
	case String:
		return len(p.Str)
	}
	return 0
}

// Size is the element count the shape implies.
func (p Param) Size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// IsScalar reports whether the parameter has no dimensions.
func (p Param) IsScalar() bool { return len(p.Shape) == 0 }

// check reports an error if the element count does not match the shape.
func (p Param) check() error {
	want := 1
	for _, d := range p.Shape {
		if d < 0 {
			return fmt.Errorf("shape %v has a negative dimension", p.Shape)
		}
		if d > 0 && want > math.MaxInt32/d {
			return fmt.Errorf("shape %v is too large", p.Shape)
		}
		want *= d
	}
	if p.DType < Float32 || p.DType > String {
		return fmt.Errorf("unknown element type %v", p.DType)
	}
	if p.Len() != want {
		return fmt.Errorf("%d values for shape %v", p.Len(), p.Shape)
	}
	return nil
}

// Floats returns the values as float64 (any numeric type), or an error for
// strings.
func (p Param) Floats() ([]float64, error) {
	out := make([]float64, 0, p.Len())
	switch p.DType {
	case Float32:
		for _, v := range p.F32 {
			out = append(out, float64(v))
		}
	case Float64:
		out = append(out, p.F64...)
	case Int64:
		for _, v := range p.I64 {
			out = append(out, float64(v))
		}
	default:
		return nil, fmt.Errorf("is a %v, want numbers", p.DType)
	}
	return out, nil
}

// Ints returns the values as ints. Floats must be whole numbers.
func (p Param) Ints() ([]int, error) {
	out := make([]int, 0, p.Len())
	switch p.DType {
	case Int64:
		for _, v := range p.I64 {
			if v > math.MaxInt32 || v < math.MinInt32 {
				return nil, fmt.Errorf("value %d out of range", v)
			}
			out = append(out, int(v))
		}
	case Float32, Float64:
		fs, _ := p.Floats()
		for _, v := range fs {
			if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
				return nil, fmt.Errorf("value %v is not an integer", v)
			}
			out = append(out, int(v))
		}
	default:
		return nil, fmt.Errorf("is a %v, want integers", p.DType)
	}
	return out, nil
}

// Text returns the value of a scalar (or one-element) string parameter.
func (p Param) Text() (string, bool) {
	if p.DType != String || len(p.Str) != 1 {
		return "", false
	}
	return p.Str[0], true
}

// Clone returns a deep copy.
func (p Param) Clone() Param {
	return Param{DType: p.DType, Shape: slices.Clone(p.Shape), F32: slices.Clone(p.F32),
		F64: slices.Clone(p.F64), I64: slices.Clone(p.I64), Str: slices.Clone(p.Str)}
}

// Node is one NIR node: its primitive type ("Affine", "LIF", ...), its
// parameters (one HDF5 dataset each) and optional metadata (the node's
// "metadata" group).
type Node struct {
	Type     string
	Params   map[string]Param
	Metadata map[string]Param
}

// Param returns the named parameter.
func (n *Node) Param(name string) (Param, bool) {
	p, ok := n.Params[name]
	return p, ok
}

// Graph is a NIR graph held in memory: named nodes in insertion order,
// directed edges between them, and graph-level metadata. It is what the
// HDF5 group "node" of a NIR file holds (type "NIRGraph").
type Graph struct {
	// Order lists the node names in the order they were added (for a file
	// read back: the order of the HDF5 group, alphabetical).
	Order    []string
	Nodes    map[string]*Node
	Edges    [][2]string
	Metadata map[string]Param
	// Version is the NIR version string of the file ("" for a new graph:
	// WriteFile writes FormatVersion).
	Version string
	// Notes are what FromNetwork changed on the way that a caller should
	// log (a sparse layer written dense). They are not written to the file.
	Notes []string
}

// FormatVersion is the NIR version written to the root "version" dataset.
// The layout follows neuromorphs/NIR's serialization (nir.write / nir.read)
// of the 1.0 series.
const FormatVersion = "1.0.0"

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{Nodes: map[string]*Node{}, Metadata: map[string]Param{}}
}

// Add appends a node. It returns an error if the name is empty, not usable
// as an HDF5 group name, or already taken.
func (g *Graph) Add(name string, n *Node) error {
	if err := checkName(name); err != nil {
		return err
	}
	if _, dup := g.Nodes[name]; dup {
		return fmt.Errorf("node %q: name used twice", name)
	}
	if n.Params == nil {
		n.Params = map[string]Param{}
	}
	g.Order = append(g.Order, name)
	g.Nodes[name] = n
	return nil
}

// Connect adds an edge from source to target.
func (g *Graph) Connect(source, target string) {
	g.Edges = append(g.Edges, [2]string{source, target})
}

func checkName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return fmt.Errorf("node %q: not a usable node name", name)
	}
	return nil
}

// Validate checks that every parameter's values match its shape and that
// every edge names existing nodes. The error names the node.
func (g *Graph) Validate() error {
	if g == nil || g.Nodes == nil {
		return fmt.Errorf("empty NIR graph")
	}
	if len(g.Order) != len(g.Nodes) {
		return fmt.Errorf("graph lists %d node names for %d nodes", len(g.Order), len(g.Nodes))
	}
	for _, name := range g.Order {
		n, ok := g.Nodes[name]
		if !ok || n == nil {
			return fmt.Errorf("node %q: listed but missing", name)
		}
		if err := checkName(name); err != nil {
			return err
		}
		if n.Type == "" {
			return fmt.Errorf("node %q: no type", name)
		}
		for _, k := range sortedKeys(n.Params) {
			if err := checkName(k); err != nil || k == "type" || k == "metadata" {
				return fmt.Errorf("node %q: parameter name %q is not usable", name, k)
			}
			if err := n.Params[k].check(); err != nil {
				return fmt.Errorf("node %q: parameter %q: %w", name, k, err)
			}
		}
		for _, k := range sortedKeys(n.Metadata) {
			if err := checkName(k); err != nil {
				return fmt.Errorf("node %q: metadata name %q is not usable", name, k)
			}
			if err := n.Metadata[k].check(); err != nil {
				return fmt.Errorf("node %q: metadata %q: %w", name, k, err)
			}
		}
	}
	for _, k := range sortedKeys(g.Metadata) {
		if err := g.Metadata[k].check(); err != nil {
			return fmt.Errorf("graph metadata %q: %w", k, err)
		}
	}
	for _, e := range g.Edges {
		for _, end := range e {
			if _, ok := g.Nodes[end]; !ok {
				return fmt.Errorf("edge %q → %q: node %q does not exist", e[0], e[1], end)
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
