package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/models"
	"github.com/evsnn/evsnn/network"
)

// paramHash is the SHA-256 of every Conv2d and Linear weight and bias of
// net, in layer order, as little-endian float32.
func paramHash(net *network.Network) string {
	h := sha256.New()
	var b [4]byte
	put := func(v []float32) {
		for _, f := range v {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(f))
			h.Write(b[:])
		}
	}
	for _, l := range net.Layers {
		switch l := l.(type) {
		case *network.Conv2d:
			put(l.Weight)
			put(l.Bias)
		case *network.Linear:
			put(l.Weight)
			put(l.Bias)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// The chain path that made models/default.evsnn must not change: a short
// run of the default network (its initialisation, data order, shards and
// Adam with the cosine schedule) gives these weights, computed before graph
// training was added.
func TestDefaultRunGolden(t *testing.T) {
	if testing.Short() || testenv.RaceEnabled {
		t.Skip("trains the default network for 12 steps")
	}
	const (
		initHash  = "35c2d38634cc90698be41fca25dc5b1e91b187fc190d5fa9b5cc5a325df71609"
		trainHash = "dd521b54f8c47a12553eb15c0828131082097017a7107c05bdcf639e32d9fd4b"
	)
	net := DefaultArchitecture(1)
	if got := paramHash(net); got != initHash {
		t.Errorf("initial weights: sha256 %s, want %s", got, initHash)
	}
	data := trainSubset(t, 300)
	if err := Train(context.Background(), net, data, Config{Epochs: 2, BatchSize: 50, Seed: 1, Workers: 2}, nil); err != nil {
		t.Fatal(err)
	}
	if got := paramHash(net); got != trainHash {
		t.Errorf("after 12 steps: sha256 %s, want %s", got, trainHash)
	}
}

// The provenance of the built-in model is what Source writes for the
// default run; Trainer.Source names the data set and the layers of graph
// networks.
func TestSource(t *testing.T) {
	def, err := models.Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := Source(Config{Seed: 1}, 60000, DefaultArchitecture(1)); got != def.Meta.Source {
		t.Errorf("Source %q, the built-in model records %q", got, def.Meta.Source)
	}
	a, err := ParseLayers(fixtureResNet, []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(a, 2, Config{Seed: 2, Epochs: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := "evsnn train --dataset fashion-mnist --seed 2 --epochs 3 --batch 64 --optimizer adam --lr 0.001 --schedule cosine --layers " + fixtureResNet
	if got := tr.Source("fashion-mnist", 60000); got != want {
		t.Errorf("Trainer.Source %q, want %q", got, want)
	}
	if got := tr.Source("mnist", 1000); strings.Contains(got, "--dataset") || !strings.Contains(got, "--images 1000") {
		t.Errorf("Trainer.Source for 1000 MNIST images: %q", got)
	}
}

func TestDatasetOf(t *testing.T) {
	set, err := models.CalibrationSet()
	if err != nil {
		t.Fatal(err)
	}
	d := DatasetOf(set)
	if d.Len() != set.N || len(d.Images) != set.N*784 || !network.Shape(d.Shape).Equal(network.Shape{1, 28, 28}) {
		t.Errorf("DatasetOf: %d samples, %d values, shape %v", d.Len(), len(d.Images), d.Shape)
	}
}
