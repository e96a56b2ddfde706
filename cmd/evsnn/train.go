package main

import (
	"fmt"
	"os"
	"time"

	"github.com/evsnn/evsnn/analysis"
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

// Run implements the command.
func (c *TrainCmd) Run(g *Globals) error {
	req := analysis.TrainRequest{
		Output: c.Output, Seed: c.Seed, Layers: c.Layers, Resume: c.Resume,
		Images: c.Images, TestImages: c.TestImages, NoTest: c.NoTest, Data: g.Data,
		Config: train.Config{
			Epochs: c.Epochs, BatchSize: c.Batch, LR: c.LR, Optimizer: c.Optimizer,
			Momentum: c.Momentum, WeightDecay: c.WeightDecay, Schedule: c.Schedule,
			StepEpochs: c.StepEpochs, Gamma: c.Gamma, Workers: c.Threads, Checkpoint: c.Checkpoint,
		},
		Progress: trainLogger(g),
	}
	if req.Config.Workers <= 0 {
		req.Config.Workers = g.Workers
	}
	if c.Arch != "" {
		data, err := os.ReadFile(c.Arch)
		if err != nil {
			return analysis.BadInput(err)
		}
		req.Arch, req.ArchName = data, c.Arch
	}
	res, err := analysis.Train(g.Ctx, req, g.Env)
	if err != nil {
		return err
	}
	g.Log.Info().Str("output", res.Output).Str("sha256", res.SHA256).
		Dur("wall", time.Duration(res.WallSeconds*float64(time.Second)).Round(time.Second)).Msg("model written")
	if c.JSON {
		return writeJSON(g.Out, res)
	}
	return nil
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

func pct(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }
