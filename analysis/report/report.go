package report

import (
	"bytes"
	_ "embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"math"
	"regexp"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/internal/fsutil"
)

// KV is one setting: a key and its value, shown in the order given.
type KV struct {
	Key, Value string
}

// Table is a titled table of strings. Cells that read as numbers (digits,
// separators, a unit such as % or µJ) are right-aligned.
type Table struct {
	Title   string
	Caption string
	Header  []string
	Rows    [][]string
}

// Figure is one image of the report: PNG or SVG bytes (SVG is preferred
// when both are set), embedded in the page as a data: URL.
type Figure struct {
	Title   string
	Caption string
	SVG     []byte
	PNG     []byte
	// Width is the width the page shows the figure at, in CSS pixels;
	// 0 shows it at its natural size (fit to the page).
	Width int
}

// Report is everything one HTML report shows, top to bottom: title,
// settings, key results (from Profile), the profile's layer tables, extra
// tables (e.g. an ANN / dense / event comparison), figures and notes.
type Report struct {
	Title    string
	Subtitle string
	// Generated is printed in the footer; the zero time leaves it out
	// (byte-identical reports from identical inputs).
	Generated time.Time
	// Settings say what produced the report: model, T, images, engine,
	// encoding, conversion, calibration, versions (see Versions).
	Settings []KV
	Profile  *profile.Profile
	Tables   []Table
	Figures  []Figure
	Notes    []string
}

// Write renders r into path as one self-contained HTML file (styles and
// figures inline, no script, nothing fetched), atomically.
func Write(path string, r *Report) error {
	var buf bytes.Buffer
	if err := Render(&buf, r); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, buf.Bytes())
}

//go:embed report.html.tmpl
var pageTemplate string

var page = template.Must(template.New("report").Parse(pageTemplate))

