package train

import (
	"math"

	"github.com/evsnn/evsnn/network"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// ConvBackward accumulates the gradients of a Conv2d for a batch: given the
// layer input x (batch × in.Size()) and the gradient dy of the loss with
// respect to its output, it adds ∂L/∂W to dw ([OutC,InC,KH,KW]) and ∂L/∂b
// to db, and, if dx is not nil, overwrites dx with ∂L/∂x. The weight
// gradient is dy·colsᵀ and the input gradient col2im(Wᵀ·dy), both blas32
// Gemm products per sample, summed over the batch in sample order.
// cols and dcols are scratch of at least InC·KH·KW·OH·OW values each (dcols
// only when dx is wanted).
func ConvBackward(c *network.Conv2d, x, dy []float32, in network.Shape, batch int, dw, db, dx, cols, dcols []float32) {
	out, err := c.OutShape(in)
	if err != nil {
		panic(err)
	}
	oh, ow := out[1], out[2]
	k := c.InC * c.KH * c.KW
	n := oh * ow
	inSize, outSize := in.Size(), out.Size()
	cols = cols[:k*n]
	dwm := blas32.General{Rows: c.OutC, Cols: k, Stride: k, Data: dw}
	wm := blas32.General{Rows: c.OutC, Cols: k, Stride: k, Data: c.Weight}
	colm := blas32.General{Rows: k, Cols: n, Stride: n, Data: cols}
	for b := 0; b < batch; b++ {
		g := dy[b*outSize : (b+1)*outSize]
		gm := blas32.General{Rows: c.OutC, Cols: n, Stride: n, Data: g}
		for o := 0; o < c.OutC; o++ {
			var s float32
			for _, v := range g[o*n : (o+1)*n] {
				s += v
			}
			db[o] += s
		}
		c.Im2col(cols, x[b*inSize:(b+1)*inSize], in, oh, ow)
		gemm(blas.NoTrans, blas.Trans, 1, gm, colm, 1, dwm)
		if dx != nil {
			dcm := blas32.General{Rows: k, Cols: n, Stride: n, Data: dcols[:k*n]}
			gemm(blas.Trans, blas.NoTrans, 1, wm, gm, 0, dcm)
			Col2im(c, dx[b*inSize:(b+1)*inSize], dcols[:k*n], in, oh, ow)
		}
	}
}

// convForward computes dst = conv(src) + bias for a batch, as
// network.Conv2d.Forward does (the same sums in the same order), with the
// faster im2col and serial panel products of this package.
func convForward(c *network.Conv2d, dst, src []float32, in network.Shape, batch int, cols []float32) {
	out, err := c.OutShape(in)
	if err != nil {
		panic(err)
	}
	oh, ow := out[1], out[2]
	k := c.InC * c.KH * c.KW
	n := oh * ow
	cols = cols[:k*n]
	inSize, outSize := in.Size(), out.Size()
	wm := blas32.General{Rows: c.OutC, Cols: k, Stride: k, Data: c.Weight}
	colm := blas32.General{Rows: k, Cols: n, Stride: n, Data: cols}
	for b := 0; b < batch; b++ {
		y := dst[b*outSize : (b+1)*outSize]
		c.Im2col(cols, src[b*inSize:(b+1)*inSize], in, oh, ow)
		for o := 0; o < c.OutC; o++ {
			bv := c.Bias[o]
			row := y[o*n : (o+1)*n]
			for i := range row {
				row[i] = bv
			}
		}
		gemm(blas.NoTrans, blas.NoTrans, 1, wm, colm, 1, blas32.General{Rows: c.OutC, Cols: n, Stride: n, Data: y})
	}
}

// linearForward is network.Linear.Forward with serial panel products.
func linearForward(l *network.Linear, dst, src []float32, batch int) {
	for b := 0; b < batch; b++ {
		copy(dst[b*l.Out:(b+1)*l.Out], l.Bias)
	}
	gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: batch, Cols: l.In, Stride: l.In, Data: src},
		blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: l.Weight}, 1,
		blas32.General{Rows: batch, Cols: l.Out, Stride: l.Out, Data: dst})
}

// Col2im is the adjoint of Conv2d.Im2col: it overwrites dx (one sample,
// shape in) with the sum of the [InC·KH·KW, OH·OW] column gradients over
// every patch position each input value was copied to.
func Col2im(c *network.Conv2d, dx, dcols []float32, in network.Shape, oh, ow int) {
	h, w := in[1], in[2]
	n := oh * ow
	clear(dx[:in.Size()])
	row := 0
	for ci := 0; ci < c.InC; ci++ {
		plane := dx[ci*h*w : (ci+1)*h*w]
		for ky := 0; ky < c.KH; ky++ {
			for kx := 0; kx < c.KW; kx++ {
				src := dcols[row*n : (row+1)*n]
				row++
				// ox range for which ix = ox*S - P + kx is inside [0, w).
				ox0, ox1 := network.ConvValidRange(ow, c.StrideW, c.PadW, kx, w)
				for oy := 0; oy < oh; oy++ {
					iy := oy*c.StrideH - c.PadH + ky
					if iy < 0 || iy >= h {
						continue
					}
					dst := plane[iy*w : (iy+1)*w]
					s := src[oy*ow : (oy+1)*ow]
					if c.StrideW == 1 {
						off := kx - c.PadW
						d := dst[ox0+off : ox1+off]
						for i, v := range s[ox0:ox1] {
							d[i] += v
						}
						continue
					}
					for ox := ox0; ox < ox1; ox++ {
						dst[ox*c.StrideW-c.PadW+kx] += s[ox]
					}
				}
			}
		}
	}
}

// AvgPoolBackward overwrites dx (batch × in.Size()) with the gradient of an
// AvgPool2d: each output gradient, divided by the window size, goes to every
// input of its window; inputs in no window get zero.
func AvgPoolBackward(p *network.AvgPool2d, dx, dy []float32, in network.Shape, batch int) {
	out, err := p.OutShape(in)
	if err != nil {
		panic(err)
	}
	c, h, w := in[0], in[1], in[2]
	oh, ow := out[1], out[2]
	scale := 1 / float32(p.KH*p.KW)
	clear(dx[:batch*in.Size()])
	for bc := 0; bc < batch*c; bc++ {
		x := dx[bc*h*w : (bc+1)*h*w]
		y := dy[bc*oh*ow : (bc+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				g := float32(y[oy*ow+ox] * scale)
				for ky := 0; ky < p.KH; ky++ {
					r := x[(oy*p.StrideH+ky)*w+ox*p.StrideW:]
					for kx := 0; kx < p.KW; kx++ {
						r[kx] += g
					}
				}
			}
		}
	}
}

// LinearBackward adds ∂L/∂W = dyᵀ·x to dw and the column sums of dy to db,
// and, if dx is not nil, overwrites dx (batch × In) with dy·W.
func LinearBackward(l *network.Linear, x, dy []float32, batch int, dw, db, dx []float32) {
	dym := blas32.General{Rows: batch, Cols: l.Out, Stride: l.Out, Data: dy}
	gemm(blas.Trans, blas.NoTrans, 1, dym,
		blas32.General{Rows: batch, Cols: l.In, Stride: l.In, Data: x}, 1,
		blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: dw})
	for b := 0; b < batch; b++ {
		for o, v := range dy[b*l.Out : (b+1)*l.Out] {
			db[o] += v
		}
	}
	if dx != nil {
		gemm(blas.NoTrans, blas.NoTrans, 1, dym,
			blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: l.Weight}, 0,
			blas32.General{Rows: batch, Cols: l.In, Stride: l.In, Data: dx})
	}
}

// ReLUBackward zeroes, in place, the gradient dy wherever the ReLU output y
// is not positive (the subgradient at 0 is 0, as in PyTorch).
func ReLUBackward(dy, y []float32) {
	y = y[:len(dy)]
	for i, v := range y {
		if v <= 0 {
			dy[i] = 0
		}
	}
}

// SoftmaxCrossEntropy computes, for batch rows of k logits, the summed
// cross-entropy loss -log softmax(z)[label] (in float64), the number of
// rows whose argmax equals the label, and writes the gradient
// (softmax(z) - onehot(label)) · scale into dz.
func SoftmaxCrossEntropy(dz, logits []float32, labels []int, k int, scale float32) (loss float64, correct int) {
	for b, label := range labels {
		z := logits[b*k : (b+1)*k]
		g := dz[b*k : (b+1)*k]
		m := z[0]
		best := 0
		for i, v := range z {
			if v > m {
				m, best = v, i
			}
		}
		if best == label {
			correct++
		}
		m64 := float64(m)
		var sum float64
		for _, v := range z {
			sum += math.Exp(float64(v) - m64)
		}
		loss += math.Log(sum) - (float64(z[label]) - m64)
		inv := 1 / sum
		for i, v := range z {
			p := math.Exp(float64(v)-m64) * inv
			if i == label {
				p -= 1
			}
			g[i] = float32(p) * scale
		}
	}
	return loss, correct
}

// reluBackward writes dx = dy where the ReLU output y is positive, else 0
// (the subgradient at 0 is 0, as in PyTorch).
func reluBackward(dx, dy, y []float32) {
	y = y[:len(dy)]
	dx = dx[:len(dy)]
	for i, v := range y {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

// MaxPoolBackward overwrites dx (batch × in.Size()) with the gradient of a
// MaxPool2d whose input was x: each output gradient goes to the position
// of its window's maximum, the first in row-major order on ties, and the
// last NaN if there is one, as PyTorch's CPU kernel picks it (padding never
// wins); with overlapping windows the gradients add up.
func MaxPoolBackward(p *network.MaxPool2d, dx, dy, x []float32, in network.Shape, batch int) {
	out, err := p.OutShape(in)
	if err != nil {
		panic(err)
	}
	c, h, w := in[0], in[1], in[2]
	oh, ow := out[1], out[2]
	win := p.Window()
	clear(dx[:batch*in.Size()])
	for bc := 0; bc < batch*c; bc++ {
		xs := x[bc*h*w : (bc+1)*h*w]
		d := dx[bc*h*w : (bc+1)*h*w]
		y := dy[bc*oh*ow : (bc+1)*oh*ow]
		for oy := 0; oy < oh; oy++ {
			y0, y1 := win.Rows(oy, h)
			for ox := 0; ox < ow; ox++ {
				x0, x1 := win.Cols(ox, w)
				best := y0*w + x0
				m := float32(math.Inf(-1))
				for iy := y0; iy < y1; iy++ {
					for ix := x0; ix < x1; ix++ {
						if v := xs[iy*w+ix]; v > m || v != v {
							m, best = v, iy*w+ix
						}
					}
				}
				d[best] += y[oy*ow+ox]
			}
		}
	}
}

// GlobalAvgPoolBackward overwrites dx (batch × in.Size()) with the
// gradient of a GlobalAvgPool: each channel's output gradient times
// float32(1/(H·W)) at every position of its plane.
func GlobalAvgPoolBackward(dx, dy []float32, in network.Shape, batch int) {
	c, plane := in[0], in.Size()/in[0]
	scale := 1 / float32(plane)
	for bc := 0; bc < batch*c; bc++ {
		g := float32(dy[bc] * scale)
		d := dx[bc*plane : (bc+1)*plane]
		for i := range d {
			d[i] = g
		}
	}
}
