package format_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/format"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

func write(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	model := filepath.Join(t.TempDir(), "snn.evsnn")
	if err := modelfile.Save(model, fixture.TinySNN(4)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, format string
		layers             int
	}{
		{"ONNX by its name", "../testdata/mnist_lenet.onnx", "ONNX", 10},
		{"model file", model, "evsnn model", 3},
		{"model file by its header, any name", write(t, "weights.bin", raw), "evsnn model", 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, err := format.Detect(tc.path)
			if err != nil || l.Name != tc.format {
				t.Fatalf("Detect: %q, %v; want %q", l.Name, err, tc.format)
			}
			net, err := format.Load(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if len(net.Layers) != tc.layers {
				t.Errorf("%d layers, want %d", len(net.Layers), tc.layers)
			}
		})
	}
}

func TestLoadRefuses(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, path string
		want       string // in the error
		is         error
	}{
		{"missing", filepath.Join(dir, "nope.evsnn"), "no such file", nil},
		{"directory", dir, "is a directory", nil},
		{"text", write(t, "notes.txt", []byte("a model? no.")), "notes.txt", format.ErrUnknown},
		{"empty", write(t, "empty", nil), "formats: ONNX, evsnn model, NIR", format.ErrUnknown},
		{"garbage ONNX", write(t, "garbage.onnx", []byte("this is not a protobuf")), "garbage.onnx", nil},
		{"truncated model file", write(t, "trunc.evsnn", []byte("\x40\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\"")), "trunc.evsnn", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			net, err := format.Load(tc.path)
			if err == nil {
				t.Fatalf("loaded %d layers, want an error", len(net.Layers))
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line naming %q", msg, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
		})
	}
}

func TestIsNIR(t *testing.T) {
	sig := []byte("\x89HDF\r\n\x1a\n")
	block := make([]byte, 512)
	cases := []struct {
		name string
		path string
		head []byte
		want bool
	}{
		{"by extension", "net.NIR", nil, true},
		{"signature at 0", "net.h5", sig, true},
		{"signature after a 512-byte user block", "net.h5", append(block, sig...), true},
		{"signature at 100", "net.h5", append(make([]byte, 100), sig...), false},
		{"other", "net.onnx", []byte("\x08\x07"), false},
	}
	for _, tc := range cases {
		if got := format.IsNIR(tc.path, tc.head); got != tc.want {
			t.Errorf("%s: IsNIR = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A format registered from outside is tried after the built-in ones.
func TestRegister(t *testing.T) {
	format.Register(format.Loader{
		Name:  "test format",
		Sniff: func(path string, head []byte) bool { return strings.HasPrefix(string(head), "TESTNET") },
		Load:  func(string) (*network.Network, error) { return fixture.TinySNN(4), nil },
	})
	p := write(t, "x.test", []byte("TESTNET v1"))
	net, err := format.Load(p)
	if err != nil || len(net.Layers) != 3 {
		t.Fatalf("Load: %v", err)
	}
	names := []string{}
	for _, l := range format.Loaders() {
		names = append(names, l.Name)
	}
	if got := strings.Join(names, ","); !strings.HasPrefix(got, "ONNX,evsnn model,NIR,") || !strings.HasSuffix(got, "test format") {
		t.Errorf("loaders %s", got)
	}
}
