//go:build hdf5

package nir

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gonum.org/v1/hdf5"
)

// h5baseline is the number of HDF5 objects open before any test: gonum's
// package holds one datatype (T_GO_STRING) for good.
var h5baseline int

// TestMain checks that no test leaves an HDF5 object open.
func TestMain(m *testing.M) {
	h5baseline = openObjects()
	code := m.Run()
	if n := openObjects() - h5baseline; n != 0 && code == 0 {
		fmt.Fprintf(os.Stderr, "%d HDF5 objects left open\n", n)
		code = 1
	}
	os.Exit(code)
}

func writeTemp(t *testing.T, g *Graph) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "net.nir")
	if err := WriteFile(path, g); err != nil {
		t.Fatal(err)
	}
	return path
}

// sameParam compares two parameters bit for bit.
func sameParam(a, b Param) bool {
	if a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) {
		return false
	}
	switch a.DType {
	case Float32:
		return slices.EqualFunc(a.F32, b.F32, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
	case Float64:
		return slices.EqualFunc(a.F64, b.F64, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
	case Int64:
		return slices.Equal(a.I64, b.I64)
	}
	return slices.Equal(a.Str, b.Str)
}

func sameParams(t *testing.T, what string, a, b map[string]Param) {
	t.Helper()
	if !slices.Equal(sortedKeys(a), sortedKeys(b)) {
		t.Fatalf("%s: keys %v, want %v", what, sortedKeys(b), sortedKeys(a))
	}
	for k := range a {
		if !sameParam(a[k], b[k]) {
			t.Fatalf("%s %q: read back %+v, wrote %+v", what, k, b[k], a[k])
		}
	}
}

// checkNoOpenObjects fails if an HDF5 handle is still open.
func checkNoOpenObjects(t *testing.T) {
	t.Helper()
	if n := openObjects() - h5baseline; n != 0 {
		t.Fatalf("%d HDF5 objects left open: %s", n, openKinds())
	}
}

func TestFileRoundTrip(t *testing.T) {
	defer checkNoOpenObjects(t)
	net := handNet(t)
	for _, opt := range []ExportOptions{{}, {SumPool: true, DT: 1e-3}} {
		g, err := FromNetworkWith(net, opt)
		if err != nil {
			t.Fatal(err)
		}
		g.Metadata["evsnn.note"] = Str("θ is UTF-8; \"quoted\", commas")
		path := writeTemp(t, g)
		back, err := ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if back.Version != FormatVersion {
			t.Errorf("version %q, want %q", back.Version, FormatVersion)
		}
		sorted := slices.Sorted(slices.Values(g.Order))
		if !slices.Equal(back.Order, sorted) {
			t.Fatalf("nodes %v, want %v", back.Order, sorted)
		}
		for _, name := range g.Order {
			a, b := g.Nodes[name], back.Nodes[name]
			if a.Type != b.Type {
				t.Fatalf("node %q: type %q, want %q", name, b.Type, a.Type)
			}
			sameParams(t, "node "+name+" parameter", a.Params, b.Params)
			sameParams(t, "node "+name+" metadata", a.Metadata, b.Metadata)
		}
		sameParams(t, "graph metadata", g.Metadata, back.Metadata)
		if fmt.Sprint(back.Edges) != fmt.Sprint(g.Edges) {
			t.Fatalf("edges %v, want %v", back.Edges, g.Edges)
		}
		nb, err := ToNetwork(back)
		if err != nil {
			t.Fatal(err)
		}
		sameNetwork(t, net, nb)
	}
}

func TestWriteFileAtomic(t *testing.T) {
	defer checkNoOpenObjects(t)
	g, err := FromNetwork(handNet(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "net.nir")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := NewGraph()
	bad.Add("x", &Node{Type: "Scale", Params: map[string]Param{"scale": {DType: Float32, Shape: []int{3}, F32: []float32{1}}}})
	if err := WriteFile(path, bad); err == nil || !strings.Contains(err.Error(), `"x"`) {
		t.Fatalf("bad graph: error %v, want one naming node x", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Fatal("a failed write touched the target")
	}
	if err := WriteFile(path, g); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "net.nir"), g); err == nil {
		t.Fatal("no error writing into a missing directory")
	}
}

func TestReadFileErrors(t *testing.T) {
	defer checkNoOpenObjects(t)
	dir := t.TempDir()
	notH5 := filepath.Join(dir, "x.nir")
	os.WriteFile(notH5, []byte("not hdf5 at all"), 0o644)
	for _, tc := range []struct {
		path string
		want string
	}{
		{filepath.Join(dir, "missing.nir"), "no such file"},
		{notH5, "not an HDF5 file"},
	} {
		if _, err := ReadFile(tc.path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.path, err, tc.want)
		}
	}
	// An HDF5 file that is not NIR.
	other := filepath.Join(dir, "other.h5")
	f, err := hdf5.CreateFile(other, hdf5.F_ACC_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	grp, err := f.CreateGroup("data")
	if err != nil {
		t.Fatal(err)
	}
	grp.Close()
	f.Close()
	if _, err := ReadFile(other); err == nil || !strings.Contains(err.Error(), "not a NIR file") {
		t.Errorf("%s: error %v, want \"not a NIR file\"", other, err)
	}
	// A NIR file with a bad parameter: the import names the node.
	g, _ := FromNetwork(handNet(t))
	g.Nodes["fc1"].Params["weight"] = Str("oops")
	path := writeTemp(t, g)
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ToNetwork(back); err == nil || !strings.Contains(err.Error(), `"fc1"`) {
		t.Fatalf("error %v, want one naming fc1", err)
	}
}

// TestReadPythonStyle reads a file laid out as NIR's Python writer (h5py)
// lays it out: variable-length strings, float64 and int32 datasets,
// scalar ints, node groups in any order.
func TestReadPythonStyle(t *testing.T) {
	defer checkNoOpenObjects(t)
	g := affineLIFGraph()
	for _, name := range g.Order {
		for k, p := range g.Nodes[name].Params {
			if p.DType == Float32 {
				q := Param{DType: Float64, Shape: p.Shape}
				for _, v := range p.F32 {
					q.F64 = append(q.F64, float64(v))
				}
				g.Nodes[name].Params[k] = q
			}
		}
	}
	writeVarLen = true
	path := writeTemp(t, g)
	writeVarLen = false
	out, err := exec.Command("h5dump", "-H", path).CombinedOutput()
	if err == nil && !strings.Contains(string(out), "H5T_VARIABLE") {
		t.Fatalf("test file has no variable-length strings:\n%s", out)
	}
	back, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Nodes["lif1"].Type != "LIF" || fmt.Sprint(back.Edges) != fmt.Sprint(g.Edges) {
		t.Fatalf("read back %+v, edges %v", back.Nodes["lif1"], back.Edges)
	}
	a, err := ToNetwork(g)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ToNetwork(back)
	if err != nil {
		t.Fatal(err)
	}
	sameNetwork(t, a, b)
}

// h5entry is one object of an h5dump listing.
type h5entry struct {
	group   bool
	dtype   string // H5T_IEEE_F32LE, H5T_STD_I64LE, H5T_STRING, ...
	scalar  bool
	dims    []int
	data    []string // values, strings unquoted
	strsize int
}

// parseH5dump reads the text h5dump prints (with -y: no indices) into a
// map from object path to entry.
func parseH5dump(t *testing.T, text string) map[string]*h5entry {
	t.Helper()
	out := map[string]*h5entry{}
	var stack []string // object names along the path
	var frames []bool  // per open brace: does it close an object?
	var cur *h5entry
	lines := strings.Split(text, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(l, "GROUP "), strings.HasPrefix(l, "DATASET "):
			kind, rest, _ := strings.Cut(l, " ")
			name := unquote(strings.TrimSuffix(rest, " {"))
			if name == "/" {
				name = ""
			}
			stack = append(stack, name)
			frames = append(frames, true)
			cur = &h5entry{group: kind == "GROUP"}
			out[path(stack)] = cur
		case strings.HasPrefix(l, "DATATYPE"):
			cur.dtype = strings.Fields(l)[1]
			if strings.HasSuffix(l, "{") {
				frames = append(frames, false)
			}
		case strings.HasPrefix(l, "STRSIZE"):
			if s := strings.TrimSuffix(strings.Fields(l)[1], ";"); s == "H5T_VARIABLE" {
				cur.strsize = -1
			} else {
				cur.strsize, _ = strconv.Atoi(s)
			}
		case strings.HasPrefix(l, "DATASPACE"):
			if strings.Contains(l, "SCALAR") {
				cur.scalar = true
			} else {
				a := strings.Index(l, "(")
				b := strings.Index(l, ")")
				for _, d := range strings.Split(l[a+1:b], ",") {
					n, _ := strconv.Atoi(strings.TrimSpace(d))
					cur.dims = append(cur.dims, n)
				}
			}
		case l == "DATA {":
			var body []string
			for i++; strings.TrimSpace(lines[i]) != "}"; i++ {
				body = append(body, lines[i])
			}
			joined := strings.TrimSpace(strings.Join(body, "\n"))
			if cur.scalar && cur.dtype == "H5T_STRING" {
				// h5dump does not escape quotes inside a string: take it whole.
				cur.data = []string{strings.TrimSuffix(strings.TrimPrefix(joined, `"`), `"`)}
			} else {
				cur.data = splitValues(joined)
			}
		case strings.HasSuffix(l, "{"):
			frames = append(frames, false)
		case l == "}" || l == "};":
			if len(frames) == 0 {
				t.Fatalf("h5dump line %d: unbalanced brace", i+1)
			}
			if frames[len(frames)-1] {
				stack = stack[:len(stack)-1]
			}
			frames = frames[:len(frames)-1]
		}
	}
	return out
}

