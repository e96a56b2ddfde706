package analysis

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/internal/fsutil"
	"github.com/evsnn/evsnn/network"
)

// ExitChoice is an early-exit rule as asked for (--early-exit) and as
// resolved for the network: exact, margin:M[@S], or loss:X[@S] turned
// into the margin rule picked on the calibration set.
type ExitChoice struct {
	// Spec is the rule as given ("loss:0.1").
	Spec string
	// Rule is what the engines run (nil: none).
	Rule network.Exit
	// Calibration says how a loss:X target was resolved (nil otherwise).
	Calibration *ExitCalibration
}

// ExitCalibration is how `--early-exit loss:X[@S]` was resolved: the
// smallest margin M whose accuracy on the calibration set (the first
// 1,024 training images of the data, never the test set) is within X
// percentage points of the full run's there, from one traced full run of
// the calibration set (ExitTrace.PickMargin).
type ExitCalibration struct {
	Target string `json:"target"`
	// LossPoints is X.
	LossPoints float64 `json:"loss_points"`
	Images     int     `json:"images"`
	Engine     string  `json:"engine"`
	// Margin and MinSteps are the rule picked: margin:Margin@MinSteps.
	Margin   float64 `json:"margin"`
	MinSteps int     `json:"min_steps"`
	// FullAccuracy is the full run's accuracy on the calibration images;
	// Accuracy and MeanSteps the picked rule's.
	FullAccuracy float64 `json:"full_accuracy"`
	Accuracy     float64 `json:"accuracy"`
	MeanSteps    float64 `json:"mean_steps"`
}

// ParseLoss reads "loss:X" or "loss:X@S": an accuracy loss of X
// percentage points, margin rules stopping no earlier than step S.
func ParseLoss(spec string) (loss float64, minSteps int, ok bool, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(spec), "loss:")
	if !ok {
		return 0, 0, false, nil
	}
	minSteps = 1
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		n, err := strconv.Atoi(rest[at+1:])
		if err != nil || n < 1 {
			return 0, 0, true, fmt.Errorf("early exit %q: the step after @ must be an integer ≥ 1", spec)
		}
		minSteps, rest = n, rest[:at]
	}
	loss, err = strconv.ParseFloat(rest, 64)
	if err != nil || math.IsNaN(loss) || loss < 0 || loss > 100 {
		return 0, 0, true, fmt.Errorf("early exit %q: the accuracy loss must be a number of percentage points in [0, 100]", spec)
	}
	return loss, minSteps, true, nil
}

// ResolveExit turns an --early-exit spec into the rule to run on net:
// "", "none", "exact", "margin:M[@S]" as network.ParseExit reads them,
// and "loss:X[@S]" by tracing one full run of engine (nil: the event
// engine) over the calibration set of data — its first 1,024 training
// images — with opts (T, encoding, seed) and picking the margin there
// (ExitTrace.PickMargin). Errors are bad input.
func ResolveExit(spec string, engine network.Engine, net *network.Network, data Data, opts network.SimOptions, env Env) (*ExitChoice, error) {
	c := &ExitChoice{Spec: strings.TrimSpace(spec)}
	loss, minSteps, isLoss, err := ParseLoss(c.Spec)
	if err != nil {
		return nil, BadInput(err)
	}
	if !isLoss {
		if c.Rule, err = network.ParseExit(net, c.Spec); err != nil {
			return nil, BadInput(err)
		}
		if c.Rule != nil {
			env.log().Info("early exit", "rule", c.Rule.String())
		}
		return c, nil
	}
	if engine == nil {
		engine = event.Engine{}
	}
	calib, err := data.load(dataset.Train, convert.DefaultCalibImages, false)
	if err != nil {
		return nil, err
	}
	if err := Fits(net, calib); err != nil {
		return nil, err
	}
	o := network.SimOptions{T: opts.T, Encoding: opts.Encoding, Seed: opts.Seed, Delays: opts.Delays, Workers: opts.Workers}
	tr, err := TraceExits(engine, net, calib, o, env)
	if err != nil {
		return nil, err
	}
	m, p, err := tr.PickMargin(loss, minSteps)
	if err != nil {
		return nil, err
	}
	full := tr.Full()
	c.Rule = m
	c.Calibration = &ExitCalibration{Target: c.Spec, LossPoints: loss, Images: calib.N, Engine: engine.Name(),
		Margin: m.M, MinSteps: m.MinSteps, FullAccuracy: full.Accuracy, Accuracy: p.Accuracy, MeanSteps: p.MeanSteps}
	env.log().Info("early exit picked on the calibration set", "target", c.Spec, "rule", m.String(),
		"images", calib.N, "full_accuracy", full.Accuracy, "accuracy", p.Accuracy, "mean_steps", p.MeanSteps)
	return c, nil
}

