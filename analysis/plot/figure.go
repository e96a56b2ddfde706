package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/evsnn/evsnn/internal/fsutil"
)

// The default figure size and the resolution of PNG output. At 192 dots per
// inch a 7 × 4 inch figure is 1344 × 768 pixels: sharp when a page shows it
// 672 pixels wide on a high-density screen.
const (
	DefaultWidth  = 7 * vg.Inch
	DefaultHeight = 4 * vg.Inch
	PNGDPI        = 192
)

// Figure is one rendered image: one plot or a grid of plots (rows of
// columns) drawn on one canvas.
type Figure struct {
	Width, Height vg.Length
	// DPI is the resolution of PNG output; 0 means PNGDPI.
	DPI int
	// Plots are the panels, Plots[row][col]; a nil panel is left empty.
	Plots [][]*gplot.Plot
}

func single(p *gplot.Plot, w, h vg.Length) *Figure {
	return &Figure{Width: w, Height: h, Plots: [][]*gplot.Plot{{p}}}
}

// Formats are the formats Encode and Save write.
var Formats = []string{"png", "svg"}

// FormatOf returns the format a path's extension names: "png" or "svg".
func FormatOf(path string) (string, error) {
	ext := strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
	switch ext {
	case "png", "svg":
		return ext, nil
	}
	return "", fmt.Errorf("plot: %s: unknown image format %q (want .png or .svg)", path, filepath.Ext(path))
}

// Encode renders the figure as "png" or "svg" and returns the file's bytes.
func (f *Figure) Encode(format string) ([]byte, error) {
	if f.Width <= 0 || f.Height <= 0 {
		return nil, fmt.Errorf("plot: figure size %v × %v", f.Width, f.Height)
	}
	var c vg.CanvasWriterTo
	switch format {
	case "png":
		dpi := f.DPI
		if dpi <= 0 {
			dpi = PNGDPI
		}
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(dpi),
			vgimg.UseBackgroundColor(color.White))}
	case "svg":
		c = vgsvg.NewWith(vgsvg.UseWH(f.Width, f.Height))
	default:
		return nil, fmt.Errorf("plot: unknown format %q (want png or svg)", format)
	}
	if err := f.draw(draw.New(c)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("plot: encode %s: %w", format, err)
	}
	return buf.Bytes(), nil
}

func (f *Figure) draw(dc draw.Canvas) (err error) {
	// gonum/plot panics on some degenerate inputs; turn that into an error.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("plot: draw: %v", r)
		}
	}()
	if len(f.Plots) == 0 || len(f.Plots[0]) == 0 {
		return fmt.Errorf("plot: figure has no plots")
	}
	if len(f.Plots) == 1 && len(f.Plots[0]) == 1 {
		f.Plots[0][0].Draw(dc)
		return nil
	}
	rows, cols := len(f.Plots), len(f.Plots[0])
	dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(14), PadY: vg.Points(14),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	canvases := gplot.Align(f.Plots, tiles, dc)
	for r, row := range f.Plots {
		for c, p := range row {
			if p != nil {
				p.Draw(canvases[r][c])
			}
		}
	}
	return nil
}

// Save renders the figure into path, as PNG or SVG by its extension. The
// file is written atomically.
func (f *Figure) Save(path string) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	b, err := f.Encode(format)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, b)
}

// Palette is the colour cycle of series and layers (Tableau 10).
var Palette = []color.Color{
	rgb(0x4e79a7), rgb(0xf28e2b), rgb(0xe15759), rgb(0x76b7b2), rgb(0x59a14f),
	rgb(0xedc948), rgb(0xb07aa1), rgb(0xff9da7), rgb(0x9c755f), rgb(0xbab0ac),
}

// Color returns the i-th colour of the palette, cycling.
func Color(i int) color.Color { return Palette[((i%len(Palette))+len(Palette))%len(Palette)] }

func rgb(v uint32) color.RGBA {
	return color.RGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: 0xff}
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	// Premultiplied.
	return color.RGBA{R: uint8(r >> 8 * uint32(a) / 255), G: uint8(g >> 8 * uint32(a) / 255), B: uint8(b >> 8 * uint32(a) / 255), A: a}
}

var (
	sans     = font.Font{Typeface: "Liberation", Variant: "Sans"}
	sansBold = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
	ink      = rgb(0x333333)
	gridInk  = rgb(0xe3e3e3)
)

