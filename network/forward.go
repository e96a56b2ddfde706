package network

import (
	"fmt"

	"github.com/evsnn/evsnn/internal/parallel"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Workspace holds scratch memory the kernels reuse between calls, so a hot
// loop that keeps one Workspace allocates nothing after the first call.
type Workspace struct {
	cols []float32
}

func (w *Workspace) colsBuf(n int) []float32 {
	if cap(w.cols) < n {
		w.cols = make([]float32, n)
	}
	return w.cols[:n]
}

// Forward computes dst = conv(src) + bias for a batch of inputs of shape in
// ([InC,H,W] each). dst must hold batch × OutShape(in).Size() values.
// It lowers the convolution to a matrix product (im2col + blas32 Gemm).
func (c *Conv2d) Forward(dst, src []float32, in Shape, batch int, ws *Workspace) {
	out, err := c.OutShape(in)
	if err != nil {
		panic(err)
	}
	oh, ow := out[1], out[2]
	k := c.InC * c.KH * c.KW
	n := oh * ow
	cols := ws.colsBuf(k * n)
	inSize, outSize := in.Size(), out.Size()
	wm := blas32.General{Rows: c.OutC, Cols: k, Stride: k, Data: c.Weight}
	for b := 0; b < batch; b++ {
		x := src[b*inSize : (b+1)*inSize]
		y := dst[b*outSize : (b+1)*outSize]
		c.Im2col(cols, x, in, oh, ow)
		for o := 0; o < c.OutC; o++ {
			bv := c.Bias[o]
			row := y[o*n : (o+1)*n]
			for i := range row {
				row[i] = bv
			}
		}
		blas32.Gemm(blas.NoTrans, blas.NoTrans, 1, wm,
			blas32.General{Rows: k, Cols: n, Stride: n, Data: cols}, 1,
			blas32.General{Rows: c.OutC, Cols: n, Stride: n, Data: y})
	}
}

// Im2col writes the [InC·KH·KW, OH·OW] patch matrix of one sample x,
// copying the valid run of each row at once.
func (c *Conv2d) Im2col(cols, x []float32, in Shape, oh, ow int) {
	h, w := in[1], in[2]
	n := oh * ow
	row := 0
	for ci := 0; ci < c.InC; ci++ {
		plane := x[ci*h*w : (ci+1)*h*w]
		for ky := 0; ky < c.KH; ky++ {
			for kx := 0; kx < c.KW; kx++ {
				dst := cols[row*n : (row+1)*n]
				row++
				ox0, ox1 := ConvValidRange(ow, c.StrideW, c.PadW, kx, w)
				for oy := 0; oy < oh; oy++ {
					d := dst[oy*ow : (oy+1)*ow]
					iy := oy*c.StrideH - c.PadH + ky
					if iy < 0 || iy >= h || ox0 >= ox1 {
						clear(d)
						continue
					}
					clear(d[:ox0])
					clear(d[ox1:])
					src := plane[iy*w : (iy+1)*w]
					if c.StrideW == 1 {
						off := kx - c.PadW
						copy(d[ox0:ox1], src[ox0+off:ox1+off])
						continue
					}
					for ox := ox0; ox < ox1; ox++ {
						d[ox] = src[ox*c.StrideW-c.PadW+kx]
					}
				}
			}
		}
	}
}

// ConvValidRange is the range [lo, hi) of output positions o (of outSize)
// whose input position o·stride − pad + k lies inside [0, inSize).
func ConvValidRange(outSize, stride, pad, k, inSize int) (lo, hi int) {
	if d := pad - k; d > 0 {
		lo = (d + stride - 1) / stride
	}
	hi = outSize
	// o·stride − pad + k ≤ inSize−1  ⇔  o ≤ (inSize−1+pad−k)/stride
	if m := inSize - 1 + pad - k; m < 0 {
		hi = 0
	} else if lim := m/stride + 1; lim < hi {
		hi = lim
	}
	if hi < lo {
		hi = lo
	}
	return lo, hi
}

// Forward computes dst = W src + b for a batch of In-vectors.
func (l *Linear) Forward(dst, src []float32, batch int) {
	for b := 0; b < batch; b++ {
		copy(dst[b*l.Out:(b+1)*l.Out], l.Bias)
	}
	blas32.Gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: batch, Cols: l.In, Stride: l.In, Data: src},
		blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: l.Weight}, 1,
		blas32.General{Rows: batch, Cols: l.Out, Stride: l.Out, Data: dst})
}

