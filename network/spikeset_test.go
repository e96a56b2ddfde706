package network

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestTranspose64(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var a, b [64]uint64
	for i := range a {
		a[i] = r.Uint64()
	}
	b = a
	transpose64(&b)
	for i := range 64 {
		for j := range 64 {
			if (a[i]>>j)&1 != (b[j]>>i)&1 {
				t.Fatalf("bit (%d,%d) not transposed", i, j)
			}
		}
	}
}

// spikePattern is a random pattern of spikes of one layer: steps[t−1] the
// bitset, in a caller's numbering (the event engine's channel-last one),
// of step t's spikes.
type spikePattern struct {
	steps [][]uint64
	pos   []uint32 // caller's index → position; nil for the identity
	want  []RasterEvent
}

func randomPattern(r *rand.Rand, sh Shape, T int, rate float64, channelLast bool) spikePattern {
	n := sh.Size()
	var p spikePattern
	toNet := func(q int) int { return q }
	if channelLast && len(sh) == 3 {
		C, HW := sh[0], sh[1]*sh[2]
		toNet = func(q int) int { return (q%C)*HW + q/C }
		p.pos = make([]uint32, n)
		for q := range p.pos {
			p.pos[q] = uint32(SpikePosition(sh, toNet(q)))
		}
	}
	for t := 1; t <= T; t++ {
		words := make([]uint64, (n+63)/64)
		for range int(rate * float64(n)) {
			q := r.IntN(n)
			if words[q>>6]&(1<<(q&63)) == 0 {
				words[q>>6] |= 1 << (q & 63)
				p.want = append(p.want, RasterEvent{Layer: 0, Neuron: int32(toNet(q)), Step: int32(t)})
			}
		}
		p.steps = append(p.steps, words)
	}
	SortRaster(p.want)
	return p
}

// TestSpikeSetAdd: every way of adding spikes (Add in network order,
// AddMapped, AddBits and AddSteps in the engine's channel-last order)
// gives the same set, whose Spikes are the pattern's; for small and large
// dense slots (one and several words of dirty marks), a sparse slot (ids),
// T not a power of two, more than 64 steps, trains across word
// boundaries, and after a Reset.
func TestSpikeSetAdd(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, tc := range []struct {
		name  string
		shape Shape
		T     int
		rate  float64
		chunk int
	}{
		{"conv", Shape{6, 12, 12}, 32, 0.1, 32},
		{"conv T=7", Shape{5, 9, 7}, 7, 0.3, 7},
		{"conv T=13 chunks of 4", Shape{3, 10, 11}, 13, 0.2, 4},
		{"vector T=100", Shape{300}, 100, 0.05, 64},
		{"vector T=100 one chunk", Shape{70}, 100, 0.05, 100},
		{"one row", Shape{4, 1, 50}, 9, 0.2, 9},
		{"several dirty words", Shape{8, 128, 128}, 40, 0.001, 40},
		{"sparse slot", Shape{1, 2048, 2049}, 17, 0.00005, 8},
		{"saturated", Shape{2, 8, 8}, 64, 1, 64},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := randomPattern(r, tc.shape, tc.T, tc.rate, true)
			sets := map[string]*SpikeSet{}
			for _, way := range []string{"Add", "AddMapped", "AddBits", "AddSteps", "AddSteps/idx"} {
				set, err := NewSpikeSet([]Shape{tc.shape}, tc.T)
				if err != nil {
					t.Fatal(err)
				}
				for round := range 2 { // the second after a Reset
					if round == 1 {
						set.Reset()
						if got := set.Spikes(); len(got) != 0 {
							t.Fatalf("%s: %d spikes after Reset", way, len(got))
						}
					}
					addPattern(set, way, p, tc.chunk)
					if got := set.Spikes(); !slices.Equal(got, p.want) {
						t.Fatalf("%s round %d: %d spikes, want %d (first differences %v)", way, round, len(got), len(p.want), firstDiff(got, p.want))
					}
				}
				sets[way] = set
			}
			for i := range sets["Add"].Slots() {
				a := sets["Add"].IDs(i, nil)
				for way, set := range sets {
					if b := set.IDs(i, nil); !slices.Equal(a, b) || set.Len(i) != len(a) {
						t.Fatalf("slot %d: %s gives %d ids (Len %d), Add %d", i, way, len(b), set.Len(i), len(a))
					}
				}
			}
		})
	}
}

func addPattern(set *SpikeSet, way string, p spikePattern, chunk int) {
	stride := len(p.steps[0])
	switch way {
	case "Add":
		for t := 1; t <= len(p.steps); t++ {
			var ns []int32
			for _, e := range p.want {
				if int(e.Step) == t {
					ns = append(ns, e.Neuron)
				}
			}
			set.Add(0, t, ns)
		}
	case "AddMapped":
		for t, words := range p.steps {
			var qs []int32
			for q := range 64 * stride {
				if words[q>>6]&(1<<(q&63)) != 0 {
					qs = append(qs, int32(q))
				}
			}
			set.AddMapped(0, t+1, qs, p.pos)
		}
	case "AddBits":
		for t, words := range p.steps {
			set.AddBits(0, t+1, words, nil, p.pos)
		}
	case "AddSteps":
		for t0 := 1; t0 <= len(p.steps); t0 += chunk {
			n := min(chunk, len(p.steps)-t0+1)
			flat := slices.Concat(p.steps[t0-1 : t0-1+n]...)
			set.AddSteps(0, t0, n, flat, stride, nil, p.pos)
		}
	case "AddSteps/idx":
		// Bit i stands for neuron idx[i], a shuffle of them.
		N := 64 * stride
		idx := make([]int32, N)
		for i := range idx {
			idx[i] = int32(i)
		}
		rand.New(rand.NewPCG(1, 1)).Shuffle(N, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		shuffled := make([]uint64, len(p.steps)*stride)
		for t, words := range p.steps {
			for i, q := range idx {
				if words[q>>6]&(1<<(q&63)) != 0 {
					shuffled[t*stride+i>>6] |= 1 << (i & 63)
				}
			}
		}
		for t0 := 1; t0 <= len(p.steps); t0 += chunk {
			n := min(chunk, len(p.steps)-t0+1)
			set.AddSteps(0, t0, n, shuffled[(t0-1)*stride:], stride, idx, p.pos)
		}
	}
}

func firstDiff(a, b []RasterEvent) []RasterEvent {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return []RasterEvent{a[i], b[i]}
		}
	}
	return nil
}
