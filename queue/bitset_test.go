package queue

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBitset(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.IntN(300)
		b := NewBitset(n)
		want := map[int]bool{}
		for op := 0; op < 10; op++ {
			if r.IntN(2) == 0 {
				i := r.IntN(n)
				b.Add(i)
				want[i] = true
			} else {
				lo := r.IntN(n)
				hi := lo + r.IntN(n-lo+1)
				b.AddRange(lo, hi)
				for i := lo; i < hi; i++ {
					want[i] = true
				}
			}
		}
		var ws []uint32
		for i := 0; i < n; i++ {
			if want[i] {
				ws = append(ws, uint32(i))
			}
			if b.Contains(i) != want[i] {
				t.Fatalf("trial %d: Contains(%d) = %v", trial, i, !want[i])
			}
		}
		if b.Count() != len(ws) {
			t.Fatalf("trial %d: Count %d, want %d", trial, b.Count(), len(ws))
		}
		if got := b.AppendTo(nil); !slices.Equal(got, ws) {
			t.Fatalf("trial %d: AppendTo %v, want %v", trial, got, ws)
		}
		var drained []int32
		if r.IntN(2) == 0 {
			drained = b.DrainTo(nil)
		} else {
			b.Drain(func(i int) { drained = append(drained, int32(i)) })
		}
		if len(drained) != len(ws) {
			t.Fatalf("trial %d: drained %v, want %v", trial, drained, ws)
		}
		for i := range ws {
			if uint32(drained[i]) != ws[i] {
				t.Fatalf("trial %d: drained %v, want %v", trial, drained, ws)
			}
		}
		if b.Count() != 0 {
			t.Fatalf("trial %d: %d members after draining", trial, b.Count())
		}
	}
}
