package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/internal/fsutil"
	"github.com/evsnn/evsnn/network"
)

// The partial-result format: Part.Format and Part.Version.
const (
	PartFormat  = "evsnn-partial"
	PartVersion = 1
)

// Part is a partial result: what one shard of a run (simulate, compare or
// profile with --shard K/N) found on its images, with everything Merge
// needs to check that parts belong to one run and to rebuild the run's
// result exactly. It is written as one JSON object (WritePart); its
// fields are version 1 of the format:
//
//   - format, version: "evsnn-partial", 1.
//   - command: "simulate", "compare" or "profile".
//   - provenance: the model (sha256 of the file, sha256 of the simulated
//     SNN), the data (set, split, the whole run's image count, sha256 of
//     its images and labels), calib_images, evsnn_version.
//   - options: everything else that changes a number (engine, T,
//     encoding, seed, exit rule, delays; a profile's error images and
//     energy constants).
//   - shard: k, n and the images [first, end) of the run it covers.
//   - per image, in image order: labels; for every simulation (run, or
//     compare's dense and event) the predictions, steps and spikes per
//     spiking layer; the ANN's predictions.
//   - sums: each simulation's correct predictions per step, spikes,
//     SOPs, spikes per step and first-spike sums per layer, input spikes;
//     a profile's network costs and exact conversion-error sums.
//
// Wall-clock times (wall_ns) are carried too; they are the only figures a
// merged result does not share with the one-process run (they add up).
type Part struct {
	Format     string      `json:"format"`
	Version    int         `json:"version"`
	Command    string      `json:"command"`
	Provenance Provenance  `json:"provenance"`
	Options    PartOptions `json:"options"`
	Shard      ShardRange  `json:"shard"`
	// SNN is the simulated SNN's metadata (simulate --json prints it).
	SNN    *network.Metadata `json:"snn"`
	Labels []int             `json:"labels"`
	// Run is simulate's or profile's simulation; Dense and Event are
	// compare's.
	Run   *PartRun `json:"run,omitempty"`
	Dense *PartRun `json:"dense,omitempty"`
	Event *PartRun `json:"event,omitempty"`
	ANN   *PartANN `json:"ann,omitempty"`
	// Profile is profile's: the network's costs and the conversion error
	// sums of the run's first ErrorImages images that are in the shard.
	Profile *PartProfile `json:"profile,omitempty"`
}

// PartOptions are the options of a run that change its numbers.
type PartOptions struct {
	Engine   string `json:"engine,omitempty"`
	T        int    `json:"T"`
	Encoding string `json:"encoding"`
	Seed     uint64 `json:"seed"`
	Exit     string `json:"exit,omitempty"`
	Delays   []int  `json:"delays,omitempty"`
	// ErrorImages and Energy are profile's.
	ErrorImages int             `json:"error_images,omitempty"`
	Energy      *profile.Energy `json:"energy,omitempty"`
}

// PartRun is one simulation of a shard's images: per-image data and sums.
type PartRun struct {
	Engine      string           `json:"engine"`
	T           int              `json:"T"`
	Encoding    network.Encoding `json:"encoding"`
	WallNS      int64            `json:"wall_ns"`
	InputSpikes int64            `json:"input_spikes"`
	InputSOPs   int64            `json:"input_sops"`
	// CorrectByStep is null when the run had no labels.
	CorrectByStep []int                `json:"correct_by_step"`
	Layers        []network.LayerStats `json:"layers"`
	Predictions   []int                `json:"predictions"`
	Steps         []int                `json:"steps"`
	// ImageSpikes[i][k] is image i's spikes in spiking layer k.
	ImageSpikes [][]int64 `json:"image_spikes"`
}

// PartANN is the ANN on a shard's images.
type PartANN struct {
	Predictions []int  `json:"predictions"`
	WallNS      int64  `json:"wall_ns"`
	Source      string `json:"source,omitempty"`
}

// PartProfile is what a profile adds to its run.
type PartProfile struct {
	Costs *profile.Costs `json:"costs"`
	// ErrorSums has one entry per spiking layer when the run measured the
	// conversion error (options.error_images > 0).
	ErrorSums []profile.ErrorSums `json:"error_sums,omitempty"`
}

func partRun(res *network.SimResult) *PartRun {
	return &PartRun{
		Engine: res.Engine, T: res.T, Encoding: res.Encoding, WallNS: int64(res.Wall),
		InputSpikes: res.InputSpikes, InputSOPs: res.InputSOPs, CorrectByStep: res.CorrectByStep,
		Layers: res.Layers, Predictions: res.Predictions, Steps: res.Steps, ImageSpikes: res.ImageSpikes,
	}
}

