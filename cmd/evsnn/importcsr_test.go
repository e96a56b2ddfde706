package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

const smallCSR = "../../format/scipy/testdata/small_csr.npz"

// import-csr puts format/scipy's test matrix (W [3, 6], 5 entries, one an
// explicit zero) into fc1 of the tiny ANN; the model file written holds
// fc1 as a SparseLinear with those synapses.
func TestImportCSRCommand(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "tiny.evsnn")
	if err := os.WriteFile(model, encoded(t, fixture.TinyANN(6)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sparse.evsnn")
	code, stdout, stderr := runCLI(t, "import-csr", model, "--layer", "fc1", "--csr", smallCSR, "-o", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep analysis.CSRImport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	if rep.Layer != "fc1" || rep.Before != 3 || rep.After != 5 {
		t.Errorf("report %+v", rep)
	}
	net, err := modelfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	sp, ok := net.Layers[0].(*network.SparseLinear)
	if !ok {
		t.Fatalf("fc1 is a %T in the file written", net.Layers[0])
	}
	want := []float32{0, 1.5, 0, -0.25, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, -3, 0}
	if !slices.Equal(sp.Dense(), want) || len(sp.Weights) != 5 {
		t.Errorf("weights %v (%d synapses)", sp.Dense(), len(sp.Weights))
	}

	data, err := os.ReadFile(smallCSR)
	if err != nil {
		t.Fatal(err)
	}
	trunc := filepath.Join(dir, "trunc.npz")
	if err := os.WriteFile(trunc, data[:len(data)-9], 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.evsnn")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"wrong shape", []string{"--layer", "fc2", "--csr", smallCSR}, "the matrix is [3, 6]"},
		{"not linear", []string{"--layer", "relu1", "--csr", smallCSR}, "not a Linear layer"},
		{"no layer", []string{"--layer", "fc3", "--csr", smallCSR}, `"fc3"`},
		{"truncated", []string{"--layer", "fc1", "--csr", trunc}, "trunc.npz"},
		{"not npz", []string{"--layer", "fc1", "--csr", model}, "tiny.evsnn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantBadInput(t, tc.want, append([]string{"import-csr", model, "-o", bad}, tc.args...)...)
			if _, err := os.Stat(bad); err == nil {
				t.Error("output written despite the error")
			}
		})
	}
}