// StepStats describe how many steps the images of a run took.
type StepStats struct {
	Mean   float64 `json:"mean"`
	Median int     `json:"median"`
	P90    int     `json:"p90"`
	Min    int     `json:"min"`
	Max    int     `json:"max"`
	// Histogram[t-1] is the number of images that ran t steps.
	Histogram []int `json:"histogram"`
}

// NewStepStats summarises the steps per image of a run of T steps.
func NewStepStats(steps []int, T int) *StepStats {
	s := &StepStats{Histogram: make([]int, T)}
	if len(steps) == 0 {
		return s
	}
	var sum int64
	for _, v := range steps {
		sum += int64(v)
		if v >= 1 && v <= T {
			s.Histogram[v-1]++
		}
	}
	sorted := slices.Sorted(slices.Values(steps))
	s.Mean = float64(sum) / float64(len(steps))
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	s.Median = sorted[(len(sorted)-1)/2]
	s.P90 = sorted[min(len(sorted)-1, int(math.Ceil(0.9*float64(len(sorted))))-1)]
	return s
}

// ExitVsFull compares a run with an early-exit rule with the full run
// (every image for T steps) on the same images.
type ExitVsFull struct {
	Rule   string `json:"rule"`
	Images int    `json:"images"`
	// Accuracies after T steps.
	FullAccuracy float64 `json:"full_accuracy"`
	ExitAccuracy float64 `json:"exit_accuracy"`
	// SamePredictions counts the images with the same final prediction;
	// ChangedImages lists the others.
	SamePredictions int   `json:"same_predictions"`
	ChangedImages   []int `json:"changed_images"`
	// EarlyStops counts the images stopped before their settled step (the
	// step from which the full run's prediction does not change): those
	// whose prediction after some step differs from the full run's.
	EarlyStops int `json:"stopped_before_settled"`
	// AccuracyByStepEqual: the accuracy after every step is the full
	// run's.
	AccuracyByStepEqual bool `json:"accuracy_by_step_equal"`
	// Identical: every image's prediction after every step is the full
	// run's (what the exact rule guarantees). It is inferred, not compared
	// step by step: same final predictions, no image stopped before its
	// settled step (so the held prediction is the full run's from there
	// on; before the stop both runs are the same steps), and the same
	// accuracy after every step.
	Identical bool `json:"identical"`
	// Steps: the exit run's mean steps, T for the full run, and the mean
	// settled step (the fewest any rule can take without changing a
	// prediction at any step).
	MeanSteps        float64 `json:"mean_steps"`
	FullSteps        int     `json:"full_steps"`
	MeanSettledSteps float64 `json:"mean_settled_steps"`
	// Spikes and SOPs of both runs (exact, as the engines count them) and
	// the fraction of the full run's SOPs the exit saved.
	FullSpikes int64   `json:"full_spikes"`
	ExitSpikes int64   `json:"exit_spikes"`
	FullSOPs   int64   `json:"full_sops"`
	ExitSOPs   int64   `json:"exit_sops"`
	SOPsSaved  float64 `json:"sops_saved"`
	// Wall-clock times of the two runs (the full one traced for the
	// sweep; not a benchmark: see `evsnn bench`).
	FullWallSeconds float64 `json:"full_wall_seconds"`
	ExitWallSeconds float64 `json:"exit_wall_seconds"`
}

// CompareExit compares exit, a run with an early-exit rule, with full,
// the full run of the same network on the same images, given each image's
// settled step in the full run (ExitTrace.Settled). first numbers the
// images (a shard's first image).
func CompareExit(rule string, exit, full *network.SimResult, settled []int, first int) (*ExitVsFull, error) {
	n := exit.Images
	if full.Images != n || len(settled) != n || full.T != exit.T {
		return nil, fmt.Errorf("compare exit: %d and %d images, %d settled steps, T %d and %d", n, full.Images, len(settled), exit.T, full.T)
	}
	c := &ExitVsFull{Rule: rule, Images: n, FullSteps: full.T, ChangedImages: []int{},
		ExitAccuracy: last(exit.AccuracyByStep()), FullAccuracy: last(full.AccuracyByStep()),
		AccuracyByStepEqual: slices.Equal(exit.CorrectByStep, full.CorrectByStep),
		FullWallSeconds:     full.Wall.Seconds(), ExitWallSeconds: exit.Wall.Seconds()}
	var steps, settledSum int64
	for i := range n {
		if exit.Predictions[i] == full.Predictions[i] {
			c.SamePredictions++
		} else {
			c.ChangedImages = append(c.ChangedImages, first+i)
		}
		if exit.Steps[i] < settled[i] {
			c.EarlyStops++
		}
		steps += int64(exit.Steps[i])
		settledSum += int64(settled[i])
	}
	c.MeanSteps = float64(steps) / float64(n)
	c.MeanSettledSteps = float64(settledSum) / float64(n)
	for k := range full.Layers {
		c.FullSpikes += full.Layers[k].Spikes
		c.ExitSpikes += exit.Layers[k].Spikes
		c.FullSOPs += full.Layers[k].SOPs
		c.ExitSOPs += exit.Layers[k].SOPs
	}
	c.FullSOPs += full.InputSOPs
	c.ExitSOPs += exit.InputSOPs
	if c.FullSOPs > 0 {
		c.SOPsSaved = 1 - float64(c.ExitSOPs)/float64(c.FullSOPs)
	}
	c.Identical = c.SamePredictions == n && c.EarlyStops == 0 && c.AccuracyByStepEqual
	return c, nil
}