// result is the run as a network.SimResult (without per-neuron data).
func (r *PartRun) result() *network.SimResult {
	layers := make([]network.LayerStats, len(r.Layers))
	for k, l := range r.Layers {
		l.SpikesByStep = append([]int64(nil), l.SpikesByStep...)
		layers[k] = l
	}
	res := &network.SimResult{
		Engine: r.Engine, T: r.T, Images: len(r.Predictions), Encoding: r.Encoding,
		InputSpikes: r.InputSpikes, InputSOPs: r.InputSOPs, Layers: layers,
		Predictions: append([]int(nil), r.Predictions...), Steps: append([]int(nil), r.Steps...),
		ImageSpikes: append([][]int64(nil), r.ImageSpikes...), Wall: time.Duration(r.WallNS),
	}
	if r.CorrectByStep != nil {
		res.CorrectByStep = append([]int(nil), r.CorrectByStep...)
	}
	return res
}

// newPart starts the partial result of a command on sharded inputs.
func (in *Inputs) newPart(command string) (*Part, error) {
	if !in.Sharded() {
		return nil, fmt.Errorf("%s: the inputs are not a shard (Request.Shard)", command)
	}
	o := in.Opts
	p := &Part{
		Format: PartFormat, Version: PartVersion, Command: command,
		Provenance: *in.Provenance, Shard: in.Shard, SNN: &in.SNN.Meta, Labels: in.Set.Labels,
		Options: PartOptions{T: o.T, Encoding: string(o.Encoding), Seed: o.Seed, Delays: o.Delays},
	}
	if p.Options.Encoding == "" {
		p.Options.Encoding = string(network.EncodingDirect)
	}
	if o.Exit != nil {
		p.Options.Exit = o.Exit.String()
	}
	return p, nil
}

// SimulationPart is the partial result of `simulate` on a shard.
func (in *Inputs) SimulationPart(sim *Simulation) (*Part, error) {
	p, err := in.newPart("simulate")
	if err != nil {
		return nil, err
	}
	p.Options.Engine = sim.Engine
	p.Run = partRun(sim.Result)
	return p, nil
}

// ComparisonPart is the partial result of `compare` on a shard.
func (in *Inputs) ComparisonPart(c *Comparison) (*Part, error) {
	p, err := in.newPart("compare")
	if err != nil {
		return nil, err
	}
	p.Dense, p.Event = partRun(c.Dense), partRun(c.Event)
	p.ANN = &PartANN{Predictions: c.ANNPred, WallNS: int64(c.ANNSeconds * 1e9), Source: c.ANNSource}
	return p, nil
}

// Part is the partial result of `profile` on a shard.
func (a *Analysis) Part() (*Part, error) {
	if a.Comparison != nil {
		return nil, BadInput(fmt.Errorf("a sharded profile cannot also compare the engines: run compare with --shard"))
	}
	p, err := a.newPart("profile")
	if err != nil {
		return nil, err
	}
	e := a.Options.Energy
	p.Options.Engine, p.Options.ErrorImages, p.Options.Energy = a.Result.Engine, a.Options.ErrorImages, &e
	p.Run = partRun(a.Result)
	p.ANN = &PartANN{Predictions: a.ANNPred, WallNS: int64(a.ANNWall)}
	p.Profile = &PartProfile{Costs: a.Costs, ErrorSums: a.ErrorSums}
	return p, nil
}

// WritePart writes p as one line of JSON.
func WritePart(w io.Writer, p *Part) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("partial result: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// SavePart writes p to path atomically.
func SavePart(path string, p *Part) error {
	return fsutil.WriteAtomic(path, func(w io.Writer) error { return WritePart(w, p) })
}

// maxPartBytes bounds the size of a partial result ReadPart reads.
const maxPartBytes = 4 << 30

// ReadPart reads a partial result strictly: one JSON object of the
// current format and version with no unknown field and nothing after it,
// whose per-image data and sums are consistent (Part.check). Errors name
// the file.
func ReadPart(path string) (*Part, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, BadInput(fmt.Errorf("part %s: %w", path, err))
	}
	defer f.Close()
	p, err := DecodePart(io.LimitReader(f, maxPartBytes))
	if err != nil {
		return nil, BadInput(fmt.Errorf("part %s: %w", path, err))
	}
	return p, nil
}

