package queue

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBitset checks every operation of the flat and the two-level form
// (switched at random between uses) against a map.
func TestBitset(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for trial := 0; trial < 400; trial++ {
		n := 1 + r.IntN(300)
		if trial%4 == 3 {
			n = 1 + r.IntN(20000)
		}
		b := NewBitset(n)
		b.SetSparse(trial%2 == 1)
		if trial%8 == 5 {
			b.SetSparse(false)
			b.SetSparse(true)
		}
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
		switch r.IntN(3) {
		case 0:
			drained = b.DrainTo(nil)
		case 1:
			b.Drain(func(i int) { drained = append(drained, int32(i)) })
		default:
			drained = b.DrainTo(nil)
			b.Clear()
		}
		if len(drained) != len(ws) {
			t.Fatalf("trial %d: drained %v, want %v", trial, drained, ws)
		}
		for i := range ws {
			if uint32(drained[i]) != ws[i] {
				t.Fatalf("trial %d: drained %v, want %v", trial, drained, ws)
			}
		}
		if b.Count() != 0 || len(b.AppendTo(nil)) != 0 {
			t.Fatalf("trial %d: %d members after draining", trial, b.Count())
		}
		for _, w := range b.Top() {
			if w != 0 {
				t.Fatalf("trial %d: second level not cleared", trial)
			}
		}
		b.AddRange(0, n)
		b.Clear()
		if b.Count() != 0 || len(b.AppendTo(nil)) != 0 {
			t.Fatalf("trial %d: members after Clear", trial)
		}
	}
}

func TestRadixSort(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	for trial := range 200 {
		n := 1 + r.IntN(1<<uint(1+trial%31))
		s := make([]int32, r.IntN(3000))
		for i := range s {
			s[i] = int32(r.IntN(n))
		}
		want := slices.Clone(s)
		slices.Sort(want)
		RadixSort(s, make([]int32, len(s)), n)
		if !slices.Equal(s, want) {
			t.Fatalf("trial %d (n %d, %d values): not sorted", trial, n, len(s))
		}
	}
}
