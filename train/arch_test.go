package train

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/network"
)

func TestDefaultArchitecture(t *testing.T) {
	net := DefaultArchitecture(1)
	var names []string
	for _, l := range net.Layers {
		names = append(names, l.Name())
	}
	want := []string{"conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3", "fc2"}
	if !slices.Equal(names, want) {
		t.Errorf("names %v, want %v", names, want)
	}
	if got := net.NumParams(); got != 215370 {
		t.Errorf("%d parameters, want 215,370", got)
	}
	shapes, err := net.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	if !shapes[5].Equal(network.Shape{32, 7, 7}) || net.Layers[7].(*network.Linear).In != 1568 {
		t.Errorf("shapes %v", shapes)
	}
	c1 := net.Layers[0].(*network.Conv2d)
	if c1.InC != 1 || c1.OutC != 16 || c1.KH != 5 || c1.PadH != 2 || c1.StrideH != 1 {
		t.Errorf("conv1 %+v", *c1)
	}
	// PyTorch's bounds: ±1/sqrt(fan_in), weights and biases.
	for _, l := range net.Layers {
		var w, b []float32
		var fanIn int
		switch l := l.(type) {
		case *network.Conv2d:
			w, b, fanIn = l.Weight, l.Bias, l.InC*l.KH*l.KW
		case *network.Linear:
			w, b, fanIn = l.Weight, l.Bias, l.In
		default:
			continue
		}
		bound := 1 / math.Sqrt(float64(fanIn))
		var maxAbs, sumSq float64
		for _, v := range append(append([]float32(nil), w...), b...) {
			maxAbs = max(maxAbs, math.Abs(float64(v)))
			sumSq += float64(v) * float64(v)
		}
		if maxAbs > bound || maxAbs < 0.9*bound {
			t.Errorf("%s: max |w| %v, bound %v", l.Name(), maxAbs, bound)
		}
		// Uniform(-a, a) has variance a²/3.
		if v := sumSq / float64(len(w)+len(b)); math.Abs(v/(bound*bound/3)-1) > 0.25 {
			t.Errorf("%s: variance %v, want about %v", l.Name(), v, bound*bound/3)
		}
	}
	if modelHash(t, DefaultArchitecture(1)) != modelHash(t, net) {
		t.Error("the same seed gave different weights")
	}
	if modelHash(t, DefaultArchitecture(2)) == modelHash(t, net) {
		t.Error("seeds 1 and 2 gave the same weights")
	}
}

func modelHash(t *testing.T, net *network.Network) string {
	t.Helper()
	return string(modelBytes(t, net))
}

func TestParseArchitecture(t *testing.T) {
	js := `{"input": [1, 28, 28], "layers": [
		{"type": "conv2d", "out": 16, "kernel": 5, "padding": 2},
		{"type": "relu"},
		{"type": "avgpool2d", "kernel": 2},
		{"type": "conv", "out": 32, "kernel": [5, 5], "stride": 1, "padding": [2, 2]},
		{"type": "relu"},
		{"type": "pool", "kernel": 2, "stride": 2},
		{"type": "flatten"},
		{"type": "linear", "out": 128},
		{"type": "relu"},
		{"type": "fc", "out": 10}]}`
	net, err := ParseArchitecture([]byte(js), 1)
	if err != nil {
		t.Fatal(err)
	}
	if modelHash(t, net) != modelHash(t, DefaultArchitecture(1)) {
		t.Error("the JSON form of the default architecture built a different network")
	}
	// Describe → JSON → ParseArchitecture round trip.
	a, err := Describe(net)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseArchitecture(data, 1)
	if err != nil {
		t.Fatalf("%s: %v", data, err)
	}
	if modelHash(t, again) != modelHash(t, net) {
		t.Errorf("round trip through %s changed the network", data)
	}
	if got := LayerList(a); got != DefaultArchitectureSpec {
		t.Errorf("LayerList %q, want %q", got, DefaultArchitectureSpec)
	}
}

func TestParseArchitectureErrors(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"input": [1,28,28], "layers": [{"type": "maxpool3d", "kernel": 2}, {"type": "flatten"}, {"type": "linear", "out": 10}]}`, `layer 1: unknown type "maxpool3d"`},
		{`{"input": [1,28,28], "layers": [{"type": "conv2d", "out": 4}]}`, `layer 1 (conv1): conv2d needs a "kernel"`},
		{`{"input": [1,28,28], "layers": [{"type": "conv2d", "kernel": 3}]}`, `needs "out" > 0`},
		{`{"input": [1,28,28], "layers": [{"type": "linear", "out": 10}]}`, `layer 1 (fc1): linear needs a vector input, got [1,28,28] (add a flatten`},
		{`{"input": [1,28,28], "layers": [{"type": "flatten"}, {"type": "linear", "out": 10}, {"type": "relu"}]}`, `the last layer must be linear`},
		{`{"input": [1,28,28], "layers": [{"type": "conv2d", "out": 4, "kernel": 40}, {"type": "flatten"}, {"type": "fc", "out": 10}]}`, `kernel 40x40 larger than padded input`},
		{`{"input": [1,28,28], "layers": [{"type": "conv2d", "out": 4, "kernel": 3, "stride": 0}]}`, `stride [0 0] must be at least 1`},
		{`{"input": [1,28,28], "layers": [{"type": "conv2d", "out": 4, "kernel": [3,3,3]}]}`, `neither a number nor an [h, w] pair`},
		{`{"input": [1,28,28], "layers": [{"type": "relu", "out": 3}]}`, `relu takes no parameters`},
		{`{"input": [1,28,28], "layers": [{"type": "flatten", "kernal": 3}]}`, `unknown field "kernal"`},
		{`{"layers": [{"type": "flatten"}, {"type": "linear", "out": 10}]}`, `no input shape`},
		{`{"input": [1,28,28], "layers": []}`, `no layers`},
		{`{"input": [1,28,28], "layers": [{"type": "flatten"}, {"type": "linear", "out": 1}]}`, `at least 2 classes`},
		{`{"input": [1,28,28], "layers": [{"type": "flatten"}, {"type": "linear", "out": 10}]} {}`, `trailing data`},
		{`{"input": [1,28,28], "layers": [{"type": "flatten", "name": "a"}, {"type": "linear", "out": 10, "name": "a"}]}`, `name "a" already used`},
		{`not json`, `architecture:`},
	} {
		_, err := ParseArchitecture([]byte(tc.json), 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n  error %v\n  want one containing %q", tc.json, err, tc.want)
		}
	}
}

func TestParseLayers(t *testing.T) {
	a, err := ParseLayers("conv8k3s2p1, relu, pool3s2, flatten, fc10", []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	c := a.Layers[0]
	if c.Type != "conv2d" || c.Out != 8 || *c.Kernel != (Pair{3, 3}) || *c.Stride != (Pair{2, 2}) || *c.Padding != (Pair{1, 1}) {
		t.Errorf("conv %+v", c)
	}
	if p := a.Layers[2]; *p.Kernel != (Pair{3, 3}) || *p.Stride != (Pair{2, 2}) {
		t.Errorf("pool %+v", p)
	}
	for _, bad := range []string{"conv8", "conv8k", "convk3", "conv8k3q2", "conv8k3s2s2", "pool", "fc,fc10", "fcx", "maxpool", "maxpool2k3", "res", "res16k3", "bn2", "gap2", "relu,,fc10"} {
		if _, err := ParseLayers(bad, []int{1, 28, 28}); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
