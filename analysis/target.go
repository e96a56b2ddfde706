package analysis

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/evsnn/evsnn/calibrate"
	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

// TargetOptions configure FindTarget: which configurations it tries.
type TargetOptions struct {
	// Target is the test accuracy to reach, in percent (99.0).
	Target float64
	// Ts are the step counts tried (nil: DefaultTargetTs).
	Ts []int
	// Pipelines are the calibration methods (calibrate.ParseMethod) the
	// model is calibrated with for each T; "none" (or nil Pipelines) is
	// the model as given — an SNN file as it is, an ANN converted with the
	// defaults. Calibrating needs an ANN or an uncalibrated SNN.
	Pipelines []string
	// V0Fraction is v(0) as a fraction of θ of the calibrated SNNs.
	V0Fraction float32
	// Seed seeds weight calibration.
	Seed uint64
	// Losses are the accuracy losses X of the loss:X exit rules tried
	// (the margin picked on the calibration set; nil: DefaultTargetLosses).
	Losses []float64
	// MinSteps is S of the margin rules (0: 1).
	MinSteps int
	// TimeAll times every candidate on one core, not only those reaching
	// the target.
	TimeAll bool
	// Workers run the traces and calibrations (0: all cores); the timed
	// runs use one core.
	Workers int
}

// The candidates FindTarget tries by default.
var (
	DefaultTargetTs     = []int{4, 8, 16, 32}
	DefaultTargetLosses = []float64{0, 0.1, 0.25, 0.5, 1}
)

// TargetCandidate is one configuration: the SNN (T, pipeline), an exit
// rule, its test accuracy and its time.
type TargetCandidate struct {
	T        int    `json:"T"`
	Pipeline string `json:"pipeline"`
	// Exit is the rule run ("none", "exact", "margin:M@S") and ExitSpec
	// how it was asked for ("loss:0.1": picked on the calibration set).
	Exit     string `json:"exit"`
	ExitSpec string `json:"exit_spec"`
	// Accuracy on the test images, MeanSteps per image, SOPs per image
	// (exact: from the timed run; estimated from the trace otherwise).
	Accuracy     float64 `json:"accuracy"`
	MeanSteps    float64 `json:"mean_steps"`
	SOPsPerImage float64 `json:"sops_per_image"`
	// Reaches says whether Accuracy ≥ the target.
	Reaches bool `json:"reaches_target"`
	// Timed says whether the candidate was timed: the simulation of the
	// test images on one core (GOMAXPROCS = 1), wall and CPU seconds.
	Timed       bool    `json:"timed"`
	WallSeconds float64 `json:"one_core_wall_seconds,omitempty"`
	CPUSeconds  float64 `json:"one_core_cpu_seconds,omitempty"`
}

// TargetSearch is what `evsnn bench --target-accuracy` prints: every
// candidate and the fastest one reaching the target.
type TargetSearch struct {
	Target      float64 `json:"target_accuracy_percent"`
	Images      int     `json:"images"`
	CalibImages int     `json:"calib_images"`
	Engine      string  `json:"engine"`
	// Calibration seconds per pipeline and T (not part of any
	// candidate's time: it is done once, before deployment).
	CalibrationSeconds map[string]float64 `json:"calibration_seconds,omitempty"`
	Candidates         []TargetCandidate  `json:"candidates"`
	// Best indexes the fastest timed candidate reaching the target, by
	// one-core CPU time (-1: none does).
	Best int    `json:"best"`
	CPU  string `json:"cpu"`
}