// newPlot returns a plot in the house style: sans-serif text, light grid,
// thin dark axes.
func newPlot(title, xLabel, yLabel string) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sansBold, 12)
	p.Title.TextStyle.Color = ink
	p.Title.Padding = vg.Points(8)
	for _, a := range []*gplot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 10.5)
		a.Label.TextStyle.Color = ink
		a.Tick.Label.Font = font.From(sans, 9)
		a.Tick.Label.Color = ink
		a.Color = rgb(0x888888)
		a.Tick.Color = rgb(0x888888)
		a.Width = vg.Points(0.6)
		a.Tick.Width = vg.Points(0.6)
		a.Padding = vg.Points(2)
		a.Tick.Marker = niceTicks{n: 6}
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	p.Legend.TextStyle.Font = font.From(sans, 9)
	p.Legend.TextStyle.Color = ink
	p.Legend.ThumbnailWidth = vg.Points(18)
	return p
}

// addGrid draws light grid lines: vertical ones only if vertical is true.
func addGrid(p *gplot.Plot, vertical bool) {
	g := plotter.NewGrid()
	g.Vertical.Color, g.Horizontal.Color = gridInk, gridInk
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	if !vertical {
		g.Vertical.Color = nil
	}
	p.Add(g)
}

// niceTicks labels about n major ticks at 1, 2 or 5 × 10^k steps, with
// minor ticks in between and no needless decimals. With integer set, the
// step is at least 1 (time steps).
type niceTicks struct {
	n       int
	integer bool
}

func (nt niceTicks) Ticks(lo, hi float64) []gplot.Tick {
	if !(hi > lo) || math.IsInf(hi-lo, 0) {
		return []gplot.Tick{{Value: lo, Label: formatTick(lo, 0)}}
	}
	n := nt.n
	if n <= 0 {
		n = 6
	}
	raw := (hi - lo) / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if nt.integer && step < 1 {
		step = 1
	}
	minor := step / 5
	if step/mag == 2 || step/mag == 20 {
		minor = step / 4
	}
	if nt.integer && minor < 1 {
		minor = 0
	}
	decimals := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	var ts []gplot.Tick
	first := math.Ceil(lo/step-1e-9) * step
	for v := first; v <= hi+step*1e-9; v += step {
		ts = append(ts, gplot.Tick{Value: v, Label: formatTick(v, decimals)})
	}
	if minor > 0 {
		for v := math.Ceil(lo/minor-1e-9) * minor; v <= hi+minor*1e-9; v += minor {
			if r := math.Abs(v/step - math.Round(v/step)); r > 1e-6 {
				ts = append(ts, gplot.Tick{Value: v})
			}
		}
	}
	return ts
}

func formatTick(v float64, decimals int) string {
	if math.Abs(v) < 1e-12 {
		v = 0
	}
	if math.Abs(v) >= 1e6 || (v != 0 && math.Abs(v) < 1e-4) {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', decimals, 64)
}

// placeLegend puts the legend in the corner of the data area where the
// fewest of pts fall (legend boxes take about the top or bottom third and
// the left or right 40 %).
func placeLegend(p *gplot.Plot, pts []plotter.XY) {
	xr, yr := p.X.Max-p.X.Min, p.Y.Max-p.Y.Min
	if !(xr > 0) || !(yr > 0) {
		return
	}
	best, bestN := 0, math.MaxInt
	for c := 0; c < 4; c++ {
		top, left := c&1 == 0, c&2 == 0
		n := 0
		for _, q := range pts {
			fx, fy := (q.X-p.X.Min)/xr, (q.Y-p.Y.Min)/yr
			inX := (left && fx < 0.4) || (!left && fx > 0.6)
			inY := (top && fy > 0.66) || (!top && fy < 0.34)
			if inX && inY {
				n++
			}
		}
		if n < bestN {
			best, bestN = c, n
		}
	}
	p.Legend.Top, p.Legend.Left = best&1 == 0, best&2 == 0
	p.Legend.XOffs, p.Legend.YOffs = -vg.Points(6), -vg.Points(4)
	if p.Legend.Left {
		p.Legend.XOffs = vg.Points(8)
	}
	if !p.Legend.Top {
		p.Legend.YOffs = vg.Points(6)
	}
}
