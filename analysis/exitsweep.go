package analysis

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/evsnn/evsnn/network"
)

// ExitSweep is the accuracy-vs-steps curve of the margin rule over a sweep
// of M on the images of one full run (an ExitTrace), with the exact rule,
// the full run and the oracle (every image stopped at its settled step)
// beside it: `simulate --exit-sweep` prints it, the report draws it.
type ExitSweep struct {
	T      int `json:"T"`
	Images int `json:"images"`
	// MinSteps is S of the margin rules margin:M@S swept.
	MinSteps int `json:"min_steps"`
	// Points are the margin rules, by increasing M (and mean steps).
	Points []ExitPoint `json:"points"`
	// Exact is the exact rule (nil when the network has none), Full every
	// image for T steps, Oracle every image stopped at its settled step.
	Exact  *ExitPoint `json:"exact,omitempty"`
	Full   ExitPoint  `json:"full"`
	Oracle ExitPoint  `json:"oracle"`
}

// curveState is one outcome of margin:M@S: the largest M giving it and
// its sums over the images.
type curveState struct {
	m                float64
	correct, changed int
	steps            int64
	spikes, sops     float64
}

// curve returns every distinct outcome of margin:M@S for M ≥ 0, in
// increasing M, each with the largest M that gives it (the last, the full
// run, with the next float64 above the largest margin seen). For image i
// the rule stops after the first step t ≥ S with margin q_i(t) ≥ M: as M
// grows the stop moves only at the prefix maxima of q_i (from S on), so
// the curve is the sorted list of those moves, n·(T−1) at most.
func (tr *ExitTrace) curve(S int) []curveState {
	T := tr.T
	S = max(S, 1)
	type move struct {
		v        float64
		i        int
		from, to int
	}
	var moves []move
	state := curveState{}
	at := make([]int, tr.Images) // stop of each image in the state
	for i := range tr.Images {
		t0 := T
		if S < T {
			t0 = S
			best, from := tr.q[i*(T-1)+S-1], S
			for t := S + 1; t < T; t++ {
				if q := tr.q[i*(T-1)+t-1]; q > best {
					moves = append(moves, move{best, i, from, t})
					best, from = q, t
				}
			}
			moves = append(moves, move{best, i, from, T})
		}
		at[i] = t0
		tr.addStop(&state, i, t0, 1)
	}
	slices.SortFunc(moves, func(a, b move) int {
		if a.v != b.v {
			if a.v < b.v {
				return -1
			}
			return 1
		}
		return a.i - b.i
	})
	var out []curveState
	for k := 0; k < len(moves); {
		state.m = moves[k].v
		out = append(out, state)
		v := moves[k].v
		for ; k < len(moves) && moves[k].v == v; k++ {
			mv := moves[k]
			tr.addStop(&state, mv.i, mv.from, -1)
			tr.addStop(&state, mv.i, mv.to, 1)
			at[mv.i] = mv.to
		}
	}
	state.m = 0
	if len(moves) > 0 {
		state.m = math.Nextafter(moves[len(moves)-1].v, math.Inf(1))
	}
	return append(out, state)
}

// addStop adds (sign 1) or removes (−1) image i stopped after step s to
// the sums of a curve state.
func (tr *ExitTrace) addStop(c *curveState, i, s, sign int) {
	T := tr.T
	pred := tr.pred[i*T+s-1]
	if tr.Labels != nil && int(pred) == tr.Labels[i] {
		c.correct += sign
	}
	if pred != tr.pred[i*T+T-1] {
		c.changed += sign
	}
	c.steps += int64(sign * s)
	c.spikes += float64(sign) * float64(tr.spikes[i*T+s-1])
	c.sops += float64(sign) * tr.sops[i*T+s-1]
}

// DefaultSweepPoints is the number of margins Sweep picks by itself.
const DefaultSweepPoints = 32