// FindTarget looks for the fastest configuration it knows that reaches
// o.Target on the test images of in: for every T of o.Ts and pipeline of
// o.Pipelines it builds the SNN (calibrating in.ANN on the first
// in.CalibImages training images), traces one full run of the test images
// and one of the calibration images (ExitTrace), and takes as candidates
// no exit, the exact rule and, for each loss X, margin:M@S with M picked
// on the calibration images (never the test set). The test accuracy of
// every candidate comes from the test trace (Replay is exact); those
// reaching the target (all with o.TimeAll) are then run for real on one
// core and timed, and their accuracy checked against the trace.
func (in *Inputs) FindTarget(ctx context.Context, data Data, calibImages int, o TargetOptions, env Env) (*TargetSearch, error) {
	if math.IsNaN(o.Target) || o.Target <= 0 || o.Target > 100 {
		return nil, BadInput(fmt.Errorf("--target-accuracy %g: want a percentage in (0, 100]", o.Target))
	}
	if o.Ts == nil {
		o.Ts = DefaultTargetTs
	}
	if o.Losses == nil {
		o.Losses = DefaultTargetLosses
	}
	if len(o.Pipelines) == 0 {
		o.Pipelines = []string{"none"}
	}
	o.MinSteps = max(o.MinSteps, 1)
	for _, T := range o.Ts {
		if T < 1 || T > 1<<12 {
			return nil, BadInput(fmt.Errorf("--target-T %d: must be between 1 and 4096", T))
		}
	}
	for _, x := range o.Losses {
		if math.IsNaN(x) || x < 0 || x > 100 {
			return nil, BadInput(fmt.Errorf("--target-losses %g: want percentage points in [0, 100]", x))
		}
	}
	if in.Set.Labels == nil {
		return nil, BadInput(fmt.Errorf("--target-accuracy: the test images have no labels"))
	}
	methods := map[string]calibrate.Method{}
	for _, p := range o.Pipelines {
		if p == "none" {
			continue
		}
		m, err := calibrate.ParseMethod(p)
		if err != nil {
			return nil, BadInput(fmt.Errorf("--calibrate %q: %w", p, err))
		}
		if in.ANN.IsSNN() && in.ANN.Meta.Calibration != nil {
			return nil, BadInput(fmt.Errorf("--calibrate %s: the model is calibrated already (%s for T=%d): give the ANN", p, in.ANN.Meta.Calibration.Method, in.ANN.Meta.Calibration.T))
		}
		methods[p] = m
	}
	if calibImages <= 0 {
		calibImages = convert.DefaultCalibImages
	}
	calib, err := data.Calibration(calibImages)
	if err != nil {
		return nil, err
	}
	if err := Fits(in.SNN, calib); err != nil {
		return nil, err
	}
	engine := event.Engine{}
	s := &TargetSearch{Target: o.Target, Images: in.Set.N, CalibImages: calib.N, Engine: engine.Name(), Best: -1,
		CalibrationSeconds: map[string]float64{}, CPU: cpuModel()}
	for _, T := range o.Ts {
		for _, p := range o.Pipelines {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			net, name := in.SNN, pipelineName(in.SNN, p)
			if p != "none" {
				env.log().Info("calibrating for the target search", "method", p, "T", T, "images", calib.N)
				var rep *calibrate.Report
				net, rep, err = calibrate.CalibrateContext(ctx, in.ANN, calib.Images, calibrate.Options{T: T, Method: methods[p],
					Seed: o.Seed, V0Fraction: o.V0Fraction, Workers: o.Workers})
				if err != nil {
					return nil, BadInput(fmt.Errorf("calibrate %s for T=%d: %w", p, T, err))
				}
				s.CalibrationSeconds[fmt.Sprintf("%s T=%d", p, T)] = rep.Wall.Seconds()
			}
			cands, err := in.targetCandidates(engine, net, name, calib, T, o, env)
			if err != nil {
				return nil, err
			}
			s.Candidates = append(s.Candidates, cands...)
		}
	}
	for i := range s.Candidates {
		if c := s.Candidates[i]; c.Reaches && c.Timed && (s.Best < 0 || c.seconds() < s.Candidates[s.Best].seconds()) {
			s.Best = i
		}
	}
	return s, nil
}

// seconds is the time candidates are ranked by: the CPU time of the run
// on one core, which other processes on the machine disturb less than
// its wall time (the wall time where the CPU time is unknown).
func (c *TargetCandidate) seconds() float64 {
	if c.CPUSeconds > 0 {
		return c.CPUSeconds
	}
	return c.WallSeconds
}

// pipelineName names the model as given: its calibration, if any.
func pipelineName(net *network.Network, p string) string {
	if p != "none" {
		return p
	}
	if c := net.Meta.Calibration; c != nil {
		return fmt.Sprintf("as given (%s, T=%d)", c.Method, c.T)
	}
	return "as given"
}

