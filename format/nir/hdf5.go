//go:build hdf5

package nir

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// HDF5 reports whether this build reads and writes NIR files (HDF5): true,
// it was built with the hdf5 tag.
const HDF5 = true

// writeVarLen makes WriteFile write variable-length strings, as NIR's
// Python writer (h5py) does; tests use it to make such files.
var writeVarLen bool

// h5mu serialises all HDF5 calls: Debian's libhdf5 is not thread-safe.
var h5mu sync.Mutex

// closer collects HDF5 handles and closes them in reverse order, the file
// last.
type closer struct{ fns []func() error }

func (c *closer) add(f func() error) { c.fns = append(c.fns, f) }

func (c *closer) close() error {
	var errs []error
	for i := len(c.fns) - 1; i >= 0; i-- {
		if err := c.fns[i](); err != nil {
			errs = append(errs, err)
		}
	}
	c.fns = nil
	return errors.Join(errs...)
}

// WriteFile writes g as a NIR HDF5 file: a root dataset "version" and a
// group "node" holding type = "NIRGraph", the group "nodes" (one group per
// node: a scalar string "type" and one dataset per parameter, plus a
// "metadata" group when the node has metadata), the dataset "edges"
// (N×2 strings: source, target) and the graph's "metadata" group. Strings
// are fixed-length, null-terminated ASCII/UTF-8; float32, float64 and int64
// datasets are little-endian (native). The file is written to a temporary
// file beside path and renamed over it once complete and closed.
func WriteFile(path string, g *Graph) (err error) {
	if err := g.Validate(); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmpf, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	tmp := tmpf.Name()
	tmpf.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if err := writeH5(tmp, g); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	return nil
}

func writeH5(path string, g *Graph) (err error) {
	h5mu.Lock()
	defer h5mu.Unlock()
	f, err := hdf5.CreateFile(path, hdf5.F_ACC_TRUNC)
	if err != nil {
		return err
	}
	var c closer
	c.add(f.Close)
	defer func() {
		if cerr := c.close(); err == nil && cerr != nil {
			err = fmt.Errorf("closing: %w", cerr)
		}
	}()
	version := g.Version
	if version == "" {
		version = FormatVersion
	}
	if err := writeParam(&f.CommonFG, "version", Str(version)); err != nil {
		return fmt.Errorf("version: %w", err)
	}
	top, err := f.CreateGroup("node")
	if err != nil {
		return err
	}
	c.add(top.Close)
	if err := writeParam(&top.CommonFG, "type", Str("NIRGraph")); err != nil {
		return err
	}
	nodes, err := top.CreateGroup("nodes")
	if err != nil {
		return err
	}
	c.add(nodes.Close)
	for _, name := range g.Order {
		if err := writeNode(nodes, name, g.Nodes[name]); err != nil {
			return fmt.Errorf("node %q: %w", name, err)
		}
	}
	edges := Param{DType: String, Shape: []int{len(g.Edges), 2}}
	for _, e := range g.Edges {
		edges.Str = append(edges.Str, e[0], e[1])
	}
	if err := writeParam(&top.CommonFG, "edges", edges); err != nil {
		return fmt.Errorf("edges: %w", err)
	}
	if len(g.Metadata) > 0 {
		if err := writeGroup(top, "metadata", g.Metadata); err != nil {
			return fmt.Errorf("graph metadata: %w", err)
		}
	}
	return nil
}

func writeNode(parent *hdf5.Group, name string, n *Node) (err error) {
	grp, err := parent.CreateGroup(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := grp.Close(); err == nil {
			err = cerr
		}
	}()
	if err := writeParam(&grp.CommonFG, "type", Str(n.Type)); err != nil {
		return err
	}
	for _, k := range sortedKeys(n.Params) {
		if err := writeParam(&grp.CommonFG, k, n.Params[k]); err != nil {
			return fmt.Errorf("parameter %q: %w", k, err)
		}
	}
	if len(n.Metadata) > 0 {
		if err := writeGroup(grp, "metadata", n.Metadata); err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
	}
	return nil
}

func writeGroup(parent *hdf5.Group, name string, params map[string]Param) (err error) {
	grp, err := parent.CreateGroup(name)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := grp.Close(); err == nil {
			err = cerr
		}
	}()
	for _, k := range sortedKeys(params) {
		if err := writeParam(&grp.CommonFG, k, params[k]); err != nil {
			return fmt.Errorf("%q: %w", k, err)
		}
	}
	return nil
}

