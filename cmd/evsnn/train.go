package main

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/network"
	"github.com/evsnn/evsnn/train"
)

// TrainCmd trains an ANN on the data (MNIST by default) (SPEC §7: evsnn train [--epochs N]
// [--seed S] -o FILE). The same flags and seed give a byte-identical model
// file whatever the number of threads.
type TrainCmd struct {
	Output      string  `short:"o" required:"" help:"Where to write the trained model file." type:"path"`
	Epochs      int     `help:"Passes over the training set (default 5)." placeholder:"N"`
	Seed        *uint64 `help:"Seed of the initial weights and of the shuffling (default 1)." placeholder:"S"`
	Batch       int     `help:"Minibatch size (default 64)." placeholder:"N"`
	LR          float64 `name:"lr" help:"Peak learning rate (default 0.001 for adam, 0.05 for sgd)." placeholder:"RATE"`
	Optimizer   string  `help:"adam or sgd (with momentum) (default adam)." enum:"adam,sgd," default:""`
	Momentum    float64 `help:"SGD momentum (default 0.9)."`
	WeightDecay float64 `help:"L2 weight decay (default 0)."`
	Schedule    string  `help:"Learning-rate schedule: cosine (to 0 over the run), step (×gamma every --step-epochs), constant (default cosine)." enum:"cosine,step,constant," default:""`
	StepEpochs  int     `help:"Step schedule: epochs between decays (default 1)."`
	Gamma       float64 `help:"Step schedule: decay factor (default 0.5)."`
	Arch        string  `help:"Architecture as a JSON file (see package train)." type:"existingfile" placeholder:"FILE.json" xor:"arch"`
	Layers      string  `help:"Architecture as a list, e.g. conv16k5p2,relu,pool2,flatten,fc10 (default: the fixture's LeNet)." placeholder:"LIST" xor:"arch"`
	Resume      string  `help:"Continue the run saved in this checkpoint; its settings are kept." type:"existingfile" placeholder:"CHECKPOINT"`
	Checkpoint  string  `help:"Checkpoint written after every epoch and on Ctrl-C (default: OUTPUT.ckpt; removed once the run is done)." type:"path" placeholder:"FILE"`
	Images      int     `help:"Train on the first N training images only (0: all 60,000)." placeholder:"N"`
	TestImages  int     `help:"Test images evaluated after each epoch (0: all 10,000)." placeholder:"N"`
	NoTest      bool    `help:"Do not evaluate on the test set after each epoch."`
	Threads     int     `help:"Worker goroutines (default: --workers, else all cores); the result does not depend on it." placeholder:"N"`
	JSON        bool    `help:"Print a JSON summary (per-epoch loss, accuracy, time) on stdout."`
}

type trainJSON struct {
	Output      string             `json:"output"`
	SHA256      string             `json:"sha256"`
	Source      string             `json:"source"`
	Config      train.Config       `json:"config"`
	Images      int                `json:"images"`
	Workers     int                `json:"workers"`
	Epochs      []train.EpochStats `json:"epochs"`
	WallSeconds float64            `json:"wall_seconds"`
}

// Run implements the command.
func (c *TrainCmd) Run(g *Globals) error {
	start := time.Now()
	tr, trainSet, err := c.trainer(g)
	if err != nil {
		return err
	}
	cfg := tr.Config()
	if c.TestImages < 0 {
		return badInputf("--test-images %d: want 0 (all) or a positive count", c.TestImages)
	}
	if !c.NoTest {
		ts, err := g.Data.Test(c.TestImages)
		if err != nil {
			return err
		}
		tr.SetTest(&train.Dataset{Images: ts.Images, Labels: ts.Labels})
	}
	net := tr.Net()
	net.Meta.Source = train.Source(cfg, trainSet.N, net)
	arch, _ := train.Describe(net)
	g.Log.Info().Int("images", trainSet.N).Int("params", net.NumParams()).Int("epochs", cfg.Epochs).
		Int("batch", cfg.BatchSize).Str("optimizer", cfg.Optimizer).Float64("lr", cfg.LR).
		Str("schedule", cfg.Schedule).Uint64("seed", cfg.Seed).Int("workers", cfg.Workers).
		Str("layers", train.LayerList(arch)).Msg("training")

	if err := tr.Run(g.Ctx, train.Dataset{Images: trainSet.Images, Labels: trainSet.Labels}, trainLogger(g)); err != nil {
		if g.Ctx.Err() != nil {
			g.Log.Warn().Str("resume_with", "--resume "+cfg.Checkpoint).Msg("training interrupted; checkpoint saved")
		}
		return err
	}
	if err := modelfile.Save(c.Output, net); err != nil {
		return err
	}
	if err := os.Remove(cfg.Checkpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
		g.Log.Warn().Err(err).Msg("could not remove the checkpoint")
	}
	data, err := os.ReadFile(c.Output)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	g.Log.Info().Str("output", c.Output).Str("sha256", hex.EncodeToString(sum[:])).
		Dur("wall", time.Since(start).Round(time.Second)).Msg("model written")
	if c.JSON {
		return writeJSON(g.Out, trainJSON{Output: c.Output, SHA256: hex.EncodeToString(sum[:]), Source: net.Meta.Source,
			Config: cfg, Images: trainSet.N, Workers: cfg.Workers, Epochs: tr.History,
			WallSeconds: time.Since(start).Seconds()})
	}
	return nil
}

