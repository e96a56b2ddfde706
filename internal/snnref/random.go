package snnref

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// Kind selects the shape of a random network.
type Kind int

// The network shapes RandomNet builds.
const (
	// Chain: conv, spiking, average pool (sometimes overlapping), conv,
	// spiking, [pool], flatten, linear, spiking, linear readout.
	Chain Kind = iota
	// MLP: linear and spiking layers on a vector input.
	MLP
	// ResNet: a conv stem, sometimes a MaxPool, residual blocks with
	// identity and strided 1×1-conv shortcuts, global average pooling or
	// flatten, a linear readout.
	ResNet
	// VGG: conv/spiking layers with MaxPools of several kernels, strides
	// and paddings, sometimes an overlapping or padded average pool, a
	// linear head.
	VGG
)

// Kinds lists every Kind, for table tests.
var Kinds = []Kind{Chain, MLP, ResNet, VGG}

func (k Kind) String() string {
	return [...]string{"chain", "mlp", "resnet", "vgg"}[k]
}

// Config is what RandomNet varies besides the shape.
type Config struct {
	Kind  Kind
	Alpha float32 // 1 (IF) or 0.5 (LIF)
	Reset network.Reset
}

// Dyadic returns k·2^-4 for a uniform integer k in [lo, hi].
func Dyadic(r *rand.Rand, lo, hi int) float32 {
	return float32(lo+r.IntN(hi-lo+1)) / 16
}

// DyadicSlice is n Dyadic values.
func DyadicSlice(r *rand.Rand, n, lo, hi int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = Dyadic(r, lo, hi)
	}
	return s
}

// RandomImages returns count dyadic images in [0, 1] for net, a third of
// the pixels zero.
func RandomImages(r *rand.Rand, net *network.Network, count int) []float32 {
	x := make([]float32, count*net.Input.Size())
	for i := range x {
		if r.IntN(3) > 0 {
			x[i] = Dyadic(r, 0, 16)
		}
	}
	return x
}

// RandomDelays gives every weighted layer of net a delay of 0–2 steps.
func RandomDelays(r *rand.Rand, net *network.Network) []int {
	d := make([]int, len(net.Layers))
	for i, l := range net.Layers {
		if network.RoleOf(l) == network.RoleWeighted {
			d[i] = r.IntN(3)
		}
	}
	return d
}

// RandomSpiking is a spiking layer of shape sh with dyadic parameters: one
// θ or one per channel, sometimes v(0) = θ/2, sometimes a per-neuron v(0).
func RandomSpiking(r *rand.Rand, name string, sh network.Shape, alpha float32, reset network.Reset) *network.Spiking {
	s := &network.Spiking{LayerName: name, Alpha: alpha, Reset: reset}
	if r.IntN(2) == 0 {
		s.Threshold = []float32{Dyadic(r, 8, 24)}
	} else {
		s.Threshold = DyadicSlice(r, sh[0], 6, 28)
	}
	if r.IntN(3) == 0 {
		s.V0Fraction = 0.5
	}
	if r.IntN(3) == 0 {
		s.V0 = DyadicSlice(r, sh.Size(), -8, 8)
	}
	return s
}

// builder grows a graph network node by node.
type builder struct {
	r     *rand.Rand
	cfg   Config
	net   *network.Network
	names map[string]int
}

// add appends l reading the given nodes and returns its index and shape.
func (b *builder) add(l network.Layer, inputs ...int) (int, network.Shape) {
	b.net.Layers = append(b.net.Layers, l)
	b.net.Inputs = append(b.net.Inputs, inputs)
	sh, err := b.net.Shapes()
	if err != nil {
		panic(fmt.Sprintf("snnref: random %v network: %v", b.cfg.Kind, err))
	}
	return len(b.net.Layers) - 1, sh[len(sh)-1]
}

func (b *builder) name(prefix string) string {
	b.names[prefix]++
	return fmt.Sprintf("%s%d", prefix, b.names[prefix])
}

func (b *builder) shape(i int) network.Shape {
	sh, _ := b.net.Shapes()
	return b.net.ShapeOf(sh, i)
}

// conv adds a conv (dyadic weights) reading node in.
func (b *builder) conv(in, outC, k, stride, pad int) (int, network.Shape) {
	inC := b.shape(in)[0]
	return b.add(&network.Conv2d{LayerName: b.name("conv"), InC: inC, OutC: outC, KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad,
		Weight: DyadicSlice(b.r, outC*inC*k*k, -10, 14), Bias: DyadicSlice(b.r, outC, -4, 6)}, in)
}

func (b *builder) spiking(in int) (int, network.Shape) {
	return b.add(RandomSpiking(b.r, b.name("sp"), b.shape(in), b.cfg.Alpha, b.cfg.Reset), in)
}

