package analysis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/network"
	"github.com/evsnn/evsnn/train"
)

// TrainRequest is a training run as `evsnn train` asks for it: a new run
// (an architecture and a seed) or the continuation of a checkpoint, on the
// training split of Data, written to Output.
type TrainRequest struct {
	// Output is where the trained model file goes (written atomically);
	// Config.Checkpoint defaults to Output + ".ckpt".
	Output string
	// Config holds the optimiser settings (zero values: train's defaults)
	// and the workers; its Seed and Test are set here.
	Config train.Config
	// Seed of a new run (nil: 1). With Resume it must be the checkpoint's.
	Seed *uint64
	// Arch (a JSON architecture, see package train) or Layers (a layer
	// list such as "conv16k5p2,relu,pool2,flatten,fc10") gives a new
	// run's network; neither: train.DefaultArchitecture. ArchName names
	// Arch in errors.
	Arch     []byte
	ArchName string
	Layers   string
	// Resume, if set, is a checkpoint whose run continues (its
	// architecture and settings are kept).
	Resume string
	// Images limits training to the first Images training images (0:
	// all); TestImages the test images evaluated after each epoch (0:
	// all); NoTest evaluates none.
	Images, TestImages int
	NoTest             bool
	Data               Data
	// Progress, if set, sees every batch and epoch (train.Trainer.Run).
	Progress func(train.Progress)
}

// TrainResult is what a finished training run wrote and measured.
type TrainResult struct {
	Output      string             `json:"output"`
	SHA256      string             `json:"sha256"`
	Source      string             `json:"source"`
	Config      train.Config       `json:"config"`
	Images      int                `json:"images"`
	Workers     int                `json:"workers"`
	Epochs      []train.EpochStats `json:"epochs"`
	WallSeconds float64            `json:"wall_seconds"`
	// Params is the trained network's parameter count and Layers its
	// architecture as a layer list (train.LayerList).
	Params int    `json:"params"`
	Layers string `json:"layers"`
}

// ErrInterrupted wraps the error of a run stopped by its context; the
// checkpoint (TrainResult is nil, the error names it) lets it resume.
var ErrInterrupted = errors.New("training interrupted")

// Train runs req to the end, writes the model file and removes the
// checkpoint. Stopped by ctx, it leaves the checkpoint and returns an
// error wrapping ErrInterrupted that names it.
func Train(ctx context.Context, req TrainRequest, env Env) (*TrainResult, error) {
	start := time.Now()
	tr, set, err := newTrainer(req, env)
	if err != nil {
		return nil, err
	}
	cfg := tr.Config()
	if req.TestImages < 0 {
		return nil, BadInput(fmt.Errorf("--test-images %d: want 0 (all) or a positive count", req.TestImages))
	}
	if !req.NoTest {
		ts, err := req.Data.Test(req.TestImages)
		if err != nil {
			return nil, err
		}
		tr.SetTest(&train.Dataset{Images: ts.Images, Labels: ts.Labels})
	}
	net := tr.Net()
	net.Meta.Source = train.Source(cfg, set.N, net)
	arch, _ := train.Describe(net)
	layers := train.LayerList(arch)
	env.log().Info("training", "images", set.N, "params", net.NumParams(), "epochs", cfg.Epochs,
		"batch", cfg.BatchSize, "optimizer", cfg.Optimizer, "lr", cfg.LR, "schedule", cfg.Schedule,
		"seed", cfg.Seed, "workers", cfg.Workers, "layers", layers)
	progress := req.Progress
	if progress == nil {
		progress = func(train.Progress) {}
	}
	if err := tr.Run(ctx, train.Dataset{Images: set.Images, Labels: set.Labels}, progress); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w (checkpoint saved: continue with --resume %s): %w", ErrInterrupted, cfg.Checkpoint, err)
		}
		return nil, err
	}
	if err := modelfile.Save(req.Output, net); err != nil {
		return nil, err
	}
	if err := os.Remove(cfg.Checkpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
		env.log().Warn("could not remove the checkpoint", "err", err)
	}
	data, err := os.ReadFile(req.Output)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	return &TrainResult{
		Output: req.Output, SHA256: hex.EncodeToString(sum[:]), Source: net.Meta.Source,
		Config: cfg, Images: set.N, Workers: cfg.Workers, Epochs: tr.History,
		WallSeconds: time.Since(start).Seconds(), Params: net.NumParams(), Layers: layers,
	}, nil
}

// newTrainer sets up the run (a new one, or the one a checkpoint
// continues) and loads its training images.
func newTrainer(req TrainRequest, env Env) (*train.Trainer, *dataset.Set, error) {
	cfg := req.Config
	if cfg.Checkpoint == "" {
		cfg.Checkpoint = req.Output + ".ckpt"
	}
	if req.Images < 0 {
		return nil, nil, BadInput(fmt.Errorf("--images %d: want 0 (all) or a positive count", req.Images))
	}
	if req.Resume == "" {
		cfg.Seed = 1
		if req.Seed != nil {
			cfg.Seed = *req.Seed
		}
		set, err := req.Data.Train(req.Images)
		if err != nil {
			return nil, nil, err
		}
		net, err := req.network(cfg.Seed, set.Shape())
		if err != nil {
			return nil, nil, BadInput(err)
		}
		if err := Fits(net, set); err != nil {
			return nil, nil, err
		}
		tr, err := train.New(net, cfg)
		return tr, set, BadInput(err)
	}
	if req.Arch != nil || req.Layers != "" {
		return nil, nil, BadInput(errors.New("--resume continues the checkpoint's network: --arch and --layers do not apply"))
	}
	if req.Seed != nil && *req.Seed == 0 {
		return nil, nil, BadInput(errors.New("--seed 0 cannot be checked against a checkpoint; leave --seed out to keep the checkpoint's"))
	}
	if req.Seed != nil {
		cfg.Seed = *req.Seed // checked against the checkpoint's
	}
	tr, err := train.Resume(req.Resume, cfg)
	if err != nil {
		return nil, nil, BadInput(err)
	}
	e, b := tr.Position()
	env.log().Info("resuming", "checkpoint", req.Resume, "epoch", e+1, "batch", b)
	if tr.Done() {
		return nil, nil, BadInput(fmt.Errorf("checkpoint %s: the run is already finished", req.Resume))
	}
	images := req.Images
	if images == 0 && tr.Samples() != 60000 {
		images = tr.Samples() // the checkpoint's --images
	}
	set, err := req.Data.Train(images)
	if err != nil {
		return nil, nil, err
	}
	return tr, set, Fits(tr.Net(), set)
}

// network builds a new run's untrained network for inputs of the given
// shape: Arch, Layers or the default.
func (req TrainRequest) network(seed uint64, input []int) (*network.Network, error) {
	switch {
	case req.Arch != nil:
		net, err := train.ParseArchitecture(req.Arch, seed)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", req.ArchName, err)
		}
		return net, nil
	case req.Layers != "":
		a, err := train.ParseLayers(req.Layers, input)
		if err != nil {
			return nil, err
		}
		return train.Build(a, seed)
	}
	return train.DefaultArchitecture(seed), nil
}
