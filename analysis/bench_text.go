package analysis

import (
	"bytes"
	"fmt"
	"io"
	"text/tabwriter"
)

// WriteText prints the benchmark as tables.
func (b *Bench) WriteText(w io.Writer) error {
	ew := &bytes.Buffer{}
	fmt.Fprintf(ew, "CPU: %s\n", b.CPU)
	if m := b.Model; m != nil {
		m.writeText(ew)
	}
	if len(b.Synthetic) > 0 {
		fmt.Fprintf(ew, "\nSynthetic network (1024 inputs, 3×%d IF neurons), one core, CPU ms per input without setup\n(event: image by image through a Simulator; dense, dense-skip: (run on 1+n inputs − run on 1)/n;\n dense computes every product in full, dense-skip skips silent inputs: same numbers)\n", b.Synthetic[0].Neurons)
		tw := tabwriter.NewWriter(ew, 2, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "activity\tspikes/input\tevent ms\tdense ms\tspeed-up\tdense-skip ms\tspeed-up\tevent ns/spike\t")
		for _, s := range b.Synthetic {
			fmt.Fprintf(tw, "%g\t%.0f\t%.3f\t%s\t%s\t%s\t%s\t%.0f\t\n", s.Activity, s.SpikesPerImg, s.EventMs,
				orNA(s.DenseMs, "%.3f"), orNA(s.Speedup, "%.1f×"), orNA(s.DenseSkipMs, "%.3f"), orNA(s.SpeedupSkip, "%.1f×"), s.EventNsSpike)
		}
		tw.Flush()
	}
	return flush(w, ew)
}

func (m *BenchModel) writeText(w io.Writer) {
	fmt.Fprintf(w, "\nModel, T=%d, %d test images, one core (GOMAXPROCS=1; CPU time is what the process used)\n", m.T, m.Images)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "engine\twall s\tCPU s\tCPU ms/image\taccuracy\tspikes/image\tSOPs/image\tadds/image\tGSOP/s\tGadd/s\tCPU speed-up\t")
	for _, e := range m.Engines {
		var sp int64
		for _, s := range e.Spikes {
			sp += s
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.3f\t%.4f\t%.1f\t%.0f\t%s\t%s\t%s\t%s\t\n", e.Engine, e.WallSeconds, e.CPUSeconds, e.CPUMsPerImage,
			e.Accuracy, float64(sp)/float64(m.Images), float64(e.SOPs)/float64(m.Images),
			ifPos(float64(e.Adds)/float64(m.Images), "%.0f"), ifPos(e.GSOPsPerS, "%.2f"), ifPos(e.GAddsPerS, "%.2f"), ifPos(e.SpeedupCPU, "%.2f×"))
	}
	tw.Flush()
	if e := m.AllCores; e != nil {
		fmt.Fprintf(w, "event engine, %d workers: %.2f s wall, %.3f ms/image\n", e.Workers, e.WallSeconds, e.MsPerImage)
	}
	if l := m.Latency; l != nil {
		fmt.Fprintf(w, "event streaming latency (one image at a time, %d images): mean %.3f ms, p50 %.3f, p90 %.3f, p99 %.3f, max %.3f\n",
			l.Images, l.MeanMs, l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs)
	}
	if a := m.Agreement; a != nil {
		fmt.Fprintf(w, "agreement event vs dense: %d/%d same predictions; per-layer spike differences", a.SamePredictions, a.Images)
		for k, d := range a.SpikeRelDiff {
			fmt.Fprintf(w, " %s %.2g%%", m.LayerNames[k], 100*d)
		}
		fmt.Fprintf(w, "; SOPs equal: %v; pass: %v\n", a.SOPsEqual, a.Pass)
	}
	for _, e := range m.Expected {
		fmt.Fprintf(w, "expected: %s %.1f spikes/image, event %.1f (%.3f%%) pass: %v\n", e.Layer, e.Expected, e.Event, 100*e.RelDiff, e.Pass)
	}
	if r := m.Recording; r != nil {
		fmt.Fprintf(w, "recording every spike (event engine, one core, %d alternated rounds): %+.1f %% CPU (median %.2f s against %.2f s), %d bytes, %.3f bytes per spike\n",
			r.Rounds, r.OverheadPercent, r.RecordCPUSeconds, r.PlainCPUSeconds, r.Bytes, r.BytesPerSpike)
	}
}

func ifPos(v float64, format string) string {
	if v > 0 {
		return fmt.Sprintf(format, v)
	}
	return ""
}

// orNA formats *v, or "n/a" when it was not measured.
func orNA(v *float64, format string) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf(format, *v)
}