// targetCandidates traces net on the test and calibration images for T
// steps, makes the candidates and times those it should.
func (in *Inputs) targetCandidates(engine network.Engine, net *network.Network, name string, calib *dataset.Set, T int, o TargetOptions, env Env) ([]TargetCandidate, error) {
	opts := network.SimOptions{T: T, Encoding: in.Opts.Encoding, Seed: in.Opts.Seed, Workers: o.Workers}
	test, err := TraceExits(engine, net, in.Set, opts, env)
	if err != nil {
		return nil, err
	}
	ctr, err := TraceExits(engine, net, calib, opts, env)
	if err != nil {
		return nil, err
	}
	type rule struct {
		spec string
		exit network.Exit
		p    ExitPoint
	}
	rules := []rule{{"none", nil, test.Full()}}
	if p, ok := test.Exact(); ok {
		e, err := network.NewExactExit(net)
		if err != nil {
			return nil, err
		}
		rules = append(rules, rule{"exact", e, p})
	}
	seen := map[float64]bool{}
	for _, x := range o.Losses {
		m, _, err := ctr.PickMargin(x, o.MinSteps)
		if err != nil {
			return nil, err
		}
		if seen[m.M] {
			continue
		}
		seen[m.M] = true
		rules = append(rules, rule{"loss:" + strconv.FormatFloat(x, 'g', -1, 64), m, test.Replay(m)})
	}
	var out []TargetCandidate
	for _, r := range rules {
		c := TargetCandidate{T: T, Pipeline: name, Exit: r.p.Rule, ExitSpec: r.spec, Accuracy: r.p.Accuracy,
			MeanSteps: r.p.MeanSteps, SOPsPerImage: r.p.SOPsPerImage}
		c.Reaches = 100*c.Accuracy >= o.Target-1e-9
		if c.Reaches || o.TimeAll {
			run := opts
			run.Workers, run.Exit = 1, r.exit
			env.log().Info("timing a candidate on one core", "T", T, "pipeline", name, "exit", c.Exit)
			var res *network.SimResult
			wall, cpu, err := oneCore(func() error {
				var err error
				res, err = engine.Run(net, in.Set.Images, in.Set.Labels, run)
				return err
			})
			if err != nil {
				return nil, BadInput(err)
			}
			if acc := last(res.AccuracyByStep()); acc != c.Accuracy || mean(res.Steps) != c.MeanSteps {
				return nil, fmt.Errorf("target search: T=%d %s %s: the run gives %.4f in %.3f steps, its trace %.4f in %.3f", T, name, c.Exit, acc, mean(res.Steps), c.Accuracy, c.MeanSteps)
			}
			var sops int64
			for _, l := range res.Layers {
				sops += l.SOPs
			}
			c.SOPsPerImage = float64(sops+res.InputSOPs) / float64(res.Images)
			c.Timed, c.WallSeconds, c.CPUSeconds = true, wall.Seconds(), cpu.Seconds()
		}
		out = append(out, c)
	}
	return out, nil
}

// mean is the mean of v (0 for none).
func mean(v []int) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0
	for _, x := range v {
		s += x
	}
	return float64(s) / float64(len(v))
}

// WriteText prints the candidates, fastest reaching the target first.
func (s *TargetSearch) WriteText(w io.Writer) error {
	ew := &bytes.Buffer{}
	fmt.Fprintf(ew, "Target: %.2f %% on %d test images (%s engine; exit margins picked on %d training images; time: one core)\nCPU: %s\n",
		s.Target, s.Images, s.Engine, s.CalibImages, s.CPU)
	order := make([]int, len(s.Candidates))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		ca, cb := s.Candidates[a], s.Candidates[b]
		switch {
		case ca.Timed != cb.Timed:
			if ca.Timed {
				return -1
			}
			return 1
		case ca.Timed && ca.seconds() != cb.seconds():
			if ca.seconds() < cb.seconds() {
				return -1
			}
			return 1
		}
		return 0
	})
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\tT\tpipeline\texit\t(asked)\taccuracy\tmean steps\tSOPs/image\twall s\tCPU s\t")
	for _, i := range order {
		c := s.Candidates[i]
		mark := ""
		switch {
		case i == s.Best:
			mark = "best"
		case c.Reaches:
			mark = "ok"
		}
		wall, cpu := "—", "—"
		if c.Timed {
			wall, cpu = fmt.Sprintf("%.3f", c.WallSeconds), fmt.Sprintf("%.3f", c.CPUSeconds)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%.2f %%\t%.2f\t%.0f\t%s\t%s\t\n", mark, c.T, c.Pipeline, c.Exit, c.ExitSpec,
			100*c.Accuracy, c.MeanSteps, c.SOPsPerImage, wall, cpu)
	}
	tw.Flush()
	if len(s.CalibrationSeconds) > 0 {
		keys := make([]string, 0, len(s.CalibrationSeconds))
		for k := range s.CalibrationSeconds {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %.1f s", k, s.CalibrationSeconds[k]))
		}
		fmt.Fprintf(ew, "calibration (not in the times): %s\n", strings.Join(parts, ", "))
	}
	if s.Best < 0 {
		fmt.Fprintf(ew, "no candidate reaches %.2f %%\n", s.Target)
	} else {
		c := s.Candidates[s.Best]
		fmt.Fprintf(ew, "fastest reaching %.2f %%: T=%d, %s, --early-exit %s (%s): %.2f %% in %.3f s CPU (%.3f s wall) on one core\n",
			s.Target, c.T, c.Pipeline, c.Exit, c.ExitSpec, 100*c.Accuracy, c.CPUSeconds, c.WallSeconds)
	}
	return flush(w, ew)
}

// Check returns an error if no candidate reaches the target.
func (s *TargetSearch) Check() error {
	if s.Best < 0 {
		return fmt.Errorf("bench: no candidate reaches %.2f %%", s.Target)
	}
	return nil
}
