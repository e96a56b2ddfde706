package analysis

import (
	"fmt"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/format/spikes"
	"github.com/evsnn/evsnn/network"
)

// RecordedRun is what a report needs of a recorded run: its profile
// (RecordingProfile), the spikes of its first image for the raster
// figure, the recording's header and the SNN it was of.
type RecordedRun struct {
	Profile *profile.Profile
	// Raster holds the spikes of the recording's image 0, ordered by step,
	// layer and neuron (as SimResult.Raster): report.FigureData.Raster.
	Raster []network.RasterEvent
	Header spikes.Header
	SNN    *network.Network
	// Model is the model file the SNN was loaded from (or BuiltinName).
	Model string
}

// LoadRecordedRun reads the recording at path and the model it was
// recorded from: model, or if "" the model its provenance names (the path
// simulate was given, or the built-in model). An ANN is converted with
// the defaults on data (as simulate does); the SNN must be the one
// recorded (RecordingResult checks its sha256 against the provenance).
func LoadRecordedRun(path, model string, data Data, energy profile.Energy, env Env) (*RecordedRun, error) {
	rd, err := OpenRecording(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	h := rd.Header()
	if model == "" {
		model = h.Provenance["model"]
		switch model {
		case "":
			return nil, BadInput(fmt.Errorf("%s names no model in its provenance: give the model the run simulated", path))
		case BuiltinName:
			model = ""
		}
	}
	net, err := LoadModel(model, env)
	if err != nil {
		return nil, err
	}
	snn, err := EnsureSNN(net, data, env)
	if err != nil {
		return nil, err
	}
	res, err := RecordingResult(rd, snn)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	p, err := profile.Build(snn, res, nil, energy)
	if err != nil {
		return nil, BadInput(fmt.Errorf("%s: %w", path, err))
	}
	run := &RecordedRun{Profile: p, Header: h, SNN: snn, Model: model}
	if run.Model == "" {
		run.Model = BuiltinName
	}
	if h.Images > 0 {
		if run.Raster, err = rd.Raster(0); err != nil {
			return nil, BadInput(err)
		}
	}
	return run, nil
}