func (b *builder) linear(in, out int, lo, hi int) (int, network.Shape) {
	n := b.shape(in)[0]
	return b.add(&network.Linear{LayerName: b.name("fc"), In: n, Out: out, Weight: DyadicSlice(b.r, out*n, lo, hi), Bias: DyadicSlice(b.r, out, -4, 6)}, in)
}

// head flattens node cur (global average pooling first when its plane is
// a power of two, so the pooled values stay dyadic), sometimes adds a
// hidden spiking layer, and the readout.
func (b *builder) head(cur int, gapOK bool) {
	sh := b.shape(cur)
	if len(sh) == 3 {
		if plane := sh[1] * sh[2]; gapOK && bits.OnesCount(uint(plane)) == 1 && plane <= 16 && b.r.IntN(3) > 0 {
			cur, _ = b.add(&network.GlobalAvgPool{LayerName: b.name("gap")}, cur)
		}
		cur, _ = b.add(&network.Flatten{LayerName: b.name("flatten")}, cur)
	}
	if b.r.IntN(2) == 0 || b.cfg.Kind == Chain {
		cur, _ = b.linear(cur, 6+b.r.IntN(6), -8, 10)
		cur, _ = b.spiking(cur)
	}
	b.linear(cur, 5, -16, 16)
}

// RandomNet builds a random small SNN of the given kind with dyadic
// parameters (see the package documentation). It always validates.
func RandomNet(r *rand.Rand, cfg Config) *network.Network {
	b := &builder{r: r, cfg: cfg, net: &network.Network{}, names: map[string]int{}}
	switch cfg.Kind {
	case Chain:
		b.net.Input = network.Shape{1 + r.IntN(2), 8 + r.IntN(3), 8 + r.IntN(3)}
		stride := 1
		if r.IntN(4) == 0 {
			stride = 2
		}
		cur, _ := b.conv(network.InputNode, 2+r.IntN(3), 3, stride, r.IntN(2))
		cur, _ = b.spiking(cur)
		ps := 2
		if r.IntN(3) == 0 {
			ps = 1 // overlapping windows
		}
		cur, _ = b.add(&network.AvgPool2d{LayerName: b.name("pool"), KH: 2, KW: 2, StrideH: ps, StrideW: ps}, cur)
		cur, _ = b.conv(cur, 2+r.IntN(3), 3, 1, 1)
		cur, sh := b.spiking(cur)
		if sh[1] >= 2 && sh[2] >= 2 && r.IntN(2) == 0 {
			cur, _ = b.add(&network.AvgPool2d{LayerName: b.name("pool"), KH: 2, KW: 2, StrideH: 2, StrideW: 2}, cur)
		}
		b.head(cur, false)
	case MLP:
		b.net.Input = network.Shape{10 + r.IntN(20)}
		cur := network.InputNode
		for range 1 + r.IntN(3) {
			cur, _ = b.linear(cur, 5+r.IntN(15), -10, 12)
			cur, _ = b.spiking(cur)
		}
		b.linear(cur, 4, -16, 16)
	case ResNet:
		b.net.Input = network.Shape{1 + r.IntN(2), 8 + r.IntN(5), 8 + r.IntN(5)}
		c := 2 + r.IntN(3)
		cur, _ := b.conv(network.InputNode, c, 3, 1, 1)
		cur, _ = b.spiking(cur)
		if r.IntN(2) == 0 {
			cur, _ = b.add(&network.MaxPool2d{LayerName: b.name("maxpool"), KH: 2, KW: 2, StrideH: 2, StrideW: 2}, cur)
		}
		for blk := range 1 + r.IntN(2) {
			down := blk > 0 || r.IntN(3) == 0
			if down && min(b.shape(cur)[1], b.shape(cur)[2]) < 4 {
				down = false
			}
			outC := c
			stride := 1
			if down {
				outC, stride = c+1+r.IntN(2), 2
			}
			h, _ := b.conv(cur, outC, 3, stride, 1)
			h, _ = b.spiking(h)
			h, _ = b.conv(h, outC, 3, 1, 1)
			short := cur
			if down {
				short, _ = b.conv(cur, outC, 1, 2, 0)
			}
			sum, _ := b.add(&network.Add{LayerName: b.name("add")}, h, short)
			if r.IntN(3) == 0 {
				sum2 := b.net.Layers[sum].(*network.Add)
				sum2.Bias = DyadicSlice(r, outC, -4, 4)
			}
			cur, _ = b.spiking(sum)
			c = outC
		}
		b.head(cur, true)
	case VGG:
		b.net.Input = network.Shape{1 + r.IntN(2), 9 + r.IntN(4), 9 + r.IntN(4)}
		cur := network.InputNode
		if r.IntN(3) == 0 {
			// A MaxPool on the input: the plain max with direct
			// encoding, count-gated on Poisson spikes.
			cur, _ = b.add(&network.MaxPool2d{LayerName: b.name("maxpool"), KH: 2, KW: 2, StrideH: 1, StrideW: 1}, cur)
		}
		for range 2 + r.IntN(2) {
			cur, _ = b.conv(cur, 2+r.IntN(3), 3, 1, 1)
			cur, _ = b.spiking(cur)
			sh := b.shape(cur)
			switch k := r.IntN(4); {
			case k < 3 && sh[1] >= 3 && sh[2] >= 3:
				kern := 2 + r.IntN(2)
				stride := 1 + r.IntN(2)
				pad := r.IntN(kern/2 + 1)
				cur, _ = b.add(&network.MaxPool2d{LayerName: b.name("maxpool"), KH: kern, KW: kern, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad}, cur)
			case k == 3 && sh[1] >= 2 && sh[2] >= 2:
				// Padded average pool counting the padding: divisor 4.
				cur, _ = b.add(&network.AvgPool2d{LayerName: b.name("pool"), KH: 2, KW: 2, StrideH: 2, StrideW: 2, PadH: r.IntN(2), PadW: r.IntN(2), CountIncludePad: true}, cur)
			}
		}
		b.head(cur, true)
	}
	b.net.Compact()
	if err := b.net.Validate(); err != nil {
		panic(fmt.Sprintf("snnref: random %v network does not validate: %v", cfg.Kind, err))
	}
	return b.net
}