// DecodePart reads a partial result from r (see ReadPart).
func DecodePart(r io.Reader) (*Part, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("empty file, not a partial result")
	}
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if !json.Valid(data) {
		var v any
		err := json.Unmarshal(data, &v)
		if err != nil && strings.Contains(err.Error(), "unexpected end of JSON input") {
			return nil, fmt.Errorf("truncated: the JSON ends after %d bytes, before the object is complete", len(data))
		}
		return nil, fmt.Errorf("not a partial result (not JSON: %v)", err)
	}
	if err := json.Unmarshal(data, &head); err != nil || head.Format != PartFormat {
		return nil, fmt.Errorf("not a partial result (format %q, want %q)", head.Format, PartFormat)
	}
	if head.Version != PartVersion {
		return nil, fmt.Errorf("partial result version %d; this evsnn reads version %d", head.Version, PartVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Part
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("malformed partial result: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("data after the partial result")
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return &p, nil
}

// check reports the first inconsistency of a decoded part.
func (p *Part) check() error {
	s := p.Shard
	n := s.End - s.First
	total := p.Provenance.Data.Images
	sh := Shard{K: s.K, N: s.N}
	if err := sh.Check(); err != nil || sh.IsZero() {
		return fmt.Errorf("shard %d/%d is not a shard", s.K, s.N)
	}
	if first, end := sh.Range(total); first != s.First || end != s.End || n < 1 {
		return fmt.Errorf("shard %d/%d of %d images covers [%d, %d), not [%d, %d)", s.K, s.N, total, first, end, s.First, s.End)
	}
	if len(p.Labels) != n {
		return fmt.Errorf("%d labels for the %d images of shard %d/%d", len(p.Labels), n, s.K, s.N)
	}
	if p.SNN == nil {
		return fmt.Errorf("no snn metadata")
	}
	T := p.Options.T
	runs := map[string]*PartRun{}
	switch p.Command {
	case "simulate":
		runs["run"] = p.Run
	case "compare":
		runs["dense"], runs["event"] = p.Dense, p.Event
	case "profile":
		runs["run"] = p.Run
		if p.Profile == nil || p.Profile.Costs == nil {
			return fmt.Errorf("profile part without costs")
		}
		if p.Options.ErrorImages > 0 && len(p.Profile.ErrorSums) != len(p.Run.Layers) {
			return fmt.Errorf("conversion error sums of %d layers for %d spiking layers", len(p.Profile.ErrorSums), len(p.Run.Layers))
		}
	default:
		return fmt.Errorf("command %q: want simulate, compare or profile", p.Command)
	}
	for name, r := range runs {
		if r == nil {
			return fmt.Errorf("%s part without its %s simulation", p.Command, name)
		}
		if err := r.check(n, T, p.Labels); err != nil {
			return fmt.Errorf("%s simulation: %w", name, err)
		}
	}
	if p.Command != "simulate" && (p.ANN == nil || len(p.ANN.Predictions) != n) {
		return fmt.Errorf("%s part without the ANN's %d predictions", p.Command, n)
	}
	return nil
}

// check reports the first inconsistency of a run of n images.
func (r *PartRun) check(n, T int, labels []int) error {
	if r.T != T {
		return fmt.Errorf("T = %d, options say %d", r.T, T)
	}
	if len(r.Predictions) != n || len(r.Steps) != n || len(r.ImageSpikes) != n {
		return fmt.Errorf("%d predictions, %d steps, %d image spike counts for %d images", len(r.Predictions), len(r.Steps), len(r.ImageSpikes), n)
	}
	if r.CorrectByStep != nil && len(r.CorrectByStep) != T {
		return fmt.Errorf("correct predictions of %d steps for T = %d", len(r.CorrectByStep), T)
	}
	spikes := make([]int64, len(r.Layers))
	for i := range n {
		if r.Steps[i] < 1 || r.Steps[i] > T || r.Predictions[i] < 0 || len(r.ImageSpikes[i]) != len(r.Layers) {
			return fmt.Errorf("image %d: %d steps, prediction %d, spikes of %d layers", i, r.Steps[i], r.Predictions[i], len(r.ImageSpikes[i]))
		}
		for k, c := range r.ImageSpikes[i] {
			spikes[k] += c
		}
	}
	for k, l := range r.Layers {
		var byStep int64
		for _, c := range l.SpikesByStep {
			byStep += c
		}
		if len(l.SpikesByStep) != T || byStep != l.Spikes || spikes[k] != l.Spikes {
			return fmt.Errorf("layer %q: %d spikes, %d by step (of %d steps), %d by image", l.Name, l.Spikes, byStep, len(l.SpikesByStep), spikes[k])
		}
	}
	if r.CorrectByStep != nil {
		correct := 0
		for i, p := range r.Predictions {
			if p == labels[i] {
				correct++
			}
		}
		if r.CorrectByStep[T-1] != correct {
			return fmt.Errorf("%d correct after T steps, but %d predictions equal their label", r.CorrectByStep[T-1], correct)
		}
	}
	return nil
}
