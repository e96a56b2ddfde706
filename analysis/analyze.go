package analysis

import (
	"fmt"
	"time"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

// AnalyzeOptions say what Analyze measures besides the run itself.
type AnalyzeOptions struct {
	// Engine simulates the SNN (nil: the event engine).
	Engine network.Engine
	// ErrorImages is how many of the first images the conversion error
	// ||x_l − s̄_l|| is measured on (0: none).
	ErrorImages int
	// Energy holds the energy constants (the zero value: the defaults).
	Energy profile.Energy
	// Compare also runs the other engine (dense for event, event for
	// dense) on the same images and compares the two.
	Compare bool
	// CompareImages limits the comparison to the first N images (0: all);
	// both engines then run on that subset.
	CompareImages int
}

// Analysis is one profiled run (the profile, report and demo commands):
// the SNN on the test images with one engine, with the raster of the first
// image; the conversion error on the first ErrorImages of them; the ANN's
// accuracy; and, optionally, the other engine on the same images.
type Analysis struct {
	*Inputs
	Options AnalyzeOptions

	// Result is Engine's run on all images, with the raster of image 0.
	Result *network.SimResult
	// ErrRun is the run on the first ErrorImages images with per-neuron
	// counts, and ErrAct the ANN's activations on them (nil without
	// ErrorImages).
	ErrRun *network.SimResult
	ErrAct *network.Activations
	// Profile is Result's profile, with the conversion error of ErrRun.
	Profile *profile.Profile
	// Comparison is nil unless Options.Compare.
	Comparison  *Comparison
	ANNAccuracy float64
	ANNWall     time.Duration
	// ANNPred are the ANN's predictions on the images.
	ANNPred []int
	// Costs are the network's costs the profile was built from, and
	// ErrorSums the sums its conversion error was computed from (nil
	// without ErrorImages); a partial result carries both.
	Costs     *profile.Costs
	ErrorSums []profile.ErrorSums
}

// Analyze simulates, profiles and (optionally) compares.
func (in *Inputs) Analyze(o AnalyzeOptions, env Env) (*Analysis, error) {
	if o.Engine == nil {
		o.Engine = event.Engine{}
	}
	if o.Energy == (profile.Energy{}) {
		o.Energy = profile.DefaultEnergy()
	}
	if err := o.Energy.Check(); err != nil {
		return nil, BadInput(err)
	}
	if o.ErrorImages < 0 {
		return nil, BadInput(fmt.Errorf("--error-images %d: must be ≥ 0", o.ErrorImages))
	}
	if o.CompareImages < 0 {
		return nil, BadInput(fmt.Errorf("--compare-images %d: must be ≥ 0", o.CompareImages))
	}
	a := &Analysis{Inputs: in, Options: o}
	annPred, acc, wall, err := predict(in.ANN, in.Set, env)
	if err != nil {
		return nil, err
	}
	a.ANNAccuracy, a.ANNWall, a.ANNPred = acc, wall, annPred

	opts := in.Opts
	opts.Raster = true
	if a.Result, err = Simulate(o.Engine, in.SNN, in.Set, opts, env); err != nil {
		return nil, err
	}
	if o.Compare {
		if err := a.compare(annPred, env); err != nil {
			return nil, err
		}
	}
	if a.Costs, err = profile.NetCosts(in.SNN); err != nil {
		return nil, err
	}
	if a.Profile, err = profile.FromCosts(a.Costs, a.Result, o.Energy); err != nil {
		return nil, err
	}
	a.Profile.SetANNAccuracy(a.ANNAccuracy)
	if o.ErrorImages > 0 {
		if err := a.conversionError(env); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// compare runs the other engine (and, on a subset, this one again) on the
// same images.
func (a *Analysis) compare(annPred []int, env Env) error {
	mineDense := engines.IsDense(a.Options.Engine.Name())
	other := network.Engine(dense.Engine{})
	if mineDense {
		other = event.Engine{}
	}
	set, mine := a.Set, a.Result
	if n := a.firstImages(a.Options.CompareImages); a.Options.CompareImages > 0 && n < a.Set.N {
		set, annPred = a.Set.Slice(0, n), annPred[:n]
		var err error
		if mine, err = Simulate(a.Options.Engine, a.SNN, set, a.Opts, env); err != nil {
			return err
		}
	}
	ores, err := Simulate(other, a.SNN, set, a.Opts, env)
	if err != nil {
		return err
	}
	dres, eres := ores, mine
	if mineDense {
		dres, eres = mine, ores
	}
	a.Comparison = CompareResults(set.Labels, annPred, 0, dres, eres)
	a.Comparison.ANNSeconds = a.ANNWall.Seconds() * float64(set.N) / float64(a.Set.N)
	if len(a.Comparison.Disagreements) > 0 {
		env.log().Warn("the event and dense engines disagree on some predictions (see compare.json)", "images", len(a.Comparison.Disagreements))
	}
	return nil
}

// firstImages is how many of the images of a (a shard's: they start at
// Shard.First of the run) are among the first n images of the run.
func (a *Analysis) firstImages(n int) int {
	return min(a.Set.N, max(0, n-a.Shard.First))
}

// conversionError measures ||x_l − s̄_l|| on the first ErrorImages images
// of the run (those of them in a shard's images) and sets it in the
// profile.
func (a *Analysis) conversionError(env Env) error {
	sub := a.Set.Slice(0, a.firstImages(a.Options.ErrorImages))
	a.ErrorSums = make([]profile.ErrorSums, len(a.Result.Layers))
	if sub.N > 0 {
		opts := a.Opts
		opts.KeepCounts = true
		// The error compares rates over T steps: an exit rule would cut
		// the counts short.
		opts.Exit = nil
		res, err := a.Options.Engine.Run(a.SNN, sub.Images, sub.Labels, opts)
		if err != nil {
			return BadInput(err)
		}
		act, err := a.ANN.Forward(sub.Images, sub.N)
		if err != nil {
			return BadInput(err)
		}
		if a.ErrorSums, err = profile.ConversionSums(a.SNN, res, act); err != nil {
			return err
		}
		a.ErrRun, a.ErrAct = res, act
	}
	if err := a.Profile.SetConversionError(a.ErrorSums); err != nil {
		return err
	}
	env.log().Info("conversion error measured against the ANN", "images", sub.N)
	return nil
}

// ErrorImages is the number of images the conversion error was measured
// on (0: none).
func (a *Analysis) ErrorImages() int {
	if a.ErrRun == nil {
		return 0
	}
	return a.ErrRun.Images
}
