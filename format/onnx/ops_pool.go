package onnx

// Pools: MaxPool → MaxPool2d, AveragePool → AvgPool2d, GlobalAveragePool
// → GlobalAvgPool, and Pad (dropped when its pads are zero, folded into
// the AveragePool after it otherwise).

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// poolGeom reads the geometry a MaxPool or AveragePool shares: kernel,
// strides, symmetric pads at most half the kernel (as network.Window and
// PyTorch require), no dilation, and ceil_mode=1 only where it gives the
// floor mode's output size. x is the input shape (already padded by a
// Pad before an AveragePool, if any).
func poolGeom(a attrs, x network.Shape) (network.Window, error) {
	var win network.Window
	if len(x) != 3 {
		return win, fmt.Errorf("input shape %v is not [C,H,W]", x)
	}
	k, err := geom(a, "kernel_shape", nil, 2, 1)
	if err != nil {
		return win, err
	}
	s, err := geom(a, "strides", []int64{1, 1}, 2, 1)
	if err != nil {
		return win, err
	}
	if err := noDilation(a); err != nil {
		return win, err
	}
	ph, pw, err := symPads(a)
	if err != nil {
		return win, err
	}
	if 2*ph > k[0] || 2*pw > k[1] {
		return win, unsupportedf("pads %v larger than half the kernel %v", []int{ph, pw, ph, pw}, k)
	}
	h, w := x[1]+2*ph, x[2]+2*pw
	if h < k[0] || w < k[1] {
		return win, fmt.Errorf("kernel %v larger than the padded input %v", k, x)
	}
	ceil, err := a.int("ceil_mode", 0)
	if err != nil {
		return win, err
	}
	if ceil != 0 && ((h-k[0])%s[0] != 0 || (w-k[1])%s[1] != 0) {
		return win, unsupportedf("ceil_mode=1 gives a larger output than floor mode for input %v, kernel %v, strides %v, pads %v (evsnn pools in floor mode; export with ceil_mode=False)",
			x, k, s, []int{ph, pw, ph, pw})
	}
	return network.Window{KH: k[0], KW: k[1], StrideH: s[0], StrideW: s[1], PadH: ph, PadW: pw}, nil
}

func (im *importer) maxPool(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if so, err := a.int("storage_order", 0); err != nil {
		return err
	} else if so != 0 {
		return unsupportedf("storage_order=%d (only 0, row major)", so)
	}
	switch base := folded(x); {
	case base.kind == irInput, base.weighted():
	case base.kind == irLayer && (base.layer.Kind() == network.KindReLU || base.layer.Kind() == network.KindAdd):
	default:
		return unsupportedf("a MaxPool must read the input or a ReLU (or a Conv or Add followed by the MaxPool and then a ReLU), and it reads %s", x.describe())
	}
	win, err := poolGeom(a, x.shape)
	if err != nil {
		return err
	}
	return im.addLayer(ref, &network.MaxPool2d{
		KH: win.KH, KW: win.KW, StrideH: win.StrideH, StrideW: win.StrideW, PadH: win.PadH, PadW: win.PadW,
	}, x)
}

func (im *importer) avgPool(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	win, err := poolGeom(a, x.shape)
	if err != nil {
		return err
	}
	cip, err := a.int("count_include_pad", 0)
	if err != nil {
		return err
	}
	padded := win.PadH > 0 || win.PadW > 0
	if x.kind == irPad && (2*(x.pads[0]+win.PadH) > win.KH || 2*(x.pads[1]+win.PadW) > win.KW) {
		return unsupportedf("the Pad before it (%s) pads %dx%d, with its own pads %dx%d more than half the kernel %dx%d",
			x.describe(), x.pads[0], x.pads[1], win.PadH, win.PadW, win.KH, win.KW)
	}
	if x.kind == irPad && padded && cip == 0 {
		// The Pad's zeros count in every window, the AveragePool's own
		// padding would not: one AvgPool2d cannot do both.
		return unsupportedf("pads %v with count_include_pad=0 after a Pad: the two paddings count differently", []int{win.PadH, win.PadW, win.PadH, win.PadW})
	}
	return im.addLayer(ref, &network.AvgPool2d{
		KH: win.KH, KW: win.KW, StrideH: win.StrideH, StrideW: win.StrideW, PadH: win.PadH, PadW: win.PadW,
		CountIncludePad: padded && cip != 0,
	}, x)
}

