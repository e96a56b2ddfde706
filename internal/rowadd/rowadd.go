package rowadd

// Axpy computes y[i] += a·x[i] for i < len(y); x must be at least as long
// as y.
func Axpy(a float32, x, y []float32) {
	x = x[:len(y)]
	if len(y) == 0 {
		return
	}
	if hasAVX {
		axpyRowsAVX(a, &x[0], 0, &y[0], 0, len(y), 1)
		return
	}
	axpyGo(a, x, y)
}

// Rows computes, for r < rows and i < n,
//
//	y[yOff + r·yStride + i] += a·x[xOff + r·xStride + i]
//
// (strides may be negative), each row as Axpy does. It panics if a row
// falls outside x or y.
func Rows(a float32, x []float32, xOff, xStride int, y []float32, yOff, yStride, n, rows int) {
	if rows <= 0 || n <= 0 {
		return
	}
	xl, yl := xOff+min(0, (rows-1)*xStride), yOff+min(0, (rows-1)*yStride)
	xh, yh := xOff+max(0, (rows-1)*xStride)+n, yOff+max(0, (rows-1)*yStride)+n
	if xl < 0 || yl < 0 || xh > len(x) || yh > len(y) {
		panic("rowadd: Rows out of range")
	}
	if hasAVX {
		axpyRowsAVX(a, &x[xOff], xStride, &y[yOff], yStride, n, rows)
		return
	}
	for r := 0; r < rows; r++ {
		xo, yo := xOff+r*xStride, yOff+r*yStride
		axpyGo(a, x[xo:xo+n], y[yo:yo+n])
	}
}

// Kernel says which kernel runs, for logs and benchmarks: "avx" or "go".
func Kernel() string {
	if hasAVX {
		return "avx"
	}
	return "go"
}

// axpyGo is the portable kernel: y[i] += float32(a·x[i]); the explicit
// conversion keeps the compiler from fusing the multiply and the add.
// Unrolled by 8 with bounds checks hoisted (about 2× the plain loop).
func axpyGo(a float32, x, y []float32) {
	x = x[:len(y)]
	i := 0
	for ; i+8 <= len(y); i += 8 {
		xs := x[i : i+8 : i+8]
		ys := y[i : i+8 : i+8]
		ys[0] += float32(a * xs[0])
		ys[1] += float32(a * xs[1])
		ys[2] += float32(a * xs[2])
		ys[3] += float32(a * xs[3])
		ys[4] += float32(a * xs[4])
		ys[5] += float32(a * xs[5])
		ys[6] += float32(a * xs[6])
		ys[7] += float32(a * xs[7])
	}
	for ; i < len(y); i++ {
		y[i] += float32(a * x[i])
	}
}