func path(stack []string) string {
	return strings.TrimPrefix(strings.Join(stack, "/"), "/")
}

func unquote(s string) string {
	u, err := strconv.Unquote(s)
	if err != nil {
		return s
	}
	return u
}

// splitValues splits h5dump's comma-separated values, honouring quotes
// (strings in arrays must not contain quotes: h5dump does not escape them).
func splitValues(s string) []string {
	var out []string
	var b strings.Builder
	inQ, any := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQ = !inQ
			any = true
		case !inQ && r == ',':
			out = append(out, strings.TrimSpace(b.String()))
			b.Reset()
			any = false
		case !inQ && (r == '\n' || r == ' ') && !any:
		default:
			b.WriteRune(r)
			any = true
		}
	}
	if strings.TrimSpace(b.String()) != "" || any {
		out = append(out, strings.TrimSpace(b.String()))
	}
	return out
}

// nirSpec lists, per NIR node type, the parameters NIR's reference
// implementation defines (nir/ir/*.py) and the rank each must have (-1:
// that of the neuron layer, 0: scalar).
var nirSpec = map[string]map[string]int{
	"Input":     {"shape": 1},
	"Output":    {"shape": 1},
	"Affine":    {"weight": 2, "bias": 1},
	"Linear":    {"weight": 2},
	"Scale":     {"scale": -1},
	"Conv2d":    {"weight": 4, "bias": 1, "stride": 1, "padding": 1, "dilation": 1, "groups": 0, "input_shape": 1},
	"AvgPool2d": {"kernel_size": 1, "stride": 1, "padding": 1},
	"SumPool2d": {"kernel_size": 1, "stride": 1, "padding": 1},
	"Flatten":   {"start_dim": 0, "end_dim": 0, "input_type": 1},
	"IF":        {"r": -1, "v_threshold": -1, "v_reset": -1},
	"LIF":       {"tau": -1, "r": -1, "v_leak": -1, "v_threshold": -1, "v_reset": -1},
}

