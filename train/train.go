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

	"github.com/evsnn/evsnn/internal/parallel"

	"github.com/evsnn/evsnn/network"
)

// Dataset is a labelled set of samples: Images holds len(Labels) samples
// of the network's input size, one after the other (for MNIST, 784 pixels
// scaled to [0,1] each).
type Dataset struct {
	Images []float32
	Labels []int
}

// Len is the number of samples.
func (d Dataset) Len() int { return len(d.Labels) }

func (d Dataset) check(inSize, classes int) error {
	if d.Len() == 0 {
		return fmt.Errorf("dataset is empty")
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

// New prepares net for training with cfg (defaults filled in). The
// network's Weight and Bias slices are moved into one flat vector that the
// trainer updates in place; net is the trained model after Run.
func New(net *network.Network, cfg Config) (*Trainer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m, err := newModel(net)
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

// Net is the network being trained.
func (t *Trainer) Net() *network.Network { return t.m.net }

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
	if err := data.check(t.m.inSize, t.m.classes); err != nil {
		return fmt.Errorf("training data: %w", err)
	}
	if t.cfg.Test != nil {
		if err := t.cfg.Test.check(t.m.inSize, t.m.classes); err != nil {
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

// stepper runs training steps: the shards of a batch go to workers, each
// shard's gradient lands in its own buffer, and the buffers are summed in
// shard order, so the result does not depend on the number of workers.
type stepper struct {
	m       *model
	workers int
	shard   int
	scr     []*scratch
	grads   [][]float32
	losses  []float64
	correct []int
}

func newStepper(m *model, cfg Config) *stepper {
	nsh := (cfg.BatchSize + cfg.ShardSize - 1) / cfg.ShardSize
	w := max(1, min(cfg.Workers, nsh))
	s := &stepper{m: m, workers: w, shard: cfg.ShardSize,
		losses: make([]float64, nsh), correct: make([]int, nsh)}
	for range w {
		s.scr = append(s.scr, m.newScratch(cfg.ShardSize))
	}
	for range nsh {
		s.grads = append(s.grads, make([]float32, len(m.params)))
	}
	return s
}

// parallel runs fn(worker, job) for jobs 0..jobs-1 on the workers.
func (s *stepper) parallel(jobs int, fn func(w, j int)) {
	_ = parallel.For(s.workers, jobs, func(w, j int) error {
		fn(w, j)
		return nil
	})
}

// step trains on the samples idx and returns their summed loss and the
// number classified correctly (before the update).
func (s *stepper) step(data Dataset, idx []int, opt *optimizer, lr float64, t int64) (float64, int) {
	m := s.m
	b := len(idx)
	nsh := (b + s.shard - 1) / s.shard
	scale := 1 / float32(b)
	s.parallel(nsh, func(w, j int) {
		sc := s.scr[w]
		part := idx[j*s.shard : min((j+1)*s.shard, b)]
		n := len(part)
		for i, k := range part {
			copy(sc.x[i*m.inSize:(i+1)*m.inSize], data.Images[k*m.inSize:(k+1)*m.inSize])
			sc.labels[i] = data.Labels[k]
		}
		logits := m.forward(sc, n)
		s.losses[j], s.correct[j] = SoftmaxCrossEntropy(sc.g[0], logits, sc.labels[:n], m.classes, scale)
		g := s.grads[j]
		clear(g)
		m.backward(sc, n, g)
	})
	var loss float64
	correct := 0
	for j := 0; j < nsh; j++ {
		loss += s.losses[j]
		correct += s.correct[j]
	}
	// Reduce and update in parameter chunks; every element is summed in
	// shard order whatever the chunking.
	const chunk = 1 << 14
	np := len(m.params)
	s.parallel((np+chunk-1)/chunk, func(_, c int) {
		lo, hi := c*chunk, min((c+1)*chunk, np)
		g0 := s.grads[0][lo:hi]
		for j := 1; j < nsh; j++ {
			for i, v := range s.grads[j][lo:hi] {
				g0[i] += v
			}
		}
		opt.stepRange(m.params, s.grads[0], lo, hi, lr, t)
	})
	return loss, correct
}

// evaluate returns the mean loss and the accuracy of the network on d.
func (s *stepper) evaluate(d Dataset) (float64, float64) {
	m := s.m
	n := d.Len()
	per := s.shard
	jobs := (n + per - 1) / per
	losses := make([]float64, jobs)
	corrects := make([]int, jobs)
	s.parallel(jobs, func(w, j int) {
		sc := s.scr[w]
		lo, hi := j*per, min((j+1)*per, n)
		copy(sc.x, d.Images[lo*m.inSize:hi*m.inSize])
		logits := m.forward(sc, hi-lo)
		losses[j], corrects[j] = SoftmaxCrossEntropy(sc.g[0], logits, d.Labels[lo:hi], m.classes, 0)
	})
	var loss float64
	correct := 0
	for j := range jobs {
		loss += losses[j]
		correct += corrects[j]
	}
	return loss / float64(n), float64(correct) / float64(n)
}

// Evaluate returns the mean cross-entropy loss and the accuracy of net on
// d, using workers goroutines (0: GOMAXPROCS). net is not modified.
func Evaluate(net *network.Network, d Dataset, workers int) (loss, accuracy float64, err error) {
	m, err := newModel(net.Clone())
	if err != nil {
		return 0, 0, err
	}
	if err := d.check(m.inSize, m.classes); err != nil {
		return 0, 0, err
	}
	cfg := Config{Workers: workers, BatchSize: 1 << 20, ShardSize: 64}.WithDefaults()
	s := newStepperEval(m, cfg)
	loss, accuracy = s.evaluate(d)
	return loss, accuracy, nil
}

func newStepperEval(m *model, cfg Config) *stepper {
	s := &stepper{m: m, workers: cfg.Workers, shard: cfg.ShardSize}
	for range cfg.Workers {
		s.scr = append(s.scr, m.newScratch(cfg.ShardSize))
	}
	return s
}

// SetTest sets the data evaluated after every epoch (nil: none).
func (t *Trainer) SetTest(d *Dataset) { t.cfg.Test = d }

// Source is the provenance string a trained model records in
// Meta.Source: the settings that decide its weights, as the `evsnn train`
// flags that reproduce them, in a fixed form (equal settings give equal
// strings, hence equal model files).
func Source(cfg Config, images int, net *network.Network) string {
	cfg = cfg.WithDefaults()
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	var b strings.Builder
	fmt.Fprintf(&b, "evsnn train --seed %d --epochs %d --batch %d --optimizer %s --lr %s --schedule %s",
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
	if a, err := Describe(net); err == nil {
		if l := LayerList(a); l != DefaultArchitectureSpec || !network.Shape(a.Input).Equal(network.Shape{1, 28, 28}) {
			fmt.Fprintf(&b, " --layers %s", l)
		}
	}
	return b.String()
}
