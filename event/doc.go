// Package event is evsnn's event-driven SNN engine (SPEC §5). It computes
// exactly what SPEC §2 and §2a define — the same spikes and readout as the
// dense engine in package dense and the naive reference in
// internal/snnref — while doing work only where spikes are, or where a
// constant current carries a neuron over its threshold.
//
// # Using it
//
// Engine implements network.Engine: Engine{}.Run(net, images, labels,
// opts) simulates a batch of images over opts.Workers goroutines and fills
// a network.SimResult. For one image at a time (per-image latency, custom
// loops) compile once and reuse a Simulator, which allocates nothing per
// image once it has seen a few:
//
//	sim, err := event.NewSimulator(net, network.SimOptions{T: 32})
//	res := sim.NewImageResult()
//	err = sim.RunImage(x, imageIndex, res) // res.Prediction, res.Spikes, ...
//
// T is fixed when the Simulator is made (Simulator.T). With
// SimOptions.Raster, Run records every spike of the first image
// (ImageResult.RecordRaster does the same for one RunImage call).
//
// RunWork is Run that also returns Work: events delivered, additions
// performed, neuron updates, MaxPool window checks — what the engine did,
// as opposed to the SOPs the SNN's spikes stand for.
//
// # The networks it accepts
//
// Every SNN network.Validate accepts (SPEC §1 placement): a graph of
// Conv2d and Linear layers (any stride and padding), *network.Spiking
// layers (IF or LIF, soft or hard reset, one θ or one per channel,
// v(0) = V0Fraction·θ + V0), AvgPool2d (overlapping, padded, with or
// without the padding in the divisor), GlobalAvgPool, Flatten, MaxPool2d
// and residual Adds (two or more inputs, an optional bias), ending in a
// Linear or Conv2d readout. Input is direct or Poisson; SimOptions.Delays
// delay the input of any weighted layer. An ANN (ReLUs) is refused with an
// error naming the layer.
//
// # The plan
//
// A network is compiled once (plan.go) from network.Projections into:
//
//   - sources: what emits events — the input (Poisson spikes of
//     amplitude 1), each spiking layer (spikes of amplitude θ of the
//     neuron's channel) and each MaxPool on a spiking layer or on Poisson
//     input (events of amplitude θ of the window's channel, or 1);
//   - layers (layerPlan): the spiking layers and the readout, each with
//     the projections into it and its constant current (the biases of the
//     weighted layers of its projections, then the Add's bias: after an
//     Add the layer integrates its branches and the shortcut, SPEC §2a);
//   - projections (proj, one per network.Projection): a source, the pools
//     on its path, and a fan-out into the target layer — a Conv2d, a
//     Linear, or an identity shortcut into an Add (one target per event);
//   - count-gated MaxPools (maxPlan) with their window geometry.
//
// Within a step the nodes — spiking layers, count-gated MaxPools, the
// readout — are worked on in network order, which is topological: a spike
// of step t reaches every node downstream of it in step t (SPEC §2a). A
// layer first takes the events of every projection into it (in
// network.Projections order: the branches of an Add in its input order),
// then updates its neurons; its spikes are then the events of its source
// for every projection and MaxPool that reads it.
//
// Tensors are stored channel-last (HWC): element (c, y, x) of a C×H×W map
// is at (y·W+x)·C+c. Results are reported in the network's C,H,W order.
//
// # Constant current
//
// With direct input the input is the same at every step, so every
// projection from it (through plain-max MaxPools, SPEC §2a, and pools) is
// computed once per image into its target's constant current d (drift),
// in the order the dense engine sums it: the layer's bias first, then each
// nonzero input value in increasing C,H,W index adds value × its weight
// row. A direct projection with a delay joins the current at step
// delay+1: the layer's current then has phases, and at each switch every
// neuron is brought up to date with the old current first.
//
// # One step of a layer
//
//  1. Events. Each projection turns its source's spikes of this step (or,
//     with a delay d, of step t−d, taken from a queue.Ring of per-step
//     buckets) into events. The first pool on the path is counted: the
//     spikes of one window in the same step merge into one event whose
//     amplitude is the pooled value the dense pass computes — θ added m
//     times, times float32(1/divisor), tabulated per channel and divisor,
//     so overlapping and padded windows (CountIncludePad or not) and
//     GlobalAvgPool (a window per channel: a step's m spikes of a channel
//     become one event of amplitude (m·θ)/(H·W), exactly the dense value)
//     cost a count per spike. Further pools on the path (an AvgPool
//     before a GlobalAvgPool, say) sum the amplitudes of their events per
//     window, in event order, which is the dense pass's row-major order
//     within a channel. Windows touched in a step are marked in a
//     two-level bitset, so collecting them costs in proportion to the
//     spikes, never to the number of windows.
//  2. Fan-out. Each event adds amplitude × a weight row to acc — no
//     synapse is ever expanded:
//     - Linear: weights stored transposed (input-major), so the row of
//     source j is one contiguous run of Out floats, in the engine's
//     internal source order (Flatten costs nothing: its C,H,W index is
//     folded into the row order at compile time). The events of a step
//     go to one grouped kernel call (rows up to 1024 floats).
//     - Conv2d (shared weights): for stride s the kernel rows that reach
//     an output from input row iy are ky ≡ iy+pad (mod s); weights are
//     grouped by the residue class of the input position and stored as
//     W'[class][ci][a][b'][co] (ky = ρy + a·s, b' the kernel column index
//     reversed), so the targets of an input position in one kernel row of
//     its class (all b', all co) are one contiguous run of outputs, all
//     channels, and the event is a few such runs, one output row apart.
//     For stride 1 this is W'[ci][ky][KW−1−kx][co]: KH runs of KW·OutC
//     floats (clipped at borders). Events are emitted in increasing
//     (pooled) position order, so the events of one site (spatial
//     position) — its channels — are adjacent and share their target rows
//     (siteRun; each channel only moves the weights, convRun): one call of
//     an AVX2 assembly kernel (convGroup) adds all of them, keeping each
//     chunk of 64 targets in eight registers across the channels (a
//     multiply and an add per element and event, in event order, never
//     fused: exactly Go's y = float32(a*x) + y repeated). The runs are
//     checked against the weights and the targets once, when the plan is
//     compiled, not per call. Strided convolutions (a ResNet's
//     downsampling block and its 1×1 shortcut) take the same path.
//     - Identity (a shortcut into an Add, possibly through pools): acc of
//     the one target += amplitude.
//  3. Update. Touched neurons (those that received events, plus those
//     whose predicted crossing is due) are brought up to date: skipped
//     steps are replayed with the constant current (v = float32(α·v) + d,
//     the same float32 operations the dense engine performs), then
//     v = α·v + (acc + d), spike if v ≥ θ, soft or hard reset. Untouched
//     neurons cost nothing. When a thirty-second of a layer or more is
//     touched (a convolution's receptive fields soon cover it; a lazy
//     update costs some fifty times a neuron of a sweep) the layer
//     switches to dense sweeps (vectorised stepNeurons, same operations)
//     and back below a hundred-and-twenty-eighth; the switch brings every
//     neuron up to date first.
//  4. Readout: A += acc + d for every output, argmax (first on ties, in
//     the network's order) after every step.
//
// # Count-gated MaxPools
//
// A MaxPool on a spiking layer (or on Poisson input) keeps, per input
// neuron, its spike count, and per window the largest count so far. Each
// spike of the source raises its neuron's count c; every window containing
// the neuron whose maximum is below c takes c as its maximum and is
// marked. The marked windows of the step, in increasing order, are the
// pool's events (SPEC §2a: a window emits when max_i c_i rises, which it
// does by one at most per step). Work is one comparison per spike and
// window containing it; a window is never looked at in a step where none
// of its inputs spiked. A window's event count over the image is its final
// maximum, so the pool's SOPs (FanOut of the pool per event, charged to
// the layer it reads) are summed once per image.
//
// # Predicted crossings (the time-bucketed queue)
//
// A neuron with drift d > 0 (or v ≥ θ after a big input) can cross θ with
// no input at all. After each update the engine computes a lower bound n
// on the steps until that can happen and files the neuron in a
// queue.Ring bucket for step t+n; when that bucket is popped, the neuron
// is updated like a touched one (with acc = 0). For IF neurons
// v_n ≤ v + n·(d+δ) with δ = 2^-22·(8θ+d), four times the largest
// rounding error of one float32 step, so n = ⌈(θ−v)/(d+δ)⌉ never
// overshoots; for LIF v_n ≤ L + αⁿ(v−L), L = (d+δ)/(1−α). The bound is
// only a lower bound: the crossing itself is decided by the replayed
// float32 steps, never by the closed form, so it is exactly the step the
// dense engine finds. Entries made stale by a later update are skipped
// (sched[q] differs). Predictions are deferred by one step and dropped if
// the neuron is touched again then (the common case in busy layers). Every
// layer with a constant current — a bias, an Add's bias, the direct input
// — is predicted this way.
//
// A layer whose every input is the direct input without delay (the first
// convolution of a CNN) gets no events at all: its crossings depend only
// on v(0) and the image's current. At image start the neurons that can
// ever cross (current > 0 or v(0) ≥ θ) are gathered (without a branch per
// neuron), and their crossings for the next 64 steps are computed into
// per-step bitmap buckets (constLayer) by an AVX2 kernel that keeps 8
// neurons' v in a register for all 64 steps (constSteps: the per-step
// operations of stepNeurons, neuron-major); the other neurons of the layer
// are never looked at again. This layer fires most of a converted CNN's
// spikes, so when it feeds only one pool of one window per neuron — an
// average pool in front of the next fan-out (the usual 2×2, stride 2), or
// a count-gated MaxPool with non-overlapping windows (a ResNet stem) — its
// bitmap is drained straight into the window counts or maxima, with the
// spike statistics, in one pass (spikesToWindows, spikesToMax): no spike
// list is built.
//
// # Active sets
//
// Per-step active sets (touched neurons, touched pooling windows, spike
// lists) are plain []uint64 bitsets (queue.Bitset, and a two-level form
// for windows) and sorted []int32 lists. Roaring bitmaps were measured for
// the same job and are slower here (3–17× in BenchmarkActiveSet of
// package queue): the sets are small and dense, rebuilt every step, and
// iterated once.
//
// # Exactness
//
// Every neuron sees the same float32 operation sequence as in the dense
// engine: the constant current is summed in the same order, the
// per-step update is fl(fl(α·v) + fl(acc + d)) (α·v written as an explicit
// float32 conversion, so never fused), pooled amplitudes are computed as
// the dense pools do, and skipped steps are replayed step by step. What
// can differ is the order in which one step's synaptic contributions are
// summed (event order here, the reference's input order there; after an
// Add, the branches' products and the shortcut's amplitudes in one sum,
// then the biases), which changes a float32 sum by rounding only, so a
// spike can move only where a potential lands within rounding of θ. Tests
// therefore use dyadic networks — weights, biases, thresholds and inputs
// are small multiples of 2^-4, α ∈ {1, ½}, pool divisors powers of two
// (snnref.RandomNet: chains, MLPs, ResNets, VGGs) — where every sum is
// exact in any order; on them the engine matches internal/snnref and the
// dense engine spike for spike, layer by layer and step by step, and the
// readout bit for bit, with every update policy and any number of workers
// (TestExactAgreement, TestGraphShapes). On the MNIST fixtures it agrees
// with the dense engine (TestFixtureVsDense, TestResNetFixtureVsDense)
// and with the PyTorch traces.
//
// # Parallelism
//
// Images are independent: Run hands them to Workers goroutines, each with
// its own Simulator; per-image results go to fixed slots and counts are
// integer sums, so results do not depend on the number of workers.
package event
