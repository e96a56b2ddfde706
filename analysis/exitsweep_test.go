package analysis

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

// traces are full-run traces of the random cases, for the sweep tests.
func traces(t *testing.T) []*ExitTrace {
	t.Helper()
	var out []*ExitTrace
	for _, c := range randomExitCases(t, 40, 12) {
		tr, err := TraceExits(event.Engine{}, c.net, c.set, c.opts, Env{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tr)
	}
	return out
}

// allMargins are 0, every margin of the trace and one above them all: the
// margins at which the outcome of margin:M can change.
func allMargins(tr *ExitTrace) []float64 {
	qs := append([]float64{0}, tr.q...)
	slices.Sort(qs)
	qs = slices.Compact(qs)
	return append(qs, math.Nextafter(qs[len(qs)-1], math.Inf(1)))
}

// PickMargin takes the outcome of the smallest margin whose accuracy is
// within the loss, found by brute force over every margin that can change
// an outcome; the curve it walks agrees with Replay at every state.
func TestPickMargin(t *testing.T) {
	for k, tr := range traces(t) {
		full := tr.Full()
		for _, S := range []int{1, 2, 5} {
			for _, st := range tr.curve(S) {
				p := tr.Replay(network.MarginExit{M: st.m, MinSteps: S})
				if p.correct != st.correct || p.Changed != st.changed || p.MeanSteps != float64(st.steps)/float64(tr.Images) {
					t.Fatalf("trace %d S=%d: curve state %+v, replay %+v", k, S, st, p)
				}
			}
			for _, loss := range []float64{0, 0.5, 2.5, 10, 100} {
				m, p, err := tr.PickMargin(loss, S)
				if err != nil {
					t.Fatal(err)
				}
				need := 100*full.Accuracy - loss
				if 100*p.Accuracy < need-1e-9 || m.MinSteps != S {
					t.Errorf("trace %d loss %g S=%d: picked %v at %.4f, full %.4f", k, loss, S, m, p.Accuracy, full.Accuracy)
				}
				var first *ExitPoint
				for _, v := range allMargins(tr) {
					q := tr.Replay(network.MarginExit{M: v, MinSteps: S})
					if 100*q.Accuracy >= need-1e-9 {
						if v > m.M {
							t.Errorf("trace %d loss %g: margin %g meets the target but %g was picked", k, loss, v, m.M)
						}
						first = &q
						break
					}
				}
				if first == nil || first.MeanSteps != p.MeanSteps || first.Accuracy != p.Accuracy {
					t.Errorf("trace %d loss %g S=%d: picked %+v, brute force %+v", k, loss, S, p, first)
				}
				if loss == 100 && p.MeanSteps != float64(min(S, tr.T)) {
					t.Errorf("loss 100: mean steps %v, want %d", p.MeanSteps, S)
				}
			}
		}
	}
	tr := traces(t)[0]
	for _, loss := range []float64{-1, math.NaN(), 101} {
		if _, _, err := tr.PickMargin(loss, 1); !IsBadInput(err) {
			t.Errorf("loss %v: %v", loss, err)
		}
	}
	unlabelled := *tr
	unlabelled.Labels = nil
	if _, _, err := unlabelled.PickMargin(1, 1); !IsBadInput(err) {
		t.Errorf("no labels: %v", err)
	}
}

// The sweep's points are Replay's, by increasing margin and mean steps;
// the Pareto marks are those of a brute-force dominance check; the picked
// margins spread over [S, T].
func TestSweep(t *testing.T) {
	for k, tr := range traces(t) {
		sw, err := tr.Sweep(2, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(sw.Points) < 2 || len(sw.Points) > DefaultSweepPoints || sw.Full.MeanSteps != float64(tr.T) || sw.Oracle.Changed != 0 {
			t.Fatalf("trace %d: sweep %+v", k, sw)
		}
		if sw.Points[0].MeanSteps != 2 || sw.Points[len(sw.Points)-1].MeanSteps != sw.Full.MeanSteps {
			t.Errorf("trace %d: mean steps from %v to %v, want 2 to T", k, sw.Points[0].MeanSteps, sw.Points[len(sw.Points)-1].MeanSteps)
		}
		all := []ExitPoint{sw.Full}
		for i, p := range sw.Points {
			q := tr.Replay(network.MarginExit{M: *p.Margin, MinSteps: 2})
			if q.Accuracy != p.Accuracy || q.MeanSteps != p.MeanSteps || q.Rule != p.Rule {
				t.Errorf("trace %d point %d: %+v, replay %+v", k, i, p, q)
			}
			if i > 0 && (*p.Margin <= *sw.Points[i-1].Margin || p.MeanSteps < sw.Points[i-1].MeanSteps) {
				t.Errorf("trace %d: points %d and %d out of order", k, i-1, i)
			}
			all = append(all, p)
		}
		if sw.Exact != nil {
			all = append(all, *sw.Exact)
		}
		for _, p := range all {
			dominated := false
			for _, o := range all {
				better := o.Accuracy >= p.Accuracy && o.MeanSteps <= p.MeanSteps && (o.Accuracy > p.Accuracy || o.MeanSteps < p.MeanSteps)
				dominated = dominated || better
			}
			if p.Pareto == dominated {
				t.Errorf("trace %d: %s (%.4f, %.2f) marked Pareto %v", k, p.Rule, p.Accuracy, p.MeanSteps, p.Pareto)
			}
		}
	}
	tr := traces(t)[1]
	sw, err := tr.Sweep(1, []float64{2, 0, 1})
	if err != nil || len(sw.Points) != 3 || *sw.Points[0].Margin != 0 || *sw.Points[2].Margin != 2 {
		t.Errorf("given margins: %+v, %v", sw, err)
	}
	for _, bad := range [][]float64{{-1}, {math.NaN()}, {math.Inf(1)}} {
		if _, err := tr.Sweep(1, bad); !IsBadInput(err) {
			t.Errorf("margins %v: %v", bad, err)
		}
	}
}

// A sweep survives JSON, and its CSV has a row per rule with the table's
// numbers.
func TestSweepJSONCSV(t *testing.T) {
	tr := traces(t)[2]
	sw, err := tr.Sweep(1, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(sw)
	if err != nil {
		t.Fatal(err)
	}
	var back ExitSweep
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(&back)
	if !bytes.Equal(b, b2) || back.T != sw.T || len(back.Points) != len(sw.Points) || (sw.Exact == nil) != (back.Exact == nil) {
		t.Errorf("JSON round trip:\n%s\n%s", b, b2)
	}
	var buf bytes.Buffer
	if err := sw.WriteCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []ExitPoint{sw.Full}
	if sw.Exact != nil {
		want = append(want, *sw.Exact)
	}
	want = append(append(want, sw.Points...), sw.Oracle)
	if len(rows) != len(want)+1 || rows[0][0] != "rule" || rows[0][8] != "pareto" {
		t.Fatalf("CSV: %d rows for %d rules: %v", len(rows), len(want), rows[:1])
	}
	for i, p := range want {
		r := rows[i+1]
		acc, _ := strconv.ParseFloat(r[3], 64)
		steps, _ := strconv.ParseFloat(r[5], 64)
		changed, _ := strconv.Atoi(r[4])
		if r[0] != p.Rule || acc != p.Accuracy || steps != p.MeanSteps || changed != p.Changed || r[8] != strconv.FormatBool(p.Pareto) {
			t.Errorf("CSV row %d %v, want %+v", i+1, r, p)
		}
		if p.Margin != nil {
			if m, _ := strconv.ParseFloat(r[1], 64); m != *p.Margin {
				t.Errorf("CSV row %d margin %s, want %v", i+1, r[1], *p.Margin)
			}
		}
	}
	var text strings.Builder
	if err := sw.WriteText(&text); err != nil || strings.Count(text.String(), "\n") != len(want)+2 || !strings.Contains(text.String(), "(oracle") {
		t.Errorf("table (%v):\n%s", err, text.String())
	}
}

// Step statistics: mean, quantiles and histogram.
func TestStepStats(t *testing.T) {
	for _, c := range []struct {
		steps                 []int
		T                     int
		mean                  float64
		median, p90, min, max int
		hist                  []int
	}{
		{nil, 3, 0, 0, 0, 0, 0, []int{0, 0, 0}},
		{[]int{4}, 4, 4, 4, 4, 4, 4, []int{0, 0, 0, 1}},
		{[]int{1, 2, 2, 3, 4, 4, 4, 4, 4, 8}, 8, 3.6, 4, 4, 1, 8, []int{1, 2, 1, 5, 0, 0, 0, 1}},
		{[]int{2, 1}, 2, 1.5, 1, 2, 1, 2, []int{1, 1}},
	} {
		s := NewStepStats(c.steps, c.T)
		if math.Abs(s.Mean-c.mean) > 1e-12 || s.Median != c.median || s.P90 != c.p90 || s.Min != c.min || s.Max != c.max || !slices.Equal(s.Histogram, c.hist) {
			t.Errorf("%v: %+v", c.steps, s)
		}
		var b strings.Builder
		if err := s.WriteText(&b); err != nil || !strings.HasPrefix(b.String(), "steps per image: mean") {
			t.Errorf("%v: %v %q", c.steps, err, b.String())
		}
	}
}

// ParseLoss reads loss:X[@S] and refuses the rest of the loss: specs.
func TestParseLoss(t *testing.T) {
	for _, c := range []struct {
		spec     string
		loss     float64
		S        int
		ok, fail bool
	}{
		{"loss:0.1", 0.1, 1, true, false},
		{" loss:2@4 ", 2, 4, true, false},
		{"loss:0", 0, 1, true, false},
		{"margin:2", 0, 0, false, false},
		{"exact", 0, 0, false, false},
		{"loss:", 0, 0, true, true},
		{"loss:-1", 0, 0, true, true},
		{"loss:101", 0, 0, true, true},
		{"loss:NaN", 0, 0, true, true},
		{"loss:1@0", 0, 0, true, true},
		{"loss:1@x", 0, 0, true, true},
	} {
		loss, S, ok, err := ParseLoss(c.spec)
		if ok != c.ok || (err != nil) != c.fail || (!c.fail && (loss != c.loss || (ok && S != c.S))) {
			t.Errorf("%q: %v %v %v %v", c.spec, loss, S, ok, err)
		}
	}
}
