package plot_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis/plot"
)

// wellFormedSVG reports whether b parses as XML with an <svg> root.
func wellFormedSVG(t *testing.T, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("SVG root %q", root)
	}
}

// The steps histogram and the accuracy/time front render; degenerate
// inputs are errors, not panics.
func TestExitFigures(t *testing.T) {
	f, err := plot.NewStepsHistogram([]int{0, 3, 10, 5, 0, 0, 1, 2}, "margin:1.5")
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Encode("svg")
	if err != nil {
		t.Fatal(err)
	}
	wellFormedSVG(t, b)
	if !strings.Contains(string(b), "Steps per image (margin:1.5, 21 images)") {
		t.Error("histogram title missing")
	}
	sweep := []plot.FrontPoint{{"m0", 1, 0.2, true}, {"m1", 2.5, 0.9, true}, {"m2", 3, 0.97, true}, {"m3", 5, 0.97, false}, {"m4", 7, 0.98, false}}
	named := []plot.FrontPoint{{"none", 8, 0.98, false}, {"exact", 6.5, 0.98, true}, {"oracle", 2.2, 0.98, false}}
	f, err = plot.NewExitFront(sweep, named)
	if err != nil {
		t.Fatal(err)
	}
	if b, err = f.Encode("svg"); err != nil {
		t.Fatal(err)
	}
	wellFormedSVG(t, b)
	for _, s := range []string{"Pareto front", "exact (6.50 steps, 98.00 %)", "mean steps per image"} {
		if !strings.Contains(string(b), s) {
			t.Errorf("front lacks %q", s)
		}
	}
	if _, err := f.Encode("png"); err != nil {
		t.Error(err)
	}
	if *outDir != "" {
		if err := plot.ExitFront(filepath.Join(*outDir, "exit-front.svg"), sweep, named); err != nil {
			t.Error(err)
		}
		if err := plot.StepsHistogram(filepath.Join(*outDir, "steps.svg"), []int{0, 3, 10, 5}, "exact"); err != nil {
			t.Error(err)
		}
	}
	for name, err := range map[string]error{
		"no images":      second(plot.NewStepsHistogram([]int{0, 0}, "x")),
		"no steps":       second(plot.NewStepsHistogram(nil, "x")),
		"negative":       second(plot.NewStepsHistogram([]int{1, -1}, "x")),
		"no points":      second(plot.NewExitFront(nil, nil)),
		"NaN accuracy":   second(plot.NewExitFront([]plot.FrontPoint{{"a", 1, math.NaN(), true}}, nil)),
		"infinite steps": second(plot.NewExitFront(nil, []plot.FrontPoint{{"a", math.Inf(1), 0.5, true}})),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// One point alone is drawn.
	if f, err := plot.NewExitFront(nil, []plot.FrontPoint{{"none", 4, 1, true}}); err != nil {
		t.Error(err)
	} else if _, err := f.Encode("svg"); err != nil {
		t.Error(err)
	}
}

func second(_ *plot.Figure, err error) error { return err }
