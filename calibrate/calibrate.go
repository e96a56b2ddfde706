package calibrate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/network"
)

// DefaultImages is the size of the calibration set (SPEC §3): the first
// 1,024 MNIST training images.
const DefaultImages = 1024

// Options configure Calibrate.
type Options struct {
	// T is the number of steps the SNN is calibrated for (required).
	T int
	// Method is the set of steps to apply to every layer.
	Method Method
	// Seed seeds weight calibration's mini-batches.
	Seed uint64

	// Candidates is the number of thresholds the search considers,
	// θmax·(1 − Step·i) for i = 0..Candidates−1 (default 95, Step 0.01).
	Candidates int
	Step       float64
	// FullSearch evaluates every candidate. By default the search is
	// coarse to fine: every 5th candidate, then the 8 around the best one
	// (per layer: around each of the best two; at most 35 evaluations
	// instead of 95).
	FullSearch bool
	// PerLayer searches one threshold per layer, as Li et al. do, instead
	// of one per output channel (per neuron for a Linear layer), the
	// default: the search, like BC, is separable over channels, and per
	// channel it does not depend on how the ANN's channels are scaled —
	// BatchNorm folding scales them arbitrarily — while one threshold per
	// layer fails at small T on such networks (see the table in doc.go).
	PerLayer bool
	// PerChannel asks for one threshold per channel, the default; it is
	// kept for callers that set it and cannot be combined with PerLayer.
	PerChannel bool

	// Neuron model when net is an ANN (an SNN keeps its own): Alpha 1 (IF)
	// by default, soft reset, v(0) = V0Fraction·θ.
	Alpha      float32
	Reset      network.Reset
	V0Fraction float32

	// Weight calibration: Adam iterations, learning rate (cosine-annealed
	// to 0), mini-batch size, and whether the bias is trained too.
	WCIters  int
	WCLR     float64
	WCBatch  int
	WCNoBias bool
	// WCKeepZeros keeps the weights that are exactly zero at zero through
	// weight calibration (their gradient is dropped): a pruned layer,
	// calibrated as a dense one with zeros for its missing synapses,
	// keeps its sparsity.
	WCKeepZeros bool

	// KeepWorse keeps a correction even when it raises the layer's error
	// on the calibration set; by default such a step is undone (and the
	// report says so).
	KeepWorse bool

	// Workers is the number of goroutines (0: GOMAXPROCS). Results do not
	// depend on it.
	Workers int
	// Engine, if set, runs the calibrated SNN on the calibration set once
	// more and the report gives each layer's error as that engine measures
	// it, and how many spike counts differ from the calibrator's own
	// layer simulation.
	Engine network.Engine
	// Progress, if set, is called after each layer.
	Progress func(LayerReport)

	// study selects variants of the method for the comparison of
	// study_test.go (the table in doc.go); the zero value is the method.
	study study
}

// Default values of the tunable options.
const (
	DefaultCandidates = 95
	DefaultStep       = 0.01
	DefaultWCIters    = 300
	DefaultWCLR       = 1e-5
	DefaultWCBatch    = 32
)

func (o *Options) setDefaults() error {
	if o.T < 1 || o.T > 1<<20 {
		return fmt.Errorf("T = %d: must be between 1 and %d", o.T, 1<<20)
	}
	if o.PerLayer && o.PerChannel {
		return fmt.Errorf("thresholds: per layer and per channel both asked for")
	}
	o.PerChannel = !o.PerLayer
	if o.Candidates == 0 {
		o.Candidates = DefaultCandidates
	}
	if o.Step == 0 {
		o.Step = DefaultStep
	}
	if o.Candidates < 1 || o.Step < 0 || o.Step*float64(o.Candidates-1) >= 1 {
		return fmt.Errorf("threshold search: %d candidates with step %g reach a non-positive threshold", o.Candidates, o.Step)
	}
	if o.Alpha == 0 {
		o.Alpha = 1
	}
	if o.Reset == "" {
		o.Reset = network.ResetSoft
	}
	if o.WCIters == 0 {
		o.WCIters = DefaultWCIters
	}
	if o.WCLR == 0 {
		o.WCLR = DefaultWCLR
	}
	if o.WCBatch == 0 {
		o.WCBatch = DefaultWCBatch
	}
	if o.WCIters < 0 || o.WCLR < 0 || o.WCBatch < 1 {
		return fmt.Errorf("weight calibration: %d iterations, learning rate %g, batch %d", o.WCIters, o.WCLR, o.WCBatch)
	}
	if o.Workers < 0 {
		return fmt.Errorf("workers = %d: must be ≥ 0", o.Workers)
	}
	return nil
}