// WriteText prints the comparison.
func (c *ExitVsFull) WriteText(w io.Writer) error {
	ew := &bytes.Buffer{}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\taccuracy\tmean steps\tspikes/image\tSOPs/image\twall\t")
	n := float64(c.Images)
	fmt.Fprintf(tw, "full run\t%.2f %%\t%d\t%.1f\t%.0f\t%.2f s\t\n", 100*c.FullAccuracy, c.FullSteps, float64(c.FullSpikes)/n, float64(c.FullSOPs)/n, c.FullWallSeconds)
	fmt.Fprintf(tw, "%s\t%.2f %%\t%.2f\t%.1f\t%.0f\t%.2f s\t\n", c.Rule, 100*c.ExitAccuracy, c.MeanSteps, float64(c.ExitSpikes)/n, float64(c.ExitSOPs)/n, c.ExitWallSeconds)
	tw.Flush()
	fmt.Fprintf(ew, "SOPs saved: %.1f %%; same final prediction for %d of %d images; %d stopped before their prediction settled (mean settled step %.2f)\n",
		100*c.SOPsSaved, c.SamePredictions, c.Images, c.EarlyStops, c.MeanSettledSteps)
	if c.Identical {
		fmt.Fprintf(ew, "identical to the full run: every image's prediction after every step (%d images)\n", c.Images)
	} else {
		fmt.Fprintf(ew, "not identical to the full run: accuracy after every step equal: %v\n", c.AccuracyByStepEqual)
	}
	return flush(w, ew)
}

// WriteText prints the steps per image: mean, quantiles and a histogram
// of up to 16 rows.
func (s *StepStats) WriteText(w io.Writer) error {
	ew := &bytes.Buffer{}
	fmt.Fprintf(ew, "steps per image: mean %.2f, median %d, p90 %d, min %d, max %d\n", s.Mean, s.Median, s.P90, s.Min, s.Max)
	T := len(s.Histogram)
	total := 0
	for _, c := range s.Histogram {
		total += c
	}
	width := (T + 15) / 16
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	for lo := 1; lo <= T && total > 0; lo += width {
		hi := min(T, lo+width-1)
		c := 0
		for t := lo; t <= hi; t++ {
			c += s.Histogram[t-1]
		}
		label := strconv.Itoa(lo)
		if hi > lo {
			label += "–" + strconv.Itoa(hi)
		}
		bar := strings.Repeat("#", int(math.Round(40*float64(c)/float64(total))))
		fmt.Fprintf(tw, "  t=%s\t%d\t%.1f %%\t%s\n", label, c, 100*float64(c)/float64(total), bar)
	}
	tw.Flush()
	return flush(w, ew)
}

// The files WriteExitCSV writes.
const (
	StepsCSV     = "steps.csv"
	ExitSweepCSV = "exit_sweep.csv"
)

// WriteExitCSV writes the early-exit figures of the simulation into dir,
// each file atomically: steps.csv (images per number of steps run) with an
// exit rule, exit_sweep.csv (ExitSweep.WriteCSV) with a sweep. It writes
// nothing, and returns nil, if the run has neither.
func (s *Simulation) WriteExitCSV(dir string) error {
	if s.Steps == nil && s.Sweep == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	if st := s.Steps; st != nil {
		err := fsutil.WriteAtomic(filepath.Join(dir, StepsCSV), func(w io.Writer) error {
			cw := csv.NewWriter(w)
			cw.Write([]string{"steps", "images"})
			for t, c := range st.Histogram {
				cw.Write([]string{strconv.Itoa(t + 1), strconv.Itoa(c)})
			}
			cw.Flush()
			return cw.Error()
		})
		if err != nil {
			return err
		}
	}
	if s.Sweep != nil {
		return fsutil.WriteAtomic(filepath.Join(dir, ExitSweepCSV), s.Sweep.WriteCSV)
	}
	return nil
}
