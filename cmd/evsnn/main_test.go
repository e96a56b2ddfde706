package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"

	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/network"
)

// runCLI runs the command line in-process and returns its exit status,
// stdout and stderr.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func encoded(t *testing.T, net *network.Network) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := modelfile.Encode(&b, net); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withNaN replaces the marker weight by NaN in the encoded file.
func withNaN(t *testing.T) []byte {
	data := encoded(t, fixture.TinyANN(4))
	var marker, nan [4]byte
	binary.LittleEndian.PutUint32(marker[:], math.Float32bits(fixture.Marker))
	binary.LittleEndian.PutUint32(nan[:], math.Float32bits(float32(math.NaN())))
	if !bytes.Contains(data, marker[:]) {
		t.Fatal("marker weight not found in the encoded model")
	}
	return bytes.Replace(data, marker[:], nan[:], 1)
}

// absurdDims writes a safetensors file whose header declares a 2^40-element
// tensor backed by 4 bytes.
func absurdDims(t *testing.T) []byte {
	header := map[string]any{
		"__metadata__":    map[string]string{"evsnn": `{"format":"evsnn-model","version":1,"input":[1048576,1048576],"layers":[{"kind":"linear","name":"fc","in_features":1099511627776,"out_features":1}]}`},
		"layers.0.weight": map[string]any{"dtype": "F32", "shape": []int64{1 << 20, 1 << 20}, "data_offsets": []int{0, 4}},
		"layers.0.bias":   map[string]any{"dtype": "F32", "shape": []int64{1}, "data_offsets": []int{4, 8}},
	}
	h, _ := json.Marshal(header)
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(h)))
	b.Write(h)
	b.Write(make([]byte, 8))
	return b.Bytes()
}

func TestBadInputExitsWithStatus2(t *testing.T) {
	dir := t.TempDir()
	lenet, err := os.ReadFile("../../testdata/mnist_lenet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	valid := encoded(t, fixture.TinyANN(4))
	cases := []struct {
		name string
		args []string
		want string // a piece of the one-line error
	}{
		{"missing file", []string{"inspect", filepath.Join(dir, "nope.evsnn")}, "no such file"},
		{"truncated onnx", []string{"inspect", write("trunc.onnx", lenet[:len(lenet)/3])}, "trunc.onnx"},
		{"garbage onnx", []string{"inspect", write("garbage.onnx", []byte("this is not a protobuf at all"))}, "garbage.onnx"},
		{"wrong magic", []string{"inspect", write("wrong.evsnn", append([]byte("PK\x03\x04"), valid[4:]...))}, "wrong.evsnn"},
		{"truncated model", []string{"inspect", write("trunc.evsnn", valid[:len(valid)-5])}, "trunc.evsnn"},
		{"NaN weight", []string{"inspect", write("nan.evsnn", withNaN(t))}, "NaN"},
		{"absurd dims", []string{"inspect", write("huge.evsnn", absurdDims(t))}, "huge.evsnn"},
		{"unknown flag", []string{"inspect", "--frobnicate"}, "frobnicate"},
		{"unknown command", []string{"frobnicate"}, "frobnicate"},
		{"bad T", []string{"simulate", write("ok.evsnn", valid), "--T", "0"}, "T = 0"},
		{"bad threshold", []string{"convert", "--threshold", "p200", "-o", filepath.Join(dir, "x.evsnn")}, "threshold"},
		{"model with no ReLU", []string{"convert", write("norelu.evsnn", encoded(t, &network.Network{Input: network.Shape{784},
			Layers: []network.Layer{&network.Linear{LayerName: "fc", In: 784, Out: 10, Weight: make([]float32, 7840), Bias: make([]float32, 10)}}})),
			"-o", filepath.Join(dir, "y.evsnn")}, "ReLU"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantBadInput(t, tc.want, tc.args...)
		})
	}
	// No partial output files were left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || e.Name() == "x.evsnn" || e.Name() == "y.evsnn" {
			t.Errorf("partial output %s left behind", e.Name())
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestInspectJSON(t *testing.T) {
	code, out, stderr := runCLI(t, "inspect", "../../testdata/mnist_lenet.onnx", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep analysis.Inspection
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("inspect --json is not JSON: %v\n%s", err, out)
	}
	if rep.Params != 215370 || rep.MACs != 3043200 || len(rep.Layers) != 10 {
		t.Errorf("params %d, MACs %d, %d layers; want 215370, 3043200, 10", rep.Params, rep.MACs, len(rep.Layers))
	}
}

// The fixture ANN imported from ONNX reaches PyTorch's 99.13 % (9,913
// correct) on the 10k MNIST test set.
func TestFixtureANNAccuracy(t *testing.T) {
	if testing.Short() || testenv.RaceEnabled {
		t.Skip("10k-image ANN run: too slow under -short or -race (.ci/run runs it without -race)")
	}
	code, out, stderr := runCLI(t, "inspect", "../../testdata/mnist_lenet.onnx", "--accuracy", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep analysis.Inspection
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Images != 10000 || rep.Accuracy == nil || math.Round(*rep.Accuracy*10000) != 9913 {
		t.Fatalf("ANN accuracy %v on %d images, want 9913/10000", rep.Accuracy, rep.Images)
	}
}

// wantBadInput runs the command line args and checks that it exits with
// status 2 and that its last stderr line is one "evsnn: ..." line naming
// want.
func wantBadInput(t *testing.T, want string, args ...string) {
	t.Helper()
	code, _, stderr := runCLI(t, args...)
	if code != 2 {
		t.Fatalf("exit status %d, want 2; stderr:\n%s", code, stderr)
	}
	if last := lastLine(stderr); !strings.HasPrefix(last, "evsnn: ") || !strings.Contains(last, want) {
		t.Errorf("error line %q does not name %q", last, want)
	}
}