func (im *importer) globalAvgPool(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if len(x.shape) != 3 {
		return fmt.Errorf("input shape %v is not [C,H,W]", x.shape)
	}
	return im.addLayer(ref, &network.GlobalAvgPool{}, x)
}

// pad drops a Pad whose pads are all zero (what PyTorch writes before
// each AvgPool2d without padding); zero-padding of the two spatial axes,
// symmetric, becomes an irPad node that fold.go folds into the
// AveragePool after it (what nn.AvgPool2d(padding=p) exports).
func (im *importer) pad(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	var pads []int64
	if input(ref.nd, 1) != "" {
		t, err := im.constInts(ref, 1, "pads")
		if err != nil {
			return err
		}
		v, ok := t.known()
		if !ok {
			return unsupportedf("pads depend on the batch size")
		}
		pads = v
	} else {
		v, err := a.ints("pads")
		if err != nil {
			return err
		}
		if v == nil {
			return fmt.Errorf("no pads (neither input nor attribute)")
		}
		pads = v
	}
	mode, err := a.str("mode", "constant")
	if err != nil {
		return err
	}
	zero := true
	for _, p := range pads {
		zero = zero && p == 0
	}
	if zero {
		return im.alias(ref, x) // any mode, any value: zero pads change nothing
	}
	shown := pads
	if len(shown) > 16 {
		shown = shown[:16]
	}
	rank := len(x.shape) + 1
	full, err := im.padAxes(ref, pads, rank)
	if err != nil {
		return err
	}
	if mode != "constant" {
		return unsupportedf("nonzero pads %v in mode %s (only zero padding before an AveragePool)", shown, quote(mode))
	}
	value, err := im.padValue(ref, a)
	if err != nil {
		return err
	}
	if value != 0 {
		return unsupportedf("nonzero pads %v with value %v (only zero padding before an AveragePool)", shown, value)
	}
	if rank != 4 || full[0] != 0 || full[1] != 0 || full[4] != 0 || full[5] != 0 {
		return unsupportedf("nonzero pads %v outside the two spatial axes of [N,C,H,W]", shown)
	}
	for _, p := range full {
		if p < 0 {
			return unsupportedf("negative pads %v (cropping)", shown)
		}
		if p > maxGeom {
			return fmt.Errorf("pads %v out of range", shown)
		}
	}
	if full[2] != full[6] || full[3] != full[7] {
		return unsupportedf("asymmetric pads %v (begin and end must match per axis)", shown)
	}
	ph, pw := int(full[2]), int(full[3])
	out := network.Shape{x.shape[0], x.shape[1] + 2*ph, x.shape[2] + 2*pw}
	if err := out.Valid(); err != nil {
		return fmt.Errorf("pads %v: output %v", shown, err)
	}
	return im.newNode(ref, &irNode{kind: irPad, pads: [2]int{ph, pw}, shape: out}, x)
}

// padAxes spreads pads over all rank axes: the optional axes input
// (opset 18) says which axes they are for.
func (im *importer) padAxes(ref nodeRef, pads []int64, rank int) ([]int64, error) {
	axes := make([]int64, rank)
	for i := range axes {
		axes[i] = int64(i)
	}
	if input(ref.nd, 3) != "" {
		t, err := im.constInts(ref, 3, "axes")
		if err != nil {
			return nil, err
		}
		v, ok := t.known()
		if !ok {
			return nil, unsupportedf("axes depend on the batch size")
		}
		axes = v
	}
	if len(pads) != 2*len(axes) {
		return nil, fmt.Errorf("%d pads for %d axes", len(pads), len(axes))
	}
	full := make([]int64, 2*rank)
	seen := make([]bool, rank)
	for i, ax := range axes {
		if ax < 0 {
			ax += int64(rank)
		}
		if ax < 0 || ax >= int64(rank) || seen[ax] {
			return nil, fmt.Errorf("axes %v: invalid for rank %d", axes, rank)
		}
		seen[ax] = true
		full[ax], full[int64(rank)+ax] = pads[i], pads[len(axes)+i]
	}
	return full, nil
}

// padValue is the constant a Pad fills with: input 2 (opset ≥ 11) or the
// value attribute.
func (im *importer) padValue(ref nodeRef, a attrs) (float32, error) {
	if input(ref.nd, 2) == "" {
		return a.float("value", 0)
	}
	t, err := im.constF(ref, 2, "constant_value")
	if err != nil {
		return 0, err
	}
	switch len(t.data) {
	case 0:
		return 0, nil
	case 1:
		return t.data[0], nil
	}
	return 0, fmt.Errorf("constant_value has %d values, want one", len(t.data))
}
