package event

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestGatherCandidates compares the packing kernel with the plain loop
// on random layers of every length, with and without windows.
func TestGatherCandidates(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for trial := range 400 {
		nq := r.IntN(100)
		v, d, th := make([]float32, nq), make([]float32, nq), make([]float32, nq)
		one, fan := make([]int32, nq), make([]int32, nq)
		for q := range nq {
			v[q], d[q], th[q] = r.Float32()*2-0.5, r.Float32()-0.6, 1
			if r.IntN(9) == 0 {
				d[q] = 0
			}
			if r.IntN(9) == 0 {
				v[q] = th[q]
			}
			one[q], fan[q] = int32(r.IntN(50))-1, int32(r.IntN(1000))
		}
		var wq []int32
		var wv, wd, wt []float32
		var ww, wf []int32
		for q := range nq {
			if v[q] >= th[q] || d[q] > 0 {
				wq, wv, wd, wt = append(wq, int32(q)), append(wv, v[q]), append(wd, d[q]), append(wt, th[q])
				ww, wf = append(ww, one[q]), append(wf, fan[q])
			}
		}
		for _, withOne := range []bool{false, true} {
			cand, cv, cd, cth := make([]int32, nq+8), make([]float32, nq+8), make([]float32, nq+8), make([]float32, nq+8)
			fused, cfan := make([]winCount, nq+8), make([]int32, nq+8)
			for i := range fused {
				fused[i].count = 7 // the gathering zeroes the counts
			}
			o, f := one, fan
			if !withOne {
				o, f, fused, cfan = nil, nil, nil, nil
			}
			n := gatherCandidates(v, d, th, o, f, cand, cv, cd, cth, fused, cfan)
			if n != len(wq) || !slices.Equal(cand[:n], wq) || !slices.Equal(cv[:n], wv) || !slices.Equal(cd[:n], wd) || !slices.Equal(cth[:n], wt) {
				t.Fatalf("trial %d (%d neurons): packed %d candidates %v, want %d %v", trial, nq, n, cand[:n], len(wq), wq)
			}
			if withOne {
				for i := range n {
					if fused[i] != (winCount{win: ww[i]}) || cfan[i] != wf[i] {
						t.Fatalf("trial %d: candidate %d: %+v fan %d, want window %d count 0 fan %d", trial, i, fused[i], cfan[i], ww[i], wf[i])
					}
				}
			}
		}
	}
}
