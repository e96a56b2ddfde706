// Package nir exports converted evsnn networks to NIR, the Neuromorphic
// Intermediate Representation (neuromorphs/NIR, https://neuroir.org), and
// imports NIR graphs as evsnn networks.
//
// The package has two halves. The graph model (Graph, Node, Param) and the
// conversions FromNetwork and ToNetwork are pure Go and always built. The
// HDF5 file reader and writer, ReadFile and WriteFile, use the HDF5 C
// library through gonum.org/v1/hdf5 (cgo), plus a few direct C calls where
// gonum falls short (reads converted to native types, variable-length
// strings, and dataset creation: gonum's CreateDataset leaks a datatype
// handle per dataset). They are built only with the hdf5 build tag; without
// it they return ErrNoHDF5 and HDF5 is false:
//
//	apt-get install libhdf5-dev hdf5-tools   # Debian 12: HDF5 1.10.8
//	go build -tags hdf5 ./cmd/evsnn
//	go test -tags hdf5 ./format/nir
//
// # File layout
//
// WriteFile writes what NIR's Python reference (nir.write, h5py) writes and
// ReadFile reads both: a root dataset "version" (a string) and a group
// "node" holding a scalar string "type" = "NIRGraph", a group "nodes" with
// one group per node (a scalar string "type" and one dataset per
// parameter, named as NIR's dataclasses name them, and a "metadata" group
// when the node has metadata), a dataset "edges" of N×2 strings (source,
// target), and a "metadata" group for the graph. evsnn writes strings
// fixed-length and null-terminated (ASCII, UTF-8 if needed), floats and
// integers little-endian; it reads variable-length strings (as h5py writes
// them) and any integer or float width and byte order too.
//
// # Mapping
//
// Every evsnn layer becomes a node named after the layer (a name that is
// empty, taken or unusable in HDF5 is replaced, and the original kept in
// the node metadata "evsnn.name"), and the edges follow the network's
// graph (network.Network.Inputs; a chain gives a chain Input → … →
// Output).
//
//	evsnn                  NIR
//	Input shape [C,H,W]    Input(shape)                      no batch dimension
//	Conv2d                 Conv2d(weight [C_out,C_in,kH,kW], bias [C_out], stride [2],
//	                              padding [2], dilation [1,1], groups 1, input_shape [H,W])
//	Linear                 Affine(weight [out,in], bias [out]);
//	                       Linear(weight) when every bias is +0
//	SparseLinear           the same, dense: zeros where there is no synapse (NIR has no
//	                       sparse projection); metadata evsnn.layer = "sparselinear" and
//	                       evsnn.synapses (the count); Graph.Notes gets a line naming the
//	                       layer; refused if the dense matrix exceeds 2^28 values
//	AvgPool2d              AvgPool2d(kernel_size [2], stride [2], padding [0,0]), or with
//	                       ExportOptions.SumPool: SumPool2d + Scale(1/(kH·kW)); an
//	                       unpadded CountIncludePad is kept in evsnn.count_include_pad
//	  padded               always SumPool2d(padding [pH,pW]) + Scale(1/divisor of each
//	                       output position): CountIncludePad's kH·kW, or the number of
//	                       window positions inside the map
//	GlobalAvgPool          AvgPool2d(kernel_size = stride = [H,W], padding [0,0]), metadata
//	                       evsnn.layer = "globalavgpool"; with SumPool: SumPool2d +
//	                       Scale(1/(H·W))
//	Flatten                Flatten(start_dim 0, end_dim -1, input_type [C,H,W])
//	Spiking, α = 1         IF(r, v_threshold, v_reset = 0) + Scale(θ)
//	Spiking, α < 1         LIF(tau, r, v_leak = 0, v_threshold, v_reset = 0) + Scale(θ)
//	Add                    no node: an edge from (the last node of) each input into the
//	                       neuron node after it, which NIR sums; an identity shortcut is
//	                       an edge straight from the Scale(θ) of the spiking layer it
//	                       reads; the Add's name is the neuron node's metadata evsnn.add
//	Add's bias             folded into the bias of its first input that is a Conv2d or
//	                       Linear (metadata evsnn.bias and evsnn.add_bias keep the two
//	                       parts); without one, an identity node on its first branch:
//	                       a 1×1 Conv2d (an Affine on vectors) with weight I and the
//	                       bias, metadata evsnn.role = "add_bias"
//	  of one input twice   refused: NIR has one edge between two nodes
//	MaxPool2d              refused, naming the layer: NIR has no max pooling, and nothing
//	                       in NIR computes evsnn's count-gated spiking max (SPEC §2a)
//	ReLU                   refused: an ANN must be converted first
//	last layer's shape     Output(shape)
//
// A padded average pool is written as a sum because NIR's AvgPool2d does
// not say whether its divisor counts the padding; a zero-padded sum and
// an explicit divisor mean one thing to every reader. The Add's bias
// goes into a branch's bias because NIR has no bias of its own: another
// tool sees an Affine or Conv2d whose bias holds both, which is what the
// neuron integrates (only the float32 summation order differs from
// evsnn's, which adds the Add's bias after the branches).
//
// NIR axes follow PyTorch, as evsnn does: Conv2d weights are [C_out, C_in,
// N_x, N_y] with x the first spatial axis (rows, H), and stride, padding,
// kernel_size and input_shape are (H, W). Neuron parameters are arrays of
// the neuron layer's shape (e.g. [C,H,W]), one value per neuron, as NIR
// requires; a per-layer or per-channel θ is expanded.
//
// A SparseLinear goes out dense rather than being refused because a
// pruned network is still a network every NIR tool can run: the same
// numbers through zero weights. What is lost is the sparsity itself: the
// import reads the node as the dense Linear it is (evsnn.layer is not
// acted on), so the imported network's SOPs count every weight, zeros
// included, and a caller that wants the synapse lists back prunes again
// (network.Sparsify). FromNetwork says so in Graph.Notes, for the caller
// to log.
//
// # Time: the discrete-time mapping
//
// NIR neurons are continuous-time: IF is dv/dt = R·I, LIF is
// τ·dv/dt = (v_leak − v) + R·I; a neuron spikes when v > v_threshold and
// then v = v_reset. evsnn steps v(t) = α·v(t−1) + I(t) (SPEC §2). One evsnn
// step is read as one forward-Euler step of length dt:
//
//	LIF: v ← v + dt/τ·(v_leak − v + r·I) = (1 − dt/τ)·v + (dt·r/τ)·I + dt·v_leak/τ
//	IF:  v ← v + dt·r·I
//
// so α = 1 − dt/τ, the input gain is dt·r/τ (LIF) or dt·r (IF), and
// dt·v_leak/τ is a constant input. Export writes dt = 1 by default
// (ExportOptions.DT), τ = dt/(1 − α), r = τ/dt for LIF and r = 1/dt for
// IF, so the gain is 1 and I feeds v directly, v_leak = 0, v_reset = 0;
// this is also the convention of snnTorch's NIR export (which uses its own
// dt). dt is recorded in the graph metadata "dt", and import reads it (or
// ImportOptions.DT, default 1). On import a gain other than 1 (beyond
// float32 rounding) is multiplied into the weights and bias of the layer
// feeding the neurons, and dt·v_leak/τ is added to its bias; all neurons
// of a layer must share one τ (evsnn has one α per layer).
//
// An evsnn spike carries the amplitude θ into the next layer (SPEC §2), a
// NIR spike is 1; so export puts a Scale node of θ (per neuron) after
// every neuron node, named "<layer>_amplitude", metadata evsnn.role =
// "spike_amplitude". Import absorbs a Scale that equals θ exactly; after a
// neuron node without one it divides the next weighted layer's input
// weights by θ instead. Other Scale nodes and SumPool2d's kH·kW are folded
// into the neighbouring weights (a convolution takes only per-channel
// factors).
//
// What NIR cannot express is kept in node metadata, read back by import
// and ignored by other tools: evsnn.alpha (the exact α, since τ is
// rounded), evsnn.reset ("soft": evsnn subtracts θ, while NIR's IF/LIF
// reset to v_reset, so without the metadata a NIR tool simulates a hard
// reset; there is no subtractive reset in NIR yet), evsnn.v0_fraction and
// evsnn.v0 (the initial potentials V0Fraction·θ and the per-neuron
// correction; NIR has no initial state, other tools start at 0),
// evsnn.threshold (θ per layer or per channel, as evsnn holds it). The
// network metadata (source, conversion with its bias shift and T,
// calibration) travels as JSON in the graph metadata "evsnn.meta"; a bias
// shift is already in the biases. With these, export → import gives back
// the network bit for bit.
//
// Two differences remain for other tools: NIR fires on v > θ and evsnn on
// v ≥ θ (they differ only when v hits θ exactly), and soft reset and
// initial potentials exist only in the metadata.
//
// # Import
//
// ToNetwork takes a directed acyclic graph (Graph.DAG) from one Input to
// one Output node, of the node types in SupportedTypes. Nodes become
// layers in a topological order of the edges (for a graph evsnn wrote,
// its own layer order; an Add comes right before the spiking layer it
// feeds). Several edges into one node are summed in NIR;
// evsnn sums branches only into a spiking layer, so several edges into an
// IF or LIF node become an Add (inputs in the order of the edges, named by
// evsnn.add or "<node>_add") and the spiking layer after it, and several
// edges into any other node are an error. On each branch the neuron's
// input gain, and any factor left on the branch (a Scale, the 1/θ of a
// unit NIR spike), go into the branch's Conv2d or Linear; a branch that
// has none (a shortcut straight from the input or a neuron node) with a
// factor other than 1 gets a diagonal 1×1 Conv2d (a diagonal Linear on
// vectors) to carry it, and v_leak goes into the Add's bias. evsnn's own
// add_bias node and folded Add bias are recognised by their metadata and
// undone bit for bit. A chain is imported as it always was.
//
// An AvgPool2d with padding is read as PyTorch's (count_include_pad =
// True); a SumPool2d followed by a Scale of 1/(kH·kW), or of 1/(window
// positions inside the map) per output, becomes the AvgPool2d that
// computes exactly that, for any kernel; an AvgPool2d over the whole map
// marked evsnn.layer = "globalavgpool" becomes a GlobalAvgPool (without
// the mark it stays an AvgPool2d, which computes the same numbers).
// Anything else (nested graphs, other node types, groups ≠ 1, dilation ≠ 1,
// nonzero v_reset, a factor that differs within a channel where only
// per-channel ones fold) is an error naming the node. A leading batch
// dimension of 1 in Input, Output and Flatten shapes is dropped. A graph
// that ends in a neuron layer gets an identity Linear readout named
// "readout" (weights 1/θ, or the Scale after the neuron node), so that, as
// evsnn's engines expect, the network ends in a readout that accumulates
// the NIR graph's output.
package nir
