// Package dense is evsnn's clock-driven reference simulator (SPEC §5): at
// every time step every layer's input current is computed by a matrix
// product over the whole spike tensor, and every neuron is updated,
// exactly as SPEC §2 and §2a say, in float32, on any network that
// network.Validate accepts (chains and graphs: residual blocks, MaxPools,
// global average pooling), with Spiking layers in place of its ReLUs:
//
//	I_l(t) = Σ projections into l + biases   (conv or linear, after any pools; an Add sums branches)
//	v      = α·v + I_l(t)                    (α·v rounded before the add: no FMA)
//	spike  = v ≥ θ                           (θ per layer or per channel)
//	soft reset: v -= θ; hard reset: v = 0
//	s_l(t) = θ·spike
//
// # Order of work within a step
//
// The nodes of the graph are evaluated in topological order (the order of
// network.Network.Layers) at every step, so a spike of step t reaches
// every layer downstream of it in step t, unless SimOptions.Delays delays
// a weighted layer's input (Delays[i] steps for weighted layer i, zero
// before the first delayed input arrives, as internal/snnref does). Each
// node acts on the θ-scaled spike tensors (or the analog input) of its
// inputs at that step:
//
//   - Conv2d, Linear: the bias, then the products in increasing input
//     order, each product rounded before it is added.
//   - SparseLinear (network.SparseLinear, a pruned Linear): the bias, then
//     each input's fan-out list in increasing input order, each product
//     rounded before it is added. Only the synapses that exist are
//     computed: a clock-driven simulator of a sparse layer costs its
//     synapses, not Out·In.
//   - AvgPool2d (any padding; the divisor of network.AvgPool2d.Divisor,
//     with or without CountIncludePad), GlobalAvgPool: each window's sum
//     in row-major order times float32(1/divisor).
//   - Flatten: the same values (it renames its input's buffer).
//   - Add: its inputs in order, then its per-channel bias. The spiking
//     layer after it integrates that sum: a branch may be an identity
//     shortcut of an earlier spiking layer's (or MaxPool's) output, a
//     strided 1×1 conv, any linear path. A bias shift θ/(2T) (package
//     convert folds it into the biases, after an Add into the Add's Bias)
//     needs nothing special.
//   - MaxPool2d after a spiking layer: the count-gated max of SPEC §2a.
//     Its state is, per window, the largest spike count of its inputs so
//     far (the inputs' counts are the spiking layer's own); at a step where
//     it rises the window emits an event of amplitude θ of its channel.
//     Only windows holding a neuron that fired can rise, so only those are
//     visited. On Poisson input spikes it is count-gated the same way with
//     amplitude 1 (counting the pixels' spikes); on the direct input it is
//     the plain max.
//   - Spiking: the update above; the readout (the last layer) adds its
//     output to the image's accumulator every step, and the prediction
//     after t steps is the accumulator's argmax (first index on ties).
//
// These are internal/snnref's conventions: on any network the engine
// computes the reference's sums in the reference's order, so it matches it
// spike for spike and its readout bit for bit.
//
// # Input
//
// Direct encoding feeds the analog image every step, so every node whose
// output is the same at every step — the nodes before the first spiking
// layer: the first convolutions, pools or a MaxPool on the input, an Add
// of such nodes, unless a delay lies on the way — is computed once per
// image (at step 1), as the PyTorch reference does. Poisson encoding
// draws network.PoissonFrame for the image's dataset index
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
// one axpy of KW·OutC values per kernel row; for other strides one axpy
// per run of output positions of a row). Convolutions, Linear layers and
// Adds read their inputs as tensors (θ where a neuron fired, 0 elsewhere);
// average pools, global average pools and MaxPools fed by a spiking layer,
// a count-gated MaxPool or Poisson input read the list of neurons that
// fired and add up only the spikes (pooling is not a product).
//
// By default every product is computed, zero or not: the cost of a step is
// the layer's MACs whatever the activity, as in a clock-driven simulator
// (PyTorch on dense tensors), and this is the baseline the event-driven
// engine is timed against. Engine.SkipSilent skips the zero entries
// (silent neurons, empty pooling windows; for Linear layers through
// gonum's blas32.Gemm, which skips zeros of its left operand): adding a
// zero product changes no sum, so the results are the same bits, and the
// cost follows the spikes. Tests and reference checks use it for speed.
//
// The axpy is package internal/rowadd's kernel (AVX assembly on amd64,
// the Go loop elsewhere), shared with the event engine: each product is
// rounded before the add, no FMA, so it gives gonum's Saxpy's bits. In
// every case each output element is the bias plus its products in
// increasing k order, as im2col + Gemm computes it; skipping zeros changes
// nothing. On "dyadic" networks (values small multiples of powers of two)
// every sum is exact, so the event-driven engine must agree bit for bit;
// on the fixture LeNet the engine reproduces the PyTorch trace (see
// package convert's tests), and on the fixture ResNet PyTorch's numbers up
// to float32 threshold ties (see resnet_fixture_test.go).
//
// Within a step, runs of layers up to the next Linear layer run image by
// image within a batch (so one image's state stays in cache); Linear
// layers run over the whole batch. Batches of Engine.BatchSize images are
// spread over SimOptions.Workers goroutines by internal/parallel; results
// are identical for any worker count and batch size.
//
// # Early exit
//
// With SimOptions.Exit, after every step t < T the engine calls
// Exit.Done(t, T, A(t)) for each image still running. An image it stops
// is finished at once: its prediction after t stands for every later step
// (PredictionByStep[t..T-1]), ImageRecord.Steps = t (T for an image that
// ran to the end), Output = A(t), and its spikes, SOPs and Poisson input
// spikes are those of the steps it ran. From then on it costs nothing:
// its layers and neuron updates are skipped, and the Linear products over
// the batch run over the runs of consecutive images still going (cutting
// a product's rows changes no element's sum, so results do not depend on
// which images of a batch stopped). A batch ends when its last image
// stops. Results do not depend on batch size or workers, with or without
// exits.
//
// # Spike recording
//
// With SimOptions.RecordSpikes every spiking layer adds the neurons that
// fired at each step (C,H,W order) to the image's ImageRecord.Recorded
// (network.SpikeSet.Add). SimOptions.OnImage,
// if set, is called with each image's position in the run and its record
// as soon as the image is finished (at T, or when an Exit rule stops it),
// from the worker goroutines, concurrently; an error it returns stops the
// run and is returned by Run.
//
// # Results
//
// Run fills the network.SimResult that network.NewSimResult prepares, one
// network.ImageRecord per image and one network.Tally per worker:
// CorrectByStep (with labels), Predictions, ImageSpikes, Outputs
// (KeepOutputs), per-neuron Counts (KeepCounts), the first image's Raster
// (Raster), and per spiking layer the total spikes, spikes per step,
// first-spike sums and SOPs. SOPs (SPEC §6): every spike counts
// network.FanOut of its neuron; every MaxPool event counts FanOut of the
// pool and is charged to the spiking layer the pool reads (to InputSOPs on
// the input); Poisson input spikes count FanOut(InputNode) in InputSOPs.
package dense
