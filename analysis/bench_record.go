package analysis

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/format/spikes"
	"github.com/evsnn/evsnn/network"
)

// BenchRecording is what recording every spike costs the event engine on
// the model: runs with and without SimOptions.RecordSpikes (the spikes
// written by format/spikes to a temporary file), alternated, on one core.
type BenchRecording struct {
	Rounds int `json:"rounds"`
	// PlainCPUSeconds and RecordCPUSeconds are the medians over the
	// rounds.
	PlainCPUSeconds  float64 `json:"plain_cpu_seconds"`
	RecordCPUSeconds float64 `json:"record_cpu_seconds"`
	// OverheadPercent is 100·(record − plain)/plain, the median of the
	// rounds' ratios.
	OverheadPercent float64 `json:"overhead_percent"`
	Bytes           int64   `json:"bytes"`
	Spikes          int64   `json:"spikes"`
	BytesPerSpike   float64 `json:"bytes_per_spike"`
}

// benchRecording times rounds pairs of event-engine runs on set, plain
// and recording (the file in dir, "" for the system's temporary
// directory, removed afterwards), alternating which goes first.
func benchRecording(net *network.Network, set *dataset.Set, T, rounds int, dir string, env Env) (*BenchRecording, error) {
	layers, err := spikes.LayersOf(net)
	if err != nil {
		return nil, BadInput(fmt.Errorf("recording: %w", err))
	}
	f, err := os.CreateTemp(dir, "evsnn-bench-*.spikes")
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	path := f.Name()
	f.Close()
	defer os.Remove(path)
	plain := func() (time.Duration, error) {
		_, cpu, err := oneCore(func() error {
			_, err := event.Engine{}.Run(net, set.Images, set.Labels, network.SimOptions{T: T, Workers: 1})
			return err
		})
		return cpu, err
	}
	var out BenchRecording
	record := func() (time.Duration, error) {
		w, err := spikes.Create(path, spikes.Header{T: T, Images: set.N, Engine: "event", Layers: layers})
		if err != nil {
			return 0, err
		}
		var res *network.SimResult
		_, cpu, err := oneCore(func() error {
			opts := network.SimOptions{T: T, Workers: 1, RecordSpikes: true,
				OnImage: func(i int, rec *network.ImageRecord) error { return w.Add(i, rec.Recorded) }}
			if res, err = (event.Engine{}).Run(net, set.Images, set.Labels, opts); err != nil {
				w.Abort()
				return err
			}
			return w.Close()
		})
		if err != nil {
			return 0, err
		}
		st, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		out.Bytes, out.Spikes = st.Size(), 0
		for _, l := range res.Layers {
			out.Spikes += l.Spikes
		}
		return cpu, nil
	}
	var plains, records, ratios []float64
	for r := range rounds {
		env.log().Info("timing the recording on one core", "round", r+1, "of", rounds, "images", set.N)
		var p, q time.Duration
		var err error
		if r%2 == 0 {
			if p, err = plain(); err == nil {
				q, err = record()
			}
		} else if q, err = record(); err == nil {
			p, err = plain()
		}
		if err != nil {
			return nil, fmt.Errorf("recording: %w", err)
		}
		env.log().Info("recording round timed", "round", r+1, "plain_cpu_s", p.Seconds(), "record_cpu_s", q.Seconds())
		plains, records = append(plains, p.Seconds()), append(records, q.Seconds())
		ratios = append(ratios, q.Seconds()/p.Seconds())
	}
	out.Rounds = rounds
	out.PlainCPUSeconds, out.RecordCPUSeconds = median(plains), median(records)
	out.OverheadPercent = 100 * (median(ratios) - 1)
	if out.Spikes > 0 {
		out.BytesPerSpike = float64(out.Bytes) / float64(out.Spikes)
	}
	return &out, nil
}

// median is the middle value of v (the mean of the two middle ones).
func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
