package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/network"
)

// Dataset is a labelled set of samples: Images holds len(Labels) samples
// of the network's input size, one after the other (for MNIST, 784 pixels
// scaled to [0,1] each). Shape, if set, is the shape of one sample, which
// must then be the network's input shape.
type Dataset struct {
	Images []float32
	Labels []int
	Shape  []int
}

// DatasetOf is the training view of a data set of package dataset: its
// images, labels and image shape (shared, not copied).
func DatasetOf(s *dataset.Set) Dataset {
	return Dataset{Images: s.Images[:s.N*s.Size()], Labels: s.Labels[:s.N], Shape: s.Shape()}
}

// Len is the number of samples.
func (d Dataset) Len() int { return len(d.Labels) }

func (d Dataset) check(input network.Shape, classes int) error {
	inSize := input.Size()
	if d.Len() == 0 {
		return fmt.Errorf("dataset is empty")
	}
	if d.Shape != nil && !network.Shape(d.Shape).Equal(input) {
		return fmt.Errorf("dataset samples have shape %v, the network takes %v", network.Shape(d.Shape), input)
	}
	if len(d.Images) != d.Len()*inSize {
		return fmt.Errorf("dataset has %d values for %d samples of %d inputs", len(d.Images), d.Len(), inSize)
	}
	for i, l := range d.Labels {
		if l < 0 || l >= classes {
			return fmt.Errorf("sample %d has label %d, the network has %d classes", i, l, classes)
		}
	}
	return nil
}