// sweepZoom is the span of accuracy (a fraction) below the best that the
// picked margins cover densely.
const sweepZoom = 0.10

// Sweep evaluates margin:M@S for each M of margins on the trace (exactly:
// Replay) — or, for nil margins, for DefaultSweepPoints values of M that
// it picks from the curve so that the points spread evenly along it from
// S steps to T — and marks the Pareto front (fewest mean steps for the accuracy)
// among them, the exact rule and the full run.
func (tr *ExitTrace) Sweep(S int, margins []float64) (*ExitSweep, error) {
	S = max(S, 1)
	for _, m := range margins {
		if math.IsNaN(m) || math.IsInf(m, 0) || m < 0 {
			return nil, BadInput(fmt.Errorf("exit sweep: margin %v: must be a finite number ≥ 0", m))
		}
	}
	if margins == nil {
		margins = tr.pickMargins(S, DefaultSweepPoints)
	}
	sw := &ExitSweep{T: tr.T, Images: tr.Images, MinSteps: S, Full: tr.Full(), Oracle: tr.Oracle()}
	for _, m := range slices.Sorted(slices.Values(margins)) {
		sw.Points = append(sw.Points, tr.Replay(network.MarginExit{M: m, MinSteps: S}))
	}
	if e, ok := tr.Exact(); ok {
		sw.Exact = &e
	}
	front := []*ExitPoint{&sw.Full}
	for i := range sw.Points {
		front = append(front, &sw.Points[i])
	}
	if sw.Exact != nil {
		front = append(front, sw.Exact)
	}
	markPareto(front)
	return sw, nil
}

// pickMargins chooses up to k margins whose outcomes spread evenly along
// the accuracy-vs-mean-steps curve: by its length with both axes scaled
// to [0, 1] (accuracy within sweepZoom of the best), so that the steep
// part (where a little more time buys much accuracy) gets as many points
// as the flat one.
func (tr *ExitTrace) pickMargins(S, k int) []float64 {
	states := tr.curve(S)
	n := float64(tr.Images)
	x0, x1 := float64(states[0].steps)/n, float64(states[len(states)-1].steps)/n
	y0, y1 := math.Inf(1), math.Inf(-1)
	for _, st := range states {
		y0, y1 = math.Min(y0, float64(st.correct)), math.Max(y1, float64(st.correct))
	}
	// Accuracies more than sweepZoom below the best count as that: the
	// points go where the figure looks (plot.FrontZoomPoints).
	y0 = math.Max(y0, y1-sweepZoom*n)
	y := func(i int) float64 { return math.Max(y0, float64(states[i].correct)) }
	sx, sy := x1-x0, (y1-y0)/n
	pos := make([]float64, len(states)) // arc length up to each state
	for i := 1; i < len(states); i++ {
		var dx, dy float64
		if sx > 0 {
			dx = float64(states[i].steps-states[i-1].steps) / n / sx
		}
		if sy > 0 {
			dy = (y(i) - y(i-1)) / n / sy
		}
		pos[i] = pos[i-1] + math.Hypot(dx, dy)
	}
	var out []float64
	j := 0
	for p := range k {
		target := pos[len(pos)-1] * float64(p) / float64(max(k-1, 1))
		for j < len(states)-1 && pos[j] < target {
			j++
		}
		if len(out) == 0 || out[len(out)-1] != states[j].m {
			out = append(out, states[j].m)
		}
	}
	return out
}

// markPareto sets Pareto on the points no other point dominates (at
// least as accurate in fewer mean steps, or more accurate in as few).
func markPareto(pts []*ExitPoint) {
	for _, p := range pts {
		p.Pareto = true
		for _, o := range pts {
			if (o.Accuracy >= p.Accuracy && o.MeanSteps < p.MeanSteps) || (o.Accuracy > p.Accuracy && o.MeanSteps <= p.MeanSteps) {
				p.Pareto = false
				break
			}
		}
	}
}

