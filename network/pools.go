package network

import "fmt"

// AvgPool2d averages windows of kh×kw (overlapping when the stride is
// smaller than the kernel), floor mode, with optional zero padding. It is
// linear, so it stays as it is in the SNN.
type AvgPool2d struct {
	LayerName string
	KH, KW    int
	StrideH   int
	StrideW   int
	PadH      int
	PadW      int
	// CountIncludePad divides every window by KH·KW, padding included (as
	// PyTorch's nn.AvgPool2d does by default); otherwise a window is
	// divided by the number of its positions inside the input (ONNX's
	// default). Without padding the two are the same.
	CountIncludePad bool
}

// Kind implements Layer.
func (p *AvgPool2d) Kind() Kind { return KindAvgPool2d }

// Name implements Layer.
func (p *AvgPool2d) Name() string { return p.LayerName }

// OutShape implements Layer.
func (p *AvgPool2d) OutShape(in Shape) (Shape, error) {
	return poolOutShape("avgpool2d", p.LayerName, in, p.window())
}

// NumParams implements Layer.
func (p *AvgPool2d) NumParams() int { return 0 }

// MACs implements Layer: one accumulate per window element.
func (p *AvgPool2d) MACs(in Shape) int {
	out, err := p.OutShape(in)
	if err != nil {
		return 0
	}
	return out.Size() * p.KH * p.KW
}

func (p *AvgPool2d) window() Window {
	return Window{KH: p.KH, KW: p.KW, StrideH: p.StrideH, StrideW: p.StrideW, PadH: p.PadH, PadW: p.PadW}
}

// Window returns the pooling geometry.
func (p *AvgPool2d) Window() Window { return p.window() }

// Divisor is what the sum of output window (oy, ox) is divided by, for an
// input of h×w.
func (p *AvgPool2d) Divisor(h, w, oy, ox int) int {
	if p.CountIncludePad || (p.PadH == 0 && p.PadW == 0) {
		return p.KH * p.KW
	}
	y0, y1 := p.window().Rows(oy, h)
	x0, x1 := p.window().Cols(ox, w)
	return (y1 - y0) * (x1 - x0)
}

// MaxPool2d takes the maximum of each kh×kw window (floor mode; padding
// never wins). In the ANN it is the plain max. In the SNN it must read the
// input or a spiking layer, and after a spiking layer it is the
// count-gated max of SPEC §2a: each window emits a spike of amplitude θ
// whenever the largest spike count among its inputs rises, so its rate is
// the largest input rate.
type MaxPool2d struct {
	LayerName string
	KH, KW    int
	StrideH   int
	StrideW   int
	PadH      int
	PadW      int
}

// Kind implements Layer.
func (p *MaxPool2d) Kind() Kind { return KindMaxPool2d }

// Name implements Layer.
func (p *MaxPool2d) Name() string { return p.LayerName }

// OutShape implements Layer.
func (p *MaxPool2d) OutShape(in Shape) (Shape, error) {
	return poolOutShape("maxpool2d", p.LayerName, in, p.Window())
}

// NumParams implements Layer.
func (p *MaxPool2d) NumParams() int { return 0 }

// MACs implements Layer: one comparison per window element.
func (p *MaxPool2d) MACs(in Shape) int {
	out, err := p.OutShape(in)
	if err != nil {
		return 0
	}
	return out.Size() * p.KH * p.KW
}

// Window returns the pooling geometry.
func (p *MaxPool2d) Window() Window {
	return Window{KH: p.KH, KW: p.KW, StrideH: p.StrideH, StrideW: p.StrideW, PadH: p.PadH, PadW: p.PadW}
}

// GlobalAvgPool averages each channel over its whole H×W plane: [C,H,W] →
// [C,1,1] (ONNX GlobalAveragePool, PyTorch adaptive_avg_pool2d(x, 1)). It
// is linear.
type GlobalAvgPool struct{ LayerName string }

// Kind implements Layer.
func (g *GlobalAvgPool) Kind() Kind { return KindGlobalAvgPool }

// Name implements Layer.
func (g *GlobalAvgPool) Name() string { return g.LayerName }

// OutShape implements Layer.
func (g *GlobalAvgPool) OutShape(in Shape) (Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("globalavgpool %q: input shape %v is not [C,H,W]", g.LayerName, in)
	}
	return Shape{in[0], 1, 1}, nil
}

// NumParams implements Layer.
func (g *GlobalAvgPool) NumParams() int { return 0 }

// MACs implements Layer: one accumulate per input element.
func (g *GlobalAvgPool) MACs(in Shape) int { return in.Size() }

// Window is the geometry of a 2-D pooling window: kernel, stride and
// padding (floor mode).
type Window struct {
	KH, KW, StrideH, StrideW, PadH, PadW int
}

// valid reports whether the geometry makes sense, as PyTorch requires:
// positive kernel and stride, padding at most half the kernel.
func (w Window) valid() bool {
	return w.KH > 0 && w.KW > 0 && w.StrideH > 0 && w.StrideW > 0 &&
		w.PadH >= 0 && w.PadW >= 0 && 2*w.PadH <= w.KH && 2*w.PadW <= w.KW && w.KH <= MaxElements/w.KW
}

// OutSize is the output size along one dimension.
func OutSize(in, k, stride, pad int) int { return (in+2*pad-k)/stride + 1 }

// Rows is the range [y0, y1) of input rows of output row oy, clipped to
// the input's h rows.
func (w Window) Rows(oy, h int) (int, int) {
	y0 := oy*w.StrideH - w.PadH
	return max(y0, 0), min(y0+w.KH, h)
}

// Cols is the range [x0, x1) of input columns of output column ox,
// clipped to the input's width.
func (w Window) Cols(ox, width int) (int, int) {
	x0 := ox*w.StrideW - w.PadW
	return max(x0, 0), min(x0+w.KW, width)
}

func poolOutShape(kind, name string, in Shape, w Window) (Shape, error) {
	if len(in) != 3 {
		return nil, fmt.Errorf("%s %q: input shape %v is not [C,H,W]", kind, name, in)
	}
	if !w.valid() {
		return nil, fmt.Errorf("%s %q: kernel %dx%d, stride %dx%d, padding %dx%d is not valid (padding must be at most half the kernel)",
			kind, name, w.KH, w.KW, w.StrideH, w.StrideW, w.PadH, w.PadW)
	}
	if in[1]+2*w.PadH < w.KH || in[2]+2*w.PadW < w.KW {
		return nil, fmt.Errorf("%s %q: kernel %dx%d larger than padded input %v", kind, name, w.KH, w.KW, in)
	}
	out := Shape{in[0], OutSize(in[1], w.KH, w.StrideH, w.PadH), OutSize(in[2], w.KW, w.StrideW, w.PadW)}
	return out, out.Valid()
}
