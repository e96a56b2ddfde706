package profile

import (
	"fmt"
	"math"

	"github.com/evsnn/evsnn/network"
)

// Energy holds the per-operation energy constants of the estimate.
type Energy struct {
	// PJPerSOP is the energy of one synaptic operation (an accumulate), in
	// picojoules.
	PJPerSOP float64 `json:"pj_per_sop"`
	// PJPerMAC is the energy of one multiply-accumulate, in picojoules.
	PJPerMAC float64 `json:"pj_per_mac"`
	// Source says where the constants come from.
	Source string `json:"source,omitempty"`
}

// The default energy constants: a 32-bit float add and a 32-bit float
// multiply plus add in 45 nm CMOS (Horowitz, ISSCC 2014).
const (
	DefaultPJPerSOP = 0.9
	DefaultPJPerMAC = 4.6
	DefaultSource   = "Horowitz 2014, 45 nm, 32-bit float"
)

// DefaultEnergy returns the default constants.
func DefaultEnergy() Energy {
	return Energy{PJPerSOP: DefaultPJPerSOP, PJPerMAC: DefaultPJPerMAC, Source: DefaultSource}
}

// Check reports an error if a constant is negative or not finite.
func (e Energy) Check() error {
	for _, v := range []struct {
		name string
		v    float64
	}{{"pJ per SOP", e.PJPerSOP}, {"pJ per MAC", e.PJPerMAC}} {
		if !(v.v >= 0) || math.IsInf(v.v, 0) {
			return fmt.Errorf("energy: %s is %v, must be a finite number ≥ 0", v.name, v.v)
		}
	}
	return nil
}

// String states the constants, e.g. "0.9 pJ per SOP (accumulate), 4.6 pJ
// per MAC (Horowitz 2014, 45 nm, 32-bit float)".
func (e Energy) String() string {
	s := fmt.Sprintf("%g pJ per SOP (accumulate), %g pJ per MAC", e.PJPerSOP, e.PJPerMAC)
	if e.Source != "" {
		s += " (" + e.Source + ")"
	}
	return s
}

// LayerProfile is the profile of one spiking layer l over a run.
//
// Cost model. The synaptic operations (SOPs) of layer l are the ones its
// spikes cause: each spike of neuron j adds FanOut[j] to the input
// currents it reaches along every projection out of l (network.FanOut:
// average pools and flattens on the way folded in, an identity shortcut
// into an Add one target per position), and each event of a MaxPool that
// reads l adds the pool's fan-out (the engines charge those SOPs to l).
// The dense cost of the same synapses is ANNMACs, what the ANN spends per
// image in one pass to carry layer l's activation on: the MACs of every
// Conv2d and Linear on those projections, plus one addition per element
// for an identity path into an Add (pools cost nothing of their own, as
// their windows are folded into the fan-out). In a chain that is the MACs
// of the first Conv2d or Linear after l. DenseMACs = T·ANNMACs is what a
// clock-driven simulation spends per image over T steps. Both energy
// figures are per image: EnergySNN = SOPsPerImage·PJPerSOP, EnergyANN =
// ANNMACs·PJPerMAC.
//
// Conversion error. With the ANN's ReLU output x (per image and neuron) and
// the SNN rate s̄ = θ·count/T (SPEC §2), over all images and neurons:
// MSE = mean((x−s̄)²), ErrorL2 = ||x−s̄||, RelError = ||x−s̄||/||x||, and
// Pearson is the correlation of x and s̄. These fields are absent when the
// run kept no counts or no ANN activations were given, and Pearson (or
// RelError) when it is undefined (a constant x or s̄, or x = 0).
type LayerProfile struct {
	Name    string `json:"name"`
	Layer   int    `json:"layer"` // index in Network.Layers
	Neurons int    `json:"neurons"`
	// Spikes is the total over all images and steps.
	Spikes         int64   `json:"spikes"`
	SpikesPerImage float64 `json:"spikes_per_image"`
	// FiringRate is spikes per neuron per step: Spikes/(Neurons·T·Images).
	FiringRate   float64 `json:"firing_rate"`
	SOPs         int64   `json:"sops"`
	SOPsPerImage float64 `json:"sops_per_image"`
	// Target names the layers this layer's spikes feed: the Conv2d or
	// Linear of each projection out of it (or the Add, for an identity
	// shortcut), comma-separated, in the order of network.Projections.
	Target string `json:"target"`
	// ANNMACs are the MACs of those projections for one image, one pass
	// (see the cost model above).
	ANNMACs int64 `json:"ann_macs"`
	// DenseMACs = T·ANNMACs: a clock-driven pass over T steps, per image.
	DenseMACs int64 `json:"dense_macs"`
	// SOPsPerMAC = SOPsPerImage/ANNMACs: the event-driven SNN's work over
	// T steps relative to one ANN pass of the same synapses.
	SOPsPerMAC float64 `json:"sops_per_mac"`
	// SOPsPerDenseMAC = SOPsPerImage/DenseMACs: the fraction of the
	// clock-driven work that carries a spike.
	SOPsPerDenseMAC float64 `json:"sops_per_dense_mac"`
	// EnergySNN and EnergyANN are in microjoules per image.
	EnergySNN float64 `json:"energy_snn_uj_per_image"`
	EnergyANN float64 `json:"energy_ann_uj_per_image"`
	// FirstSpikeLatency is the mean step (1-based) of the first spike over
	// the (image, neuron) pairs that fired; absent if none fired.
	FirstSpikeLatency *float64 `json:"first_spike_latency,omitempty"`
	// The conversion error against the ANN (see above).
	MSE      *float64 `json:"mse,omitempty"`
	ErrorL2  *float64 `json:"error_l2,omitempty"`
	RelError *float64 `json:"rel_error,omitempty"`
	Pearson  *float64 `json:"pearson,omitempty"`
	// ANNMean is the mean ANN activation, SNNMean the mean SNN rate s̄.
	ANNMean *float64 `json:"ann_mean,omitempty"`
	SNNMean *float64 `json:"snn_mean,omitempty"`
	// SpikesByStep[t-1] is the number of spikes at step t over all images.
	SpikesByStep []int64 `json:"spikes_by_step"`
}

