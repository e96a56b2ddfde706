//go:build !amd64 || purego

package dense

// kernelName says which axpy kernel runs (for logs and benchmarks).
func kernelName() string { return "gonum" }

// axpy computes y[i] += a·x[i] for i < len(y) with gonum's Saxpy.
func axpy(a float32, x, y []float32) {
	impl.Saxpy(len(y), a, x[:len(y)], 1, y, 1)
}

// axpyRows computes, for r < rows and i < n,
// y[yOff + r·yStride + i] += a·x[xOff + r·xStride + i].
func axpyRows(a float32, x []float32, xOff, xStride int, y []float32, yOff, yStride, n, rows int) {
	for r := 0; r < rows; r++ {
		xo, yo := xOff+r*xStride, yOff+r*yStride
		impl.Saxpy(n, a, x[xo:xo+n], 1, y[yo:yo+n], 1)
	}
}
