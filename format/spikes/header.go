package spikes

import (
	"fmt"
	"math"

	"github.com/evsnn/evsnn/network"
)

// The fixed parts of a recording (see the package documentation).
const (
	Magic      = "EVSNNSPK" // the first 8 bytes
	EndMagic   = "EVSPKEND" // the last 8 bytes
	Version    = 1
	FormatName = "evsnn-spikes"
	// IDOrder names the id layout of the bitmaps (Header.IDOrder).
	IDOrder = "w,h,c,t"

	prefixSize = 16 // magic, version, header length
	footerSize = 32 // index offset, entries, index CRC, header CRC, end magic
	entrySize  = 48 // one index entry

	maxT         = 1 << 20 // as network.SimOptions
	maxHeader    = 1 << 26 // bytes of header JSON
	maxLayers    = 1 << 16
	maxNeurons   = idSpace        // a layer's ids of one step must fit 32 bits
	maxImages    = int64(1 << 31) // int64: the limits exceed a 32-bit int
	maxNameBytes = 1 << 10
	maxSlots     = 1 << 20 // bitmaps per image
	maxEntries   = 1 << 28 // bitmaps per recording
	// maxLayerSteps bounds layers × T (per-step statistics of every layer).
	maxLayerSteps = 1 << 26
	// maxEvents bounds the spikes Spikes and Raster return at once.
	maxEvents = 1 << 30
)

// Layer describes one spiking layer of a recording.
type Layer struct {
	Name string `json:"name"`
	// Index is the layer's position in network.Network.Layers (-1 when
	// unknown).
	Index int `json:"index"`
	// Shape is the layer's output shape, [C,H,W] for feature maps or [N]
	// for vectors; its product is Neurons. Neurons are numbered in the
	// network's C,H,W order.
	Shape   []int `json:"shape"`
	Neurons int   `json:"neurons"`
	// BlockSteps is BlockSteps(Neurons, T): the steps one bitmap covers.
	// Create fills it in.
	BlockSteps int `json:"block_steps"`
}

// chw returns the layer as [C,H,W]; a shape of another rank is [N,1,1].
func (l Layer) chw() (C, H, W int) {
	if len(l.Shape) == 3 {
		return l.Shape[0], l.Shape[1], l.Shape[2]
	}
	return l.Neurons, 1, 1
}

// Header is the JSON header of a recording: what was simulated, and how
// the bitmaps are laid out.
type Header struct {
	// Format is FormatName and IDOrder is IDOrder; Create fills them in.
	Format  string `json:"format"`
	IDOrder string `json:"id_order"`
	// T is the number of steps of every image.
	T int `json:"T"`
	// Images is the number of images; image i of the recording is dataset
	// image FirstImage+i.
	Images     int `json:"images"`
	FirstImage int `json:"first_image"`
	// Engine is the simulator that produced the spikes.
	Engine string `json:"engine"`
	// Layers are the spiking layers, in network order.
	Layers []Layer `json:"layers"`
	// Provenance holds whatever the caller wants to keep with the spikes
	// (model file and checksum, dataset, encoding, seed, command line,
	// evsnn version): evsnn does not interpret it.
	Provenance map[string]string `json:"provenance,omitempty"`
}

// LayersOf describes the spiking layers of net, for Header.Layers.
func LayersOf(net *network.Network) ([]Layer, error) {
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	var ls []Layer
	for _, i := range net.SpikingLayers() {
		ls = append(ls, Layer{
			Name:    net.Layers[i].Name(),
			Index:   i,
			Shape:   append([]int(nil), shapes[i]...),
			Neurons: shapes[i].Size(),
		})
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("the network has no spiking layers")
	}
	return ls, nil
}

// LayerNames are the names of the layers, as analysis/plot.Raster takes them.
func (h *Header) LayerNames() []string {
	s := make([]string, len(h.Layers))
	for k, l := range h.Layers {
		s[k] = l.Name
	}
	return s
}