// writeParam writes one dataset: scalar for an empty shape.
func writeParam(loc *hdf5.CommonFG, name string, p Param) error {
	if err := p.check(); err != nil {
		return err
	}
	var buf unsafe.Pointer
	switch p.DType {
	case Float32:
		if len(p.F32) > 0 {
			buf = unsafe.Pointer(&p.F32[0])
		}
		return writeDataset(loc, name, hdf5.T_NATIVE_FLOAT, p.Shape, buf)
	case Float64:
		if len(p.F64) > 0 {
			buf = unsafe.Pointer(&p.F64[0])
		}
		return writeDataset(loc, name, hdf5.T_NATIVE_DOUBLE, p.Shape, buf)
	case Int64:
		if len(p.I64) > 0 {
			buf = unsafe.Pointer(&p.I64[0])
		}
		return writeDataset(loc, name, hdf5.T_NATIVE_INT64, p.Shape, buf)
	case String:
		if writeVarLen {
			return writeVarStrings(loc, name, p)
		}
		size := 1
		utf8 := false
		for _, s := range p.Str {
			if strings.IndexByte(s, 0) >= 0 {
				return fmt.Errorf("string %q contains a NUL byte", s)
			}
			size = max(size, len(s)+1)
			utf8 = utf8 || strings.ContainsFunc(s, func(r rune) bool { return r >= 0x80 })
		}
		st, err := hdf5.CreateDatatype(hdf5.T_STRING, size)
		if err != nil {
			return err
		}
		defer st.Close()
		if utf8 {
			if err := setUTF8(st); err != nil {
				return err
			}
		}
		raw := make([]byte, size*len(p.Str))
		for i, s := range p.Str {
			copy(raw[i*size:], s)
		}
		if len(raw) > 0 {
			buf = unsafe.Pointer(&raw[0])
		}
		return writeDataset(loc, name, st, p.Shape, buf)
	}
	return fmt.Errorf("unknown element type %v", p.DType)
}

// ReadFile reads a NIR HDF5 file: the layout WriteFile writes, and the one
// NIR's Python reference (nir.write) writes, with variable-length strings,
// any integer and float widths and either byte order. Node groups other
// than "metadata" inside a node (older NIR versions write input_type and
// output_type groups) are ignored, as are metadata entries of kinds evsnn
// does not read (nested groups, booleans).
func ReadFile(path string) (g *Graph, err error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	h5mu.Lock()
	defer h5mu.Unlock()
	if !hdf5.IsHDF5(path) {
		return nil, fmt.Errorf("%s is not an HDF5 file", path)
	}
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var c closer
	c.add(f.Close)
	defer func() {
		if cerr := c.close(); err == nil && cerr != nil {
			g, err = nil, fmt.Errorf("closing %s: %w", path, cerr)
		}
	}()
	g = NewGraph()
	if f.LinkExists("version") {
		p, err := readParam(&f.CommonFG, "version")
		if err != nil {
			return nil, fmt.Errorf("version: %w", err)
		}
		g.Version, _ = p.Text()
	}
	if !f.LinkExists("node") {
		return nil, fmt.Errorf("%s: no group \"node\": not a NIR file", path)
	}
	top, err := f.OpenGroup("node")
	if err != nil {
		return nil, fmt.Errorf("%s: group \"node\": %w", path, err)
	}
	c.add(top.Close)
	if typ, err := readType(&top.CommonFG); err != nil {
		return nil, fmt.Errorf("%s: node: %w", path, err)
	} else if typ != "NIRGraph" {
		return nil, fmt.Errorf("%s: the top node has type %q, want NIRGraph", path, typ)
	}
	if !top.LinkExists("nodes") {
		return nil, fmt.Errorf("%s: no group node/nodes", path)
	}
	nodes, err := top.OpenGroup("nodes")
	if err != nil {
		return nil, err
	}
	c.add(nodes.Close)
	names, kinds, err := members(&nodes.CommonFG)
	if err != nil {
		return nil, err
	}
	for i, name := range names {
		if kinds[i] != hdf5.H5G_GROUP {
			return nil, fmt.Errorf("node %q: a %v, not a group", name, kinds[i])
		}
		n, err := readNode(nodes, name)
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", name, err)
		}
		if err := g.Add(name, n); err != nil {
			return nil, err
		}
	}
	if !top.LinkExists("edges") {
		return nil, fmt.Errorf("%s: no dataset node/edges", path)
	}
	edges, err := readParam(&top.CommonFG, "edges")
	if err != nil {
		return nil, fmt.Errorf("edges: %w", err)
	}
	if edges.DType != String || edges.Len()%2 != 0 || (edges.Len() > 0 && (len(edges.Shape) != 2 || edges.Shape[1] != 2)) {
		return nil, fmt.Errorf("edges: want N×2 strings, got %v of shape %v", edges.DType, edges.Shape)
	}
	for i := 0; i < len(edges.Str); i += 2 {
		g.Connect(edges.Str[i], edges.Str[i+1])
	}
	if top.LinkExists("metadata") {
		if g.Metadata, err = readMeta(top, "metadata"); err != nil {
			return nil, fmt.Errorf("graph metadata: %w", err)
		}
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

func members(g *hdf5.CommonFG) ([]string, []hdf5.GType, error) {
	n, err := g.NumObjects()
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, n)
	kinds := make([]hdf5.GType, n)
	for i := uint(0); i < n; i++ {
		if names[i], err = g.ObjectNameByIndex(i); err != nil {
			return nil, nil, err
		}
		if kinds[i], err = g.ObjectTypeByIndex(i); err != nil {
			return nil, nil, fmt.Errorf("%q: %w", names[i], err)
		}
	}
	return names, kinds, nil
}

