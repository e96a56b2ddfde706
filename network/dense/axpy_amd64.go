//go:build amd64 && !purego

package dense

//go:noescape
func axpyAVX(a float32, x, y []float32)

//go:noescape
func axpyRowsAVX(a float32, x *float32, xStride int, y *float32, yStride int, n int, rows int)

func cpuHasAVX() bool

var hasAVX = cpuHasAVX()

// kernelName says which axpy kernel runs (for logs and benchmarks).
func kernelName() string {
	if hasAVX {
		return "avx"
	}
	return "gonum-sse"
}

// axpy computes y[i] += a·x[i] for i < len(y), rounding each product
// before the add: with AVX 8 lanes at a time, else gonum's Saxpy (SSE).
// Both give the same bits.
func axpy(a float32, x, y []float32) {
	x = x[:len(y)]
	if hasAVX {
		axpyAVX(a, x, y)
		return
	}
	impl.Saxpy(len(y), a, x, 1, y, 1)
}

// axpyRows computes, for r < rows and i < n,
// y[yOff + r·yStride + i] += a·x[xOff + r·xStride + i] (strides may be
// negative), each row as axpy does. It panics if a row is out of range.
func axpyRows(a float32, x []float32, xOff, xStride int, y []float32, yOff, yStride, n, rows int) {
	if rows <= 0 || n <= 0 {
		return
	}
	xl, yl := xOff+min(0, (rows-1)*xStride), yOff+min(0, (rows-1)*yStride)
	xh, yh := xOff+max(0, (rows-1)*xStride)+n, yOff+max(0, (rows-1)*yStride)+n
	if xl < 0 || yl < 0 || xh > len(x) || yh > len(y) {
		panic("dense: axpyRows out of range")
	}
	if hasAVX {
		axpyRowsAVX(a, &x[xOff], xStride, &y[yOff], yStride, n, rows)
		return
	}
	for r := 0; r < rows; r++ {
		xo, yo := xOff+r*xStride, yOff+r*yStride
		impl.Saxpy(n, a, x[xo:xo+n], 1, y[yo:yo+n], 1)
	}
}
