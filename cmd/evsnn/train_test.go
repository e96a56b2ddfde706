package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// train writes the same model for the same flags, on any number of
// workers, and a model for the chosen data's shape.
func TestTrain(t *testing.T) {
	dir := t.TempDir()
	var sums []string
	for i, workers := range []string{"1", "2"} {
		out := filepath.Join(dir, "m"+workers+".evsnn")
		code, stdout, stderr := runCLI(t, "--log-level", "warn", "--workers", workers, "train", "--epochs", "1", "--images", "128",
			"--test-images", "64", "--layers", "conv2k3,relu,pool2,flatten,fc10", "-o", out, "--json")
		if code != 0 {
			t.Fatalf("run %d: exit %d: %s", i, code, stderr)
		}
		var got struct {
			SHA256 string `json:"sha256"`
			Images int    `json:"images"`
			Epochs []struct {
				TestAccuracy float64 `json:"test_accuracy"`
			} `json:"epochs"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.Images != 128 || len(got.Epochs) != 1 {
			t.Fatalf("run %d: %v: %s", i, err, stdout)
		}
		sums = append(sums, got.SHA256)
		var rep struct {
			Layers []struct{ Kind string } `json:"layers"`
		}
		runJSON(t, &rep, "inspect", out, "--json")
		if len(rep.Layers) != 5 || rep.Layers[0].Kind != "conv2d" {
			t.Errorf("trained model %+v", rep)
		}
	}
	if sums[0] != sums[1] {
		t.Errorf("1 and 2 workers wrote different models: %s, %s", sums[0], sums[1])
	}
	// A network that does not take the data's images is refused before
	// any training, and nothing is written.
	out := filepath.Join(dir, "x.evsnn")
	code, _, stderr := runCLI(t, "train", "--images", "64", "--layers", "fc10", "-o", out)
	if code != 2 || !strings.Contains(lastLine(stderr), "flatten") {
		t.Errorf("fc10 on images: exit %d: %s", code, lastLine(stderr))
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("%s written", out)
	}
}