// Totals sum the spiking layers and state the whole network's cost.
type Totals struct {
	Neurons        int     `json:"neurons"`
	Spikes         int64   `json:"spikes"`
	SpikesPerImage float64 `json:"spikes_per_image"`
	FiringRate     float64 `json:"firing_rate"`
	SOPs           int64   `json:"sops"`
	SOPsPerImage   float64 `json:"sops_per_image"`
	// InputMACs are the MACs of the projections out of the input (the
	// first weighted layer, in a chain) on the analog image, per image.
	// With direct encoding the input current is the same at every step, so
	// an SNN computes it once per image.
	InputMACs int64 `json:"input_macs"`
	// Encoding is the run's input encoding. With Poisson input the SNN
	// pays no input MACs: its input spikes (InputSpikesPerImage) cost
	// InputSOPsPerImage synaptic operations instead.
	Encoding            network.Encoding `json:"encoding"`
	InputSpikesPerImage float64          `json:"input_spikes_per_image"`
	InputSOPsPerImage   float64          `json:"input_sops_per_image"`
	// ANNMACs = InputMACs + the layers' ANNMACs: the MACs of every Conv2d
	// and Linear layer and the additions of identity shortcuts, per image.
	ANNMACs int64 `json:"ann_macs"`
	// DenseMACs = T·ANNMACs, per image.
	DenseMACs  int64   `json:"dense_macs"`
	SOPsPerMAC float64 `json:"sops_per_mac"` // SOPsPerImage/ANNMACs
	// EnergySNN = SOPsPerImage·PJPerSOP + the input's cost (InputCost)
	// and EnergyANN = ANNMACs·PJPerMAC, in microjoules per image.
	EnergySNN float64 `json:"energy_snn_uj_per_image"`
	EnergyANN float64 `json:"energy_ann_uj_per_image"`
}

// Profile is the profile of one simulation run. Its JSON field names are
// stable: scripts read them.
type Profile struct {
	Engine      string  `json:"engine"`
	T           int     `json:"T"`
	Images      int     `json:"images"`
	WallSeconds float64 `json:"wall_seconds"`
	// Accuracy is the SNN's accuracy after T steps and AccuracyByStep[t-1]
	// after t steps; absent when the run had no labels.
	Accuracy       *float64  `json:"accuracy,omitempty"`
	AccuracyByStep []float64 `json:"accuracy_by_step,omitempty"`
	// ANNAccuracy is the ANN's accuracy on the same images, if the caller
	// sets it (Build has no labels).
	ANNAccuracy *float64       `json:"ann_accuracy,omitempty"`
	Energy      Energy         `json:"energy"`
	Layers      []LayerProfile `json:"layers"`
	Totals      Totals         `json:"totals"`
}

