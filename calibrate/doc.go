// Package calibrate fits a converted spiking network to a number of time
// steps T, layer by layer, on a calibration set (by default the first
// 1,024 MNIST training images): the method of Li et al., "A Free Lunch From
// ANN: Towards Efficient, Accurate Spiking Neural Networks Calibration"
// (ICML 2021), as SPEC §4 states it, on chains and on graph networks.
//
// # What it computes
//
// Every spiking layer l is calibrated in topological order, with all
// layers before it already converted and calibrated. Its conversion error
// is e_l = x_l − s̄_l: x_l is the original ANN's ReLU output (after an Add:
// the ReLU of the sum), s̄_l = θ_l·count_l/T the rate of the simulated SNN
// layer, run from the input through the calibrated earlier layers. The
// steps, in the order they run:
//
//   - search: θ among θmax·(1 − 0.01·i), i = 0..94, minimising ||e_l||² of
//     the simulated layer (with the bias shift, when it is part of the
//     method, for each candidate), one θ per output channel (per neuron
//     for a Linear layer) unless Options.PerLayer asks for one per layer.
//     The search is coarse to fine: every 5th candidate, then the 8 around
//     the best and the 8 around the runner-up (at most 35; FullSearch
//     evaluates all 95). With direct input the first layer's drive is
//     constant and its counts have a closed form, clip(floor(T·(D+b)/θ +
//     v0/θ), 0, T), which the search uses instead of stepping.
//   - shift: θ/(2T) added to the layer's input current (Deng & Gu, ICLR
//     2021).
//   - wc: weight calibration, Adam on the layer's weighted layers and its
//     bias through the clip-floor rate θ/T·clip(floor((T·z + v(0))/θ), 0,
//     T) with a straight-through floor, z being the current the SNN's
//     input rates make; seeded mini-batches, cosine learning-rate schedule.
//     With Options.WCKeepZeros the weights that are exactly zero get no
//     gradient and stay zero: a pruned layer (analysis.PruneModel hands
//     its SparseLinear layers over as dense ones with zeros) trains its
//     kept synapses only.
//   - bc: bias correction, per channel; pc: potential correction, v(0) per
//     neuron. Each unit u (a channel for BC, a neuron for PC) is moved by
//     γ_u·δ_u: δ_u is the mean error over the images where the unit is in
//     its linear range — not silent in both the ANN and the SNN, not
//     saturated (count T and x ≥ θ) in both — times T for PC (a v(0) of Δ
//     moves the rate by Δ/T), and γ_u ∈ {0, ¼, ½, ¾, 1, 5/4, 3/2} is the
//     strength that lowers the unit's own error most (units are
//     independent given the layer's drive, so all of them are tried at
//     once with 6 simulations of the layer).
//
// Pipelines: light = search + shift + bc, advanced = search + shift + pc,
// advanced+wc = search + shift + wc + pc; any set of steps can be named
// (ParseMethod). Every step is measured by simulating the layer again on
// the whole calibration set; a step that raises the layer's error is
// undone unless Options.KeepWorse is set, and the Report and the
// network's provenance (Meta.Calibration.Layers: θ, every step tried,
// kept or undone, the errors before and after) say so.
//
// # Graphs
//
// A layer's input current is the sum of its projections
// (network.Projections): from the input, from earlier spiking layers and
// from MaxPools, through average pools, global average pools and flatten
// and at most one Conv2d or Linear, directly or into an Add. A
// count-gated MaxPool after a spiking layer (SPEC §2a) is part of the
// simulated input of the layers it feeds: its events are derived from the
// recorded spike trains of the layer it reads (a window fires when the
// largest count among its inputs rises), with the amplitude θ of its
// channel; a MaxPool on the direct input is the plain max. After an Add,
// the shift and BC go into the Add's Bias, per channel; the branches keep
// their biases. WC trains every weighted layer whose output reaches the
// layer together — in a residual block the second conv and the 1×1
// shortcut conv: every weighted layer feeds exactly one spiking layer, so
// they are that layer's parameters as a conv is in a chain, a graph has
// no distinguished main branch, and the surrogate's gradient reaches both
// at no extra simulation (see the table for what training only the
// branch's conv, as Li et al.'s code does, gives). Identity shortcuts add
// their input rates as a constant.
//
// # The layer simulator
//
// It reuses the recorded spike trains of the layers that feed a layer: the
// drive Σ_p W_p·path_p(s_src(t)) is computed once (sparsely, from the
// spikes) and every threshold candidate or correction only reruns the
// neurons. It implements SPEC §2 and §2a as the engines do (IF or LIF,
// soft or hard reset, per-channel thresholds, per-neuron v(0)); on the
// dyadic random graph networks of internal/snnref it reproduces the
// reference spike for spike (sim_test.go). Options.Engine re-measures the
// final errors with an engine as a cross-check.
//
// # Determinism
//
// The same inputs and seed give the same network and report for any
// number of workers: images are processed in fixed chunks and sums reduced
// in a fixed order.
//
// # What generalises (issue #15)
//
// The first version ("old" below: one θ per layer, BC/PC by the plain mean
// error over all images at a layer-wide strength of 1, ½ or ¼, a step
// undone when the calibration-set error rises) fitted the LeNet fixture
// better than it generalised. The method as it is ("new") differs from it
// in two changes, kept because they carry over to the held-out networks,
// which were not used while the method was designed:
//
//   - One threshold per channel. Per layer, a channel whose activations
//     are small next to the layer's largest is quantised to one or two
//     levels at T = 4, or never fires, and BatchNorm folding leaves
//     channel scales arbitrary: rescaling the channels of a stride-2 CNN
//     by factors in [¼, 4] (the same function, s2r) takes the old method
//     from 97.39 % to 77.20 % (light, T = 4), per channel it stays at
//     97.71 %. On the held-out BatchNorm ResNet this change alone ("chan")
//     lifts light at T = 4 from 83.17 % to 95.73 %.
//   - BC/PC sized per unit on the images where the unit can move. The
//     mean error over all images is diluted by images where a neuron is
//     silent in both networks and inflated by images where it saturates
//     in both, which no correction can fix; applied to the whole layer at
//     one strength, one badly served group of neurons vetoes the
//     correction for all. On top of per-channel θ it adds 0.1–0.8 point
//     at T = 4 on every network of the last table ("new" against
//     "chan"); with one θ per layer it is also better than the old sizing
//     ("new-layer" against "old"), the per-unit strength being the part
//     that matters ("unit"; the live mean alone, "live", is mixed).
//
// Measured at T = 4 and not kept:
//
//   - Li et al.'s threshold criterion, the clip-floor quantisation error
//     of the ANN's own activations with their EMA over batches of 128
//     ("floor-ema"): 2–3 points below the simulated search of "old" with
//     light, 8 with advanced on the fixture ResNet — it picks thresholds
//     for the floor, which the bias shift turns into a round.
//   - No guard, every correction kept at full strength ("noguard"): 10.5
//     points lost on the fixture ResNet with light, 0.8–2.8 on the
//     held-out ResNet, nothing gained on the VGG. In the new method a
//     unit's strength (0 included) minimises that unit's own error and
//     the units are independent, so BC and PC cannot raise the layer's
//     error; removing the guard changed no result here ("new-noguard").
//   - A held-out quarter of the calibration set to accept or reject steps
//     ("held", "new-held"): it helps the old method on the held-out ResNet
//     with light (83.17 → 89.82 %) and nowhere else; with the new method
//     it is between −0.9 and +0.3 point, −0.9 in sum over the six columns
//     — a quarter less data to fit costs what the held-out judgement
//     gains.
//   - BC/PC on the first 128 images only (part of "li").
//
// "li" emulates Li et al.'s code (yhhhli/SNN_Calibration) inside this
// package: one θ per layer by their floor-EMA criterion, BC/PC from the
// mean error of the first 128 calibration images at full strength, no
// guard; the bias shift, the layer simulator and WC (on both convs of a
// block) are this package's. It is an emulation, not their code: their
// code needs PyTorch, which is not available here, so nothing below is a
// comparison with their code, and the figures for their code (on
// a network not available here) were not reproduced.
//
// Training only the branch's conv by WC, as their code does
// ("new-wcfirst", advanced+wc), gave within 0.25 point of training both
// on three graph networks at T = 4 (the WC lines at the end of the table
// below) and, in the same study, at T = 8 and 16 (those runs' figures
// were not kept here): no consistent difference, so WC trains every
// weighted layer into the layer.
//
// Test accuracy (%) on the 10,000 test images after calibration on the
// first 1,024 training images, event engine, seed 1. Networks: the LeNet
// and ResNet fixtures (MNIST; the method was developed on them); the
// held-out networks of /work/models-heldout (trained with package train,
// BatchNorm folded): mresbn = mnist_resnet_bn (the fixture's graph, ANN
// 98.93 %), fvgg = fashion_vgg_bn (Fashion-MNIST, ANN 92.04 %), fres =
// fashion_resnet_bn (Fashion-MNIST, three residual blocks, ANN 89.83 %);
// and networks trained with package train while the method was developed
// (files not in the repository): s2 a stride-2 CNN on MNIST (ANN 98.35
// %), s2r the same with its channels rescaled (rescaleChannels in
// study_test.go), flenet a LeNet and dfvgg a VGG-style CNN without
// BatchNorm on Fashion-MNIST (ANN 86.33 %, 87.47 %), mlp an MLP on MNIST
// (96.65 %). Cells marked * come from an earlier run of the same code
// (every cell measured in both runs agrees exactly); — is not measured.
// Calibration CPU time is the process's with GOMAXPROCS=1 and one worker,
// on a 2-core machine shared with other jobs (load average 7–20): an upper
// bound of a quiet core's.
//
// Fixture ResNet (testdata/mnist_resnet.onnx, ANN 99.08 %), test
// accuracy % (calibration CPU seconds, one core):
//
//	| pipeline    | T=4           | T=8           | T=16          |
//	|-------------|---------------|---------------|---------------|
//	| light       | 96.75 (10.6 s) | 98.55 (15.3 s) | 98.89 (25.1 s) |
//	| advanced    | 97.80 (9.6 s) | 98.88 (15.5 s) | 99.01 (24.9 s) |
//	| advanced+wc | 97.87 (20.4 s) | 98.79 (24.0 s) | 99.01 (32.5 s) |
//	| variant b   | 27.52         | 39.15         | 67.67         |
//
//	| network | pipeline    | new T=4 · 8 · 16      | old T=4 · 8 · 16      | li T=4 · 8 · 16       |
//	|---------|-------------|-----------------------|-----------------------|-----------------------|
//	| lenet   | light       | 98.98 · 99.08 · 99.12 | 98.91 · 99.04* · 99.12* | 98.86 · 99.06 · 99.13 |
//	| lenet   | advanced    | 98.96* · 99.14* · 99.14* | 98.91* · 99.08* · 99.15* | 98.71 · 99.07 · 99.15 |
//	| lenet   | advanced+wc | 98.96* · 99.17* · 99.16* | 98.94* · 99.13* · 99.14* | 98.87 · 99.10 · 99.16 |
//	| resnet  | light       | 96.75 · 98.55 · 98.89 | 84.18* · 97.34* · 98.68* | 83.46* · — · —        |
//	| resnet  | advanced    | 97.80 · 98.88 · 99.01 | 97.06* · 98.75* · 98.95* | 95.77* · — · —        |
//	| resnet  | advanced+wc | 97.87 · 98.79 · 99.01 | 97.13* · 98.81* · 98.94* | — · — · —             |
//	| mresbn  | light       | 95.86 · 98.59 · 98.71 | 83.17 · 97.06 · 98.34 | 77.91 · 97.29 · 97.99 |
//	| mresbn  | advanced    | 97.02 · 98.81 · 98.85 | 94.49 · 98.45 · 98.84 | 92.89 · 97.97 · 98.80 |
//	| mresbn  | advanced+wc | 97.13 · 98.82 · 98.85 | 92.45 · 98.43 · 98.84 | 93.08 · 97.99 · 98.84 |
//	| fvgg    | light       | 87.80 · 90.48 · 91.37 | 86.13 · 90.48 · 91.25 | 83.97 · 89.66 · 91.48 |
//	| fvgg    | advanced    | 88.83 · 91.01 · 91.63 | 86.96 · 90.56 · 91.35 | 87.74 · 90.92 · 91.48 |
//	| fvgg    | advanced+wc | 88.84 · 91.13 · 91.49 | 87.58 · 90.84 · 91.61 | 88.14 · 90.69 · 91.53 |
//	| fres    | light       | 77.46 · 86.69 · 88.93 | 77.23 · 85.83 · 88.38 | 70.25 · 85.49 · 87.68 |
//	| fres    | advanced    | 83.09 · 88.19 · 89.43 | 80.04 · 87.54 · 89.13 | 78.30 · 86.87 · 88.85 |
//	| fres    | advanced+wc | 82.57 · 88.09 · 89.45 | 80.18 · 87.39 · 89.04 | 78.11 · 87.05 · 88.90 |
//	| s2      | light       | 97.74* · 98.27* · 98.27* | 97.39* · 98.12* · 98.27* | — · — · —             |
//	| s2      | advanced    | 97.83* · 98.25* · 98.31* | 97.34* · 98.15* · 98.23* | — · — · —             |
//	| s2      | advanced+wc | 97.91* · 98.27* · 98.28* | 97.65* · 98.17* · 98.30* | — · — · —             |
//	| s2r     | light       | 97.71* · 98.27* · 98.27* | 77.20* · 91.70* · 96.95* | — · — · —             |
//	| s2r     | advanced    | 97.83* · 98.25* · 98.31* | 80.16* · 91.15* · 97.00* | — · — · —             |
//	| flenet  | light       | 85.63* · 86.39* · 86.27* | 85.61* · 86.22* · 86.29* | — · — · —             |
//	| flenet  | advanced    | 85.79* · 86.45* · 86.42* | 85.82* · 86.24* · 86.24* | — · — · —             |
//	| dfvgg   | light       | 86.02* · 87.12* · 87.39* | 85.36* · 87.07* · 87.17* | — · — · —             |
//	| dfvgg   | advanced    | 85.77* · 87.23* · 87.42* | 85.64* · 87.13* · 87.31* | — · — · —             |
//	| mlp     | light       | 96.66* · 96.65* · 96.67* | 96.36* · 96.61* · 96.63* | — · — · —             |
//	| mlp     | advanced    | 96.64* · 96.65* · 96.67* | 96.35* · 96.61* · 96.63* | — · — · —             |
//
// One change at a time, T = 4 (L light, A advanced):
//
//	| variant     | mresbn L | mresbn A | fvgg L | fvgg A | resnet L | resnet A |
//	|-------------|----------|----------|--------|--------|----------|----------|
//	| new         |    95.86 |    97.02 |    87.80 |    88.83 |    96.75 |    97.80 |
//	| new-layer   |    94.79 |    96.96 |    87.08 |    88.10 |   92.15* |   97.34* |
//	| new-held    |    94.93 |    96.97 |    87.82 |    89.08 |   96.54* |   97.86* |
//	| new-noguard |    95.86 |    97.02 |    87.80 |    88.83 |   96.75* |   97.80* |
//	| old         |    83.17 |    94.49 |    86.13 |    86.96 |   84.18* |   97.06* |
//	| chan        |    95.73 |    96.33 |    87.30 |    88.19 |   95.95* |   97.18* |
//	| unit        |    94.17 |    96.79 |    86.77 |    87.63 |   90.74* |   97.34* |
//	| live        |    81.23 |    94.38 |    86.06 |    87.47 |   88.60* |   97.15* |
//	| noguard     |    80.39 |    93.73 |    86.32 |    87.80 |   73.64* |   92.26* |
//	| held        |    89.82 |    93.94 |    86.05 |    87.03 |   84.06* |   96.88* |
//	| floor-ema   |    80.40 |    93.49 |    83.95 |    87.01 |   81.51* |   88.64* |
//	| li          |    77.91 |    92.89 |    83.97 |    87.74 |   83.46* |   95.77* |
//
// WC: advanced+wc at T=4, both convs of a block (new) / the branch's conv only (new-wcfirst):
//
//	resnet: 97.87 / 97.85
//	mresbn: 97.13 / 97.18
//	fres: 82.57 / 82.82
//
// Reproduce (GOMAXPROCS=1, hours on a loaded machine):
//
//	EVSNN_STUDY='resnet=testdata/mnist_resnet.onnx;mresbn=/work/models-heldout/mnist_resnet_bn.evsnn;fvgg=/work/models-heldout/fashion_vgg_bn.evsnn@/usr/share/datasets/fashion-mnist;fres=/work/models-heldout/fashion_resnet_bn.evsnn@/usr/share/datasets/fashion-mnist' \
//	EVSNN_STUDY_VARIANTS=new,old,li GOMAXPROCS=1 go test -run TestStudy -v -timeout 20h ./calibrate/
//
// and EVSNN_STUDY_VARIANTS=new-layer,new-held,new-noguard,chan,live,unit,noguard,held,floor-ema
// EVSNN_STUDY_METHODS=light,advanced EVSNN_TS=4 for the one-change table.
package calibrate
