package report

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/evsnn/evsnn/analysis"
)

// WriteRecorded writes the report of a recorded run (analysis.LoadRecordedRun:
// `evsnn report --from-recording FILE`) into dir, as WriteRun does for an
// analysis: the profile tables, firing rates, spikes per step and the
// raster of the recording's first image, profile.json and the CSV files.
// A recording has no readout, so there is no accuracy curve; the settings
// list the recording's provenance. It returns the path of report.html.
func WriteRecorded(dir, recording string, run *analysis.RecordedRun, info RunInfo) (string, error) {
	if run == nil || run.Profile == nil {
		return "", fmt.Errorf("report: no recorded run")
	}
	figs, err := StandardFigures(FigureData{Profile: run.Profile, Raster: run.Raster, ANNAccuracy: math.NaN(),
		MaxPoints: info.MaxPoints, PNGDPI: info.PNGDPI})
	if err != nil {
		return "", err
	}
	title := info.Title
	if title == "" {
		title = "evsnn report"
	}
	h := run.Header
	settings := []KV{
		{"recording", recording},
		{"model", run.Model},
		{"engine", h.Engine},
		{"T", strconv.Itoa(h.T)},
		{"images", fmt.Sprintf("%d (dataset images %d–%d)", h.Images, h.FirstImage, h.FirstImage+h.Images-1)},
	}
	keys := make([]string, 0, len(h.Provenance))
	for k := range h.Provenance {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		settings = append(settings, KV{"recorded " + k, h.Provenance[k]})
	}
	settings = append(settings, Versions()...)
	notes := append([]string{"Made from a spike recording: the spikes, rates and SOPs are the recorded run's; " +
		"a recording keeps no readout, so accuracy is not shown."}, info.Notes...)
	var page bytes.Buffer
	rep := &Report{
		Title:     title,
		Subtitle:  fmt.Sprintf("%s, T=%d, %d images (recorded)", run.Model, h.T, h.Images),
		Generated: info.Generated,
		Settings:  settings,
		Profile:   run.Profile,
		Tables:    info.Tables,
		Figures:   figs,
		Notes:     notes,
	}
	if err := Render(&page, rep); err != nil {
		return "", err
	}
	return writeDir(dir, page.Bytes(), run.Profile, figs, map[string][]byte{}, nil)
}