// SetANNAccuracy records the ANN's accuracy on the same images.
func (p *Profile) SetANNAccuracy(a float64) { p.ANNAccuracy = &a }

// Build profiles a run of net. res is the run's result; ann, if not nil,
// holds the ANN's activations (network.Forward) on the same images, in the
// same order: with res.Counts (SimOptions.KeepCounts) it gives the
// conversion error. The ANN may be the source network or the SNN itself
// (spiking layers act as ReLUs in Forward); its layers must line up with
// net's.
//
// Build takes spikes, SOPs and spikes per step from res, so the numbers are
// those simulate reports. When res.Counts is present Build checks it
// against them (spike totals and Σ count·FanOut = SOPs) and returns an
// error naming the layer on any disagreement.
func Build(net *network.Network, res *network.SimResult, ann *network.Activations, energy Energy) (*Profile, error) {
	if net == nil || res == nil {
		return nil, fmt.Errorf("profile: nil network or result")
	}
	if ann != nil {
		if len(ann.Output) != len(net.Layers) {
			return nil, fmt.Errorf("profile: ANN activations have %d layers, network has %d", len(ann.Output), len(net.Layers))
		}
		if ann.Batch != res.Images {
			return nil, fmt.Errorf("profile: ANN activations of %d images, run of %d", ann.Batch, res.Images)
		}
	}
	costs, err := NetCosts(net)
	if err != nil {
		return nil, err
	}
	if err := costs.match(res); err != nil {
		return nil, err
	}
	p, err := FromCosts(costs, res, energy)
	if err != nil {
		return nil, err
	}
	if res.Counts != nil {
		sums, err := ConversionSums(net, res, ann)
		if err != nil {
			return nil, err
		}
		if ann != nil {
			if err := p.SetConversionError(sums); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// Costs is what a profile takes from the network rather than from the
// run: per spiking layer its targets and the ANN's MACs on the synapses
// its spikes use (the cost model of LayerProfile), and the input's MACs.
// A partial result of a sharded run carries it, so that the parts merge
// into a profile without the network (FromCosts).
type Costs struct {
	// Layers has one entry per spiking layer, in network order.
	Layers []LayerCost `json:"layers"`
	// InputMACs are the MACs of the projections out of the input, and
	// ANNMACs those of every projection (Totals), per image.
	InputMACs int64 `json:"input_macs"`
	ANNMACs   int64 `json:"ann_macs"`
	// Layers is the number of layers of the network, for checks.
	NetLayers int `json:"net_layers"`
}

// LayerCost is one spiking layer of Costs.
type LayerCost struct {
	Name    string `json:"name"`
	Layer   int    `json:"layer"`
	Neurons int    `json:"neurons"`
	Target  string `json:"target"`
	ANNMACs int64  `json:"ann_macs"`
}

// NetCosts computes the costs of net's projections (see LayerProfile).
func NetCosts(net *network.Network) (*Costs, error) {
	shapes, err := net.Shapes()
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	costs, inCost, err := projectionCosts(net, shapes)
	if err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	c := &Costs{InputMACs: inCost.macs, ANNMACs: inCost.macs, NetLayers: len(net.Layers)}
	for _, oc := range costs {
		c.ANNMACs += oc.macs
	}
	for _, li := range net.SpikingLayers() {
		lc := LayerCost{Name: net.Layers[li].Name(), Layer: li, Neurons: shapes[li].Size()}
		if oc := costs[li]; oc != nil {
			lc.Target, lc.ANNMACs = oc.target(), oc.macs
		}
		c.Layers = append(c.Layers, lc)
	}
	return c, nil
}

// match checks that the spiking layers of res are those of c.
func (c *Costs) match(res *network.SimResult) error {
	for k, st := range res.Layers {
		li := st.Layer
		if li < 0 || li >= c.NetLayers {
			return fmt.Errorf("profile: spiking layer %d (%q) has layer index %d, network has %d layers", k, st.Name, li, c.NetLayers)
		}
		if k >= len(c.Layers) || c.Layers[k].Layer != li {
			return fmt.Errorf("profile: spiking layer %d of the result (%q, layer %d) is not the network's spiking layer %d", k, st.Name, li, k)
		}
		if n := c.Layers[k].Neurons; n != st.Neurons {
			return fmt.Errorf("profile: layer %q has %d neurons in the result, %d in the network", st.Name, st.Neurons, n)
		}
	}
	if len(res.Layers) != len(c.Layers) {
		return fmt.Errorf("profile: result has %d spiking layers, the network %d", len(res.Layers), len(c.Layers))
	}
	return nil
}

// FromCosts profiles a run from the network's costs (NetCosts), without
// the conversion error (SetConversionError adds it). res must be a run of
// the network the costs are of; its per-image data are not read, so a
// merged run (SimResult.Append) profiles as the whole run does.
func FromCosts(c *Costs, res *network.SimResult, energy Energy) (*Profile, error) {
	if c == nil || res == nil {
		return nil, fmt.Errorf("profile: nil costs or result")
	}
	if err := energy.Check(); err != nil {
		return nil, fmt.Errorf("profile: %w", err)
	}
	if res.T < 1 {
		return nil, fmt.Errorf("profile: result has T = %d", res.T)
	}
	if res.Images < 1 {
		return nil, fmt.Errorf("profile: result has %d images", res.Images)
	}
	if res.Counts != nil && len(res.Counts) != len(res.Layers) {
		return nil, fmt.Errorf("profile: result has counts of %d layers for %d spiking layers", len(res.Counts), len(res.Layers))
	}
	if err := c.match(res); err != nil {
		return nil, err
	}
	T, images := res.T, res.Images
	p := &Profile{
		Engine:      res.Engine,
		T:           T,
		Images:      images,
		WallSeconds: res.Wall.Seconds(),
		Energy:      energy,
		Layers:      make([]LayerProfile, 0, len(res.Layers)),
	}
	if acc := res.AccuracyByStep(); len(acc) > 0 {
		p.AccuracyByStep = acc
		a := acc[len(acc)-1]
		p.Accuracy = &a
	}
	nImg := float64(images)
	for k, st := range res.Layers {
		lc := c.Layers[k]
		lp := LayerProfile{
			Name:           st.Name,
			Layer:          st.Layer,
			Neurons:        st.Neurons,
			Spikes:         st.Spikes,
			SpikesPerImage: float64(st.Spikes) / nImg,
			FiringRate:     float64(st.Spikes) / (float64(st.Neurons) * float64(T) * nImg),
			SOPs:           st.SOPs,
			SOPsPerImage:   float64(st.SOPs) / nImg,
			SpikesByStep:   append([]int64{}, st.SpikesByStep...),
			Target:         lc.Target,
			ANNMACs:        lc.ANNMACs,
		}
		if st.FirstSpikers > 0 {
			lat := float64(st.FirstSpikeSum) / float64(st.FirstSpikers)
			lp.FirstSpikeLatency = &lat
		}
		lp.DenseMACs = int64(T) * lp.ANNMACs
		if lp.ANNMACs > 0 {
			lp.SOPsPerMAC = lp.SOPsPerImage / float64(lp.ANNMACs)
			lp.SOPsPerDenseMAC = lp.SOPsPerImage / float64(lp.DenseMACs)
		}
		lp.EnergySNN = lp.SOPsPerImage * energy.PJPerSOP * 1e-6
		lp.EnergyANN = float64(lp.ANNMACs) * energy.PJPerMAC * 1e-6
		p.Layers = append(p.Layers, lp)

		t := &p.Totals
		t.Neurons += lp.Neurons
		t.Spikes += lp.Spikes
		t.SOPs += lp.SOPs
	}
	t := &p.Totals
	t.SpikesPerImage = float64(t.Spikes) / nImg
	if t.Neurons > 0 {
		t.FiringRate = float64(t.Spikes) / (float64(t.Neurons) * float64(T) * nImg)
	}
	t.SOPsPerImage = float64(t.SOPs) / nImg
	t.InputMACs = c.InputMACs
	t.ANNMACs = c.ANNMACs
	t.DenseMACs = int64(T) * t.ANNMACs
	if t.ANNMACs > 0 {
		t.SOPsPerMAC = t.SOPsPerImage / float64(t.ANNMACs)
	}
	t.Encoding = res.Encoding
	if t.Encoding == "" {
		t.Encoding = network.EncodingDirect
	}
	if t.Encoding == network.EncodingPoisson {
		t.InputSpikesPerImage = float64(res.InputSpikes) / nImg
		t.InputSOPsPerImage = float64(res.InputSOPs) / nImg
	}
	t.EnergySNN = t.SOPsPerImage*energy.PJPerSOP*1e-6 + p.InputCost().EnergySNN
	t.EnergyANN = float64(t.ANNMACs) * energy.PJPerMAC * 1e-6
	return p, nil
}

// InputCost is what feeding the input costs per image: the MACs of the
// projections out of the input for the ANN, and for the SNN either those MACs once per
// image (direct input: the current is the same every step) or the Poisson
// input spikes' SOPs.
type InputCost struct {
	Poisson        bool
	SpikesPerImage float64 // Poisson input spikes
	SOPsPerImage   float64 // their SOPs
	MACs           int64   // the input projections' MACs on one image
	// Energies in microjoules per image.
	EnergySNN, EnergyANN float64
}

// InputCost returns the input's cost under the profile's encoding and
// energy constants.
func (p *Profile) InputCost() InputCost {
	t := p.Totals
	c := InputCost{MACs: t.InputMACs, EnergyANN: float64(t.InputMACs) * p.Energy.PJPerMAC * 1e-6}
	if t.Encoding == network.EncodingPoisson {
		c.Poisson = true
		c.SpikesPerImage, c.SOPsPerImage = t.InputSpikesPerImage, t.InputSOPsPerImage
		c.EnergySNN = t.InputSOPsPerImage * p.Energy.PJPerSOP * 1e-6
	} else {
		c.EnergySNN = c.EnergyANN
	}
	return c
}

// checkCounts compares kept per-neuron counts with the layer's totals.
func checkCounts(net *network.Network, li int, st network.LayerStats, counts []int32) error {
	var spikes int64
	perNeuron := make([]int64, st.Neurons)
	for i, c := range counts {
		spikes += int64(c)
		perNeuron[i%st.Neurons] += int64(c)
	}
	if spikes != st.Spikes {
		return fmt.Errorf("layer %q: per-neuron counts add up to %d spikes, the run reports %d", st.Name, spikes, st.Spikes)
	}
	fan, err := net.FanOut(li)
	if err != nil {
		return err
	}
	var sops int64
	for j, c := range perNeuron {
		sops += c * int64(fan[j])
	}
	// The events of a MaxPool that reads the layer are charged to it too,
	// and counts alone do not tell how many there were: then the spikes'
	// own SOPs are a lower bound.
	if pooled := feedsMaxPool(net, li); sops != st.SOPs && (!pooled || sops > st.SOPs) {
		return fmt.Errorf("layer %q: counts × fan-out give %d SOPs, the run reports %d", st.Name, sops, st.SOPs)
	}
	return nil
}

// feedsMaxPool reports whether a MaxPool reads layer li.
func feedsMaxPool(net *network.Network, li int) bool {
	for j, l := range net.Layers {
		if network.RoleOf(l) == network.RoleMaxPool && net.InputOf(j) == li {
			return true
		}
	}
	return false
}

// thresholds returns θ for every neuron of a spiking layer.
func thresholds(sp *network.Spiking, sh network.Shape) []float32 {
	th := make([]float32, sh.Size())
	for i := range th {
		th[i] = sp.ThresholdAt(sh, i)
	}
	return th
}

// Rates returns the SNN rates s̄ = θ·count/T of spiking layer k of a run
// (images × neurons, as res.Counts[k]). The run must have kept counts.
func Rates(net *network.Network, res *network.SimResult, k int) ([]float32, error) {
	if k < 0 || k >= len(res.Layers) {
		return nil, fmt.Errorf("rates: no spiking layer %d (the run has %d)", k, len(res.Layers))
	}
	if k >= len(res.Counts) || res.Counts[k] == nil {
		return nil, fmt.Errorf("rates: the run kept no spike counts (SimOptions.KeepCounts)")
	}
	li := res.Layers[k].Layer
	if li < 0 || li >= len(net.Layers) {
		return nil, fmt.Errorf("rates: layer index %d out of range", li)
	}
	sp, ok := net.Layers[li].(*network.Spiking)
	if !ok {
		return nil, fmt.Errorf("rates: layer %d is %s, not spiking", li, net.Layers[li].Kind())
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	th := thresholds(sp, shapes[li])
	counts := res.Counts[k]
	n := len(th)
	if n == 0 || len(counts)%n != 0 {
		return nil, fmt.Errorf("rates: %d counts for %d neurons", len(counts), n)
	}
	out := make([]float32, len(counts))
	T := float32(res.T)
	for i, c := range counts {
		out[i] = th[i%n] * float32(c) / T
	}
	return out, nil
}
