package queue

import (
	"slices"
	"testing"
)

func TestRing(t *testing.T) {
	cases := []struct {
		name    string
		horizon int
		pushes  [][2]int // (step, value), interleaved with pops by step order
	}{
		{"one bucket", 1, [][2]int{{0, 1}, {0, 2}}},
		{"wraps", 4, [][2]int{{0, 1}, {3, 2}, {1, 3}, {2, 4}, {3, 5}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := NewRing[int](c.horizon)
			if r.Horizon() < c.horizon {
				t.Fatalf("horizon %d < %d", r.Horizon(), c.horizon)
			}
			want := map[int][]int{}
			for _, p := range c.pushes {
				r.Push(p[0], p[1])
				want[p[0]] = append(want[p[0]], p[1])
			}
			if r.Len() != len(c.pushes) {
				t.Errorf("Len %d, want %d", r.Len(), len(c.pushes))
			}
			for s := 0; s < c.horizon; s++ {
				if got := r.Pop(s); !slices.Equal(got, want[s]) {
					t.Errorf("Pop(%d) = %v, want %v", s, got, want[s])
				}
			}
			if r.Len() != 0 {
				t.Errorf("Len %d after popping everything", r.Len())
			}
		})
	}
}

// TestRingRolling pushes each step's entries a fixed delay ahead, as the
// engine's delay lines do, over many wraps of the ring.
func TestRingRolling(t *testing.T) {
	for _, delay := range []int{0, 1, 3, 7} {
		r := NewRing[int](delay + 1)
		for s := 0; s < 100; s++ {
			r.Push(s+delay, s)
			r.Push(s+delay, -s)
			got := r.Pop(s)
			if s < delay {
				if len(got) != 0 {
					t.Fatalf("delay %d step %d: %v before anything was due", delay, s, got)
				}
				continue
			}
			if want := []int{s - delay, -(s - delay)}; !slices.Equal(got, want) {
				t.Fatalf("delay %d step %d: %v, want %v", delay, s, got, want)
			}
		}
	}
}

func TestRingPanics(t *testing.T) {
	r := NewRing[int](4)
	r.Pop(2)
	for name, f := range map[string]func(){
		"push in the past":     func() { r.Push(1, 0) },
		"push beyond horizon":  func() { r.Push(3+4, 0) },
		"pop of a popped step": func() { r.Pop(1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

func TestRingReset(t *testing.T) {
	r := NewRing[int](8)
	r.Push(3, 1)
	r.Reset(10)
	if r.Len() != 0 || r.Now() != 10 {
		t.Fatalf("after Reset: Len %d Now %d", r.Len(), r.Now())
	}
	r.Push(17, 5)
	if got := r.Pop(17); !slices.Equal(got, []int{5}) {
		t.Fatalf("Pop(17) = %v", got)
	}
}

func TestRingAllocs(t *testing.T) {
	r := NewRing[int32](16)
	step := 0
	run := func() {
		for i := 0; i < 100; i++ {
			r.Push(step+1+i%15, int32(i))
		}
		r.Pop(step)
		step++
	}
	for i := 0; i < 64; i++ {
		run()
	}
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Errorf("%v allocations per step in steady state", a)
	}
}
