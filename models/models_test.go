package models_test

import (
	"bytes"
	"context"
	"flag"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/models"
	"github.com/evsnn/evsnn/train"
)

var reproduce = flag.Bool("reproduce", false, "retrain the default model (several minutes) and compare it byte for byte with default.evsnn")

func TestDefault(t *testing.T) {
	net, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	a, err := train.Describe(net)
	if err != nil {
		t.Fatal(err)
	}
	if got := train.LayerList(a); got != train.DefaultArchitectureSpec {
		t.Errorf("built-in model layers %s, want %s", got, train.DefaultArchitectureSpec)
	}
	if !strings.HasPrefix(net.Meta.Source, "evsnn train --seed 1 ") {
		t.Errorf("built-in model source %q", net.Meta.Source)
	}
	if !strings.Contains(models.DefaultCommand, "train --seed 1 ") {
		t.Errorf("DefaultCommand %q does not record the seed", models.DefaultCommand)
	}
	// Every call decodes a fresh copy.
	again, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	if again.Layers[0] == net.Layers[0] {
		t.Error("Default returned shared layers")
	}
	// The file is what the model encoder writes for the decoded model.
	var b bytes.Buffer
	if err := modelfile.Encode(&b, net); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), models.DefaultFile()) {
		t.Error("re-encoding the built-in model does not give default.evsnn back")
	}
}

func testSet(t *testing.T, split string) *mnist.Set {
	t.Helper()
	dir, err := mnist.DefaultDir()
	if err != nil {
		t.Skipf("no MNIST data: %v", err)
	}
	s, err := mnist.Load(dir, split)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The built-in model reaches at least 99.0 % on the 10,000 MNIST test
// images (-short: the first 2,000, at least 98.5 %; -race: the first 500,
// at least 98 %).
func TestDefaultAccuracy(t *testing.T) {
	net, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	set, err := models.TestSet()
	if err != nil {
		t.Fatal(err)
	}
	want := 0.99
	switch {
	case testenv.RaceEnabled: // the race detector slows the Go loops tenfold
		set, want = set.Slice(0, 500), 0.98
	case testing.Short():
		set, want = set.Slice(0, 2000), 0.985
	}
	_, acc, err := train.Evaluate(net, train.Dataset{Images: set.Images, Labels: set.Labels}, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built-in model: %.2f %% on %d test images", 100*acc, set.N)
	if acc < want {
		t.Errorf("accuracy %.4f < %.3f", acc, want)
	}
}

// go test ./models -run Reproduce -reproduce -timeout 1h retrains the
// default model as DefaultCommand does and compares the bytes.
func TestReproduce(t *testing.T) {
	if !*reproduce {
		t.Skip("retraining takes minutes: run with -reproduce")
	}
	set := testSet(t, "train")
	cfg := train.Config{Seed: 1}
	net := train.DefaultArchitecture(cfg.Seed)
	net.Meta.Source = train.Source(cfg, set.N, net)
	if err := train.Train(context.Background(), net, train.Dataset{Images: set.Images, Labels: set.Labels}, cfg, nil); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := modelfile.Encode(&b, net); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), models.DefaultFile()) {
		t.Error("retraining did not reproduce default.evsnn")
	}
}

// The embedded files are the published test split and the first 1,024
// training images (checked against the published training files unless
// -short or -race, as decompressing them takes a while).
func TestEmbeddedData(t *testing.T) {
	for _, tc := range []struct {
		split string
		get   func() (*mnist.Set, error)
		n     int
	}{
		{"test", models.TestSet, 10000},
		{"train", models.CalibrationSet, models.CalibrationImages},
	} {
		got, err := tc.get()
		if err != nil {
			t.Fatal(err)
		}
		if got.N != tc.n || !slices.Equal(got.Shape(), []int{1, 28, 28}) || got.Classes != 10 || len(got.Images) != tc.n*784 || len(got.Labels) != tc.n {
			t.Fatalf("%s: N %d, shape %v, %d classes, %d values, %d labels", tc.split, got.N, got.Shape(), got.Classes, len(got.Images), len(got.Labels))
		}
		if testing.Short() || testenv.RaceEnabled {
			continue
		}
		dir, err := mnist.DefaultDir()
		if err != nil {
			t.Logf("no MNIST files to compare with: %v", err)
			continue
		}
		want, err := mnist.LoadN(dir, tc.split, tc.n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Images, want.Images) || !slices.Equal(got.Labels, want.Labels) {
			t.Errorf("%s: embedded data differs from %s", tc.split, dir)
		}
	}
}

// LoadData serves MNIST from the embedded copies when no path is given and
// they hold what is asked, and reads everything else with dataset.Load.
func TestLoadData(t *testing.T) {
	cases := []struct {
		name, path, split string
		n                 int
		source            string // "" for anything but the embedded copies
		images            int
	}{
		{"mnist", "", "test", 0, "embedded", 10000},
		{"mnist", "", "test", 500, "embedded", 500},
		{"MNIST", "", "train", 1024, "embedded", 1024},
		{"mnist", "", "train", 64, "embedded", 64},
	}
	for _, tc := range cases {
		set, err := models.LoadData(tc.name, tc.path, tc.split, tc.n)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if set.Source != tc.source || set.N != tc.images || set.Name != "mnist "+tc.split {
			t.Errorf("%+v: %q from %q, %d images", tc, set.Name, set.Source, set.N)
		}
	}
	// A path, another set or more training images than are embedded go to
	// dataset.Load, which names what is wrong.
	for _, tc := range []struct{ name, path, split string }{
		{"mnist", t.TempDir(), "test"},
		{"kmnist", "", "test"},
		{"cifar10", t.TempDir(), "train"},
	} {
		if _, err := models.LoadData(tc.name, tc.path, tc.split, 10); err == nil || !strings.HasPrefix(err.Error(), tc.name) {
			t.Errorf("%+v: error %v, want one starting with the set's name", tc, err)
		}
	}
	if testing.Short() || testenv.RaceEnabled {
		return
	}
	set, err := models.LoadData("mnist", "", "train", 2000)
	if err != nil {
		t.Skipf("no MNIST training files beyond the embedded ones: %v", err)
	}
	if set.Source == "embedded" || set.N != 2000 {
		t.Errorf("2,000 training images from %q (%d)", set.Source, set.N)
	}
}
