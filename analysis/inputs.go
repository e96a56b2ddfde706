package analysis

import (
	"fmt"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/network"
)

// Request is what a run is asked for: a model, data, how many test images
// and the simulation options.
type Request struct {
	// Model is a model file (see package format); "" is the built-in
	// model.
	Model string
	Data  Data
	// Images is the number of test images, the first ones (0: all).
	Images int
	Opts   network.SimOptions
	// CalibImages is the number of training images an ANN is converted on
	// (0: the default of SPEC §7, convert.DefaultCalibImages).
	CalibImages int
	// Shard, if set, runs one shard of the Images: its results are a
	// partial result (Part) for Merge. The zero Shard is the whole run.
	Shard Shard
	// Version is the evsnn version a partial result records.
	Version string
	// Exit, if set, is an early-exit rule as ResolveExit reads it
	// ("exact", "margin:M@S", "loss:X@S"); it overrides Opts.Exit.
	// Engine is the engine a loss:X target is calibrated with (nil: the
	// event engine).
	Exit   string
	Engine network.Engine
}

// Inputs are what a run works on, loaded and checked: the model as given,
// the SNN to simulate, the test images and the options.
type Inputs struct {
	// ANN is the model as loaded: an ANN, or an SNN model file (then the
	// same network as SNN).
	ANN *network.Network
	// SNN is the model, converted with the defaults if it was an ANN.
	SNN  *network.Network
	Set  *dataset.Set
	Opts network.SimOptions
	// Model names the model in reports: its path, or BuiltinName.
	Model string
	// Provenance identifies the whole run and Shard the part of it Set
	// is (Opts.ImageOffset is Shard.First); both are set only when the
	// Request asked for a shard. See Part.
	Provenance *Provenance
	Shard      ShardRange
	// Exit is the early-exit rule as asked for and resolved (nil when
	// Request.Exit was empty); Opts.Exit is its Rule.
	Exit *ExitChoice
}

// ShardRange is shard K of N of a run and its images [First, End).
type ShardRange struct {
	K     int `json:"k"`
	N     int `json:"n"`
	First int `json:"first"`
	End   int `json:"end"`
}

// Sharded reports whether the inputs are a shard of a run: their results
// are a partial result (Part), not the run's.
func (in *Inputs) Sharded() bool { return in.Provenance != nil }

// Prepare checks the options, loads the model and the test images, checks
// that they fit each other (shape, classes, and pixels in [0, 1] for
// Poisson input: Check), converts an ANN with the defaults on the first
// 1,024 (CalibImages) training images of the data, and warns if the SNN was fitted for
// another T.
func Prepare(req Request, env Env) (*Inputs, error) {
	if err := req.Opts.Check(); err != nil {
		return nil, BadInput(err)
	}
	if req.Images < 0 {
		return nil, BadInput(fmt.Errorf("--images %d: must be ≥ 0", req.Images))
	}
	ann, err := LoadModel(req.Model, env)
	if err != nil {
		return nil, err
	}
	set, err := req.Data.Test(req.Images)
	if err != nil {
		return nil, err
	}
	name := req.Model
	if name == "" {
		name = BuiltinName
	}
	// The data is checked against the model before any conversion: the
	// SNN takes what the ANN takes.
	in := &Inputs{ANN: ann, SNN: ann, Set: set, Opts: req.Opts, Model: name}
	if err := in.Check(); err != nil {
		return nil, err
	}
	if in.SNN, err = ensureSNN(ann, req.Data, req.CalibImages, env); err != nil {
		return nil, err
	}
	warnFittedT(in.SNN, req.Opts.T, env)
	if req.Exit != "" {
		if in.Exit, err = ResolveExit(req.Exit, req.Engine, in.SNN, req.Data, req.Opts, env); err != nil {
			return nil, err
		}
		in.Opts.Exit = in.Exit.Rule
	}
	if !req.Shard.IsZero() {
		if err := in.shard(req, env); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// shard records the whole run's provenance and keeps the shard's images.
func (in *Inputs) shard(req Request, env Env) error {
	if in.ANN.IsSNN() {
		req.CalibImages = 0 // it does not change an SNN model file
	}
	p, err := provenance(req, in.Model, in.Set, in.SNN)
	if err != nil {
		return err
	}
	sh, err := in.ShardOf(req.Shard, p)
	if err != nil {
		return err
	}
	*in = *sh
	env.log().Info("shard", "shard", req.Shard.String(), "images", fmt.Sprintf("%d..%d of %d", in.Shard.First, in.Shard.End-1, p.Data.Images))
	return nil
}

// ShardOf returns the inputs of shard s of the run of in (whose Set holds
// every image of the run, and which is not a shard itself): the shard's
// images, Opts.ImageOffset moved to its first image (Poisson input is
// drawn per dataset index, so an image sees the same spikes in any
// shard), and the run's provenance p, which partial results record.
func (in *Inputs) ShardOf(s Shard, p *Provenance) (*Inputs, error) {
	if in.Sharded() {
		return nil, fmt.Errorf("shard of a shard")
	}
	if s.IsZero() {
		return nil, BadInput(fmt.Errorf("--shard none: not a shard"))
	}
	if err := s.Check(); err != nil {
		return nil, BadInput(fmt.Errorf("--shard: %w", err))
	}
	if s.N > in.Set.N {
		return nil, BadInput(fmt.Errorf("--shard %s: the run has %d images, fewer than %d shards", s, in.Set.N, s.N))
	}
	if p == nil || p.Data.Images != in.Set.N {
		return nil, fmt.Errorf("shard %s: provenance of another run", s)
	}
	first, end := s.Range(in.Set.N)
	out := *in
	out.Provenance = p
	out.Shard = ShardRange{K: s.K, N: s.N, First: first, End: end}
	out.Set = in.Set.Slice(first, end-first)
	out.Opts.ImageOffset += first
	return &out, nil
}

// Check reports whether the images fit the SNN: their shape, their classes,
// and, for Poisson input, pixels in [0, 1] (a pixel is a firing
// probability).
func (in *Inputs) Check() error {
	if err := Fits(in.SNN, in.Set); err != nil {
		return err
	}
	if in.Opts.Encoding == network.EncodingPoisson {
		if lo, hi := in.Set.PixelRange(); lo < 0 {
			how := ""
			if in.Set.Normalized() {
				how = " (normalised by --normalize)"
			}
			return BadInput(fmt.Errorf("poisson input: %s has pixels from %g to %g%s; a pixel is a firing probability and must lie in [0, 1]: use direct input, or data that is not normalised", in.Set.Name, lo, hi, how))
		}
	}
	return nil
}
