package analysis_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

// Prepare refuses what does not fit, with one line naming it, as bad input.
func TestPrepareRefuses(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "tiny.evsnn")
	if err := modelfile.Save(model, fixture.TinyANN(4)); err != nil {
		t.Fatal(err)
	}
	wide := fixture.TinyANN(784)
	wideModel := filepath.Join(dir, "wide.evsnn")
	if err := modelfile.Save(wideModel, wide); err != nil {
		t.Fatal(err)
	}
	direct := network.SimOptions{T: 4}
	cases := []struct {
		name string
		req  analysis.Request
		want string
	}{
		{"T = 0", analysis.Request{Opts: network.SimOptions{T: 0}}, "T = 0"},
		{"negative images", analysis.Request{Images: -1, Opts: direct}, "--images -1"},
		{"missing model", analysis.Request{Model: filepath.Join(dir, "nope.onnx"), Opts: direct}, "nope.onnx"},
		{"not a model", analysis.Request{Model: dir, Opts: direct}, "is a directory"},
		{"more images than the set", analysis.Request{Images: 20000, Opts: direct}, "asked for 20000 test images, the set has 10000"},
		{"the wrong input shape", analysis.Request{Model: model, Images: 4, Opts: direct}, "the model takes [4] inputs, mnist test images are [1,28,28]"},
		{"more classes than outputs", analysis.Request{Model: wideModel, Images: 4, Opts: direct}, "mnist test has 10 classes, the model 2 outputs"},
		{"poisson input on normalised data", analysis.Request{Images: 4, Data: analysis.Data{Mean: []float32{0.1307}, Std: []float32{0.3081}},
			Opts: network.SimOptions{T: 4, Encoding: network.EncodingPoisson}}, "must lie in [0, 1]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, err := analysis.Prepare(tc.req, analysis.Env{})
			if err == nil {
				t.Fatalf("accepted: %d images", in.Set.N)
			}
			if !analysis.IsBadInput(err) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q (bad input: %v), want one line naming %q", err, analysis.IsBadInput(err), tc.want)
			}
		})
	}
}

// The built-in model on the built-in data: an ANN converted with the
// defaults, normalisation applied when asked for.
func TestPrepareBuiltin(t *testing.T) {
	in, err := analysis.Prepare(analysis.Request{Images: 3, Opts: network.SimOptions{T: 4}, CalibImages: 100}, analysis.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if in.ANN.IsSNN() || !in.SNN.IsSNN() || in.Set.N != 3 || in.Model != analysis.BuiltinName || in.Set.Source != "embedded" {
		t.Fatalf("ANN %v SNN %v, %d images from %q, model %q", in.ANN.IsSNN(), in.SNN.IsSNN(), in.Set.N, in.Set.Source, in.Model)
	}
	if cv := in.SNN.Meta.Conversion; cv == nil || cv.Statistic != "max" || cv.Images != 100 {
		t.Errorf("conversion %+v", cv)
	}
	d := analysis.Data{Mean: []float32{0.5}, Std: []float32{0.25}}
	set, err := d.Test(3)
	if err != nil {
		t.Fatal(err)
	}
	if lo, _ := set.PixelRange(); lo != -2 || !set.Normalized() {
		t.Errorf("normalised pixels start at %v, want (0 − 0.5)/0.25 = -2", lo)
	}
}

func TestParseData(t *testing.T) {
	d, err := analysis.ParseData("", "", "0.4914,0.4822,0.4465;0.2470,0.2435,0.2616")
	if err != nil || d.Name() != "mnist" || len(d.Mean) != 3 || d.Std[2] != 0.2616 {
		t.Errorf("%+v, %v", d, err)
	}
	for _, bad := range [][3]string{{"imagenet", "", ""}, {"mnist", "", "0.5"}, {"mnist", "", "0.5,0"}} {
		if _, err := analysis.ParseData(bad[0], bad[1], bad[2]); err == nil || !analysis.IsBadInput(err) {
			t.Errorf("%q: error %v", bad, err)
		}
	}
	if _, err := (analysis.Data{}).Calibration(0); err == nil {
		t.Error("a calibration set of 0 images")
	}
	if _, err := (analysis.Data{Set: "fashion-mnist", Path: t.TempDir()}).Test(1); err == nil || !strings.HasPrefix(err.Error(), "fashion-mnist") {
		t.Errorf("fashion-mnist from an empty directory: %v", err)
	}
}
