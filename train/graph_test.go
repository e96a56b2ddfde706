package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/format/onnx"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// fixtureResNet is the MNIST ResNet of testdata/mnist_resnet.onnx in the
// --layers syntax.
const fixtureResNet = "conv16k3p1,bn,relu,maxpool2,res16,res32s2,gap,flatten,fc10"

// stateHash fingerprints everything a trainer updates: the parameters and
// the BatchNorm running statistics.
func stateHash(tr *Trainer) string {
	h := sha256.New()
	var b [4]byte
	for _, v := range append(append([]float32(nil), tr.m.params...), tr.m.buffers...) {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil))
}

func newTrainerT(t testing.TB, spec string, input []int, seed uint64, cfg Config) *Trainer {
	t.Helper()
	a, err := ParseLayers(spec, input)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(a, seed, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// The exported network of the fixture's ResNet has the fixture's graph:
// the BatchNorms folded, the shortcuts as Adds, names after the blocks.
func TestExportResNetGraph(t *testing.T) {
	tr := newTrainerT(t, fixtureResNet, []int{1, 28, 28}, 1, Config{})
	net := tr.Net()
	if err := net.Validate(); err != nil {
		t.Fatal(err)
	}
	shapes, err := net.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, l := range net.Layers {
		var ins []string
		for _, j := range net.InputsOf(i) {
			if j == network.InputNode {
				ins = append(ins, "input")
			} else {
				ins = append(ins, net.Layers[j].Name())
			}
		}
		got = append(got, l.Name()+"("+strings.Join(ins, ",")+")"+shapes[i].String())
	}
	want := []string{
		"conv1(input)[16,28,28]", "relu1(conv1)[16,28,28]", "maxpool1(relu1)[16,14,14]",
		"res1.conv1(maxpool1)[16,14,14]", "res1.relu1(res1.conv1)[16,14,14]", "res1.conv2(res1.relu1)[16,14,14]",
		"res1.add(res1.conv2,maxpool1)[16,14,14]", "res1.relu2(res1.add)[16,14,14]",
		"res2.conv1(res1.relu2)[32,7,7]", "res2.relu1(res2.conv1)[32,7,7]", "res2.conv2(res2.relu1)[32,7,7]",
		"res2.down(res1.relu2)[32,7,7]", "res2.add(res2.conv2,res2.down)[32,7,7]", "res2.relu2(res2.add)[32,7,7]",
		"gap(res2.relu2)[32,1,1]", "flatten(gap)[32]", "fc1(flatten)[10]",
	}
	if !slices.Equal(got, want) {
		t.Errorf("exported graph\n  %v\nwant\n  %v", got, want)
	}
	// conv-bn layers have no bias parameter: the parameters are the
	// weights, γ and β, and the readout's bias.
	wantParams := 16*9 + 2*16 + 2*(16*16*9+2*16) + 16*32*9 + 32*32*9 + 16*32 + 3*2*32 + 32*10 + 10
	if len(tr.m.params) != wantParams {
		t.Errorf("%d parameters, want %d", len(tr.m.params), wantParams)
	}
	if net.Layers[len(net.Layers)-1].(*network.Linear).In != 32 {
		t.Error("readout input")
	}
}

// The exported network computes what the trainer computes in eval mode:
// every layer's output within 1e-5, after some training has moved γ, β and
// the running statistics away from their initial values.
func TestExportMatchesEvalForward(t *testing.T) {
	n := 256
	if testenv.RaceEnabled {
		n = 64
	}
	data := trainSubset(t, n)
	for _, spec := range []string{
		fixtureResNet,
		"conv8k3p1,bn,relu,maxpool2,conv16k3p1,bn,relu,maxpool2,flatten,fc32,bn,relu,fc10",
		"conv8k3s2p1,bn,relu,conv16k3s2p1,bn,relu,res16,gap,flatten,fc10",
	} {
		t.Run(spec, func(t *testing.T) {
			tr := newTrainerT(t, spec, []int{1, 28, 28}, 2, Config{Epochs: 1, BatchSize: 32, LR: 3e-3, Seed: 1})
			if err := tr.Run(context.Background(), data, nil); err != nil {
				t.Fatal(err)
			}
			m := tr.m
			net := tr.Net()
			if err := net.Validate(); err != nil {
				t.Fatal(err)
			}
			const n = 20
			x := data.Images[:n*m.inSize]
			act, err := net.Forward(x, n)
			if err != nil {
				t.Fatal(err)
			}
			m.prepareEval()
			s := m.newScratch(n, false)
			copy(s.x, x)
			m.forward(s, n)
			cons := m.g.Consumers()
			for k, l := range net.Layers {
				i := m.g.Index(l.Name())
				if m.biasFree[i] {
					i = cons[i][0] // a folded conv computes its BatchNorm's output
				}
				worst := 0.0
				for j, v := range act.Output[k] {
					d := math.Abs(float64(s.outs[i][j]-v)) / math.Max(1, math.Abs(float64(v)))
					worst = max(worst, d)
				}
				if worst > 1e-5 {
					t.Errorf("%s: exported output differs from the eval-mode forward by %.3g", l.Name(), worst)
				}
			}
		})
	}
}

// The BatchNorm fold of SPEC §1, checked on one layer against the formula
// in float64.
func TestFold(t *testing.T) {
	tr := newTrainerT(t, "conv2k1,bn,relu,flatten,fc2", []int{1, 1, 1}, 3, Config{})
	bn := tr.m.g.Layers[1].(*batchNorm)
	conv := tr.m.g.Layers[0].(*network.Conv2d)
	copy(bn.Gamma, []float32{1.5, -0.5})
	copy(bn.Beta, []float32{0.25, 2})
	copy(bn.Mean, []float32{0.1, -3})
	copy(bn.Var, []float32{4, 0.01})
	copy(conv.Weight, []float32{0.7, -1.1})
	e := tr.Net().Layers[0].(*network.Conv2d)
	for c := range 2 {
		s := float64(bn.Gamma[c]) / math.Sqrt(float64(bn.Var[c])+1e-5)
		w := float32(float64(conv.Weight[c]) * s)
		b := float32((0-float64(bn.Mean[c]))*s + float64(bn.Beta[c]))
		if e.Weight[c] != w || e.Bias[c] != b {
			t.Errorf("channel %d: folded %v, %v; want %v, %v", c, e.Weight[c], e.Bias[c], w, b)
		}
	}
}

// A BatchNorm network trains to the same bits with 1 and 3 workers (the
// batch statistics are reduced in shard order).
func TestDeterministicBatchNorm(t *testing.T) {
	n, epochs := 300, 2
	if testenv.RaceEnabled || testing.Short() {
		n, epochs = 100, 1
	}
	data := trainSubset(t, n)
	var want string
	for _, workers := range []int{1, 3} {
		tr := newTrainerT(t, "conv8k3p1,bn,relu,maxpool2,res8,res16s2,gap,flatten,fc10", []int{1, 28, 28}, 4,
			Config{Epochs: epochs, BatchSize: 50, LR: 3e-3, Seed: 9, Workers: workers, Test: &Dataset{Images: data.Images, Labels: data.Labels}})
		if err := tr.Run(context.Background(), data, nil); err != nil {
			t.Fatal(err)
		}
		got := stateHash(tr)
		if want == "" {
			want = got
			continue
		}
		if got != want {
			t.Fatalf("%d workers: state %s, with 1 worker %s", workers, got, want)
		}
	}
}

// A VGG-style network with BatchNorm and MaxPool learns MNIST quickly, in
// training and in eval mode.
func TestBatchNormLearns(t *testing.T) {
	if testenv.RaceEnabled || testing.Short() {
		t.Skip("trains for 3 epochs")
	}
	data := trainSubset(t, 512)
	tr := newTrainerT(t, "conv8k3p1,bn,relu,maxpool2,conv16k3p1,bn,relu,maxpool2,flatten,fc10", []int{1, 28, 28}, 4,
		Config{Epochs: 3, BatchSize: 32, LR: 3e-3, Seed: 9, Test: &data})
	if err := tr.Run(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	first, last := tr.History[0], tr.History[len(tr.History)-1]
	t.Logf("loss %.4f → %.4f, accuracy %.3f → %.3f, eval mode %.3f", first.Loss, last.Loss, first.Accuracy, last.Accuracy, last.TestAccuracy)
	if !(last.Loss < 0.5*first.Loss) || last.Accuracy < 0.85 || last.TestAccuracy < 0.85 {
		t.Error("the network does not learn")
	}
}

// Stopping a BatchNorm ResNet run mid-epoch and resuming from the
// checkpoint ends where the uninterrupted run ends, running statistics
// included.
func TestResumeBatchNorm(t *testing.T) {
	data := trainSubset(t, 96)
	const spec = "conv4k3p1,bn,relu,maxpool2,res4,res8s2,gap,flatten,fc10"
	cfg := Config{Epochs: 2, BatchSize: 32, Seed: 3}
	tr := newTrainerT(t, spec, []int{1, 28, 28}, 2, cfg)
	if err := tr.Run(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	want := stateHash(tr)

	ck := filepath.Join(t.TempDir(), "run.ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	c := cfg
	c.Checkpoint, c.ProgressEvery = ck, 1
	tr = newTrainerT(t, spec, []int{1, 28, 28}, 2, c)
	tr.Net().Meta.Source = "a test"
	err := tr.Run(ctx, data, func(p Progress) {
		if p.Step == 4 {
			cancel()
		}
	})
	cancel()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	interrupted := tr.Net()
	again, err := Resume(ck, Config{Workers: 3, Checkpoint: ck})
	if err != nil {
		t.Fatal(err)
	}
	if e, b := again.Position(); e != 1 || b != 1 {
		t.Fatalf("resumed at epoch %d batch %d, want 1, 1", e, b)
	}
	if got := again.Net(); got.Meta.Source != "a test" || !sameWeights(got, interrupted) {
		t.Error("the resumed trainer's network differs from the interrupted one's")
	}
	if got := again.Architecture(); LayerList(got) != spec {
		t.Errorf("resumed architecture %q", LayerList(got))
	}
	if err := again.Run(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	if got := stateHash(again); got != want {
		t.Errorf("resumed run ends at %s, uninterrupted at %s", got, want)
	}
}

func sameWeights(a, b *network.Network) bool {
	if len(a.Layers) != len(b.Layers) {
		return false
	}
	for i := range a.Layers {
		ca, ok1 := a.Layers[i].(*network.Conv2d)
		cb, ok2 := b.Layers[i].(*network.Conv2d)
		if ok1 != ok2 || ok1 && (!slices.Equal(ca.Weight, cb.Weight) || !slices.Equal(ca.Bias, cb.Bias)) {
			return false
		}
		la, ok1 := a.Layers[i].(*network.Linear)
		lb, ok2 := b.Layers[i].(*network.Linear)
		if ok1 != ok2 || ok1 && (!slices.Equal(la.Weight, lb.Weight) || !slices.Equal(la.Bias, lb.Bias)) {
			return false
		}
	}
	return true
}

// Net returns one network whose weights follow the training: a caller may
// take it before Run (as evsnn train does) and save it after.
func TestNetFollowsTraining(t *testing.T) {
	data := trainSubset(t, 64)
	tr := newTrainerT(t, "conv4k3p1,bn,relu,maxpool2,flatten,fc10", []int{1, 28, 28}, 1, Config{Epochs: 1, BatchSize: 32})
	net := tr.Net()
	before := net.Clone()
	if err := tr.Run(context.Background(), data, nil); err != nil {
		t.Fatal(err)
	}
	if tr.Net() != net {
		t.Fatal("Net returned another network after Run")
	}
	if sameWeights(before, net) {
		t.Error("the network taken before Run did not change")
	}
	_, acc, err := Evaluate(net, data, 2)
	if err != nil {
		t.Fatal(err)
	}
	tr.m.prepareEval()
	_, want := newStepperEval(tr.m, Config{Workers: 2, ShardSize: 16}.WithDefaults()).evaluate(data)
	if acc != want {
		t.Errorf("the exported network scores %v, the trainer in eval mode %v", acc, want)
	}
}

func TestArchitectureGraphs(t *testing.T) {
	for _, spec := range []string{
		fixtureResNet,
		"conv16k3p1,bn,relu,conv16k3p1,bn,relu,maxpool2,conv32k3p1,bn,relu,conv32k3p1,bn,relu,maxpool2,flatten,fc128,bn,relu,fc10",
		"conv8k3s2p1,bn,relu,maxpool3s2p1,res8s2,pool2,flatten,fc",
	} {
		a, err := ParseLayers(spec, []int{1, 28, 28})
		if err != nil {
			t.Fatal(err)
		}
		if got := LayerList(a); got != spec {
			t.Errorf("LayerList %q, want %q", got, spec)
		}
		js, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ReadArchitecture(js)
		if err != nil {
			t.Fatal(err)
		}
		if LayerList(b) != spec {
			t.Errorf("%s: JSON round trip gives %q", js, LayerList(b))
		}
		if b, err = b.WithClasses(10); err != nil {
			t.Fatal(err)
		}
		if _, err := NewTrainer(b, 1, Config{}); err != nil {
			t.Errorf("%s: %v", spec, err)
		}
		if _, err := Build(b, 1); err == nil || !strings.Contains(err.Error(), "use train.NewTrainer") {
			t.Errorf("%s: Build: %v, want a pointer to NewTrainer", spec, err)
		}
	}
	// Without BatchNorm, NewTrainer trains exactly what New trains.
	a, err := ParseLayers("conv4k3p1,relu,maxpool2,flatten,fc10", []int{1, 28, 28})
	if err != nil {
		t.Fatal(err)
	}
	net, err := Build(a, 6)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(a, 6, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if paramHash(net) != paramHash(tr.Net()) || tr.Net() != tr.m.g {
		t.Error("NewTrainer and Build disagree on a network without BatchNorm")
	}
	if _, err := a.WithClasses(7); err == nil {
		t.Error("WithClasses(7) on fc10: no error")
	}
}

func TestArchitectureGraphErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"bn,conv4k3,flatten,fc10", "layer 1 (bn1): a batchnorm must come right after a conv2d or linear"},
		{"conv4k3,relu,bn,flatten,fc10", "layer 3 (bn1): a batchnorm must come right after"},
		{"conv4k3,bn,bn,relu,flatten,fc10", "layer 3 (bn2): a batchnorm must come right after"},
		{"conv4k3,bn,maxpool2,relu,flatten,fc10", `architecture: layer 0 (conv2d "conv1"): feeds layer 1 (maxpool2d "maxpool1"): a MaxPool must read the input or a ReLU`},
		{"flatten,res8,fc10", "layer 2 (res1): a residual block needs a [C,H,W] input"},
		{"conv4k3,relu,res8s0,flatten,fc10", "stride [0 0] must be at least 1"},
		{"conv4k3,relu,flatten,fc", "the readout has no size"},
		{"conv4k3,relu,flatten,fc10,bn", "the last layer must be linear"},
		{"conv4k3,relu,gap,fc10", "linear needs a vector input, got [4,1,1] (add a flatten"},
		{"conv4k3,relu,maxpool3p2,flatten,fc10", "padding must be at most half the kernel"},
	} {
		a, err := ParseLayers(tc.spec, []int{1, 28, 28})
		if err == nil {
			_, err = NewTrainer(a, 1, Config{})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n  error %v\n  want one containing %q", tc.spec, err, tc.want)
		}
	}
	tr := newTrainerT(t, "flatten,fc8,bn,relu,fc10", []int{1, 4, 4}, 1, Config{BatchSize: 4})
	r := rand.New(rand.NewPCG(1, 1))
	err := tr.Run(context.Background(), randomData(r, 9, network.Shape{1, 4, 4}, 10), nil)
	if err == nil || !strings.Contains(err.Error(), "batch of 1 sample") {
		t.Errorf("BatchNorm1d on a last batch of 1: %v", err)
	}
	err = tr.Run(context.Background(), randomData(r, 8, network.Shape{4, 2, 2}, 10), nil)
	if err == nil || !strings.Contains(err.Error(), "shape [4,2,2], the network takes [1,4,4]") {
		t.Errorf("data of another shape: %v", err)
	}
}

// BenchmarkStepResNet is one training step of the fixture's ResNet (with
// BatchNorm) on a batch of 64 MNIST images.
func BenchmarkStepResNet(b *testing.B) {
	data := trainSubset(b, 64)
	tr := newTrainerT(b, fixtureResNet, []int{1, 28, 28}, 1, Config{BatchSize: 64})
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

// fixtureResNet exports the graph PyTorch exported for the fixture: the
// same nodes in the same order, the same inputs, shapes and convolution
// geometry (the names differ).
func TestFixtureResNetTopology(t *testing.T) {
	want, err := onnx.Import(filepath.Join("..", "testdata", "mnist_resnet.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	got := newTrainerT(t, fixtureResNet, []int{1, 28, 28}, 1, Config{}).Net()
	ws, err := want.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	gs, err := got.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Layers) != len(want.Layers) {
		t.Fatalf("%d layers, the fixture has %d", len(got.Layers), len(want.Layers))
	}
	for i, l := range got.Layers {
		w := want.Layers[i]
		if l.Kind() != w.Kind() || !slices.Equal(got.InputsOf(i), want.InputsOf(i)) || !gs[i].Equal(ws[i]) {
			t.Errorf("layer %d: %s %v %v, the fixture has %s %v %v", i, l.Kind(), got.InputsOf(i), gs[i], w.Kind(), want.InputsOf(i), ws[i])
			continue
		}
		if c, ok := l.(*network.Conv2d); ok {
			wc := w.(*network.Conv2d)
			if c.KH != wc.KH || c.KW != wc.KW || c.StrideH != wc.StrideH || c.StrideW != wc.StrideW || c.PadH != wc.PadH || c.PadW != wc.PadW {
				t.Errorf("layer %d (%s): kernel %dx%d stride %d pad %d, the fixture's %dx%d stride %d pad %d",
					i, c.Name(), c.KH, c.KW, c.StrideH, c.PadH, wc.KH, wc.KW, wc.StrideH, wc.PadH)
			}
		}
		if p, ok := l.(*network.MaxPool2d); ok && p.Window() != w.(*network.MaxPool2d).Window() {
			t.Errorf("layer %d: max-pool %+v, the fixture's %+v", i, p.Window(), w.(*network.MaxPool2d).Window())
		}
	}
}
