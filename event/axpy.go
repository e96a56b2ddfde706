package event

import "github.com/evsnn/evsnn/internal/rowadd"

// axpy adds a·x to y[:len(x)], each product rounded before the add
// (rowadd.Axpy): the row-add every spike event performs.
func axpy(a float32, x, y []float32) {
	rowadd.Axpy(a, x, y[:len(x)])
}

// axpyRows performs rows row-adds of n elements:
//
//	y[y0+r·yStride : +n] += a · x[r·xStride : +n],  r = 0..rows-1
//
// (yStride may be negative), as rowadd.Rows does; it panics out of range.
func axpyRows(a float32, x []float32, xStride int, y []float32, y0, yStride, n, rows int) {
	rowadd.Rows(a, x, 0, xStride, y, y0, yStride, n, rows)
}

// convGroup performs m row-adds that share their target rows:
//
//	for r < rows, i < m: y[y0+r·yStride : +n] += amps[i] · w[offs[i]+r·wStride : +n]
//
// in order of i for every element, so the result is that of m axpyRows
// calls, but each target chunk is loaded and stored once.
func convGroup(y []float32, y0, yStride, n, rows int, w []float32, wStride int, offs []int32, amps []float32) {
	m := len(offs)
	if m == 0 || rows <= 0 || n <= 0 {
		return
	}
	amps = amps[:m]
	yl := y0 + (rows-1)*yStride
	if y0 < 0 || yl < 0 || y0+n > len(y) || yl+n > len(y) || wStride < 0 {
		panic("event: convGroup target out of range")
	}
	for _, o := range offs {
		if o < 0 || int(o)+(rows-1)*wStride+n > len(w) {
			panic("event: convGroup weights out of range")
		}
	}
	if haveStep { // AVX2
		convGroupAsm(&y[y0], yStride, n, rows, &w[0], wStride, &offs[0], &amps[0], m)
		return
	}
	for r := 0; r < rows; r++ {
		yr := y[y0+r*yStride : y0+r*yStride+n]
		for i, o := range offs {
			a := amps[i]
			wr := w[int(o)+r*wStride : int(o)+r*wStride+n]
			for j := range yr {
				yr[j] += float32(a * wr[j])
			}
		}
	}
}