// ReLUInPlace sets negative values to zero.
func ReLUInPlace(x []float32) {
	for i, v := range x {
		if v < 0 {
			x[i] = 0
		}
	}
}

// Activations are the outputs of every layer for one batch.
type Activations struct {
	Batch  int
	Shapes []Shape     // per-sample output shape of each layer
	Output [][]float32 // Output[i] is layer i's output, batch × Shapes[i].Size()
}

// Logits is the last layer's output.
func (a *Activations) Logits() []float32 { return a.Output[len(a.Output)-1] }

// Forward runs the ANN on a batch (x holds batch × Input.Size() values) and
// returns every layer's output, in topological order. Spiking layers act as
// the ReLU they replace; a MaxPool is the plain max.
func (n *Network) Forward(x []float32, batch int) (*Activations, error) {
	shapes, err := n.Shapes()
	if err != nil {
		return nil, err
	}
	if len(x) != batch*n.Input.Size() {
		return nil, fmt.Errorf("forward: %d input values for %d samples of %v", len(x), batch, n.Input)
	}
	act := &Activations{Batch: batch, Shapes: shapes, Output: make([][]float32, len(n.Layers))}
	var ws Workspace
	output := func(j int) []float32 {
		if j == InputNode {
			return x
		}
		return act.Output[j]
	}
	for i, l := range n.Layers {
		out := make([]float32, batch*shapes[i].Size())
		ins := n.InputsOf(i)
		in, inShape := output(ins[0]), n.ShapeOf(shapes, ins[0])
		switch l := l.(type) {
		case *Conv2d:
			l.Forward(out, in, inShape, batch, &ws)
		case *AvgPool2d:
			l.Forward(out, in, inShape, batch)
		case *MaxPool2d:
			l.Forward(out, in, inShape, batch)
		case *GlobalAvgPool:
			l.Forward(out, in, inShape, batch)
		case *Linear:
			l.Forward(out, in, batch)
		case *SparseLinear:
			l.Forward(out, in, batch)
		case *Add:
			srcs := make([][]float32, len(ins))
			for k, j := range ins {
				srcs[k] = output(j)
			}
			l.Forward(out, srcs, inShape, batch)
		case *ReLU, *Spiking:
			copy(out, in)
			ReLUInPlace(out)
		case *Flatten:
			copy(out, in)
		default:
			return nil, fmt.Errorf("forward: layer %d has unknown type %T", i, l)
		}
		act.Output[i] = out
	}
	return act, nil
}

// Argmax returns the index of the largest value, the first on ties (as
// PyTorch and numpy do).
func Argmax(v []float32) int {
	best := 0
	for i := 1; i < len(v); i++ {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// Predict returns the ANN's predicted class for each of count samples,
// running batches of at most batchSize samples on GOMAXPROCS goroutines
// (samples are independent: the result does not depend on how many).
func (n *Network) Predict(x []float32, count, batchSize int) ([]int, error) {
	if batchSize <= 0 {
		batchSize = 256
	}
	size := n.Input.Size()
	if count < 0 || len(x) < count*size {
		return nil, fmt.Errorf("predict: %d input values for %d samples of %v", len(x), count, n.Input)
	}
	preds := make([]int, count)
	batches := (count + batchSize - 1) / batchSize
	err := parallel.For(0, batches, func(_, b int) error {
		start := b * batchSize
		nb := min(batchSize, count-start)
		act, err := n.Forward(x[start*size:(start+nb)*size], nb)
		if err != nil {
			return err
		}
		logits := act.Logits()
		k := len(logits) / nb
		for i := 0; i < nb; i++ {
			preds[start+i] = Argmax(logits[i*k : (i+1)*k])
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return preds, nil
}
