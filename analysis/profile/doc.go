// Package profile turns a simulation run (a network.SimResult) into the
// per-layer profile of SPEC §6 and writes it as an aligned table, JSON or
// CSV files.
//
// For each spiking layer a LayerProfile reports neurons, total spikes and
// spikes per image, the firing rate (spikes per neuron per step), the
// synaptic operations (SOPs) its spikes cause, the MACs the ANN spends on
// the same synapses (one pass, and T passes as a clock-driven simulation
// would), their ratio, an energy estimate per image, the mean first-spike
// latency, the spikes at each step and, when the run kept per-neuron counts
// and the ANN's activations on the same images are given, the conversion
// error: MSE, ||x−s̄||, ||x−s̄||/||x|| and the Pearson correlation between
// the ANN activation x and the SNN rate s̄ = θ·count/T. The conversion
// error is computed from sums kept exactly across images (ErrorSums), so
// the sums of the shards of a run add up to the one-process figures bit
// for bit; Costs and FromCosts rebuild the rest of a profile from a
// merged run without the network.
//
// Spikes, SOPs and spikes per step are taken from the SimResult, so a
// profile shows the numbers simulate prints; Build cross-checks them against
// the per-neuron counts when those were kept.
//
// The energy estimate uses 0.9 pJ per SOP (an accumulate) and 4.6 pJ per
// MAC by default (32-bit float, 45 nm, Horowitz 2014); both can be
// overridden, and every output states the constants it used.
package profile
