package analysis

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/train"
)

// Train writes a loadable model whose file hashes to what it reports, and
// removes its checkpoint.
func TestTrainWritesModel(t *testing.T) {
	out := filepath.Join(t.TempDir(), "m.evsnn")
	res, err := Train(context.Background(), TrainRequest{
		Output: out, Layers: "conv2k3,relu,pool2,flatten,fc10", Images: 64, TestImages: 32,
		Config: train.Config{Epochs: 1, Workers: 2},
	}, Env{})
	if err != nil {
		t.Fatal(err)
	}
	net, err := modelfile.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Images != 64 || len(res.Epochs) != 1 || res.Params != net.NumParams() || res.Layers == "" || len(res.SHA256) != 64 {
		t.Errorf("result %+v", res)
	}
	if _, err := os.Stat(out + ".ckpt"); !os.IsNotExist(err) {
		t.Errorf("checkpoint left behind: %v", err)
	}
}

// Requests that cannot run are bad input, named, and write nothing.
func TestTrainRefuses(t *testing.T) {
	seed0 := uint64(0)
	for _, tc := range []struct {
		name string
		req  TrainRequest
		want string
	}{
		{"negative images", TrainRequest{Images: -1}, "--images -1"},
		{"negative test images", TrainRequest{Layers: "flatten,fc10", Images: 8, TestImages: -2}, "--test-images -2"},
		{"net does not fit", TrainRequest{Layers: "fc10", Images: 8}, "flatten"},
		{"bad layer list", TrainRequest{Layers: "conv", Images: 8}, "conv"},
		{"bad architecture", TrainRequest{Arch: []byte("{"), ArchName: "a.json", Images: 8}, "a.json"},
		{"resume with layers", TrainRequest{Resume: "x.ckpt", Layers: "fc10"}, "--resume"},
		{"resume with seed 0", TrainRequest{Resume: "x.ckpt", Seed: &seed0}, "--seed 0"},
		{"missing checkpoint", TrainRequest{Resume: "/nonexistent/x.ckpt"}, "x.ckpt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.req.Output = filepath.Join(t.TempDir(), "m.evsnn")
			tc.req.Config.Epochs = 1
			_, err := Train(context.Background(), tc.req, Env{})
			if err == nil || !IsBadInput(err) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want bad input naming %q", err, tc.want)
			}
			if _, err := os.Stat(tc.req.Output); !os.IsNotExist(err) {
				t.Errorf("%s written", tc.req.Output)
			}
		})
	}
}