// Config sets up a training run. The fields up to ShardSize decide the
// numbers: the same values and the same initial network give the same
// trained weights bit for bit, whatever Workers is. A checkpoint stores
// them, and a resumed run keeps them.
type Config struct {
	Epochs      int     `json:"epochs"`       // passes over the data; default 5
	BatchSize   int     `json:"batch_size"`   // samples per update; default 64
	LR          float64 `json:"lr"`           // peak learning rate; default 1e-3 for Adam, 0.05 for SGD
	Optimizer   string  `json:"optimizer"`    // Adam (default) or SGD
	Momentum    float64 `json:"momentum"`     // SGD momentum; default 0.9
	WeightDecay float64 `json:"weight_decay"` // L2 penalty added to the gradient; default 0
	Schedule    string  `json:"schedule"`     // Cosine (default), Step or Constant
	StepEpochs  int     `json:"step_epochs"`  // Step: epochs between decays; default 1
	Gamma       float64 `json:"gamma"`        // Step: decay factor; default 0.5
	Seed        uint64  `json:"seed"`         // shuffling; the initial weights come from the network given
	// ShardSize is the number of samples whose gradient one worker computes
	// before the fixed-order reduction; default 16. It is part of the
	// numerics (float sums depend on grouping), not of the parallelism.
	ShardSize int `json:"shard_size"`

	// Workers is the number of goroutines computing shard gradients;
	// default GOMAXPROCS. It does not change the result.
	Workers int `json:"-"`
	// Checkpoint, if set, is written atomically after every epoch and when
	// the context is cancelled, so that Resume can continue the run.
	Checkpoint string `json:"-"`
	// Test, if set, is evaluated after every epoch.
	Test *Dataset `json:"-"`
	// ProgressEvery is the number of steps between progress reports;
	// default 50. Reports also come at the end of every epoch.
	ProgressEvery int `json:"-"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Epochs == 0 {
		c.Epochs = 5
	}
	if c.BatchSize == 0 {
		c.BatchSize = 64
	}
	if c.Optimizer == "" {
		c.Optimizer = Adam
	}
	if c.LR == 0 {
		c.LR = 1e-3
		if c.Optimizer == SGD {
			c.LR = 0.05
		}
	}
	if c.Momentum == 0 && c.Optimizer == SGD {
		c.Momentum = 0.9
	}
	if c.Schedule == "" {
		c.Schedule = Cosine
	}
	if c.Schedule == Step {
		if c.StepEpochs == 0 {
			c.StepEpochs = 1
		}
		if c.Gamma == 0 {
			c.Gamma = 0.5
		}
	}
	if c.ShardSize == 0 {
		c.ShardSize = 16
	}
	if c.Workers <= 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 50
	}
	return c
}

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) }
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("epochs %d: want at least 1", c.Epochs)
	case c.BatchSize < 1:
		return fmt.Errorf("batch size %d: want at least 1", c.BatchSize)
	case !(c.LR > 0) || bad(c.LR):
		return fmt.Errorf("learning rate %v: want a positive number", c.LR)
	case c.Optimizer != Adam && c.Optimizer != SGD:
		return fmt.Errorf("optimizer %q: want adam or sgd", c.Optimizer)
	case c.Momentum < 0 || c.Momentum >= 1 || bad(c.Momentum):
		return fmt.Errorf("momentum %v: want 0 <= momentum < 1", c.Momentum)
	case c.WeightDecay < 0 || bad(c.WeightDecay):
		return fmt.Errorf("weight decay %v: want >= 0", c.WeightDecay)
	case c.Schedule != Cosine && c.Schedule != Step && c.Schedule != Constant:
		return fmt.Errorf("schedule %q: want cosine, step or constant", c.Schedule)
	case c.Schedule == Step && (c.StepEpochs < 1 || !(c.Gamma > 0) || bad(c.Gamma)):
		return fmt.Errorf("step schedule: every %d epochs by %v: want >= 1 epochs and a positive factor", c.StepEpochs, c.Gamma)
	case c.ShardSize < 1:
		return fmt.Errorf("shard size %d: want at least 1", c.ShardSize)
	}
	return nil
}

// Progress is what a progress callback sees.
type Progress struct {
	Epoch, Epochs  int   // the current epoch, 1-based, of Epochs
	Batch, Batches int   // batches done in this epoch, of Batches
	Step, Steps    int64 // updates done in the whole run, of Steps
	// Loss and Accuracy are the mean training loss and accuracy of the
	// batches done in this epoch by this process (a resumed epoch counts
	// from the resume point).
	Loss, Accuracy float64
	LR             float64       // the learning rate of the last update
	Elapsed        time.Duration // since Run started
	ETA            time.Duration // estimated time to the end of the run
	// EpochDone is set on the report that ends an epoch; EpochTime is the
	// epoch's wall time (evaluation excluded), and, if Config.Test is set,
	// TestLoss and TestAccuracy its result.
	EpochDone              bool
	EpochTime              time.Duration
	HasTest                bool
	TestLoss, TestAccuracy float64
}

// EpochStats records one finished epoch.
type EpochStats struct {
	Epoch        int     `json:"epoch"`
	Seconds      float64 `json:"seconds"`
	Loss         float64 `json:"loss"`
	Accuracy     float64 `json:"accuracy"`
	TestLoss     float64 `json:"test_loss,omitempty"`
	TestAccuracy float64 `json:"test_accuracy,omitempty"`
}

// Trainer trains one network in place.
type Trainer struct {
	cfg   Config
	m     *model
	opt   *optimizer
	epoch int   // epochs completed
	batch int   // batches completed in the current epoch
	step  int64 // updates done
	// samples and labelHash identify the training data of the run once
	// it has started, so that a resumed run can refuse other data.
	samples   int
	labelHash string
	// History holds the finished epochs, resumed ones included.
	History []EpochStats
}

// New prepares a chain network (see Describe) for training with cfg
// (defaults filled in). The network's Weight and Bias slices are moved into
// one flat vector that the trainer updates in place; net is the trained
// model after Run. Networks with BatchNorm or residual blocks are made by
// NewTrainer.
func New(net *network.Network, cfg Config) (*Trainer, error) {
	a, err := Describe(net)
	if err != nil {
		return nil, err
	}
	if err := net.Validate(); err != nil {
		return nil, err
	}
	return newTrainer(net, &a, cfg)
}

// NewTrainer builds the network of an Architecture, any layers included,
// with weights drawn from seed (see Init), and prepares it for training
// with cfg. For an architecture Build accepts it trains exactly what New
// trains on Build(a, seed).
func NewTrainer(a Architecture, seed uint64, cfg Config) (*Trainer, error) {
	g, err := buildGraph(a)
	if err != nil {
		return nil, err
	}
	Init(g, seed)
	return newTrainer(g, &a, cfg)
}

func newTrainer(g *network.Network, a *Architecture, cfg Config) (*Trainer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newModel(g, a)
	if err != nil {
		return nil, err
	}
	opt, err := newOptimizer(&cfg, len(m.params))
	if err != nil {
		return nil, err
	}
	return &Trainer{cfg: cfg, m: m, opt: opt}, nil
}

// Train is New followed by Run.
func Train(ctx context.Context, net *network.Network, data Dataset, cfg Config, progress func(Progress)) error {
	t, err := New(net, cfg)
	if err != nil {
		return err
	}
	return t.Run(ctx, data, progress)
}

// Net is the trained network as package network holds it, for model files
// and conversion. It is always the same *network.Network. Without
// BatchNorms it is the network being trained, updated in place by every
// step. With BatchNorms it is a graph of its own, each BatchNorm folded
// into the Conv2d or Linear before it (SPEC §1) with the running
// statistics: its weights are brought up to date by Net, at the end of
// every epoch and when Run returns (finished or interrupted). Its
// Meta is what checkpoints and model files record.
func (t *Trainer) Net() *network.Network {
	t.m.refresh()
	return t.m.out
}

// Architecture is the architecture of the network being trained.
func (t *Trainer) Architecture() Architecture { return *t.m.arch }

// Config is the configuration in use, defaults filled in.
func (t *Trainer) Config() Config { return t.cfg }

// Position is the number of finished epochs and of batches finished in the
// current epoch.
func (t *Trainer) Position() (epoch, batch int) { return t.epoch, t.batch }

// Samples is the number of training samples of a started (or resumed)
// run, 0 before the first Run.
func (t *Trainer) Samples() int { return t.samples }

// labelHash fingerprints a training set by its labels.
func labelHash(labels []int) string {
	h := sha256.New()
	var b [8]byte
	for _, l := range labels {
		binary.LittleEndian.PutUint64(b[:], uint64(l))
		h.Write(b[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Done reports whether all epochs are finished.
func (t *Trainer) Done() bool { return t.epoch >= t.cfg.Epochs }

// Run trains from the current position to the end of the last epoch. If
// ctx is cancelled it stops after the current step, writes the checkpoint
// (if Config.Checkpoint is set) and returns an error wrapping ctx.Err().
// progress may be nil.
func (t *Trainer) Run(ctx context.Context, data Dataset, progress func(Progress)) error {
	if err := data.check(t.m.g.Input, t.m.classes); err != nil {
		return fmt.Errorf("training data: %w", err)
	}
	if t.cfg.Test != nil {
		if err := t.cfg.Test.check(t.m.g.Input, t.m.classes); err != nil {
			return fmt.Errorf("test data: %w", err)
		}
	}
	if progress == nil {
		progress = func(Progress) {}
	}
	n := data.Len()
	if h := labelHash(data.Labels); t.samples == 0 {
		t.samples, t.labelHash = n, h
	} else if t.samples != n || t.labelHash != h {
		return fmt.Errorf("the run was started on %d training samples (labels %s), not on these %d (labels %s): resume with the same training data",
			t.samples, t.labelHash, n, h)
	}
	bs := t.cfg.BatchSize
	batches := (n + bs - 1) / bs
	total := int64(batches) * int64(t.cfg.Epochs)
	if t.epoch < t.cfg.Epochs && t.step != int64(t.epoch)*int64(batches)+int64(t.batch) {
		return fmt.Errorf("the checkpoint is at step %d (epoch %d, batch %d), which does not fit %d samples in batches of %d: resume with the same training data",
			t.step, t.epoch, t.batch, n, bs)
	}
	if err := t.m.checkBatches(n, bs); err != nil {
		return err
	}
	st := newStepper(t.m, t.cfg)
	start := time.Now()
	startStep := t.step
	for t.epoch < t.cfg.Epochs {
		ep := t.epoch
		perm := permutation(t.cfg.Seed, ep, n)
		epochStart := time.Now()
		var lossSum float64
		var correct, seen int
		report := func(p Progress) {
			p.Epoch, p.Epochs = ep+1, t.cfg.Epochs
			p.Batch, p.Batches = t.batch, batches
			if p.EpochDone {
				p.Batch = batches
			}
			p.Step, p.Steps = t.step, total
			if seen > 0 {
				p.Loss, p.Accuracy = lossSum/float64(seen), float64(correct)/float64(seen)
			}
			p.LR = t.cfg.learningRate(max(t.step-1, 0), total, ep)
			p.Elapsed = time.Since(start)
			if done := t.step - startStep; done > 0 {
				p.ETA = time.Duration(float64(p.Elapsed) / float64(done) * float64(total-t.step))
			}
			progress(p)
		}
		for t.batch < batches {
			if err := ctx.Err(); err != nil {
				return t.interrupted(err)
			}
			idx := perm[t.batch*bs : min((t.batch+1)*bs, n)]
			lr := t.cfg.learningRate(t.step, total, t.epoch)
			l, c := st.step(data, idx, t.opt, lr, t.step+1)
			lossSum += l
			correct += c
			seen += len(idx)
			t.batch++
			t.step++
			if t.batch%t.cfg.ProgressEvery == 0 && t.batch < batches {
				report(Progress{})
			}
		}
		stats := EpochStats{Epoch: t.epoch + 1, Seconds: time.Since(epochStart).Seconds(),
			Loss: lossSum / float64(max(seen, 1)), Accuracy: float64(correct) / float64(max(seen, 1))}
		p := Progress{EpochDone: true, EpochTime: time.Since(epochStart)}
		if t.cfg.Test != nil {
			tl, ta := st.evaluate(*t.cfg.Test)
			stats.TestLoss, stats.TestAccuracy = tl, ta
			p.HasTest, p.TestLoss, p.TestAccuracy = true, tl, ta
		}
		t.History = append(t.History, stats)
		t.m.refresh()
		t.epoch++
		t.batch = 0
		if t.cfg.Checkpoint != "" {
			if err := t.SaveCheckpoint(t.cfg.Checkpoint); err != nil {
				return err
			}
		}
		report(p)
	}
	return nil
}

func (t *Trainer) interrupted(cause error) error {
	t.m.refresh()
	if t.cfg.Checkpoint != "" {
		if err := t.SaveCheckpoint(t.cfg.Checkpoint); err != nil {
			return fmt.Errorf("interrupted (%w), and saving the checkpoint failed: %v", cause, err)
		}
		return fmt.Errorf("interrupted at epoch %d, batch %d; checkpoint saved to %s: %w",
			t.epoch+1, t.batch, t.cfg.Checkpoint, cause)
	}
	return fmt.Errorf("interrupted at epoch %d, batch %d: %w", t.epoch+1, t.batch, cause)
}

// permutation is the order of the samples in epoch (0-based): a
// Fisher–Yates shuffle driven by PCG seeded with (seed, epoch), so a
// resumed run needs no generator state beyond the seed and the epoch.
func permutation(seed uint64, epoch, n int) []int {
	src := rand.NewPCG(seed, streamShuffle<<32|uint64(epoch))
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := int(boundedRand(src, uint64(i+1)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}

// boundedRand returns a uniform value in [0, n) (Lemire's method); it is
// written out here so that the shuffle does not depend on how a Go release
// implements rand.Rand's helpers.
func boundedRand(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// SetTest sets the data evaluated after every epoch (nil: none).
func (t *Trainer) SetTest(d *Dataset) { t.cfg.Test = d }

// Source is the provenance string a trained model records in
// Meta.Source: the settings that decide its weights, as the `evsnn train`
// flags that reproduce them, in a fixed form (equal settings give equal
// strings, hence equal model files). For networks with BatchNorm or
// residual blocks, and data other than MNIST, see Trainer.Source.
func Source(cfg Config, images int, net *network.Network) string {
	var a *Architecture
	if d, err := Describe(net); err == nil {
		a = &d
	}
	return source(cfg, "", images, a)
}

// Source is the provenance string of this run (see the function Source):
// its settings, the data set data ("" or "mnist" for MNIST, which is not
// written), the number of training images and the architecture.
func (t *Trainer) Source(data string, images int) string {
	if data == "mnist" {
		data = ""
	}
	return source(t.cfg, data, images, t.m.arch)
}

func source(cfg Config, data string, images int, a *Architecture) string {
	cfg = cfg.WithDefaults()
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	var b strings.Builder
	b.WriteString("evsnn train")
	if data != "" {
		fmt.Fprintf(&b, " --dataset %s", data)
	}
	fmt.Fprintf(&b, " --seed %d --epochs %d --batch %d --optimizer %s --lr %s --schedule %s",
		cfg.Seed, cfg.Epochs, cfg.BatchSize, cfg.Optimizer, f(cfg.LR), cfg.Schedule)
	if cfg.Optimizer == SGD {
		fmt.Fprintf(&b, " --momentum %s", f(cfg.Momentum))
	}
	if cfg.WeightDecay != 0 {
		fmt.Fprintf(&b, " --weight-decay %s", f(cfg.WeightDecay))
	}
	if cfg.Schedule == Step {
		fmt.Fprintf(&b, " --step-epochs %d --gamma %s", cfg.StepEpochs, f(cfg.Gamma))
	}
	if cfg.ShardSize != 16 {
		fmt.Fprintf(&b, " (shard size %d)", cfg.ShardSize)
	}
	if images != 60000 {
		fmt.Fprintf(&b, " --images %d", images)
	}
	if a != nil {
		if l := LayerList(*a); l != DefaultArchitectureSpec || !network.Shape(a.Input).Equal(network.Shape{1, 28, 28}) {
			fmt.Fprintf(&b, " --layers %s", l)
		}
	}
	return b.String()
}
