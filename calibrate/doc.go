// Package calibrate fits a converted spiking network to a number of time
// steps T, layer by layer, on a calibration set (by default the first
// 1,024 MNIST training images): the method of Li et al., "A Free Lunch From
// ANN: Towards Efficient, Accurate Spiking Neural Networks Calibration"
// (ICML 2021), as SPEC §4 states it.
//
// For every spiking layer l, with all earlier layers already converted and
// calibrated, the conversion error is e_l = x_l − s̄_l: x_l is the original
// ANN's ReLU output, s̄_l = θ_l·count_l/T the rate of the simulated SNN
// layer, run from the input through the calibrated earlier layers. The
// steps, in the order they run:
//
//   - search: θ_l among θmax·(1 − 0.01·i), i = 0..94, minimising ||e_l||²
//     of the simulated layer (with the bias shift, when it is part of the
//     method, for each candidate). The search is coarse to fine (every 5th
//     candidate, then the 8 around the best); Options.FullSearch evaluates
//     all 95. With direct input the first layer's drive is constant and
//     its counts have a closed form, clip(floor(T·(D+b)/θ + v0/θ), 0, T),
//     which the search uses instead of stepping; every other layer is
//     simulated step by step for every candidate.
//   - shift: b_l += θ_l/(2T) (Deng & Gu, ICLR 2021).
//   - wc: weight calibration, Adam on W_l and b_l through the clip-floor rate
//     θ/T·clip(floor((T·(W r + b) + v(0))/θ), 0, T) with a straight-through
//     floor, r being the SNN's input rates; seeded mini-batches, cosine
//     learning-rate schedule.
//   - bc: bias correction, b_c += μ_c(e_l), the mean error over images and
//     positions of channel c.
//   - pc: potential correction, v(0) += T·mean_images(e_l) per neuron.
//
// Pipelines: light = search + shift + bc, advanced = search + shift + pc,
// advanced+wc = search + shift + wc + pc; any set of steps can be named
// (ParseMethod). Every step is measured by simulating the layer again on
// the whole calibration set; a step that raises the layer's error is
// undone unless Options.KeepWorse is set, and the Report says so.
//
// The layer simulator behind all this reuses the previous layer's recorded
// spike trains: the layer's synaptic drive W·pool(s_{l−1}(t)) is computed
// once (sparsely, from the spikes) and every threshold candidate or
// correction only reruns the neurons. It implements SPEC §2 as both
// engines do (IF or LIF, soft or hard reset, per-channel thresholds,
// per-neuron v(0)); Options.Engine re-measures the final errors with an
// engine as a cross-check.
//
// The calibrated network records its provenance in Meta.Calibration
// (method, T, images, seed) and runs on either engine; Network.FittedT
// tells a caller to warn when it is run for another T. Everything is
// deterministic: the same inputs and seed give the same network for any
// number of workers.
package calibrate
