package spikes

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// LayerSummary is what a recording holds for one spiking layer.
type LayerSummary struct {
	Name    string `json:"name"`
	Neurons int    `json:"neurons"`
	// Spikes over all images and steps; SpikesByStep[t-1] those at step t.
	Spikes       int64   `json:"spikes"`
	SpikesByStep []int64 `json:"spikes_by_step"`
	// SpikesPerImage is Spikes / Images.
	SpikesPerImage float64 `json:"spikes_per_image"`
	// Rate is the firing rate in spikes per neuron and step,
	// Spikes / (Images·Neurons·T); RateByStep[t-1] is
	// SpikesByStep[t-1] / (Images·Neurons).
	Rate       float64   `json:"rate"`
	RateByStep []float64 `json:"rate_by_step"`
	// Bytes are the serialized bitmaps of the layer.
	Bytes int64 `json:"bytes"`
}

// Summary is the per-layer spike statistics of a recording.
type Summary struct {
	Images int            `json:"images"`
	T      int            `json:"T"`
	Spikes int64          `json:"spikes"`
	Bytes  int64          `json:"bytes"` // the whole file
	Layers []LayerSummary `json:"layers"`
}

// BytesPerSpike is the file size over the number of spikes (0 without
// spikes).
func (s *Summary) BytesPerSpike() float64 {
	if s.Spikes == 0 {
		return 0
	}
	return float64(s.Bytes) / float64(s.Spikes)
}

// Summary reads every bitmap and counts the spikes per layer and step.
func (r *Reader) Summary() (*Summary, error) {
	h := &r.hdr
	s := &Summary{Images: h.Images, T: h.T, Bytes: r.size, Layers: make([]LayerSummary, len(h.Layers))}
	for k, l := range h.Layers {
		s.Layers[k] = LayerSummary{Name: l.Name, Neurons: l.Neurons, SpikesByStep: make([]int64, h.T), RateByStep: make([]float64, h.T)}
	}
	for i := 0; i < h.Images; i++ {
		for k := range h.Layers {
			bs, err := r.Blocks(i, k)
			if err != nil {
				return nil, err
			}
			ls := &s.Layers[k]
			for j := range bs {
				stepCounts(ls.SpikesByStep, &bs[j])
				ls.Spikes += bs[j].Spikes
				ls.Bytes += bs[j].Length
			}
		}
	}
	for k := range s.Layers {
		ls := &s.Layers[k]
		s.Spikes += ls.Spikes
		if h.Images == 0 {
			continue
		}
		den := float64(h.Images) * float64(ls.Neurons)
		ls.SpikesPerImage = float64(ls.Spikes) / float64(h.Images)
		ls.Rate = float64(ls.Spikes) / (den * float64(h.T))
		for t, c := range ls.SpikesByStep {
			ls.RateByStep[t] = float64(c) / den
		}
	}
	return s, nil
}

// WriteCSV writes the spikes of images first … first+n−1 to w as CSV
// with the columns image (the recording's 0-based index; the dataset
// index is Header.FirstImage plus it), layer (its name), step (1-based)
// and neuron (in the network's C,H,W order), one row per spike, ordered by
// image, step, layer and neuron.
func (r *Reader) WriteCSV(w io.Writer, first, n int) error {
	if !r.imageRange(first, n) {
		return fmt.Errorf("spikes: %s: images %d to %d: the recording has %d", r.name, first, first+n-1, r.hdr.Images)
	}
	names := make([][]byte, len(r.hdr.Layers))
	for k, l := range r.hdr.Layers {
		names[k] = csvField(l.Name)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("image,layer,step,neuron\n")
	var line []byte
	for i := first; i < first+n; i++ {
		ev, err := r.Raster(i)
		if err != nil {
			return err
		}
		for _, e := range ev {
			line = strconv.AppendInt(line[:0], int64(i), 10)
			line = append(line, ',')
			line = append(line, names[e.Layer]...)
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(e.Step), 10)
			line = append(line, ',')
			line = strconv.AppendInt(line, int64(e.Neuron), 10)
			line = append(line, '\n')
			if _, err := bw.Write(line); err != nil {
				return fmt.Errorf("spikes: %s: CSV: %w", r.name, err)
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("spikes: %s: CSV: %w", r.name, err)
	}
	return nil
}

// csvField quotes s if CSV needs it (RFC 4180).
func csvField(s string) []byte {
	if !strings.ContainsAny(s, ",\"\r\n") {
		return []byte(s)
	}
	return []byte(`"` + strings.ReplaceAll(s, `"`, `""`) + `"`)
}