// trainer sets up the run (a new one, or the one a checkpoint continues)
// and loads its training images.
func (c *TrainCmd) trainer(g *Globals) (*train.Trainer, *dataset.Set, error) {
	cfg := train.Config{
		Epochs: c.Epochs, BatchSize: c.Batch, LR: c.LR, Optimizer: c.Optimizer,
		Momentum: c.Momentum, WeightDecay: c.WeightDecay, Schedule: c.Schedule,
		StepEpochs: c.StepEpochs, Gamma: c.Gamma, Workers: c.Threads, Checkpoint: c.Checkpoint,
	}
	if cfg.Workers <= 0 {
		cfg.Workers = g.Workers
	}
	if cfg.Checkpoint == "" {
		cfg.Checkpoint = c.Output + ".ckpt"
	}
	if c.Images < 0 {
		return nil, nil, badInputf("--images %d: want 0 (all) or a positive count", c.Images)
	}
	if c.Resume == "" {
		cfg.Seed = 1
		if c.Seed != nil {
			cfg.Seed = *c.Seed
		}
		set, err := g.Data.Train(c.Images)
		if err != nil {
			return nil, nil, err
		}
		net, err := c.network(cfg.Seed, set.Shape())
		if err != nil {
			return nil, nil, analysis.BadInput(err)
		}
		if err := analysis.Fits(net, set); err != nil {
			return nil, nil, err
		}
		tr, err := train.New(net, cfg)
		return tr, set, analysis.BadInput(err)
	}
	if c.Arch != "" || c.Layers != "" {
		return nil, nil, badInputf("--resume continues the checkpoint's network: --arch and --layers do not apply")
	}
	if c.Seed != nil && *c.Seed == 0 {
		return nil, nil, badInputf("--seed 0 cannot be checked against a checkpoint; leave --seed out to keep the checkpoint's")
	}
	if c.Seed != nil {
		cfg.Seed = *c.Seed // checked against the checkpoint's; 0 keeps it
	}
	tr, err := train.Resume(c.Resume, cfg)
	if err != nil {
		return nil, nil, analysis.BadInput(err)
	}
	e, b := tr.Position()
	g.Log.Info().Str("checkpoint", c.Resume).Int("epoch", e+1).Int("batch", b).Msg("resuming")
	if tr.Done() {
		return nil, nil, badInputf("checkpoint %s: the run is already finished", c.Resume)
	}
	images := c.Images
	if images == 0 && tr.Samples() != 60000 {
		images = tr.Samples() // the checkpoint's --images
	}
	set, err := g.Data.Train(images)
	if err != nil {
		return nil, nil, err
	}
	return tr, set, analysis.Fits(tr.Net(), set)
}

// trainLogger logs every epoch, and the running loss every 10 s.
func trainLogger(g *Globals) func(train.Progress) {
	lastLog := time.Now()
	return func(p train.Progress) {
		if p.EpochDone {
			ev := g.Log.Info().Int("epoch", p.Epoch).Int("of", p.Epochs).
				Str("loss", fmt.Sprintf("%.4f", p.Loss)).Str("train_acc", pct(p.Accuracy)).
				Dur("epoch_time", p.EpochTime.Round(time.Second/10))
			if p.HasTest {
				ev = ev.Str("test_loss", fmt.Sprintf("%.4f", p.TestLoss)).Str("test_acc", pct(p.TestAccuracy))
			}
			ev.Dur("elapsed", p.Elapsed.Round(time.Second)).Dur("eta", p.ETA.Round(time.Second)).Msg("epoch done")
			return
		}
		if time.Since(lastLog) < 10*time.Second {
			return
		}
		lastLog = time.Now()
		g.Log.Info().Int("epoch", p.Epoch).Str("batch", fmt.Sprintf("%d/%d", p.Batch, p.Batches)).
			Str("loss", fmt.Sprintf("%.4f", p.Loss)).Str("train_acc", pct(p.Accuracy)).
			Str("lr", fmt.Sprintf("%.3g", p.LR)).Dur("elapsed", p.Elapsed.Round(time.Second)).
			Dur("eta", p.ETA.Round(time.Second)).Msg("training")
	}
}

// network builds the untrained network for inputs of the given shape:
// --arch, --layers or the default.
func (c *TrainCmd) network(seed uint64, input []int) (*network.Network, error) {
	switch {
	case c.Arch != "":
		data, err := os.ReadFile(c.Arch)
		if err != nil {
			return nil, err
		}
		net, err := train.ParseArchitecture(data, seed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.Arch, err)
		}
		return net, nil
	case c.Layers != "":
		a, err := train.ParseLayers(c.Layers, input)
		if err != nil {
			return nil, err
		}
		return train.Build(a, seed)
	}
	return train.DefaultArchitecture(seed), nil
}

func pct(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }
