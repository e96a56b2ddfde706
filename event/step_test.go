package event

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

func TestStepNeuronsMatchesScalar(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 300; trial++ {
		n := 1 + r.IntN(150)
		alpha := float32(1)
		if r.IntN(2) == 0 {
			alpha = r.Float32()
		}
		hard := r.IntN(2) == 0
		withAcc := r.IntN(2) == 0
		v := make([]float32, n)
		acc := make([]float32, n)
		drift := make([]float32, n)
		theta := make([]float32, n)
		for q := range v {
			v[q] = r.Float32()*4 - 2
			acc[q] = r.Float32()*2 - 1
			drift[q] = r.Float32() - 0.5
			theta[q] = r.Float32()*2 + 0.01
		}
		wv, wacc := append([]float32(nil), v...), append([]float32(nil), acc...)
		var want []int
		for q := range wv {
			I := drift[q]
			if withAcc {
				I = wacc[q] + drift[q]
				wacc[q] = 0
			}
			vq := float32(alpha*wv[q]) + I
			if vq >= theta[q] {
				want = append(want, q)
				if hard {
					vq = 0
				} else {
					vq -= theta[q]
				}
			}
			wv[q] = vq
		}
		bits := make([]uint64, (n+63)/64)
		a := acc
		if !withAcc {
			a = nil
		}
		stepNeurons(v, a, drift, theta, bits, alpha, hard)
		var got []int
		for q := 0; q < n; q++ {
			if bits[q>>6]&(1<<(uint(q)&63)) != 0 {
				got = append(got, q)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("trial %d: spikes %v, want %v", trial, got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("trial %d: spikes %v, want %v", trial, got, want)
			}
		}
		for q := range v {
			if math.Float32bits(v[q]) != math.Float32bits(wv[q]) || (withAcc && acc[q] != 0) {
				t.Fatalf("trial %d neuron %d: v %v want %v, acc %v", trial, q, v[q], wv[q], acc[q])
			}
		}
	}
}

// TestConstStepsMatchesStepNeurons checks the neuron-major multi-step
// kernel against stepNeurons called once per step: the same bits every
// step and the same final potentials.
func TestConstStepsMatchesStepNeurons(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for trial := 0; trial < 200; trial++ {
		n := 8 * (1 + r.IntN(40))
		if trial%5 == 0 {
			n = 1 + r.IntN(100) // not a multiple of 8: the Go path
		}
		steps := 1 + r.IntN(70)
		alpha := float32(1)
		if r.IntN(2) == 0 {
			alpha = r.Float32()
		}
		hard := r.IntN(2) == 0
		v := make([]float32, n)
		drift := make([]float32, n)
		theta := make([]float32, n)
		for q := range v {
			v[q] = r.Float32()*4 - 2
			drift[q] = r.Float32() - 0.3
			theta[q] = r.Float32()*2 + 0.01
		}
		words := (n+63)/64 + r.IntN(2)
		wv := append([]float32(nil), v...)
		want := make([]uint64, steps*words)
		for s := 0; s < steps; s++ {
			stepNeurons(wv, nil, drift, theta, want[s*words:(s+1)*words], alpha, hard)
		}
		got := make([]uint64, steps*words)
		constSteps(v, drift, theta, got, words, steps, alpha, hard)
		spikes := 0
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("trial %d (n=%d steps=%d): bits word %d = %x, want %x", trial, n, steps, i, got[i], want[i])
			}
			spikes += bits.OnesCount64(got[i])
		}
		for q := range v {
			if math.Float32bits(v[q]) != math.Float32bits(wv[q]) {
				t.Fatalf("trial %d neuron %d: v %v, want %v", trial, q, v[q], wv[q])
			}
		}
		if trial == 0 && spikes == 0 {
			t.Fatalf("no spikes: the test exercises nothing")
		}
	}
}
