package spikes

import (
	"fmt"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// idSpace is the number of ids a 32-bit roaring bitmap holds (0 … 2³²−1).
const idSpace = int64(1 << 32)

// BlockSteps is the number of steps one bitmap of a layer of the given
// size covers: T when T·neurons ≤ 2³², else ⌊2³²/neurons⌋, so that every id
// of a block fits 32 bits. neurons must be between 1 and 2³².
func BlockSteps(neurons, T int) int {
	return int(min(int64(T), idSpace/int64(neurons)))
}

// Slot is one bitmap of every image: the spikes of one spiking layer over
// one block of steps.
type Slot struct {
	Layer     int // spiking layer (index into Header.Layers)
	FirstStep int // first step of the block, 1-based
	Steps     int // steps in the block
}

// Layout is the list of slots of a recording, layer by layer and, within a
// layer, block by block: the same for every image. Writer.Add takes one
// id list per slot, in this order.
type Layout struct {
	T      int
	Layers []Layer
	Slots  []Slot
	first  []int // first[k] is the first slot of layer k; first[len] = len(Slots)
	orders []order
}

// NewLayout returns the slots of layers over T steps. Each layer's
// BlockSteps (and Neurons, if zero) is filled in on a copy.
func NewLayout(layers []Layer, T int) (*Layout, error) {
	if T < 1 || T > maxT {
		return nil, fmt.Errorf("T = %d: must be between 1 and %d", T, maxT)
	}
	if len(layers) == 0 || len(layers) > maxLayers {
		return nil, fmt.Errorf("%d layers: must be between 1 and %d", len(layers), maxLayers)
	}
	layers = slices.Clone(layers)
	slots := 0
	for k := range layers {
		ly := &layers[k]
		ly.complete(T)
		if err := ly.check(T); err != nil {
			return nil, fmt.Errorf("layer %d (%q): %w", k, ly.Name, err)
		}
		if slots += (T + ly.BlockSteps - 1) / ly.BlockSteps; slots > maxSlots {
			return nil, fmt.Errorf("more than %d bitmaps per image (layers too large for 32-bit ids over T = %d steps)", maxSlots, T)
		}
	}
	l := &Layout{T: T, Layers: layers, first: make([]int, len(layers)+1), orders: make([]order, len(layers))}
	for k, ly := range layers {
		l.orders[k] = newOrder(ly)
		l.first[k] = len(l.Slots)
		B := ly.BlockSteps
		for t0 := 1; t0 <= T; t0 += B {
			l.Slots = append(l.Slots, Slot{Layer: k, FirstStep: t0, Steps: min(B, T-t0+1)})
		}
	}
	l.first[len(layers)] = len(l.Slots)
	return l, nil
}

// LayerSlots returns the slots of spiking layer k (one unless the layer is
// split into blocks of steps).
func (l *Layout) LayerSlots(k int) []Slot { return l.Slots[l.first[k]:l.first[k+1]] }

// SlotOf returns the slot of layer k that holds step t and the block's
// first step.
func (l *Layout) SlotOf(k, t int) (slot, firstStep int) {
	B := l.Slots[l.first[k]].Steps
	j := (t - 1) / B
	return l.first[k] + j, 1 + j*B
}

// order is the storage order of a layer's neurons (network.SpikePosition:
// position p = (w·H + h)·C + c for neuron (c·H + h)·W + w of a [C,H,W]
// layer), which the reader inverts.
type order struct {
	C, H, W int
}

func newOrder(ly Layer) order {
	C, H, W := ly.chw()
	return order{C: C, H: H, W: W}
}

// flat reports whether positions are neuron indices ([N] or [C,1,1]).
func (o *order) flat() bool { return o.H == 1 && o.W == 1 }

// neuronAt inverts position; inv, if not nil, tabulates it.
func (o *order) neuronAt(p int, inv []uint32) int {
	switch {
	case inv != nil:
		return int(inv[p])
	case o.flat():
		return p
	}
	c, q := p%o.C, p/o.C
	h, w := q%o.H, q/o.H
	return (c*o.H+h)*o.W + w
}

// inverse tabulates neuronAt.
func (o *order) inverse() []uint32 {
	inv := make([]uint32, o.C*o.H*o.W)
	shape := network.Shape{o.C, o.H, o.W}
	for n := range inv {
		inv[network.SpikePosition(shape, n)] = uint32(n)
	}
	return inv
}
