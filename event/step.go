package event

import "unsafe"

// Flags of stepNeurons.
const (
	stepHard = 1 // hard reset
	stepLeak = 2 // alpha != 1
	stepAcc  = 4 // add the accumulated synaptic current (and zero it)
)

// stepNeurons performs one time step of len(v) neurons (SPEC §2):
//
//	I = acc + drift (or drift alone when acc is nil; acc is zeroed)
//	v = α·v + I     (α·v rounded to float32 first; skipped when α = 1)
//	spike = v ≥ θ;  soft reset v −= θ, hard reset v = 0
//
// and sets bit q of bits (little-endian words) for every neuron q that
// spiked (bits must hold len(v) bits and be zero on entry). It is the
// vectorised form of the per-neuron update: the float32 operations are the
// same, so the results are bit for bit those of the scalar code.
func stepNeurons(v, acc, drift, theta []float32, bits []uint64, alpha float32, hard bool) {
	n := len(v)
	if n == 0 {
		return
	}
	drift, theta = drift[:n], theta[:n]
	if acc != nil {
		acc = acc[:n]
	}
	_ = bits[(n-1)>>6]
	flags := 0
	if hard {
		flags |= stepHard
	}
	if alpha != 1 {
		flags |= stepLeak
	}
	if acc != nil {
		flags |= stepAcc
	}
	m := 0
	if haveStep {
		m = n &^ 7
		if m > 0 {
			var accp *float32
			if acc != nil {
				accp = &acc[0]
			}
			stepAsm(&v[0], accp, &drift[0], &theta[0], (*uint8)(unsafe.Pointer(&bits[0])), m, alpha, flags)
		}
	}
	for q := m; q < n; q++ {
		I := drift[q]
		if acc != nil {
			I = acc[q] + drift[q]
			acc[q] = 0
		}
		vq := v[q]
		if alpha != 1 {
			vq = float32(alpha * vq)
		}
		vq += I
		if th := theta[q]; vq >= th {
			if hard {
				vq = 0
			} else {
				vq -= th
			}
			bits[q>>6] |= 1 << (uint(q) & 63)
		}
		v[q] = vq
	}
}

// constSteps performs steps time steps of len(v) neurons driven by their
// constant current alone (stepNeurons with acc nil, repeated): the spikes
// of step s go to bits[s*words:(s+1)*words] (zero on entry), words ≥
// ⌈len(v)/64⌉. With AVX2 it runs neuron-major, 8 neurons kept in a
// register for all steps, so v, drift and theta are read once instead of
// once per step; the operations per neuron and step are those of
// stepNeurons, so the bits are the same.
func constSteps(v, drift, theta []float32, bits []uint64, words, steps int, alpha float32, hard bool) {
	n := len(v)
	if n == 0 || steps <= 0 {
		return
	}
	drift, theta = drift[:n], theta[:n]
	if words < (n+63)/64 || len(bits) < steps*words {
		panic("event: constSteps bits too short")
	}
	if haveStep && n%8 == 0 {
		flags := 0
		if hard {
			flags |= stepHard
		}
		if alpha != 1 {
			flags |= stepLeak
		}
		constStepsAsm(&v[0], &drift[0], &theta[0], (*uint8)(unsafe.Pointer(&bits[0])), n, steps, words*8, alpha, flags)
		return
	}
	for s := 0; s < steps; s++ {
		stepNeurons(v, nil, drift, theta, bits[s*words:(s+1)*words], alpha, hard)
	}
}