// TestH5dumpLayout has h5dump, an independent reader, list the exported
// file and compares it field by field with NIR's layout and with the graph.
func TestH5dumpLayout(t *testing.T) {
	if _, err := exec.LookPath("h5dump"); err != nil {
		t.Skip("h5dump not installed (Debian: apt-get install hdf5-tools)")
	}
	for _, opt := range []ExportOptions{{}, {SumPool: true}} {
		g, err := FromNetworkWith(handNet(t), opt)
		if err != nil {
			t.Fatal(err)
		}
		file := writeTemp(t, g)
		out, err := exec.Command("h5dump", "-y", "-w", "0", "-m", "%.9g", file).CombinedOutput()
		if err != nil {
			t.Fatalf("h5dump: %v\n%s", err, out)
		}
		d := parseH5dump(t, string(out))
		want := func(p string) *h5entry {
			t.Helper()
			e, ok := d[p]
			if !ok {
				t.Fatalf("h5dump shows no %s", p)
			}
			return e
		}
		str := func(p, v string) {
			t.Helper()
			e := want(p)
			if e.group || e.dtype != "H5T_STRING" || !e.scalar || len(e.data) != 1 || e.data[0] != v {
				t.Fatalf("%s: %+v, want the scalar string %q", p, e, v)
			}
		}
		str("version", FormatVersion)
		if !want("node").group || !want("node/nodes").group {
			t.Fatal("node or node/nodes is not a group")
		}
		str("node/type", "NIRGraph")
		// Every object h5dump shows under node/nodes is a node of the graph.
		for p := range d {
			if rest, ok := strings.CutPrefix(p, "node/nodes/"); ok {
				if _, ok := g.Nodes[strings.Split(rest, "/")[0]]; !ok {
					t.Errorf("h5dump shows %s, which is no node", p)
				}
			}
		}
		for _, name := range g.Order {
			n := g.Nodes[name]
			base := "node/nodes/" + name
			if !want(base).group {
				t.Fatalf("%s is not a group", base)
			}
			str(base+"/type", n.Type)
			spec, ok := nirSpec[n.Type]
			if !ok {
				t.Fatalf("node %s: type %s is not in the spec table", name, n.Type)
			}
			for param, rank := range spec {
				e := want(base + "/" + param)
				if e.group {
					t.Fatalf("%s/%s is a group", base, param)
				}
				switch {
				case rank == 0 && !e.scalar:
					t.Errorf("%s/%s: dims %v, NIR has a scalar", base, param, e.dims)
				case rank > 0 && len(e.dims) != rank:
					t.Errorf("%s/%s: dims %v, NIR has rank %d", base, param, e.dims, rank)
				}
			}
			// The datasets are exactly the spec's parameters.
			for p, e := range d {
				if rest, ok := strings.CutPrefix(p, base+"/"); ok && !strings.Contains(rest, "/") && rest != "type" && rest != "metadata" {
					if _, ok := spec[rest]; !ok || e.group {
						t.Errorf("%s: %s is not a parameter of NIR's %s", base, rest, n.Type)
					}
				}
			}
			checkValues(t, base, n.Params, d)
			if len(n.Metadata) > 0 {
				checkValues(t, base+"/metadata", n.Metadata, d)
			}
		}
		checkValues(t, "node/metadata", g.Metadata, d)
		e := want("node/edges")
		if e.dtype != "H5T_STRING" || !slices.Equal(e.dims, []int{len(g.Edges), 2}) {
			t.Fatalf("edges: %+v", e)
		}
		for i, edge := range g.Edges {
			if e.data[2*i] != edge[0] || e.data[2*i+1] != edge[1] {
				t.Fatalf("edge %d: h5dump shows %q → %q, want %v", i, e.data[2*i], e.data[2*i+1], edge)
			}
		}
	}
}

