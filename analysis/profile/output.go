package profile

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/evsnn/evsnn/internal/fsutil"
)

// WriteJSON writes p as one indented JSON object followed by a newline.
func WriteJSON(w io.Writer, p *Profile) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// The files WriteCSV writes.
const (
	LayersCSV         = "layers.csv"
	SpikesByStepCSV   = "spikes_by_step.csv"
	AccuracyByStepCSV = "accuracy_by_step.csv"
)

// LayerColumns are the header of layers.csv: the JSON names of the
// LayerProfile fields, in order (spikes_by_step is in its own file).
var LayerColumns = []string{
	"name", "layer", "neurons", "spikes", "spikes_per_image", "firing_rate",
	"sops", "sops_per_image", "target", "ann_macs", "dense_macs",
	"sops_per_mac", "sops_per_dense_mac",
	"energy_snn_uj_per_image", "energy_ann_uj_per_image",
	"first_spike_latency", "mse", "error_l2", "rel_error", "pearson",
	"ann_mean", "snn_mean",
}

// WriteCSV writes the profile as CSV files into dir (created if needed):
//
//   - layers.csv: one row per spiking layer, then a row named "total";
//     columns LayerColumns, plus pj_per_sop and pj_per_mac (the energy
//     constants) on every row. An absent value is an empty cell.
//   - spikes_by_step.csv: columns step, one per layer (named as the layer),
//     total; the spikes at each step over all images.
//   - accuracy_by_step.csv: columns step, accuracy (only when the run had
//     labels).
//
// Numbers are plain (no thousands separators), floats in Go's shortest
// round-trip form. Each file is written atomically.
func WriteCSV(dir string, p *Profile) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	if err := writeCSV(filepath.Join(dir, LayersCSV), layerRecords(p)); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(dir, SpikesByStepCSV), stepRecords(p)); err != nil {
		return err
	}
	if p.AccuracyByStep != nil {
		recs := [][]string{{"step", "accuracy"}}
		for t, a := range p.AccuracyByStep {
			recs = append(recs, []string{strconv.Itoa(t + 1), ff(a)})
		}
		if err := writeCSV(filepath.Join(dir, AccuracyByStepCSV), recs); err != nil {
			return err
		}
	}
	return nil
}

func writeCSV(path string, recs [][]string) error {
	return fsutil.WriteAtomic(path, func(w io.Writer) error {
		cw := csv.NewWriter(w)
		if err := cw.WriteAll(recs); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		return nil
	})
}

func ff(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func fp(v *float64) string {
	if v == nil {
		return ""
	}
	return ff(*v)
}

func fi(v int64) string { return strconv.FormatInt(v, 10) }

func layerRecords(p *Profile) [][]string {
	head := append(append([]string{}, LayerColumns...), "pj_per_sop", "pj_per_mac")
	recs := [][]string{head}
	e := []string{ff(p.Energy.PJPerSOP), ff(p.Energy.PJPerMAC)}
	for _, l := range p.Layers {
		r := []string{
			l.Name, strconv.Itoa(l.Layer), strconv.Itoa(l.Neurons), fi(l.Spikes),
			ff(l.SpikesPerImage), ff(l.FiringRate), fi(l.SOPs), ff(l.SOPsPerImage),
			l.Target, fi(l.ANNMACs), fi(l.DenseMACs), ff(l.SOPsPerMAC), ff(l.SOPsPerDenseMAC),
			ff(l.EnergySNN), ff(l.EnergyANN), fp(l.FirstSpikeLatency),
			fp(l.MSE), fp(l.ErrorL2), fp(l.RelError), fp(l.Pearson), fp(l.ANNMean), fp(l.SNNMean),
		}
		recs = append(recs, append(r, e...))
	}
	t := p.Totals
	r := []string{
		"total", "", strconv.Itoa(t.Neurons), fi(t.Spikes), ff(t.SpikesPerImage), ff(t.FiringRate),
		fi(t.SOPs), ff(t.SOPsPerImage), "", fi(t.ANNMACs), fi(t.DenseMACs), ff(t.SOPsPerMAC), "",
		ff(t.EnergySNN), ff(t.EnergyANN), "", "", "", "", "", "", "",
	}
	return append(recs, append(r, e...))
}

func stepRecords(p *Profile) [][]string {
	head := []string{"step"}
	for _, l := range p.Layers {
		head = append(head, l.Name)
	}
	head = append(head, "total")
	recs := [][]string{head}
	for t := 0; t < p.T; t++ {
		r := []string{strconv.Itoa(t + 1)}
		var sum int64
		for _, l := range p.Layers {
			var v int64
			if t < len(l.SpikesByStep) {
				v = l.SpikesByStep[t]
			}
			sum += v
			r = append(r, fi(v))
		}
		recs = append(recs, append(r, fi(sum)))
	}
	return recs
}

// PrintTable writes the profile as aligned tables for a terminal: a
// summary, the energy constants, the activity and cost of each layer, and
// the conversion error with a sparkline of the spikes per step.
func PrintTable(w io.Writer, p *Profile) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "engine %s, T = %d, %s images, %.3f s\n", p.Engine, p.T, Group(int64(p.Images)), p.WallSeconds)
	if p.Accuracy != nil {
		fmt.Fprintf(ew, "SNN accuracy after T steps: %.2f %%", 100**p.Accuracy)
		if p.ANNAccuracy != nil {
			fmt.Fprintf(ew, " (ANN: %.2f %%)", 100**p.ANNAccuracy)
		}
		fmt.Fprintln(ew)
	} else if p.ANNAccuracy != nil {
		fmt.Fprintf(ew, "ANN accuracy: %.2f %%\n", 100**p.ANNAccuracy)
	}
	fmt.Fprintf(ew, "energy estimate: %s\n", p.Energy)
	fmt.Fprintln(ew, "  SNN = SOPs·E_SOP + input (direct: the first layer's MACs·E_MAC once per image; Poisson: the input spikes' SOPs·E_SOP); ANN = MACs·E_MAC; per image")
	fmt.Fprintln(ew)

	tb := table{head: []string{"layer", "neurons", "spikes/img", "rate", "SOPs/img", "target", "ANN MACs/img", "SOP/MAC", "SNN µJ/img", "ANN µJ/img"}, left: map[int]bool{5: true}}
	for _, l := range p.Layers {
		tb.add(l.Name, Group(int64(l.Neurons)), groupF(l.SpikesPerImage), pct(l.FiringRate),
			groupF(l.SOPsPerImage), "→ "+orDash(l.Target), Group(l.ANNMACs), ratio(l.SOPsPerMAC),
			uj(l.EnergySNN), uj(l.EnergyANN))
	}
	t := p.Totals
	in := p.InputCost()
	if in.Poisson {
		tb.add("input", "", groupF(in.SpikesPerImage), "", groupF(in.SOPsPerImage), "", Group(in.MACs), "", uj(in.EnergySNN), uj(in.EnergyANN))
	} else {
		tb.add("input", "", "", "", "", "", Group(in.MACs), "", uj(in.EnergySNN), uj(in.EnergyANN))
	}
	tb.add("total", Group(int64(t.Neurons)), groupF(t.SpikesPerImage), pct(t.FiringRate), groupF(t.SOPsPerImage),
		"", Group(t.ANNMACs), ratio(t.SOPsPerMAC), uj(t.EnergySNN), uj(t.EnergyANN))
	tb.write(ew)
	fmt.Fprintln(ew)

	tb = table{head: []string{"layer", "first spike", "MSE", "rel. error", "pearson", "ANN mean", "SNN mean", "spikes per step (1..T)"}, left: map[int]bool{7: true}}
	for _, l := range p.Layers {
		lat := "—"
		if l.FirstSpikeLatency != nil {
			lat = fmt.Sprintf("%.2f", *l.FirstSpikeLatency)
		}
		tb.add(l.Name, lat, sci(l.MSE), fixed(l.RelError, 4), fixed(l.Pearson, 4), sci(l.ANNMean), sci(l.SNNMean),
			Sparkline(l.SpikesByStep, 40))
	}
	tb.write(ew)
	if len(p.Layers) > 0 && p.Layers[0].MSE == nil {
		fmt.Fprintln(ew, "(conversion error: needs the per-neuron counts and the ANN activations of the same images)")
	}
	return ew.err
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

