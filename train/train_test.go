package train

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/models"
	"github.com/evsnn/evsnn/network"
)

var (
	mnistOnce  sync.Once
	mnistTrain *mnist.Set
	mnistErr   error
)

// trainSubset returns the first n (at most 1,024) MNIST training images,
// from the copy embedded in package models.
func trainSubset(t testing.TB, n int) Dataset {
	t.Helper()
	mnistOnce.Do(func() { mnistTrain, mnistErr = models.CalibrationSet() })
	if mnistErr != nil {
		t.Fatal(mnistErr)
	}
	s := mnistTrain.Slice(0, n)
	return Dataset{Images: s.Images, Labels: s.Labels}
}

// smallNet is a fast network for training tests.
func smallNet(t testing.TB, seed uint64) *network.Network {
	t.Helper()
	a, err := ParseLayers("pool2,conv6k3p1,relu,pool2,flatten,fc32,relu,fc10", []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	net, err := Build(a, seed)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func modelBytes(t testing.TB, net *network.Network) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := modelfile.Encode(&b, net); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLossFalls(t *testing.T) {
	data := trainSubset(t, 512)
	net := smallNet(t, 1)
	var epochs []Progress
	err := Train(context.Background(), net, data, Config{Epochs: 4, BatchSize: 32, LR: 1e-2, Seed: 1},
		func(p Progress) {
			if p.EpochDone {
				epochs = append(epochs, p)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 4 {
		t.Fatalf("%d epoch reports, want 4", len(epochs))
	}
	for _, p := range epochs {
		t.Logf("epoch %d: loss %.4f accuracy %.3f", p.Epoch, p.Loss, p.Accuracy)
	}
	first, last := epochs[0], epochs[len(epochs)-1]
	if !(last.Loss < 0.6*first.Loss) || last.Accuracy < 0.6 {
		t.Errorf("loss %.4f → %.4f, accuracy %.3f → %.3f: training does not learn", first.Loss, last.Loss, first.Accuracy, last.Accuracy)
	}
	for _, opt := range []string{SGD} {
		net := smallNet(t, 1)
		var ps []Progress
		if err := Train(context.Background(), net, data, Config{Epochs: 3, BatchSize: 32, Optimizer: opt, LR: 0.1, Schedule: Step, Seed: 1},
			func(p Progress) {
				if p.EpochDone {
					ps = append(ps, p)
				}
			}); err != nil {
			t.Fatal(err)
		}
		if !(ps[2].Loss < 0.9*ps[0].Loss) {
			t.Errorf("%s: loss %.4f → %.4f", opt, ps[0].Loss, ps[2].Loss)
		}
	}
}

// The same seed gives the same bytes with 1, 2 and 3 workers.
func TestDeterministic(t *testing.T) {
	data := trainSubset(t, 300)
	var want []byte
	for _, workers := range []int{1, 2, 3, 1} {
		net := smallNet(t, 5)
		if err := Train(context.Background(), net, data, Config{Epochs: 2, BatchSize: 50, Seed: 9, Workers: workers}, nil); err != nil {
			t.Fatal(err)
		}
		got := modelBytes(t, net)
		if want == nil {
			want = got
			continue
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("workers %d: model sha256 %x, with 1 worker %x", workers, sha256.Sum256(got), sha256.Sum256(want))
		}
	}
	// A different seed gives a different model.
	net := smallNet(t, 5)
	if err := Train(context.Background(), net, data, Config{Epochs: 2, BatchSize: 50, Seed: 10}, nil); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(modelBytes(t, net), want) {
		t.Error("seeds 9 and 10 gave the same model")
	}
}

// Training 2 epochs equals training until a cancel (at an epoch end, and in
// the middle of an epoch) and resuming from the checkpoint.
func TestResume(t *testing.T) {
	data := trainSubset(t, 200)
	for _, opt := range []string{Adam, SGD} {
		cfg := Config{Epochs: 2, BatchSize: 32, Seed: 3, Optimizer: opt}
		net := smallNet(t, 2)
		if err := Train(context.Background(), net, data, cfg, nil); err != nil {
			t.Fatal(err)
		}
		want := modelBytes(t, net)

		for _, stopAt := range []int{7, 3} { // 7 = end of epoch 1 (200/32 → 7 batches)
			dir := t.TempDir()
			ck := filepath.Join(dir, "run.ckpt")
			ctx, cancel := context.WithCancel(context.Background())
			c := cfg
			c.Checkpoint = ck
			c.ProgressEvery = 1
			net := smallNet(t, 2)
			err := Train(ctx, net, data, c, func(p Progress) {
				if p.Step == int64(stopAt) {
					cancel()
				}
			})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("%s stop at %d: err %v, want context.Canceled", opt, stopAt, err)
			}
			tr, err := Resume(ck, Config{Workers: 2, Checkpoint: ck})
			if err != nil {
				t.Fatal(err)
			}
			if e, b := tr.Position(); e*7+b != stopAt {
				t.Fatalf("%s: resumed at epoch %d batch %d, want step %d", opt, e, b, stopAt)
			}
			if err := tr.Run(context.Background(), data, nil); err != nil {
				t.Fatal(err)
			}
			if got := modelBytes(t, tr.Net()); !bytes.Equal(got, want) {
				t.Errorf("%s: stopped at step %d and resumed: model differs from the uninterrupted run", opt, stopAt)
			}
			if len(tr.History) == 0 || tr.History[len(tr.History)-1].Epoch != 2 {
				t.Errorf("%s: history %+v", opt, tr.History)
			}
		}
	}
}

func TestResumeErrors(t *testing.T) {
	data := trainSubset(t, 64)
	dir := t.TempDir()
	ck := filepath.Join(dir, "run.ckpt")
	if err := Train(context.Background(), smallNet(t, 1), data, Config{Epochs: 1, BatchSize: 32, Checkpoint: ck}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(ck, Config{LR: 0.5}); err == nil {
		t.Error("resuming with another learning rate: no error")
	}
	raw, err := os.ReadFile(ck)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	bad := filepath.Join(dir, "bad.ckpt")
	if err := os.WriteFile(bad, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(bad, Config{}); err == nil {
		t.Error("corrupt checkpoint: no error")
	}
	tr, err := Resume(ck, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Samples() != 64 {
		t.Errorf("checkpoint records %d samples, want 64", tr.Samples())
	}
	other := trainSubset(t, 128)
	if err := tr.Run(context.Background(), Dataset{Images: other.Images[64*784:], Labels: other.Labels[64:]}, nil); err == nil {
		t.Error("resuming on other data: no error")
	}
	if _, err := Resume(filepath.Join(dir, "missing"), Config{}); err == nil {
		t.Error("missing checkpoint: no error")
	}
}

func TestEvaluate(t *testing.T) {
	data := trainSubset(t, 256)
	net := smallNet(t, 1)
	before := modelBytes(t, net)
	loss, acc, err := Evaluate(net, data, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, modelBytes(t, net)) {
		t.Error("Evaluate changed the network")
	}
	preds, err := net.Predict(data.Images, data.Len(), 100)
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range preds {
		if p == data.Labels[i] {
			correct++
		}
	}
	if want := float64(correct) / float64(data.Len()); acc != want {
		t.Errorf("accuracy %v, Predict gives %v", acc, want)
	}
	if !(loss > 2 && loss < 2.6) { // about ln 10 for an untrained network
		t.Errorf("untrained loss %v", loss)
	}
}

func TestBadData(t *testing.T) {
	net := smallNet(t, 1)
	for _, d := range []Dataset{
		{},
		{Images: make([]float32, 784), Labels: []int{1, 2}},
		{Images: make([]float32, 784), Labels: []int{10}},
	} {
		if err := Train(context.Background(), net, d, Config{Epochs: 1}, nil); err == nil {
			t.Errorf("%d images, labels %v: no error", len(d.Images)/784, d.Labels)
		}
	}
	for _, cfg := range []Config{{LR: -1}, {Optimizer: "rmsprop"}, {Schedule: "linear"}, {Epochs: -1}} {
		if _, err := New(smallNet(t, 1), cfg); err == nil {
			t.Errorf("config %+v: no error", cfg)
		}
	}
}

// BenchmarkStep is one training step of the default network on a batch of
// 64 MNIST images (run with GOMAXPROCS=1 -cpu 1 for one core).
func BenchmarkStep(b *testing.B) {
	data := trainSubset(b, 64)
	tr, err := New(DefaultArchitecture(1), Config{BatchSize: 64})
	if err != nil {
		b.Fatal(err)
	}
	st := newStepper(tr.m, tr.cfg)
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i
	}
	var step int64
	for b.Loop() {
		step++
		st.step(data, idx, tr.opt, 1e-3, step)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/64, "µs/image")
}
