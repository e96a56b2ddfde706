package event

import (
	"math"
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
