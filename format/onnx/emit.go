package onnx

// Emitting the network: layers in topological order, their inputs, their
// names, and Validate's verdict mapped back to the ONNX node.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/evsnn/evsnn/network"
)

func (im *importer) emit(in network.Shape) (*network.Network, error) {
	net := &network.Network{Input: in}
	var live []*irNode
	index := map[*irNode]int{im.input: network.InputNode}
	for _, n := range im.nodes {
		if n.dead {
			continue
		}
		if n.kind != irLayer {
			// fold resolves every other kind or fails.
			return nil, im.errf(n.String(), "internal error: node left unfolded")
		}
		ins := make([]int, len(n.ins))
		for k, x := range n.ins {
			j, ok := index[x]
			if !ok {
				return nil, im.errf(n.String(), "internal error: input %s not emitted before it", x.describe())
			}
			ins[k] = j
		}
		index[n] = len(net.Layers)
		net.Layers = append(net.Layers, n.layer)
		net.Inputs = append(net.Inputs, ins)
		live = append(live, n)
	}
	if len(live) == 0 {
		return nil, im.errf("", "graph has no layers")
	}
	if live[len(live)-1] != im.out {
		return nil, im.unsupported("output "+quote(im.outName), "is not the last layer of the network")
	}
	net.Compact()
	nameLayers(net, live)
	if err := net.Validate(); err != nil {
		where := ""
		if m := layerRef.FindStringSubmatch(err.Error()); m != nil {
			if i, err := strconv.Atoi(m[1]); err == nil && i >= 0 && i < len(live) {
				where = live[i].String()
			}
		}
		return nil, im.unsupported(where, "the imported network breaks a rule of SPEC §1: %s", oneLine(err.Error()))
	}
	return net, nil
}

// layerRef finds the layer network.Validate's message is about.
var layerRef = regexp.MustCompile(`^layer ([0-9]+)\b`)

// maxNameLen bounds a layer name taken from the file.
const maxNameLen = 64

// nameLayers names the layers, uniquely.
//
// A chain (every layer reads the one before) gets names like PyTorch
// modules counted by kind: conv1, relu1, pool1, flatten, fc1 (gap for a
// GlobalAveragePool, add1 for an Add), as evsnn always named imported
// chains. A graph gets names from the ONNX node names, which PyTorch's
// exporter derives from the module path ("/blocks/blocks.0/c1/Conv"):
// see moduleName.
func nameLayers(net *network.Network, nodes []*irNode) {
	used := map[string]bool{}
	counts := map[string]int{}
	for i, n := range nodes {
		var name string
		if net.Inputs == nil {
			name = counterName(n.layer, counts)
		} else {
			name = moduleName(n)
		}
		if name == "" {
			name = counterName(n.layer, counts)
		}
		base := name
		for k := 2; used[name]; k++ {
			name = fmt.Sprintf("%s_%d", base, k)
		}
		used[name] = true
		setName(net.Layers[i], name)
	}
}

func counterName(l network.Layer, counts map[string]int) string {
	prefix := "layer"
	switch l.(type) {
	case *network.Conv2d:
		prefix = "conv"
	case *network.Linear:
		prefix = "fc"
	case *network.ReLU:
		prefix = "relu"
	case *network.AvgPool2d, *network.MaxPool2d:
		prefix = "pool"
	case *network.GlobalAvgPool:
		prefix = "gap"
	case *network.Flatten:
		prefix = "flatten"
	case *network.Add:
		prefix = "add"
	}
	counts[prefix]++
	n := counts[prefix]
	if (prefix == "flatten" || prefix == "gap") && n == 1 {
		return prefix
	}
	return fmt.Sprintf("%s%d", prefix, n)
}

func setName(l network.Layer, name string) {
	switch l := l.(type) {
	case *network.Conv2d:
		l.LayerName = name
	case *network.Linear:
		l.LayerName = name
	case *network.ReLU:
		l.LayerName = name
	case *network.AvgPool2d:
		l.LayerName = name
	case *network.MaxPool2d:
		l.LayerName = name
	case *network.GlobalAvgPool:
		l.LayerName = name
	case *network.Flatten:
		l.LayerName = name
	case *network.Add:
		l.LayerName = name
	}
}

// moduleName derives a layer name from the ONNX node name PyTorch writes,
// "/" + the scopes of the module path + "/" + the op (with "_k" for the
// k-th further call in one scope):
//
//   - scopes that the next one repeats with a suffix are dropped
//     ("blocks/blocks.0" → "blocks.0"), the rest joined with dots: the
//     PyTorch module path;
//   - a Conv, Gemm or MatMul is named by its module path alone ("fc",
//     whose weights are "fc.weight"; "blocks.1.down.0");
//   - another op is the module path and the op in lower case
//     ("blocks.0.relu", "blocks.0.relu_1", "blocks.0.add", "stem.2.relu"),
//     or the path alone when its last part names the op already
//     (torchvision's "relu" and "maxpool" modules), or the op alone at the
//     top level ("flatten", "globalaveragepool").
//
// Characters other than letters, digits, '.', '_' and '-' become '_'.
// Without a node name it returns "" (the caller counts by kind).
func moduleName(n *irNode) string {
	op := n.ref.nd.GetOpType()
	var parts []string
	for _, p := range strings.Split(n.ref.nd.GetName(), "/") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return ""
	}
	opPart := op
	if last := parts[len(parts)-1]; strings.HasPrefix(last, op) {
		opPart, parts = last, parts[:len(parts)-1]
	}
	var path []string
	for i, p := range parts {
		if i+1 < len(parts) && strings.HasPrefix(parts[i+1], p+".") {
			continue
		}
		path = append(path, p)
	}
	opName := strings.ToLower(opPart)
	var name string
	switch {
	case len(path) == 0:
		name = opName
	case n.weighted():
		name = strings.Join(path, ".")
	case strings.EqualFold(trimCall(path[len(path)-1]), trimCall(opName)):
		name = strings.Join(path, ".")
	default:
		name = strings.Join(path, ".") + "." + opName
	}
	return sanitize(name)
}

// trimCall removes the "_k" PyTorch appends to the k-th further call.
func trimCall(s string) string {
	if i := strings.LastIndexByte(s, '_'); i > 0 {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i]
		}
	}
	return s
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	if len(b) > maxNameLen {
		b = b[:maxNameLen]
	}
	return string(b)
}