// Group formats an integer with thousands separators: 12,544.
func Group(v int64) string {
	s := strconv.FormatInt(v, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// groupF formats a non-negative count that may be fractional (a mean per
// image): grouped, with one decimal below 1,000.
func groupF(v float64) string {
	if v < 1000 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return Group(int64(v + 0.5))
}

func pct(v float64) string { return strconv.FormatFloat(100*v, 'f', 2, 64) + " %" }

func ratio(v float64) string {
	if v == 0 {
		return "0"
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

func uj(v float64) string { return sig(v) }

// sig formats v with 4 significant digits, without an exponent from 1e-4
// up.
func sig(v float64) string {
	if math.Abs(v) >= 1000 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func sci(v *float64) string {
	if v == nil {
		return "—"
	}
	return sig(*v)
}

func fixed(v *float64, prec int) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'f', prec, 64)
}

// Sparkline draws values as at most width block characters (▁..█), each
// the mean of the values it covers, scaled to the maximum.
func Sparkline(values []int64, width int) string {
	if len(values) == 0 || width <= 0 {
		return ""
	}
	bars := []rune("▁▂▃▄▅▆▇█")
	n := min(width, len(values))
	buckets := make([]float64, n)
	for b := range buckets {
		lo, hi := b*len(values)/n, (b+1)*len(values)/n
		var s float64
		for _, v := range values[lo:hi] {
			s += float64(v)
		}
		buckets[b] = s / float64(hi-lo)
	}
	maxV := 0.0
	for _, v := range buckets {
		maxV = max(maxV, v)
	}
	var sb strings.Builder
	for _, v := range buckets {
		i := 0
		if maxV > 0 && v > 0 {
			i = min(len(bars)-1, int(v/maxV*float64(len(bars)-1)+0.5))
		}
		if v == 0 {
			sb.WriteRune(' ')
			continue
		}
		sb.WriteRune(bars[i])
	}
	return sb.String()
}

// table aligns columns: the first (and those in left) to the left, the
// others to the right, two spaces apart.
type table struct {
	head []string
	rows [][]string
	left map[int]bool
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	width := make([]int, len(t.head))
	for _, r := range append([][]string{t.head}, t.rows...) {
		for i, c := range r {
			width[i] = max(width[i], utf8.RuneCountInString(c))
		}
	}
	for _, r := range append([][]string{t.head}, t.rows...) {
		var b strings.Builder
		for i, c := range r {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(c))
			if i > 0 {
				b.WriteString("  ")
			}
			if i == 0 || t.left[i] {
				b.WriteString(c)
				if i < len(r)-1 {
					b.WriteString(pad)
				}
			} else {
				b.WriteString(pad + c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}