// checkValues compares datasets as h5dump printed them with the parameters.
func checkValues(t *testing.T, base string, params map[string]Param, d map[string]*h5entry) {
	t.Helper()
	for k, p := range params {
		e, ok := d[base+"/"+k]
		if !ok {
			t.Fatalf("h5dump shows no %s/%s", base, k)
		}
		wantType := map[DType]string{Float32: "H5T_IEEE_F32LE", Float64: "H5T_IEEE_F64LE", Int64: "H5T_STD_I64LE", String: "H5T_STRING"}[p.DType]
		if e.dtype != wantType {
			t.Errorf("%s/%s: datatype %s, want %s", base, k, e.dtype, wantType)
		}
		if p.IsScalar() != e.scalar || (!e.scalar && !slices.Equal(p.Shape, e.dims)) {
			t.Errorf("%s/%s: dataspace scalar=%v %v, want %v", base, k, e.scalar, e.dims, p.Shape)
		}
		if len(e.data) != p.Len() {
			t.Fatalf("%s/%s: h5dump shows %d values, want %d", base, k, len(e.data), p.Len())
		}
		for i, s := range e.data {
			var ok bool
			switch p.DType {
			case Float32:
				v, err := strconv.ParseFloat(s, 32)
				ok = err == nil && float32(v) == p.F32[i]
			case Float64:
				v, err := strconv.ParseFloat(s, 64)
				ok = err == nil && math.Abs(v-p.F64[i]) <= 1e-8*math.Abs(p.F64[i])
			case Int64:
				v, err := strconv.ParseInt(s, 10, 64)
				ok = err == nil && v == p.I64[i]
			case String:
				ok = s == p.Str[i]
			}
			if !ok {
				t.Fatalf("%s/%s[%d]: h5dump shows %s, want %v", base, k, i, s, p)
			}
		}
	}
}

// throughFile writes g to a NIR file and reads it back.
func throughFile(t *testing.T, g *Graph) *Graph {
	t.Helper()
	back, err := ReadFile(writeTemp(t, g))
	if err != nil {
		t.Fatal(err)
	}
	return back
}