// Report is what a calibration did, layer by layer.
type Report struct {
	Method string `json:"method"`
	T      int    `json:"T"`
	Images int    `json:"images"`
	Seed   uint64 `json:"seed"`
	// Thresholds is "per-channel" (the default) or "per-layer".
	Thresholds string        `json:"thresholds"`
	Layers     []LayerReport `json:"layers"`
	// Engine is the engine that re-measured the errors, if any.
	Engine      string        `json:"engine,omitempty"`
	Wall        time.Duration `json:"-"`
	WallSeconds float64       `json:"wall_seconds"`
}

// LayerReport is one spiking layer's calibration. Errors are
// ||x_l − s̄_l||² summed over the layer's neurons and averaged over the
// calibration images.
type LayerReport struct {
	Name    string `json:"name"`
	Layer   int    `json:"layer"` // index in Network.Layers
	Neurons int    `json:"neurons"`
	// MaxActivation is the ANN's largest activation on the calibration
	// set (per channel with PerChannel).
	MaxActivation []float32 `json:"max_activation"`
	// Threshold is the final θ (one, or one per channel).
	Threshold []float32 `json:"threshold"`
	// Steps are in the order they ran; the first, "convert", is the
	// plain conversion the calibration started from.
	Steps []StepReport `json:"steps"`
	// Error is the final error.
	Error float64 `json:"error"`
	// EngineError is the final error measured by Options.Engine, and
	// EngineMismatch the number of (image, neuron) spike counts in which
	// the engine and the calibrator's simulation differ.
	EngineError    *float64      `json:"engine_error,omitempty"`
	EngineMismatch *int          `json:"engine_count_mismatch,omitempty"`
	Wall           time.Duration `json:"-"`
	WallSeconds    float64       `json:"wall_seconds"`
}

// StepReport is one step on one layer.
type StepReport struct {
	Step   string  `json:"step"`
	Before float64 `json:"error_before"`
	After  float64 `json:"error_after"`
	// Kept is false when the step raised the error and was undone.
	Kept bool `json:"kept"`
	// Detail says what the step chose, e.g. the threshold.
	Detail string `json:"detail,omitempty"`
}

// ErrCalibrated is returned for a network that is already calibrated.
var ErrCalibrated = errors.New("the network is already calibrated; calibrate the ANN or its plain conversion")

// Calibrate converts net, an ANN or a converted but not yet calibrated
// SNN, into an SNN calibrated for opts.T steps on the calibration images
// (count × net.Input.Size() values, pixels in [0,1]). Layers are
// calibrated one after the other, each with all earlier layers already
// converted and calibrated (SPEC §4). net is not modified.
//
// An SNN given as net keeps its thresholds (as the starting point of the
// search), neuron model and v(0) fraction; a bias shift it carries is
// undone to recover the ANN's biases, and implies Method.Shift.
func Calibrate(net *network.Network, images []float32, opts Options) (*network.Network, *Report, error) {
	return CalibrateContext(context.Background(), net, images, opts)
}

