//go:build amd64 && !purego

package event

import "golang.org/x/sys/cpu"

var (
	haveAVX512 = cpu.X86.HasAVX512F
	haveAVX2   = cpu.X86.HasAVX2
	haveAsm    = haveAVX512 || haveAVX2
	haveStep   = haveAVX2
)

// axpyRowsAsm is axpyRows without bounds checks: AVX-512 when the CPU has
// it, else AVX2.
func axpyRowsAsm(a float32, x *float32, xStride int, y *float32, yStride int, n, rows int) {
	if haveAVX512 {
		axpyRowsAVX512(a, x, xStride, y, yStride, n, rows)
	} else {
		axpyRowsAVX2(a, x, xStride, y, yStride, n, rows)
	}
}

//go:noescape
func axpyRowsAVX512(a float32, x *float32, xStride int, y *float32, yStride int, n, rows int)

//go:noescape
func axpyRowsAVX2(a float32, x *float32, xStride int, y *float32, yStride int, n, rows int)

//go:noescape
func stepAVX2(v, acc, drift, theta *float32, bits *uint8, n int, alpha float32, flags int)

func stepAsm(v, acc, drift, theta *float32, bits *uint8, n int, alpha float32, flags int) {
	stepAVX2(v, acc, drift, theta, bits, n, alpha, flags)
}

//go:noescape
func constStepsAVX2(v, drift, theta *float32, bits *uint8, n int, steps int, bitStride int, alpha float32, flags int)

func constStepsAsm(v, drift, theta *float32, bits *uint8, n int, steps int, bitStride int, alpha float32, flags int) {
	constStepsAVX2(v, drift, theta, bits, n, steps, bitStride, alpha, flags)
}

//go:noescape
func convGroupAVX2(acc *float32, yStride int, n int, rows int, w *float32, wStride int, offs *int32, amps *float32, m int)

func convGroupAsm(acc *float32, yStride int, n int, rows int, w *float32, wStride int, offs *int32, amps *float32, m int) {
	convGroupAVX2(acc, yStride, n, rows, w, wStride, offs, amps, m)
}
