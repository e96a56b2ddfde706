package event

// axpy adds a·x to y[:len(x)] as a separate multiply and add per element
// (never fused): the row-add every spike event performs.
func axpy(a float32, x, y []float32) {
	axpyRows(a, x, 0, y, 0, 0, len(x), 1)
}

// axpyRows performs rows row-adds of n elements:
//
//	y[y0+r·yStride : +n] += a · x[r·xStride : +n],  r = 0..rows-1
//
// (yStride may be negative). Products are rounded to float32 before the
// add, exactly as float32(a*x) + y in Go.
func axpyRows(a float32, x []float32, xStride int, y []float32, y0, yStride, n, rows int) {
	if rows <= 0 || n <= 0 {
		return
	}
	xl := (rows-1)*xStride + n
	yl := y0 + (rows-1)*yStride
	if xStride < 0 || xl > len(x) || y0 < 0 || yl < 0 || y0+n > len(y) || yl+n > len(y) {
		panic("event: axpyRows out of range")
	}
	if haveAsm {
		axpyRowsAsm(a, &x[0], xStride, &y[y0], yStride, n, rows)
		return
	}
	axpyRowsGo(a, x, xStride, y, y0, yStride, n, rows)
}

func axpyRowsGo(a float32, x []float32, xStride int, y []float32, y0, yStride, n, rows int) {
	for r := 0; r < rows; r++ {
		axpyGo(a, x[r*xStride:r*xStride+n], y[y0+r*yStride:y0+r*yStride+n])
	}
}

func axpyGo(a float32, x, y []float32) {
	y = y[:len(x)]
	i := 0
	for ; i+8 <= len(x); i += 8 {
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
	for ; i < len(x); i++ {
		y[i] += float32(a * x[i])
	}
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

// convGroupRun is convGroup for a run the plan has checked (checkRun):
// the offsets are those of channels of one site, all inside w, and the
// target rows inside y, so only the fallback path indexes slices.
func convGroupRun(y []float32, r *siteRun, yStride int, w []float32, wStride int, offs []int32, amps []float32) {
	if haveStep && len(offs) > 0 {
		convGroupAsm(&y[r.y0], yStride, int(r.n), int(r.rows), &w[0], wStride, &offs[0], &amps[0], len(offs))
		return
	}
	convGroup(y, int(r.y0), yStride, int(r.n), int(r.rows), w, wStride, offs, amps)
}
