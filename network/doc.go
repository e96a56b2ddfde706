// Package network holds what every other part of evsnn agrees on: the
// layers of a feed-forward CNN (SPEC §1), their shapes, the batched ANN
// forward pass that hands back every layer's activations, the spiking
// neuron parameters a converted network carries (SPEC §2), and the result
// type both simulation engines fill in, so that they can be compared field
// by field.
//
// A Network is an input shape and an ordered list of layers. Before
// conversion the nonlinearities are *ReLU layers; conversion replaces each
// by a *Spiking layer (IF or LIF neurons with a threshold, a reset rule and
// initial potentials). Linear layers (Conv2d, AvgPool2d, Linear, Flatten)
// are the same in both worlds.
//
// Tensors are float32 and NCHW. Per-sample shapes carry no batch
// dimension: [C,H,W] for feature maps, [N] for vectors.
//
// A run with SimOptions.RecordSpikes hands each image's spikes to
// SimOptions.OnImage in a SpikeSet (ImageRecord.Recorded): per spiking
// layer, bits laid out as package format/spikes stores them (SpikePosition,
// SpikeBlockSteps), so that an engine records a spike with a table load
// and a bit set and a recorder writes the bits as they are.
package network
