// Package event is evsnn's event-driven SNN engine (SPEC §5). It computes
// exactly what SPEC §2 defines — the same spikes and readout as the dense
// engine in package dense — while doing work only where spikes
// are, or where a constant current carries a neuron over its threshold.
//
// # Using it
//
// Engine implements network.Engine: Engine{}.Run(net, images, labels,
// opts) simulates a batch of images over opts.Workers goroutines and fills
// a network.SimResult. For one image at a time (per-image latency, custom
// loops) compile once and reuse a Simulator, which allocates nothing per
// step:
//
//	sim, err := event.NewSimulator(net, network.SimOptions{T: 32})
//	res := sim.NewImageResult()
//	err = sim.RunImage(x, imageIndex, res) // res.Prediction, res.Spikes, ...
//
// With SimOptions.Raster, Run records every spike of the first image
// (ImageResult.RecordRaster does the same for one RunImage call).
//
// RunWork is Run that also returns Work: events delivered, additions
// performed, neuron updates — what the engine did, as opposed to the SOPs
// the SNN's spikes stand for.
//
// # The network it accepts
//
//	input [AvgPool2d] [Flatten] W1 S1 [AvgPool2d] [Flatten] W2 S2 … WL
//
// Wi a Conv2d or Linear, Si a *network.Spiking layer (IF or LIF, soft or
// hard reset, one θ or one per channel, v(0) = V0Fraction·θ + V0), WL the
// Linear readout. Other shapes are refused with an error naming the layer.
//
// # Engine state
//
// A network is compiled once (plan.go) into layerPlans, one per spiking
// layer plus the readout, each with the projection (proj) that feeds it.
// Per image, each layer holds v (membrane potential), acc (the synaptic
// current gathered this step), drift (its constant current: the bias, or
// for the first layer with direct input the image's current W·x + b,
// computed once per image with the fan-out kernels in the order the dense
// engine sums it: bias first, then each nonzero input in increasing
// C,H,W index), last (the step up to which v is current), sched
// (the step of its pending crossing check) and spike counts. Tensors are
// stored channel-last (HWC): element (c, y, x) of a C×H×W map is at
// (y·W+x)·C+c. Results are reported in the network's C,H,W order.
//
// # One step
//
// For t = 1..T, layers in order (all within the same step, as SPEC §2):
//
//  1. Events. The previous layer's spikes of this step (or, with a delay
//     d, of step t−d, taken from a queue.Ring of per-step buckets) become
//     events. Spikes of one average-pooling window in the same step merge
//     into one event whose amplitude is the pooled value the dense pass
//     computes: θ added m times, times 1/(kh·kw), in float32.
//  2. Fan-out. Each event adds amplitude × a weight row to acc — no
//     synapse is ever expanded:
//     - Linear: weights stored transposed (input-major), so the row of
//     source j is one contiguous run of Out floats, in the engine's
//     internal source order (Flatten costs nothing: its C,H,W index is
//     folded into the row order at compile time).
//     - Conv2d (shared weights): targets are HWC and weights are
//     rearranged as W'[ci][ky][KW−1−kx][co], so for a stride-1
//     convolution the targets of an input position in kernel row ky
//     (ox = px+pad−kx for all kx, all co) are one contiguous run of
//     KW·OutC floats (clipped at borders) and the event is KH such runs.
//     Events are emitted in increasing (pooled) position order, so the
//     events of one site (spatial position) — its channels — are adjacent
//     and share their target rows (siteRun; each channel only moves the
//     weights, convRun): one call of an AVX2 assembly kernel (convGroup)
//     adds all of them, keeping each chunk of 64 targets in eight
//     registers across the channels (a multiply and an add per element
//     and event, in event order, never fused: exactly Go's
//     y = float32(a*x) + y repeated). The runs are checked against the
//     weights and the targets once, when the plan is compiled, not per
//     call.
//     Other strides fall back to per-event runs of OutC (the row-add of
//     package internal/rowadd, which the dense engine uses too).
//  3. Update. Touched neurons (those that received events, plus those
//     whose predicted crossing is due) are brought up to date: skipped
//     steps are replayed with the constant current (v = float32(α·v) + d,
//     the same float32 operations the dense engine performs), then
//     v = α·v + (acc + d), spike if v ≥ θ, soft or hard reset. Untouched
//     neurons cost nothing. When most of a layer is touched anyway (e.g. a
//     convolution's receptive fields cover it), the layer switches to
//     dense sweeps (vectorised stepNeurons, same operations) and back when
//     activity falls; the switch brings every neuron up to date first.
//  4. Readout: A += acc + b for every class, argmax (first on ties) after
//     every step.
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
// the neuron is touched again then (the common case in busy layers).
//
// The first layer with direct input gets no spikes at all: its crossings
// depend only on v(0) and the image's current. At image start the neurons
// that can ever cross (current > 0 or v(0) ≥ θ) are gathered (without a
// branch per neuron), and their crossings for the next 64 steps are
// computed into per-step bitmap buckets (constLayer) by an AVX2 kernel
// that keeps 8 neurons' v in a register for all 64 steps (constSteps: the
// per-step operations of stepNeurons, neuron-major); the other neurons of
// the layer are never looked at again. This layer fires most of a
// converted CNN's spikes, so when it feeds an average pool one window per
// neuron (the usual 2×2, stride 2), its bitmap is drained straight into
// the next projection's window counts, with the spike statistics, in one
// pass (spikesToWindows): no spike list is built.
//
// # Active sets
//
// Per-step active sets (touched neurons, touched pooling windows, spike
// lists) are plain []uint64 bitsets (queue.Bitset) and sorted []int32
// lists. Roaring bitmaps were measured for the same job and are
// slower here (3–17× in BenchmarkActiveSet of package queue): the sets are
// small and dense, rebuilt every step, and iterated once.
//
// # Exactness
//
// Every neuron sees the same float32 operation sequence as in the dense
// engine: the constant current is summed in the same order, the
// per-step update is fl(fl(α·v) + fl(acc + d)) (α·v written as an explicit
// float32 conversion, so never fused), pooled amplitudes are computed as
// the dense AvgPool2d does, and skipped steps are replayed step by step.
// What can differ is the order in which one step's synaptic contributions
// are summed (event order here, BLAS order there), which changes a float32
// sum by rounding only. Tests therefore use dyadic networks — weights,
// biases, thresholds and inputs are small multiples of 2^-4, α ∈ {1, ½} —
// where every sum is exact in any order; on them the engine matches a
// naive per-step reference and the dense engine spike for spike, layer by
// layer and step by step, and the readout bit for bit
// (TestExactAgreement). On the MNIST fixture it agrees with the dense
// engine neuron by neuron (TestFixtureVsDense) and with the PyTorch trace.
//
// # Parallelism
//
// Images are independent: Run hands them to Workers goroutines, each with
// its own Simulator; per-image results go to fixed slots and counts are
// integer sums, so results do not depend on the number of workers.
package event
