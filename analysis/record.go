package analysis

import (
	"fmt"
	"maps"

	"github.com/evsnn/evsnn/format/spikes"
	"github.com/evsnn/evsnn/network"
)

// Recording says where a run's spikes were recorded (format/spikes) and
// how large the file is.
type Recording struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	Spikes int64  `json:"spikes"`
	// BytesPerSpike is Bytes/Spikes (0 without spikes).
	BytesPerSpike float64 `json:"bytes_per_spike"`
}

// recorder writes every spike of one run to a recording.
type recorder struct {
	w    *spikes.Writer
	path string
}

// newRecorder starts the recording at path of the run of the inputs with
// opts by engine: every image of in.Set, numbered from opts.ImageOffset in
// the data set. The header's provenance holds the model (its path and the
// sha256 of its file and of the simulated SNN), the data, the encoding,
// seed and exit rule, the evsnn version and what the caller adds in extra
// (the command line).
func (in *Inputs) newRecorder(path, engine string, opts network.SimOptions, extra map[string]string) (*recorder, error) {
	layers, err := spikes.LayersOf(in.SNN)
	if err != nil {
		return nil, BadInput(fmt.Errorf("--record: %w", err))
	}
	prov := map[string]string{
		"model":    in.Model,
		"dataset":  in.Set.Name,
		"split":    "test",
		"encoding": string(opts.Encoding),
	}
	if prov["encoding"] == "" {
		prov["encoding"] = string(network.EncodingDirect)
	}
	if opts.Encoding == network.EncodingPoisson {
		prov["seed"] = fmt.Sprint(opts.Seed)
	}
	if opts.Exit != nil {
		prov["exit"] = opts.Exit.String()
		prov["note"] = "with early exit an image's spikes are those of the steps it ran"
	}
	if in.Provenance != nil {
		prov["model_sha256"], prov["snn_sha256"] = in.Provenance.Model.SHA256, in.Provenance.Model.SNNSHA256
		prov["data_sha256"] = in.Provenance.Data.SHA256
		prov["shard"] = fmt.Sprintf("%d/%d", in.Shard.K, in.Shard.N)
	} else {
		if h, err := FileHash(in.modelPath()); err == nil {
			prov["model_sha256"] = h
		}
		if h, err := NetHash(in.SNN); err == nil {
			prov["snn_sha256"] = h
		}
	}
	maps.Copy(prov, extra)
	w, err := spikes.Create(path, spikes.Header{T: opts.T, Images: in.Set.N, FirstImage: opts.ImageOffset,
		Engine: engine, Layers: layers, Provenance: prov})
	if err != nil {
		return nil, BadInput(fmt.Errorf("--record: %w", err))
	}
	return &recorder{w: w, path: path}, nil
}

// onImage adds one image's spikes (SimOptions.OnImage).
func (r *recorder) onImage(i int, rec *network.ImageRecord) error {
	return r.w.Add(i, rec.Recorded)
}

// close finishes the recording (nothing is left at the path on error).
func (r *recorder) close(res *network.SimResult) (*Recording, error) {
	if err := r.w.Close(); err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	rd, err := spikes.Open(r.path)
	if err != nil {
		return nil, fmt.Errorf("--record: %w", err)
	}
	defer rd.Close()
	out := &Recording{Path: r.path, Bytes: rd.Size()}
	for _, l := range res.Layers {
		out.Spikes += l.Spikes
	}
	if out.Spikes > 0 {
		out.BytesPerSpike = float64(out.Bytes) / float64(out.Spikes)
	}
	return out, nil
}

// abort discards the recording.
func (r *recorder) abort() { r.w.Abort() }

// modelPath is the model file the inputs were loaded from ("" for the
// built-in model).
func (in *Inputs) modelPath() string {
	if in.Model == BuiltinName {
		return ""
	}
	return in.Model
}
