// Package dense is evsnn's clock-driven reference simulator (SPEC §5): at
// every time step every layer's input current is computed by a matrix
// product over the whole spike tensor, and every neuron is updated,
// exactly as SPEC §2 says, in float32:
//
//	I_l(t) = W_l * s_{l-1}(t) + b_l          (conv or linear, after any avg-pools)
//	v      = α·v + I_l(t)                    (α·v rounded before the add: no FMA)
//	spike  = v ≥ θ                           (θ per layer or per channel)
//	soft reset: v -= θ; hard reset: v = 0
//	s_l(t) = θ·spike
//
// All layers are updated in order within a step (a spike reaches the next
// layer in the same step) unless SimOptions.Delays says otherwise. The
// readout (the last layer) accumulates its output every step; the
// prediction after t steps is the argmax of the accumulator (first index
// on ties).
//
// # Input
//
// Direct encoding feeds the analog image every step, so the layers before
// the first spiking layer (the first convolution) are computed once per
// image, as the PyTorch reference does. Poisson encoding draws
// network.PoissonFrame for the image's dataset index
// (SimOptions.ImageOffset + position) and step, so results do not depend
// on batching, workers or which slice of the data is simulated.
//
// # Kernels
//
// A Linear layer is the product I = b + S·Wᵀ over the batch, with the
// spikes S on the left: each entry of S adds its value times a row of Wᵀ
// (an axpy, y += a·x). A Conv2d is the same product with the (transposed)
// im2col patch matrix on the left, computed without forming that matrix:
// each input adds its value times the weight rows it meets (for stride 1,
// one axpy of KW·OutC values per kernel row).
//
// By default every entry is used, zero or not: the cost of a step is the
// layer's MACs whatever the activity, as in a clock-driven simulator
// (PyTorch on dense tensors), and this is the baseline the event-driven
// engine is timed against. Engine.SkipSilent skips the zero entries
// (silent neurons, empty pooling windows; for Linear layers through
// gonum's blas32.Gemm, which skips zeros of its left operand): adding a
// zero product changes no sum, so the results are the same bits, and the
// cost follows the spikes. Tests and reference checks use it for speed.
//
// The axpy is package internal/rowadd's kernel (AVX assembly on amd64,
// the Go loop elsewhere), shared with the event engine: each product is
// rounded before the add, no FMA, so it gives gonum's Saxpy's bits.
// Average pooling after a spiking layer adds up only the spikes. In every
// case each output element is the bias plus its products in increasing k
// order, each product rounded before it is added, as im2col + Gemm
// computes it; skipping zeros changes nothing.
// On "dyadic" networks (values small multiples of powers of two) every
// sum is exact, so the event-driven engine must agree bit for bit; on the
// fixture LeNet the engine reproduces the PyTorch trace (see package
// convert's tests).
//
// Layers up to the next Linear run image by image within a batch (so one
// image's state stays in cache); Linear layers run over the whole batch.
// Images are spread over SimOptions.Workers goroutines in batches of
// Engine.BatchSize; results are identical for any worker count and batch
// size.
//
// # Results
//
// Run fills network.SimResult: CorrectByStep (with labels), Predictions,
// ImageSpikes, Outputs (KeepOutputs), per-neuron Counts (KeepCounts), and
// per spiking layer the total spikes, spikes per step, first-spike sums
// and SOPs (each spike counts network.FanOut of its neuron, counted when
// it is emitted).
package dense
