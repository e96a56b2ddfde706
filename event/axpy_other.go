//go:build !amd64 || purego

package event

const haveStep = false

func stepAsm(v, acc, drift, theta *float32, bits *uint8, n int, alpha float32, flags int) {
	panic("unreachable")
}

func constStepsAsm(v, drift, theta *float32, bits *uint8, n int, steps int, bitStride int, alpha float32, flags int) {
	panic("unreachable")
}

func convGroupAsm(acc *float32, yStride int, n int, rows int, w *float32, wStride int, offs *int32, amps *float32, m int) {
	panic("unreachable")
}

func gatherAsm(v, d, th *float32, one, fan *int32, n int, cand *int32, cv, cd, cth *float32, fused *winCount, cfan *int32, lut *int32) int {
	panic("unreachable")
}

var sparseKernels = []sparseKernel{kernelGo}

func sparseEventsAsm(acc *float32, touched, top *uint64, evs *ev, nev int, ptr *int32, targets *int32, weights *float32) {
	panic("unreachable")
}

func sparseEventsTailAsm(acc *float32, evs *ev, nev int, ptr *int32, targets *int32, weights *float32) {
	panic("unreachable")
}
