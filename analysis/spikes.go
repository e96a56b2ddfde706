package analysis

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/format/spikes"
	"github.com/evsnn/evsnn/internal/fsutil"
)

// OpenRecording opens a spike recording (format/spikes) and checks its
// header, index and CRCs. A missing, truncated or corrupt file is bad
// input (a one-line error naming the file and what is wrong).
func OpenRecording(path string) (*spikes.Reader, error) {
	rd, err := spikes.Open(path)
	if err != nil {
		return nil, BadInput(err)
	}
	return rd, nil
}

// RecordingSummary is what `evsnn spikes FILE` prints: the recording's
// header (what was simulated) and its spikes per layer.
type RecordingSummary struct {
	Path       string            `json:"path"`
	Engine     string            `json:"engine"`
	FirstImage int               `json:"first_image"`
	Provenance map[string]string `json:"provenance,omitempty"`
	// BytesPerSpike is the whole file's size over its spikes.
	BytesPerSpike float64 `json:"bytes_per_spike"`
	*spikes.Summary
}

// SummariseRecording reads every bitmap of the recording at path (each
// checked: CRC, serialization, cardinality) and counts the spikes per
// layer and step.
func SummariseRecording(path string) (*RecordingSummary, error) {
	rd, err := OpenRecording(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	s, err := rd.Summary()
	if err != nil {
		return nil, BadInput(err)
	}
	h := rd.Header()
	return &RecordingSummary{Path: path, Engine: h.Engine, FirstImage: h.FirstImage,
		Provenance: h.Provenance, BytesPerSpike: s.BytesPerSpike(), Summary: s}, nil
}

// WriteText prints the summary as a table, one line per spiking layer.
func (s *RecordingSummary) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s: %s images (dataset images %d–%d), T = %d, engine %s\n", s.Path,
		profile.Group(int64(s.Images)), s.FirstImage, s.FirstImage+s.Images-1, s.T, s.Engine)
	for _, k := range slices.Sorted(maps.Keys(s.Provenance)) {
		fmt.Fprintf(ew, "  %s: %s\n", k, s.Provenance[k])
	}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "layer\tneurons\tspikes\tper image\trate/neuron/step\tbytes/spike\t")
	for _, l := range s.Layers {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.1f\t%.5f\t%s\t\n", l.Name, profile.Group(int64(l.Neurons)), profile.Group(l.Spikes),
			l.SpikesPerImage, l.Rate, perSpike(l.Bytes, l.Spikes))
	}
	fmt.Fprintf(tw, "total\t\t%s\t%.1f\t\t%s\t\n", profile.Group(s.Spikes), perImage(s.Spikes, s.Images), perSpike(s.Bytes, s.Spikes))
	tw.Flush()
	fmt.Fprintf(ew, "file: %s bytes (header and index included)\n", profile.Group(s.Bytes))
	return ew.err
}

func perSpike(bytes, n int64) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(bytes)/float64(n), 'f', 3, 64)
}

func perImage(n int64, images int) float64 {
	if images == 0 {
		return 0
	}
	return float64(n) / float64(images)
}

// errWriter keeps the first write error, so that a printer checks once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return len(b), nil
	}
	n, err := e.w.Write(b)
	if err != nil {
		e.err = err
	}
	return n, nil
}

// CSVOptions choose what WriteRecordingCSV exports.
type CSVOptions struct {
	// Image is the recording's image to export (0-based, as in the
	// recording; its dataset index is the header's first_image plus it);
	// negative: every image.
	Image int
	// Counts exports one row per image and layer (image, layer, spikes),
	// read from the index without decoding a bitmap, instead of one row
	// per spike.
	Counts bool
}

// WriteRecordingCSV exports the recording at path as CSV to w, streaming
// image by image (memory follows one image, not the recording):
// image,layer,step,neuron rows (spikes.Reader.WriteCSV), or with
// o.Counts image,layer,spikes rows.
func WriteRecordingCSV(path string, w io.Writer, o CSVOptions) error {
	rd, err := OpenRecording(path)
	if err != nil {
		return err
	}
	defer rd.Close()
	h := rd.Header()
	first, n := 0, h.Images
	if o.Image >= 0 {
		if o.Image >= h.Images {
			return BadInput(fmt.Errorf("--image %d: %s holds images 0 to %d", o.Image, path, h.Images-1))
		}
		first, n = o.Image, 1
	}
	if !o.Counts {
		if err := rd.WriteCSV(w, first, n); err != nil {
			return BadInput(err)
		}
		return nil
	}
	ew := &errWriter{w: w}
	fmt.Fprintln(ew, "image,layer,spikes")
	var line []byte
	for i := first; i < first+n; i++ {
		for k, l := range h.Layers {
			es, err := rd.LayerEntries(i, k)
			if err != nil {
				return BadInput(err)
			}
			var c int64
			for _, e := range es {
				c += e.Spikes
			}
			line = strconv.AppendInt(line[:0], int64(i), 10)
			line = append(line, ',')
			line = append(line, csvName(l.Name)...)
			line = append(line, ',')
			line = strconv.AppendInt(line, c, 10)
			line = append(line, '\n')
			ew.Write(line)
		}
	}
	return ew.err
}

// csvName quotes a layer name for CSV if it needs it (RFC 4180).
func csvName(s string) string {
	for _, c := range s {
		if c == ',' || c == '"' || c == '\n' || c == '\r' {
			return strconv.Quote(s)
		}
	}
	return s
}

// WriteRecordingCSVFile is WriteRecordingCSV into the file out, written
// atomically (nothing is left at out on error).
func WriteRecordingCSVFile(path, out string, o CSVOptions) error {
	return fsutil.WriteAtomic(out, func(w io.Writer) error { return WriteRecordingCSV(path, w, o) })
}

// RecordingRaster draws the raster of one image of the recording at path
// (analysis/plot.NewRaster: layers stacked, large layers subsampled) to
// out (.png or .svg), atomically, and returns the image's spikes.
func RecordingRaster(path string, image int, out string) (int, error) {
	rd, err := OpenRecording(path)
	if err != nil {
		return 0, err
	}
	defer rd.Close()
	h := rd.Header()
	if image < 0 || image >= h.Images {
		return 0, BadInput(fmt.Errorf("--image %d: %s holds images 0 to %d", image, path, h.Images-1))
	}
	if _, err := plot.FormatOf(out); err != nil {
		return 0, BadInput(fmt.Errorf("--raster: %w", err))
	}
	ev, err := rd.Raster(image)
	if err != nil {
		return 0, BadInput(err)
	}
	if err := plot.Raster(out, ev, h.LayerNames(), h.LayerSizes(), h.T); err != nil {
		return 0, err
	}
	return len(ev), nil
}