func readType(g *hdf5.CommonFG) (string, error) {
	if !g.LinkExists("type") {
		return "", fmt.Errorf("no \"type\" dataset")
	}
	p, err := readParam(g, "type")
	if err != nil {
		return "", fmt.Errorf("type: %w", err)
	}
	s, ok := p.Text()
	if !ok {
		return "", fmt.Errorf("\"type\" is not a string")
	}
	return s, nil
}

func readNode(parent *hdf5.Group, name string) (n *Node, err error) {
	grp, err := parent.OpenGroup(name)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := grp.Close(); err == nil && cerr != nil {
			n, err = nil, cerr
		}
	}()
	typ, err := readType(&grp.CommonFG)
	if err != nil {
		return nil, err
	}
	n = &Node{Type: typ, Params: map[string]Param{}}
	names, kinds, err := members(&grp.CommonFG)
	if err != nil {
		return nil, err
	}
	for i, k := range names {
		switch {
		case k == "type":
		case kinds[i] == hdf5.H5G_DATASET:
			p, err := readParam(&grp.CommonFG, k)
			if err != nil {
				return nil, fmt.Errorf("parameter %q: %w", k, err)
			}
			n.Params[k] = p
		case kinds[i] == hdf5.H5G_GROUP && k == "metadata":
			if n.Metadata, err = readMeta(grp, k); err != nil {
				return nil, fmt.Errorf("metadata: %w", err)
			}
		case kinds[i] == hdf5.H5G_GROUP && typ == "NIRGraph":
			// A nested graph: ToNetwork says it is not supported.
		}
	}
	return n, nil
}

func readMeta(parent *hdf5.Group, name string) (map[string]Param, error) {
	grp, err := parent.OpenGroup(name)
	if err != nil {
		return nil, err
	}
	defer grp.Close()
	names, kinds, err := members(&grp.CommonFG)
	if err != nil {
		return nil, err
	}
	m := map[string]Param{}
	for i, k := range names {
		if kinds[i] != hdf5.H5G_DATASET {
			continue
		}
		p, err := readParam(&grp.CommonFG, k)
		if errors.Is(err, errUnsupportedType) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%q: %w", k, err)
		}
		m[k] = p
	}
	return m, nil
}

var errUnsupportedType = errors.New("unsupported HDF5 datatype")

// maxDatasetElements bounds what one dataset may hold (1 GiB of float32):
// a compressed dataset may declare far more than the file holds.
const maxDatasetElements = 1 << 28

func readParam(loc *hdf5.CommonFG, name string) (p Param, err error) {
	ds, err := loc.OpenDataset(name)
	if err != nil {
		return p, err
	}
	defer func() {
		if cerr := ds.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	space := ds.Space()
	if space == nil {
		return p, fmt.Errorf("no dataspace")
	}
	defer space.Close()
	n := 1
	switch space.SimpleExtentType() {
	case hdf5.S_SCALAR:
	case hdf5.S_SIMPLE:
		dims, _, err := space.SimpleExtentDims()
		if err != nil {
			return p, err
		}
		p.Shape = make([]int, len(dims))
		for i, d := range dims {
			if d > maxDatasetElements || (d > 0 && uint(n) > maxDatasetElements/d) {
				return p, fmt.Errorf("shape %v is too large", dims)
			}
			p.Shape[i] = int(d)
			n *= int(d)
		}
	default:
		return p, fmt.Errorf("empty (null) dataspace")
	}
	dt, err := ds.Datatype()
	if err != nil {
		return p, err
	}
	defer dt.Close()
	switch dt.Class() {
	case hdf5.T_FLOAT:
		if dt.Size() <= 4 {
			p.DType = Float32
			p.F32, err = readNativeF32(ds, n)
		} else {
			p.DType = Float64
			p.F64, err = readNativeF64(ds, n)
		}
	case hdf5.T_INTEGER:
		p.DType = Int64
		p.I64, err = readNativeI64(ds, n)
	case hdf5.T_STRING:
		p.DType = String
		var vlen bool
		if vlen, err = isVarString(dt); err != nil {
			return p, err
		}
		if vlen {
			p.Str, err = readVarStrings(ds, dt, n)
			break
		}
		size := int(dt.Size())
		if size <= 0 || size > 1<<20 {
			return p, fmt.Errorf("fixed-length strings of %d bytes", size)
		}
		raw := make([]byte, max(n*size, 1))
		if err = ds.Read(&raw); err != nil {
			return p, err
		}
		p.Str = make([]string, n)
		for i := range p.Str {
			s := raw[i*size : (i+1)*size]
			if j := bytes.IndexByte(s, 0); j >= 0 {
				s = s[:j]
			}
			p.Str[i] = string(bytes.TrimRight(s, " "))
		}
	default:
		return p, fmt.Errorf("%w (class %d)", errUnsupportedType, dt.Class())
	}
	return p, err
}