// LayerSizes are the neuron counts of the layers.
func (h *Header) LayerSizes() []int {
	s := make([]int, len(h.Layers))
	for k, l := range h.Layers {
		s[k] = l.Neurons
	}
	return s
}

// complete fills in what Create derives (format, id order, block steps).
func (h *Header) complete() {
	h.Format, h.IDOrder = FormatName, IDOrder
	for k := range h.Layers {
		h.Layers[k].complete(h.T)
	}
}

// complete fills in Neurons (if zero) and BlockSteps.
func (l *Layer) complete(T int) {
	if l.Neurons == 0 && len(l.Shape) > 0 {
		l.Neurons = 1
		for _, d := range l.Shape {
			if d < 1 || int64(d) > maxNeurons/int64(l.Neurons) {
				l.Neurons = 0 // check reports the shape
				break
			}
			l.Neurons *= d
		}
	}
	if l.Neurons >= 1 && int64(l.Neurons) <= maxNeurons && T >= 1 {
		l.BlockSteps = BlockSteps(l.Neurons, T)
	}
}

// check validates a header, written or read.
func (h *Header) check() error {
	switch {
	case h.Format != FormatName:
		return fmt.Errorf("header: format %q, want %q", h.Format, FormatName)
	case h.IDOrder != IDOrder:
		return fmt.Errorf("header: id order %q, want %q", h.IDOrder, IDOrder)
	case h.T < 1 || h.T > maxT:
		return fmt.Errorf("header: T = %d: must be between 1 and %d", h.T, maxT)
	case h.Images < 0 || int64(h.Images) > maxImages:
		return fmt.Errorf("header: %d images: must be between 0 and %d", h.Images, maxImages)
	case h.FirstImage < 0 || h.FirstImage > math.MaxInt32:
		return fmt.Errorf("header: first image %d: must be between 0 and %d", h.FirstImage, math.MaxInt32)
	case len(h.Layers) == 0 || len(h.Layers) > maxLayers:
		return fmt.Errorf("header: %d layers: must be between 1 and %d", len(h.Layers), maxLayers)
	case len(h.Layers)*h.T > maxLayerSteps:
		return fmt.Errorf("header: %d layers × T = %d steps: at most %d", len(h.Layers), h.T, maxLayerSteps)
	}
	for k, l := range h.Layers {
		if err := l.check(h.T); err != nil {
			return fmt.Errorf("header: layer %d (%q): %w", k, l.Name, err)
		}
	}
	return nil
}

func (l *Layer) check(T int) error {
	if len(l.Name) > maxNameBytes {
		return fmt.Errorf("name of %d bytes: at most %d", len(l.Name), maxNameBytes)
	}
	if len(l.Shape) == 0 || len(l.Shape) > 8 {
		return fmt.Errorf("shape %v: want [C,H,W] or [N]", l.Shape)
	}
	p := 1
	for _, d := range l.Shape {
		if d < 1 {
			return fmt.Errorf("shape %v: dimensions must be ≥ 1", l.Shape)
		}
		if int64(d) > maxNeurons/int64(p) {
			return fmt.Errorf("shape %v: more than 2^32 neurons", l.Shape)
		}
		p *= d
	}
	if l.Neurons < 1 || int64(l.Neurons) > maxNeurons {
		return fmt.Errorf("%d neurons: must be between 1 and 2^32", l.Neurons)
	}
	if p != l.Neurons {
		return fmt.Errorf("shape %v has %d neurons, the layer %d", l.Shape, p, l.Neurons)
	}
	if b := BlockSteps(l.Neurons, T); l.BlockSteps != b {
		return fmt.Errorf("block_steps %d, want %d for %d neurons and T = %d", l.BlockSteps, b, l.Neurons, T)
	}
	if l.Index < -1 {
		return fmt.Errorf("index %d", l.Index)
	}
	return nil
}