// Diff returns "" if the two results agree in every field engines must
// reproduce exactly (predictions, accuracy by step, per-image and
// per-layer spikes, SOPs, first spikes, spikes by step, input spikes,
// outputs and counts if kept, rasters if both have one), or a description
// of the first difference. Engine names and wall times are ignored.
func Diff(a, b *network.SimResult) string {
	switch {
	case a.T != b.T || a.Images != b.Images || a.Encoding != b.Encoding:
		return fmt.Sprintf("T/images/encoding %d/%d/%s vs %d/%d/%s", a.T, a.Images, a.Encoding, b.T, b.Images, b.Encoding)
	case !slices.Equal(a.Predictions, b.Predictions):
		return fmt.Sprintf("predictions %v vs %v", a.Predictions, b.Predictions)
	case !slices.Equal(a.CorrectByStep, b.CorrectByStep):
		return fmt.Sprintf("correct by step %v vs %v", a.CorrectByStep, b.CorrectByStep)
	case a.InputSpikes != b.InputSpikes || a.InputSOPs != b.InputSOPs:
		return fmt.Sprintf("input spikes/SOPs %d/%d vs %d/%d", a.InputSpikes, a.InputSOPs, b.InputSpikes, b.InputSOPs)
	case len(a.Layers) != len(b.Layers):
		return fmt.Sprintf("%d vs %d spiking layers", len(a.Layers), len(b.Layers))
	}
	for i := range a.ImageSpikes {
		if !slices.Equal(a.ImageSpikes[i], b.ImageSpikes[i]) {
			return fmt.Sprintf("image %d: spikes per layer %v vs %v", i, a.ImageSpikes[i], b.ImageSpikes[i])
		}
	}
	for k := range a.Layers {
		la, lb := a.Layers[k], b.Layers[k]
		if la.Name != lb.Name || la.Layer != lb.Layer || la.Neurons != lb.Neurons || la.Spikes != lb.Spikes || la.SOPs != lb.SOPs ||
			la.FirstSpikeSum != lb.FirstSpikeSum || la.FirstSpikers != lb.FirstSpikers || !slices.Equal(la.SpikesByStep, lb.SpikesByStep) {
			return fmt.Sprintf("layer %d: %+v vs %+v", k, la, lb)
		}
	}
	if a.Outputs != nil && b.Outputs != nil {
		for i := range a.Outputs {
			if a.Outputs[i] != b.Outputs[i] {
				return fmt.Sprintf("output %d: %v vs %v", i, a.Outputs[i], b.Outputs[i])
			}
		}
	}
	if a.Counts != nil && b.Counts != nil {
		for k := range a.Counts {
			if !slices.Equal(a.Counts[k], b.Counts[k]) {
				return fmt.Sprintf("counts of layer %d differ", k)
			}
		}
	}
	if a.Raster != nil && b.Raster != nil && !slices.Equal(a.Raster, b.Raster) {
		return fmt.Sprintf("raster: %d vs %d events", len(a.Raster), len(b.Raster))
	}
	return ""
}
