package network

import "math"

// Forward computes dst = avgpool(src) for a batch: each window's sum, in
// row-major order, times float32(1/divisor) (see Divisor).
func (p *AvgPool2d) Forward(dst, src []float32, in Shape, batch int) {
	out, err := p.OutShape(in)
	if err != nil {
		panic(err)
	}
	c, h, w := in[0], in[1], in[2]
	oh, ow := out[1], out[2]
	win := p.window()
	for bc := 0; bc < batch*c; bc++ {
		x := src[bc*h*w : (bc+1)*h*w]
		y := dst[bc*oh*ow : (bc+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			y0, y1 := win.Rows(oy, h)
			for ox := 0; ox < ow; ox++ {
				x0, x1 := win.Cols(ox, w)
				var s float32
				for iy := y0; iy < y1; iy++ {
					r := x[iy*w : (iy+1)*w]
					for ix := x0; ix < x1; ix++ {
						s += r[ix]
					}
				}
				y[oy*ow+ox] = s * (1 / float32(p.Divisor(h, w, oy, ox)))
			}
		}
	}
}

// Forward computes dst = maxpool(src) for a batch: the largest value of
// each window's positions inside the input (padding never wins).
func (p *MaxPool2d) Forward(dst, src []float32, in Shape, batch int) {
	out, err := p.OutShape(in)
	if err != nil {
		panic(err)
	}
	c, h, w := in[0], in[1], in[2]
	oh, ow := out[1], out[2]
	win := p.Window()
	for bc := 0; bc < batch*c; bc++ {
		x := src[bc*h*w : (bc+1)*h*w]
		y := dst[bc*oh*ow : (bc+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			y0, y1 := win.Rows(oy, h)
			for ox := 0; ox < ow; ox++ {
				x0, x1 := win.Cols(ox, w)
				m := float32(math.Inf(-1))
				for iy := y0; iy < y1; iy++ {
					for _, v := range x[iy*w+x0 : iy*w+x1] {
						m = max(m, v)
					}
				}
				y[oy*ow+ox] = m
			}
		}
	}
}

// Forward computes dst = mean over each channel's plane, for a batch: the
// plane's sum in row-major order times float32(1/(H·W)), as AvgPool2d.
func (g *GlobalAvgPool) Forward(dst, src []float32, in Shape, batch int) {
	c, plane := in[0], in.Size()/in[0]
	scale := 1 / float32(plane)
	for bc := 0; bc < batch*c; bc++ {
		var s float32
		for _, v := range src[bc*plane : (bc+1)*plane] {
			s += v
		}
		dst[bc] = s * scale
	}
}

// Forward computes dst = Σ srcs + bias for a batch of samples of shape sh:
// the inputs in order, then the bias.
func (a *Add) Forward(dst []float32, srcs [][]float32, sh Shape, batch int) {
	copy(dst, srcs[0])
	for _, s := range srcs[1:] {
		for i, v := range s[:len(dst)] {
			dst[i] += v
		}
	}
	if a.Bias == nil {
		return
	}
	size, plane := sh.Size(), sh.Size()/sh[0]
	for b := 0; b < batch; b++ {
		y := dst[b*size : (b+1)*size]
		for c, bv := range a.Bias {
			for i := range y[c*plane : (c+1)*plane] {
				y[c*plane+i] += bv
			}
		}
	}
}