// CalibrateContext is Calibrate that stops, with ctx's error, when ctx is
// done; it looks between layers and between a layer's steps.
func CalibrateContext(ctx context.Context, net *network.Network, images []float32, opts Options) (*network.Network, *Report, error) {
	start := time.Now()
	if err := opts.setDefaults(); err != nil {
		return nil, nil, err
	}
	if net.Meta.Calibration != nil {
		return nil, nil, fmt.Errorf("%w (it is calibrated for T=%d by %s)", ErrCalibrated, net.Meta.Calibration.T, net.Meta.Calibration.Method)
	}
	if err := net.Validate(); err != nil {
		return nil, nil, err
	}
	size := net.Input.Size()
	if len(images) == 0 || len(images)%size != 0 {
		return nil, nil, fmt.Errorf("calibration images: %d values is not a whole number of %v inputs", len(images), net.Input)
	}
	count := len(images) / size
	for i, v := range images {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, nil, fmt.Errorf("calibration image %d: value %d is %v", i/size, i%size, v)
		}
	}
	ann, spk, err := recoverANN(net, &opts)
	if err != nil {
		return nil, nil, err
	}
	pl, err := planStages(ann)
	if err != nil {
		return nil, nil, err
	}
	stages := pl.stages
	la, err := convert.Activations(ann, images, count)
	if err != nil {
		return nil, nil, err
	}
	xs := la.Values
	// The plain conversion the calibration starts from: the given SNN's
	// thresholds, or the ANN's maxima on the calibration set.
	thresholds := make([][]float32, len(stages))
	stat := "given"
	if net.Meta.Conversion != nil {
		stat = net.Meta.Conversion.Statistic
	}
	for k := range stages {
		thresholds[k] = spk[k].Threshold
		if thresholds[k] == nil {
			thresholds[k] = maxThresholds(&stages[k], xs[k], count, opts.PerChannel)
			stat = "max"
			if opts.PerChannel {
				stat = "max-per-channel"
			}
		}
	}
	neuron := "if"
	if spk[0].Alpha != 1 {
		neuron = "lif"
	}
	snn, err := convert.Convert(ann, thresholds, convert.Options{Statistic: stat, Images: count, Neuron: neuron,
		Alpha: spk[0].Alpha, Reset: spk[0].Reset, V0Fraction: spk[0].V0Fraction})
	if err != nil {
		return nil, nil, err
	}
	for k, st := range stages {
		s := snn.Layers[st.index].(*network.Spiking)
		s.Alpha, s.Reset, s.V0Fraction = spk[k].Alpha, spk[k].Reset, spk[k].V0Fraction
	}
	shapes, err := snn.Shapes()
	if err != nil {
		return nil, nil, err
	}
	c := &calibrator{ctx: ctx, opts: opts, snn: snn, shapes: shapes, plan: pl, images: images, count: count, xs: xs,
		spikes: map[int]*spikes{}, life: pl.sourceLife(), sub: subsets{count, count}}
	if h := opts.study.heldOut; h > 0 {
		c.sub.fit = max(1, count-int(h*float64(count)))
	}
	c.sub.stat = c.sub.fit
	if n := opts.study.statImages; n > 0 {
		c.sub.stat = min(n, c.sub.fit)
	}
	rep := &Report{Method: opts.Method.String(), T: opts.T, Images: count, Seed: opts.Seed, Thresholds: "per-channel"}
	if opts.PerLayer {
		rep.Thresholds = "per-layer"
	}
	finals := make([][]int32, len(stages))
	for k := range stages {
		lr, m, err := c.layer(k)
		if err != nil {
			return nil, nil, err
		}
		finals[k] = m.counts
		rep.Layers = append(rep.Layers, lr)
		if opts.Progress != nil {
			opts.Progress(lr)
		}
	}
	snn.Meta.Calibration = &network.Calibration{Method: opts.Method.String(), T: opts.T, Images: count, Seed: opts.Seed}
	for _, l := range rep.Layers {
		cl := network.CalibrationLayer{Name: l.Name, Threshold: append([]float32(nil), l.Threshold...),
			ErrorBefore: l.Steps[0].After, ErrorAfter: l.Error}
		for _, s := range l.Steps[1:] {
			cl.Steps = append(cl.Steps, network.CalibrationStep{Step: s.Step, Kept: s.Kept, ErrorBefore: s.Before, ErrorAfter: s.After, Detail: s.Detail})
		}
		snn.Meta.Calibration.Layers = append(snn.Meta.Calibration.Layers, cl)
	}
	cv := snn.Meta.Conversion
	if opts.Method.Search {
		cv.Statistic = "search"
		if opts.PerChannel {
			cv.Statistic = "search-per-channel"
		}
	}
	cv.BiasShift, cv.BiasShiftT = opts.Method.Shift, 0
	if opts.Method.Shift {
		cv.BiasShiftT = opts.T
	}
	cv.Description = fmt.Sprintf("%s; calibrated (%s) for T=%d on %d images", cv.Description, opts.Method.Name(), opts.T, count)
	if err := snn.Validate(); err != nil {
		return nil, nil, fmt.Errorf("calibrated network: %w", err)
	}
	if opts.Engine != nil {
		if err := c.verify(snn, rep, finals); err != nil {
			return nil, nil, err
		}
	}
	rep.Wall = time.Since(start)
	rep.WallSeconds = rep.Wall.Seconds()
	return snn, rep, nil
}

