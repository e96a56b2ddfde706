package network

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// BenchmarkSpikeSetAddBits records the spikes of a [16,28,28] layer over
// T = 32 steps, about 6 % of its neurons per step, as the event engine's
// constant-current path hands them over (bits in channel-last order,
// through a table of positions), per image.
func BenchmarkSpikeSetAddBits(b *testing.B) {
	sh := Shape{16, 28, 28}
	const T = 32
	n := sh.Size()
	r := rand.New(rand.NewPCG(1, 2))
	steps := make([][]uint64, T)
	spikes := 0
	for t := range steps {
		steps[t] = make([]uint64, (n+63)/64)
		for q := range n {
			if r.Float64() < 0.06 {
				steps[t][q>>6] |= 1 << (q & 63)
				spikes++
			}
		}
	}
	// Channel-last q = (h·W + w)·C + c → position.
	pos := make([]uint32, n)
	C, H, W := sh[0], sh[1], sh[2]
	for q := range pos {
		c, yx := q%C, q/C
		pos[q] = uint32(SpikePosition(sh, c*H*W+yx))
	}
	flat := slices.Concat(steps...)
	for _, tc := range []struct {
		name  string
		pos   []uint32
		whole bool
	}{{"AddBits/table", pos, false}, {"AddBits/identity", nil, false}, {"AddSteps/table", pos, true}} {
		b.Run(tc.name, func(b *testing.B) {
			set, err := NewSpikeSet([]Shape{sh}, T)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				set.Reset()
				if tc.whole {
					set.AddSteps(0, 1, T, flat, len(steps[0]), nil, tc.pos)
					continue
				}
				for t := range steps {
					set.AddBits(0, t+1, steps[t], nil, tc.pos)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(spikes), "ns/spike")
		})
	}
	_ = W
}