// PickMargin returns the smallest margin rule margin:M@S whose accuracy on
// the trace's images is within lossPoints percentage points of the full
// run's, with its outcome. Of the margins that give the same outcome it
// takes the largest (the most conservative on other images). This is how
// `--early-exit loss:X` is resolved on the calibration set.
func (tr *ExitTrace) PickMargin(lossPoints float64, S int) (network.MarginExit, ExitPoint, error) {
	if tr.Labels == nil {
		return network.MarginExit{}, ExitPoint{}, BadInput(fmt.Errorf("early exit loss:%g: the calibration images have no labels", lossPoints))
	}
	if math.IsNaN(lossPoints) || math.IsInf(lossPoints, 0) || lossPoints < 0 || lossPoints > 100 {
		return network.MarginExit{}, ExitPoint{}, BadInput(fmt.Errorf("early exit loss:%g: the accuracy loss must be in [0, 100] percentage points", lossPoints))
	}
	S = max(S, 1)
	full := tr.Full()
	n := float64(tr.Images)
	need := float64(full.correct)*100 - lossPoints*n
	for _, st := range tr.curve(S) {
		if float64(st.correct)*100 >= need {
			m := network.MarginExit{M: st.m, MinSteps: S}
			return m, tr.Replay(m), nil
		}
	}
	return network.MarginExit{}, ExitPoint{}, fmt.Errorf("early exit loss:%g: no margin reaches the full run's accuracy (cannot happen)", lossPoints)
}

// WriteText prints the sweep as a table.
func (s *ExitSweep) WriteText(w io.Writer) error {
	ew := &bytes.Buffer{}
	fmt.Fprintf(ew, "early exit on %d images, T=%d (margin rules from step %d; SOPs estimated from spikes per step)\n", s.Images, s.T, s.MinSteps)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "rule\taccuracy\tchanged\tmean steps\tspikes/image\tSOPs/image\tPareto\t")
	row := func(p ExitPoint) {
		mark := ""
		if p.Pareto {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%.2f %%\t%d\t%.2f\t%.0f\t%.0f\t%s\t\n", p.Rule, 100*p.Accuracy, p.Changed, p.MeanSteps, p.SpikesPerImage, p.SOPsPerImage, mark)
	}
	row(s.Full)
	if s.Exact != nil {
		row(*s.Exact)
	}
	for _, p := range s.Points {
		row(p)
	}
	o := s.Oracle
	fmt.Fprintf(tw, "(oracle: settled step)\t%.2f %%\t%d\t%.2f\t%.0f\t%.0f\t\t\n", 100*o.Accuracy, o.Changed, o.MeanSteps, o.SpikesPerImage, o.SOPsPerImage)
	tw.Flush()
	return flush(w, ew)
}

// WriteCSV writes the sweep as CSV: one row per rule (the full run, the
// exact rule, the margins, the oracle).
func (s *ExitSweep) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"rule", "margin", "min_steps", "accuracy", "changed", "mean_steps", "spikes_per_image", "sops_per_image_estimated", "pareto"})
	row := func(p ExitPoint) {
		m := ""
		if p.Margin != nil {
			m = strconv.FormatFloat(*p.Margin, 'g', -1, 64)
		}
		cw.Write([]string{p.Rule, m, strconv.Itoa(s.MinSteps), strconv.FormatFloat(p.Accuracy, 'g', -1, 64), strconv.Itoa(p.Changed),
			strconv.FormatFloat(p.MeanSteps, 'g', -1, 64), strconv.FormatFloat(p.SpikesPerImage, 'f', 2, 64),
			strconv.FormatFloat(p.SOPsPerImage, 'f', 1, 64), strconv.FormatBool(p.Pareto)})
	}
	row(s.Full)
	if s.Exact != nil {
		row(*s.Exact)
	}
	for _, p := range s.Points {
		row(p)
	}
	row(s.Oracle)
	cw.Flush()
	return cw.Error()
}