// recoverANN returns the ANN behind net and, per ReLU of the ANN, the
// spiking layer to put in its place (Threshold nil: not yet known).
func recoverANN(net *network.Network, opts *Options) (*network.Network, []*network.Spiking, error) {
	ann := net.Clone()
	ann.Meta.Conversion, ann.Meta.Calibration = nil, nil
	var spk []*network.Spiking
	shapes, err := net.Shapes()
	if err != nil {
		return nil, nil, err
	}
	for i, l := range net.Layers {
		switch l := l.(type) {
		case *network.ReLU:
			spk = append(spk, &network.Spiking{LayerName: l.LayerName, Alpha: opts.Alpha, Reset: opts.Reset, V0Fraction: opts.V0Fraction})
		case *network.Spiking:
			if l.V0 != nil {
				return nil, nil, fmt.Errorf("layer %q has per-neuron initial potentials: %w", l.LayerName, ErrCalibrated)
			}
			s := *l
			s.Threshold = append([]float32(nil), l.Threshold...)
			if opts.PerChannel && len(s.Threshold) == 1 {
				s.Threshold = nil // search per channel from the per-channel maxima
			}
			spk = append(spk, &s)
			ann.Layers[i] = &network.ReLU{LayerName: l.LayerName}
			if cv := net.Meta.Conversion; cv != nil && cv.BiasShift && cv.BiasShiftT > 0 {
				opts.Method.Shift = true
				j := net.InputOf(i)
				var bias []float32
				switch w := ann.Layers[j].(type) {
				case *network.Conv2d:
					bias = w.Bias
				case *network.Linear:
					bias = w.Bias
				case *network.Add:
					bias = w.Bias
				}
				if bias == nil {
					return nil, nil, fmt.Errorf("layer %q: bias shift recorded but no conv2d, linear or add bias before it", l.LayerName)
				}
				per := shapes[i].Size() / shapes[i][0]
				for c := range bias {
					bias[c] -= l.ThresholdAt(shapes[i], c*per) / float32(2*cv.BiasShiftT)
				}
			}
		}
	}
	return ann, spk, nil
}

// maxThresholds is the largest activation of the layer (per channel if
// perChannel); a channel that never activates keeps the layer's maximum.
func maxThresholds(st *stage, x []float32, count int, perChannel bool) []float32 {
	mx := channelMax(st, x, count)
	var all float32
	for _, m := range mx {
		all = max(all, m)
	}
	if all <= 0 {
		all = 1
	}
	if !perChannel {
		return []float32{all}
	}
	for c, m := range mx {
		if m <= 0 {
			mx[c] = all
		}
	}
	return mx
}

func channelMax(st *stage, x []float32, count int) []float32 {
	mx := make([]float32, st.channels)
	for i := 0; i < count; i++ {
		xi := x[i*st.n : (i+1)*st.n]
		for c := range mx {
			for _, v := range xi[c*st.perCh : (c+1)*st.perCh] {
				mx[c] = max(mx[c], v)
			}
		}
	}
	return mx
}

// expand returns one threshold per channel.
func expand(th []float32, channels int) []float32 {
	if len(th) == channels {
		return append([]float32(nil), th...)
	}
	out := make([]float32, channels)
	for i := range out {
		out[i] = th[0]
	}
	return out
}
