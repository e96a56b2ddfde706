package plot_test

import (
	"bytes"
	"encoding/xml"
	"flag"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// testDPI keeps PNG rendering cheap (it dominates the test time, tenfold
// under -race); -out renders at the default resolution.
const testDPI = 40

// -out DIR keeps the rendered figures for a look.
var outDir = flag.String("out", "", "also write the test figures into this directory")

type run struct {
	net    *network.Network
	res    *network.SimResult
	raster []network.RasterEvent
	prof   *profile.Profile
	ann    *network.Activations
}

var (
	fixtureOnce sync.Once
	shared      *run
	fixtureErr  error
)

// newFixture returns the profile of a reference run of a small residual
// network (with a MaxPool, identity and 1×1-conv shortcuts), simulated
// once per test binary.
func newFixture(t testing.TB) *run {
	t.Helper()
	fixtureOnce.Do(func() { shared, fixtureErr = buildFixture(t) })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return shared
}

func buildFixture(t testing.TB) (*run, error) {
	r := fixture.RandomRun(t, snnref.ResNet, 3, 24, 24)
	p, err := profile.Build(r.Net, r.Result, r.ANN, profile.DefaultEnergy())
	if err != nil {
		return nil, err
	}
	return &run{r.Net, r.Result, r.Result.Raster, p, r.ANN}, nil
}

func (f *run) names() ([]string, []int) {
	var names []string
	var sizes []int
	for _, l := range f.res.Layers {
		names = append(names, l.Name)
		sizes = append(sizes, l.Neurons)
	}
	return names, sizes
}

func (f *run) panels(t testing.TB) []plot.Panel {
	var ps []plot.Panel
	for k, l := range f.prof.Layers {
		rate, err := profile.Rates(f.net, f.res, k)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, plot.Panel{Name: l.Name, X: f.ann.Output[l.Layer], Rate: rate})
	}
	return ps
}

func checkPNG(t *testing.T, name string, b []byte) {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: not a PNG: %v", name, err)
	}
	r := img.Bounds()
	if r.Dx() < 200 || r.Dy() < 100 {
		t.Errorf("%s: PNG is %v", name, r)
	}
	// Not blank: more than a handful of distinct colours.
	seen := map[uint32]bool{}
	for y := r.Min.Y; y < r.Max.Y; y += 3 {
		for x := r.Min.X; x < r.Max.X; x += 3 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			seen[cr>>8<<16|cg>>8<<8|cb>>8] = true
		}
	}
	if len(seen) < 8 {
		t.Errorf("%s: PNG has %d colours: blank?", name, len(seen))
	}
}

func checkSVG(t *testing.T, name string, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	root, elems := "", 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: SVG is not well-formed XML: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if root == "" {
				root = se.Name.Local
			}
			elems++
		}
	}
	if root != "svg" || elems < 20 {
		t.Errorf("%s: root <%s>, %d elements", name, root, elems)
	}
}