// Render writes r as HTML to w.
func Render(w io.Writer, r *Report) error {
	if r == nil {
		return fmt.Errorf("report: nil report")
	}
	v, err := view(r)
	if err != nil {
		return err
	}
	if err := page.Execute(w, v); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

type cell struct {
	Text string
	Num  bool
}

type tableView struct {
	Title, Caption string
	Header         []cell
	Rows           [][]cell
	Foot           [][]cell
}

type figureView struct {
	Title, Caption string
	Src            template.URL
	Alt            string
	Width          int
	Number         int
}

type card struct {
	Label, Value, Detail string
}

type pageView struct {
	Title, Subtitle string
	Generated       string
	Settings        []KV
	Cards           []card
	Energy          string
	Tables          []tableView
	Figures         []figureView
	Notes           []string
}

var numeric = regexp.MustCompile(`^[-+−]?[\d.,]+(e[-+]?\d+)?\s*(%|µJ|pJ|s|ms|×)?$|^—$`)

func cells(ss []string) []cell {
	out := make([]cell, len(ss))
	for i, s := range ss {
		out[i] = cell{Text: s, Num: i > 0 && numeric.MatchString(strings.TrimSpace(s))}
	}
	return out
}

func tview(t Table, foot int) tableView {
	tv := tableView{Title: t.Title, Caption: t.Caption, Header: cells(t.Header)}
	// A header is aligned as its column: right if any cell below it is a
	// number.
	for i := range tv.Header {
		tv.Header[i].Num = false
		for _, r := range t.Rows {
			if i > 0 && i < len(r) && r[i] != "" && r[i] != "—" && numeric.MatchString(strings.TrimSpace(r[i])) {
				tv.Header[i].Num = true
				break
			}
		}
	}
	n := len(t.Rows) - foot
	for i, r := range t.Rows {
		if i < n {
			tv.Rows = append(tv.Rows, cells(r))
		} else {
			tv.Foot = append(tv.Foot, cells(r))
		}
	}
	return tv
}

func view(r *Report) (*pageView, error) {
	v := &pageView{Title: r.Title, Subtitle: r.Subtitle, Settings: r.Settings, Notes: r.Notes}
	if v.Title == "" {
		v.Title = "evsnn report"
	}
	if !r.Generated.IsZero() {
		v.Generated = r.Generated.UTC().Format("2006-01-02 15:04 UTC")
	}
	if p := r.Profile; p != nil {
		v.Cards = cards(p)
		v.Energy = p.Energy.String()
		layers, errs := ProfileTables(p)
		v.Tables = append(v.Tables, tview(layers, 2), tview(errs, 0))
	}
	for _, t := range r.Tables {
		v.Tables = append(v.Tables, tview(t, 0))
	}
	for i, f := range r.Figures {
		var src string
		switch {
		case len(f.SVG) > 0:
			src = "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(f.SVG)
		case len(f.PNG) > 0:
			src = "data:image/png;base64," + base64.StdEncoding.EncodeToString(f.PNG)
		default:
			return nil, fmt.Errorf("report: figure %d (%q) has no image", i+1, f.Title)
		}
		v.Figures = append(v.Figures, figureView{
			Title: f.Title, Caption: f.Caption, Alt: f.Title, Width: f.Width, Number: i + 1,
			// The URL is built here from encoded bytes: safe to embed.
			Src: template.URL(src),
		})
	}
	return v, nil
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + " %" }

func sig(v float64) string {
	if math.Abs(v) >= 1000 {
		return profile.Group(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func cards(p *profile.Profile) []card {
	var cs []card
	if p.Accuracy != nil {
		c := card{Label: "SNN accuracy", Value: pct(*p.Accuracy), Detail: fmt.Sprintf("after T = %d steps, %s images", p.T, profile.Group(int64(p.Images)))}
		if p.ANNAccuracy != nil {
			c.Detail = fmt.Sprintf("ANN: %s; T = %d, %s images", pct(*p.ANNAccuracy), p.T, profile.Group(int64(p.Images)))
		}
		cs = append(cs, c)
	} else if p.ANNAccuracy != nil {
		cs = append(cs, card{Label: "ANN accuracy", Value: pct(*p.ANNAccuracy)})
	}
	t := p.Totals
	cs = append(cs,
		card{Label: "Spikes per image", Value: sig(t.SpikesPerImage), Detail: "firing rate " + pct(t.FiringRate) + " per neuron per step"},
		card{Label: "SOPs per image", Value: sig(t.SOPsPerImage), Detail: fmt.Sprintf("%.3f per ANN MAC (%s MACs)", t.SOPsPerMAC, profile.Group(t.ANNMACs))},
	)
	e := card{Label: "Energy per image", Value: sig(t.EnergySNN) + " µJ", Detail: "SNN estimate; ANN " + sig(t.EnergyANN) + " µJ"}
	if t.EnergySNN > 0 {
		e.Detail += fmt.Sprintf(" (%.2f×)", t.EnergyANN/t.EnergySNN)
	}
	cs = append(cs, e)
	if p.WallSeconds > 0 {
		cs = append(cs, card{Label: "Simulation time", Value: sig(p.WallSeconds) + " s",
			Detail: fmt.Sprintf("%s engine, %s ms per image", p.Engine, sig(1000*p.WallSeconds/float64(p.Images)))})
	}
	return cs
}

// ProfileTables returns the profile as two tables: activity and cost per
// layer (with an input row and a total row last), and the conversion error
// per layer.
func ProfileTables(p *profile.Profile) (layers, conversion Table) {
	layers = Table{
		Title: "Activity and cost per layer",
		Caption: "Rate: spikes per neuron per step. SOPs: synaptic operations the layer's spikes cause " +
			"in the target layer over T steps. ANN MACs: the target layer's multiply-accumulates in one ANN pass. " +
			"First spike: mean step of a neuron's first spike, over the neurons that fire. Energy: " + p.Energy.String() +
			"; the input row is the first layer's MACs on the analog image, computed once per image by an SNN with direct input; " +
			"with Poisson input the SNN pays the input spikes' SOPs instead.",
		Header: []string{"layer", "neurons", "spikes / img", "rate", "SOPs / img", "target", "ANN MACs / img", "SOPs / MAC", "SNN µJ / img", "ANN µJ / img", "first spike"},
	}
	for _, l := range p.Layers {
		lat := "—"
		if l.FirstSpikeLatency != nil {
			lat = strconv.FormatFloat(*l.FirstSpikeLatency, 'f', 2, 64)
		}
		layers.Rows = append(layers.Rows, []string{l.Name, profile.Group(int64(l.Neurons)), sig(l.SpikesPerImage), pct(l.FiringRate),
			sig(l.SOPsPerImage), l.Target, profile.Group(l.ANNMACs), strconv.FormatFloat(l.SOPsPerMAC, 'f', 3, 64),
			sig(l.EnergySNN), sig(l.EnergyANN), lat})
	}
	t := p.Totals
	in := p.InputCost()
	inRow := []string{"input", "", "", "", "", "", profile.Group(in.MACs), "", sig(in.EnergySNN), sig(in.EnergyANN), ""}
	if in.Poisson {
		inRow[2], inRow[4] = sig(in.SpikesPerImage), sig(in.SOPsPerImage)
	}
	layers.Rows = append(layers.Rows,
		inRow,
		[]string{"total", profile.Group(int64(t.Neurons)), sig(t.SpikesPerImage), pct(t.FiringRate), sig(t.SOPsPerImage), "",
			profile.Group(t.ANNMACs), strconv.FormatFloat(t.SOPsPerMAC, 'f', 3, 64), sig(t.EnergySNN), sig(t.EnergyANN), ""})

	conversion = Table{
		Title: "Conversion error per layer",
		Caption: "ANN activation x against SNN rate s̄ = θ·count/T over all images and neurons. " +
			"Relative error ||x − s̄|| / ||x||; Pearson r of x and s̄.",
		Header: []string{"layer", "MSE", "||x − s̄||", "relative error", "Pearson r", "mean x", "mean s̄"},
	}
	f := func(v *float64) string {
		if v == nil {
			return "—"
		}
		return sig(*v)
	}
	for _, l := range p.Layers {
		conversion.Rows = append(conversion.Rows, []string{l.Name, f(l.MSE), f(l.ErrorL2), f(l.RelError), f(l.Pearson), f(l.ANNMean), f(l.SNNMean)})
	}
	if len(p.Layers) > 0 && p.Layers[0].MSE == nil {
		conversion.Caption += " Not measured in this run: it needs per-neuron spike counts and the ANN's activations on the same images."
	}
	return layers, conversion
}

// FigureOf renders a plot figure for the report: "svg" (sharp, small for
// line and bar charts) or "png" (smaller for plots with many points).
func FigureOf(title, caption string, f *plot.Figure, format string) (Figure, error) {
	b, err := f.Encode(format)
	if err != nil {
		return Figure{}, err
	}
	// Shown 1.2 times the figure's nominal size (points → CSS pixels):
	// the text of a 7-inch figure then reads at the page's size.
	fig := Figure{Title: title, Caption: caption, Width: int(f.Width.Points() * 4 / 3 * 1.2)}
	if format == "svg" {
		fig.SVG = b
	} else {
		fig.PNG = b
	}
	return fig, nil
}

// Versions returns the versions that produced a report: Go, the evsnn
// module (version, VCS revision and time when the binary carries them)
// and the gonum modules.
func Versions() []KV {
	kv := []KV{{"Go", runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return append(kv, KV{"evsnn", "unknown (no build info)"})
	}
	ev := bi.Main.Version
	if ev == "" {
		ev = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = ", modified"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		ev += " (" + rev + dirty
		if at != "" {
			ev += ", " + at
		}
		ev += ")"
	}
	kv = append(kv, KV{"evsnn", ev})
	for _, d := range bi.Deps {
		if d.Path == "gonum.org/v1/gonum" || d.Path == "gonum.org/v1/plot" {
			kv = append(kv, KV{d.Path, d.Version})
		}
	}
	return kv
}
