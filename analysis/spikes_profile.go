package analysis

import (
	"fmt"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/format/spikes"
	"github.com/evsnn/evsnn/network"
)

// RecordingResult rebuilds, from a spike recording of net, the part of
// the run's result that spikes determine: per spiking layer the spikes,
// spikes per step, first-spike latency and SOPs, and the spikes of every
// image (ImageSpikes). What a recording does not hold is absent:
// Predictions, CorrectByStep and Outputs (no readout is recorded), Steps
// (with an early exit an image's spikes end where it stopped, but its
// step count is not kept), Counts, and the Poisson input's spikes and
// SOPs (InputSpikes, InputSOPs are 0). Wall is 0.
//
// The SOPs follow the engines' cost model (network.FanOut): each spike of
// neuron j of spiking layer l costs FanOut(l)[j], and every event of a
// count-gated MaxPool reading l (SPEC §2a: the window's output count after
// the image is the largest input count) costs the pool's fan-out, charged
// to l. They equal the engine's SOPs of the recorded run
// (TestRecordingResultMatchesRun).
//
// net must be the network that was simulated: its spiking layers must be
// the recording's (names, indices, neurons), and when the recording's
// provenance holds snn_sha256, NetHash(net) must equal it (a network of
// another structure would give other SOPs).
func RecordingResult(rd *spikes.Reader, net *network.Network) (*network.SimResult, error) {
	h := rd.Header()
	if err := matchRecording(&h, net); err != nil {
		return nil, BadInput(err)
	}
	res, err := network.NewSimResult(net, h.Engine, h.Images, nil,
		network.SimOptions{T: h.T, Encoding: network.Encoding(h.Provenance["encoding"])})
	if err != nil {
		return nil, BadInput(err)
	}
	res.Steps, res.Predictions = nil, nil
	costs, err := newRecordingCosts(net, &h)
	if err != nil {
		return nil, BadInput(err)
	}
	for i := 0; i < h.Images; i++ {
		for k := range h.Layers {
			ev, err := rd.Spikes(i, k)
			if err != nil {
				return nil, BadInput(err)
			}
			costs.image(res, i, k, ev)
		}
	}
	return res, nil
}

// matchRecording checks that net is the network recorded in h.
func matchRecording(h *spikes.Header, net *network.Network) error {
	if net == nil {
		return fmt.Errorf("no network for the recording")
	}
	ls, err := spikes.LayersOf(net)
	if err != nil {
		return err
	}
	if len(ls) != len(h.Layers) {
		return fmt.Errorf("the recording has %d spiking layers, the network %d: not the network recorded", len(h.Layers), len(ls))
	}
	for k, l := range ls {
		r := h.Layers[k]
		if l.Name != r.Name || l.Index != r.Index || l.Neurons != r.Neurons {
			return fmt.Errorf("spiking layer %d is %q (layer %d, %d neurons) in the recording and %q (layer %d, %d neurons) in the network: not the network recorded",
				k, r.Name, r.Index, r.Neurons, l.Name, l.Index, l.Neurons)
		}
	}
	if want := h.Provenance["snn_sha256"]; want != "" {
		got, err := NetHash(net)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("the recording is of the SNN with sha256 %s, this network's is %s: give the model the run simulated", shortHash(want), shortHash(got))
		}
	}
	return nil
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12] + "…"
	}
	return h
}

// recordingCosts holds, per spiking layer, the fan-out of its neurons and
// the count-gated MaxPools that read it, with their fan-outs; and the
// per-image scratch counts.
type recordingCosts struct {
	net    *network.Network
	shapes []network.Shape
	fan    [][]int32
	pools  [][]poolCost
	counts [][]float32
}

type poolCost struct {
	pool *network.MaxPool2d
	fan  []int32
	out  []float32
}

func newRecordingCosts(net *network.Network, h *spikes.Header) (*recordingCosts, error) {
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	c := &recordingCosts{net: net, shapes: shapes}
	for _, l := range h.Layers {
		fan, err := net.FanOut(l.Index)
		if err != nil {
			return nil, fmt.Errorf("layer %q: %w", l.Name, err)
		}
		c.fan = append(c.fan, fan)
		c.counts = append(c.counts, make([]float32, l.Neurons))
		var pools []poolCost
		for i, layer := range net.Layers {
			mp, ok := layer.(*network.MaxPool2d)
			if !ok || net.InputOf(i) != l.Index {
				continue
			}
			pf, err := net.FanOut(i)
			if err != nil {
				return nil, fmt.Errorf("layer %q: %w", mp.Name(), err)
			}
			pools = append(pools, poolCost{pool: mp, fan: pf, out: make([]float32, shapes[i].Size())})
		}
		c.pools = append(c.pools, pools)
	}
	return c, nil
}

// image adds the spikes ev (ordered by step) of image i in spiking layer
// k to res.
func (c *recordingCosts) image(res *network.SimResult, i, k int, ev []network.RasterEvent) {
	st := &res.Layers[k]
	counts := c.counts[k]
	clear(counts)
	fan := c.fan[k]
	var sops, firstSum, firstN int64
	for _, e := range ev {
		if counts[e.Neuron] == 0 {
			firstSum += int64(e.Step)
			firstN++
		}
		counts[e.Neuron]++
		st.SpikesByStep[e.Step-1]++
		sops += int64(fan[e.Neuron])
	}
	for _, p := range c.pools[k] {
		// The count-gated pool's events are its output counts: the
		// largest input count of each window (SPEC §2a).
		p.pool.Forward(p.out, counts, c.shapes[st.Layer], 1)
		for w, v := range p.out {
			sops += int64(v) * int64(p.fan[w])
		}
	}
	n := int64(len(ev))
	st.Spikes += n
	st.SOPs += sops
	st.FirstSpikeSum += firstSum
	st.FirstSpikers += firstN
	res.ImageSpikes[i][k] = n
}

// RecordingProfile profiles the run recorded at path (format/spikes) of
// net, as `evsnn profile` would from the run itself, from the spikes
// alone (RecordingResult): per layer spikes, firing rates, spikes per
// step, SOPs, MACs and energy. The profile has no accuracy (the recording
// holds no readout), no conversion error and no wall time, and with
// Poisson input no input spikes.
func RecordingProfile(path string, net *network.Network, energy profile.Energy) (*profile.Profile, error) {
	rd, err := OpenRecording(path)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	res, err := RecordingResult(rd, net)
	if err != nil {
		return nil, err
	}
	p, err := profile.Build(net, res, nil, energy)
	if err != nil {
		return nil, BadInput(fmt.Errorf("%s: %w", path, err))
	}
	return p, nil
}