func TestFigures(t *testing.T) {
	f := newFixture(t)
	names, sizes := f.names()
	acc := f.prof.AccuracyByStep
	figs := map[string]func() (*plot.Figure, error){
		"accuracy": func() (*plot.Figure, error) {
			shifted := slices.Clone(acc)
			for i := range shifted {
				shifted[i] = min(1, shifted[i]*1.02)
			}
			return plot.NewAccuracyVsStep([]plot.Series{{Name: "dense", Values: acc}, {Name: "event", Values: acc}, {Name: "calibrated", Values: shifted}}, 1)
		},
		"firing_rates":    func() (*plot.Figure, error) { return plot.NewFiringRates(f.prof) },
		"spikes_per_step": func() (*plot.Figure, error) { return plot.NewSpikesPerStep(f.prof) },
		"raster":          func() (*plot.Figure, error) { return plot.NewRaster(f.raster, names, sizes, f.res.T) },
		"activation_vs_rate": func() (*plot.Figure, error) {
			p := f.panels(t)[0]
			return plot.NewActivationVsRate(p.Name, p.X, p.Rate, 600)
		},
		"activation_vs_rate_grid": func() (*plot.Figure, error) { return plot.NewActivationVsRateGrid(f.panels(t), 400) },
	}
	for name, mk := range figs {
		t.Run(name, func(t *testing.T) {
			fig, err := mk()
			if err != nil {
				t.Fatal(err)
			}
			if *outDir == "" {
				fig.DPI = testDPI
			}
			pngB, err := fig.Encode("png")
			if err != nil {
				t.Fatal(err)
			}
			checkPNG(t, name, pngB)
			svgB, err := fig.Encode("svg")
			if err != nil {
				t.Fatal(err)
			}
			checkSVG(t, name, svgB)
			if *outDir != "" {
				for ext, b := range map[string][]byte{".png": pngB, ".svg": svgB} {
					if err := os.WriteFile(filepath.Join(*outDir, name+ext), b, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

func TestPathFunctions(t *testing.T) {
	f := newFixture(t)
	names, sizes := f.names()
	dir := t.TempDir()
	// The path functions render PNG at the default resolution, which is
	// slow under -race: they write SVG here, and Save writes one PNG.
	fig, err := plot.NewFiringRates(f.prof)
	if err != nil {
		t.Fatal(err)
	}
	fig.DPI = testDPI
	if err := fig.Save(filepath.Join(dir, "rates.png")); err != nil {
		t.Fatal(err)
	}
	p0 := f.panels(t)[0]
	files := map[string]error{
		"acc.svg":    plot.AccuracyVsStep(filepath.Join(dir, "acc.svg"), []plot.Series{{Name: "reference", Values: f.prof.AccuracyByStep}}, -1),
		"rates.svg":  plot.FiringRates(filepath.Join(dir, "rates.svg"), f.prof),
		"steps.svg":  plot.SpikesPerStep(filepath.Join(dir, "steps.svg"), f.prof),
		"raster.svg": plot.Raster(filepath.Join(dir, "raster.svg"), f.raster, names, sizes, f.res.T),
		"act.svg":    plot.ActivationVsRate(filepath.Join(dir, "act.svg"), p0.Name, p0.X, p0.Rate, 200),
		"grid.svg":   plot.ActivationVsRateGrid(filepath.Join(dir, "grid.svg"), f.panels(t), 200),
	}
	files["rates.png"] = nil
	for name, err := range files {
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Ext(name) == ".png" {
			checkPNG(t, name, b)
		} else {
			checkSVG(t, name, b)
		}
	}
	if err := plot.FiringRates(filepath.Join(dir, "rates.pdf"), f.prof); err == nil {
		t.Error("a .pdf path was accepted")
	}
	if _, err := os.Stat(filepath.Join(dir, "rates.pdf")); err == nil {
		t.Error("a file was left for a rejected format")
	}
}

func TestBadInput(t *testing.T) {
	if _, err := plot.NewAccuracyVsStep(nil, 0.5); err == nil {
		t.Error("no series accepted")
	}
	if _, err := plot.NewRaster([]network.RasterEvent{{Layer: 0, Neuron: 5, Step: 1}}, []string{"a"}, []int{5}, 4); err == nil {
		t.Error("out-of-range neuron accepted")
	}
	if _, err := plot.NewActivationVsRate("a", []float32{1, 2}, []float32{1}, 0); err == nil {
		t.Error("length mismatch accepted")
	}
	if _, err := plot.FormatOf("x.jpeg"); err == nil {
		t.Error("jpeg accepted")
	}
}

func TestSubsample(t *testing.T) {
	a := plot.Subsample(1_000_000, 1000)
	b := plot.Subsample(1_000_000, 1000)
	if !slices.Equal(a, b) || len(a) != 1000 {
		t.Fatalf("not deterministic or wrong size: %d", len(a))
	}
	for i := 1; i < len(a); i++ {
		if a[i] <= a[i-1] {
			t.Fatalf("not strictly increasing at %d", i)
		}
	}
	if a[len(a)-1] < 900_000 || a[0] > 100_000 {
		t.Errorf("poorly spread: %d..%d", a[0], a[len(a)-1])
	}
	if got := plot.Subsample(5, 10); !slices.Equal(got, []int{0, 1, 2, 3, 4}) {
		t.Errorf("Subsample(5, 10) = %v", got)
	}
}

// TestDegenerate renders figures of a one-step run with a silent layer.
func TestDegenerate(t *testing.T) {
	p := &profile.Profile{T: 1, Images: 1, Layers: []profile.LayerProfile{
		{Name: "quiet", Neurons: 4, SpikesByStep: []int64{0}},
		{Name: "busy", Neurons: 2, Spikes: 2, FiringRate: 1, SpikesByStep: []int64{2}},
	}}
	figs := map[string]func() (*plot.Figure, error){
		"accuracy": func() (*plot.Figure, error) {
			return plot.NewAccuracyVsStep([]plot.Series{{Name: "one step", Values: []float64{0.5}}}, 0.5)
		},
		"rates":  func() (*plot.Figure, error) { return plot.NewFiringRates(p) },
		"steps":  func() (*plot.Figure, error) { return plot.NewSpikesPerStep(p) },
		"raster": func() (*plot.Figure, error) { return plot.NewRaster(nil, []string{"quiet", "busy"}, []int{4, 2}, 1) },
		"zeros": func() (*plot.Figure, error) {
			return plot.NewActivationVsRate("zeros", make([]float32, 10), make([]float32, 10), 0)
		},
	}
	for name, mk := range figs {
		fig, err := mk()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		fig.DPI = testDPI
		for _, format := range plot.Formats {
			if _, err := fig.Encode(format); err != nil {
				t.Errorf("%s %s: %v", name, format, err)
			}
		}
	}
}
