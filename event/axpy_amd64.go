//go:build amd64 && !purego

package event

import "golang.org/x/sys/cpu"

// haveStep: the engine's own kernels (stepAVX2, constStepsAVX2,
// convGroupAVX2) need AVX2.
var haveStep = cpu.X86.HasAVX2

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

//go:noescape
func gatherAVX2(v, d, th *float32, one, fan *int32, n int, cand *int32, cv, cd, cth *float32, fused *winCount, cfan *int32, lut *int32) int

func gatherAsm(v, d, th *float32, one, fan *int32, n int, cand *int32, cv, cd, cth *float32, fused *winCount, cfan *int32, lut *int32) int {
	return gatherAVX2(v, d, th, one, fan, n, cand, cv, cd, cth, fused, cfan, lut)
}

//go:noescape
func sparseEventsAVX(acc *float32, touched, top *uint64, evs *ev, nev int, ptr *int32, targets *int32, weights *float32)

//go:noescape
func sparseEventsTailAVX(acc *float32, evs *ev, nev int, ptr *int32, targets *int32, weights *float32)

// sparseKernels are the SparseLinear delivery kernels this CPU runs, the
// fastest last.
var sparseKernels = func() []sparseKernel {
	ks := []sparseKernel{kernelGo}
	if cpu.X86.HasAVX2 && cpu.X86.HasBMI2 {
		ks = append(ks, kernelScalarAsm, kernelTailAsm)
	}
	return ks
}()

func sparseEventsTailAsm(acc *float32, evs *ev, nev int, ptr *int32, targets *int32, weights *float32) {
	sparseEventsTailAVX(acc, evs, nev, ptr, targets, weights)
}

func sparseEventsAsm(acc *float32, touched, top *uint64, evs *ev, nev int, ptr *int32, targets *int32, weights *float32) {
	sparseEventsAVX(acc, touched, top, evs, nev, ptr, targets, weights)
}
