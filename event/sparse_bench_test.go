package event

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// BenchmarkSparseKernel times the SparseLinear delivery kernels this CPU
// has (sparseKernels: the portable loops, the scalar assembly, the scalar
// assembly with branch-free list ends) on random synapse lists — targets
// increasing per source, as network.SparseLinear keeps them; of a fixed
// length or of lengths 1 … 2·fan−1 — for target layers in L1 (128: the
// pruned LeNet's fc1), L2 and beyond, and reports synaptic events per
// second (wall and CPU time). Each op delivers one step's events: events
// sources' lists.
func BenchmarkSparseKernel(b *testing.B) {
	for _, c := range []struct {
		out, fan, events int
		vary             bool // lengths uniform in 1 … 2·fan−1 (mean fan)
	}{
		{128, 13, 100, false}, {128, 13, 100, true}, {512, 13, 100, false}, {4096, 13, 100, false}, {32768, 13, 100, false}, {4096, 16, 200, false}, {4096, 16, 200, true},
		{4096, 64, 200, false}, {1 << 20, 16, 1000, false},
	} {
		r := rand.New(rand.NewPCG(1, uint64(c.out)))
		const sources = 4096
		f := sparseFan{ptr: make([]int32, sources+1)}
		synapses := 0
		for s := range sources {
			n := c.fan
			if c.vary {
				n = 1 + r.IntN(2*c.fan-1)
			}
			tg := make([]int32, 0, n)
			for _, t := range r.Perm(c.out)[:n] {
				tg = append(tg, int32(t))
			}
			slices.Sort(tg)
			f.targets = append(f.targets, tg...)
			for range tg {
				f.weights = append(f.weights, r.Float32()-0.5)
			}
			f.ptr[s+1] = int32(len(f.targets))
		}
		evs := make([]ev, c.events)
		for i := range evs {
			evs[i] = ev{int32(r.IntN(sources)), 0.5}
			synapses += f.synapses(evs[i].pos)
		}
		slices.SortFunc(evs, func(a, b ev) int { return int(a.pos - b.pos) })
		acc := make([]float32, c.out)
		touched := make([]uint64, (c.out+63)/64)
		for _, kernel := range sparseKernels {
			for _, mark := range []bool{false, true} {
				tch := touched
				if !mark {
					tch = nil
				}
				lengths := "fixed"
				if c.vary {
					lengths = "varied"
				}
				b.Run(fmt.Sprintf("out=%d/fan=%d/%s/mark=%v/%s", c.out, c.fan, lengths, mark, kernel), func(b *testing.B) {
					cpu0 := cpuTime()
					for b.Loop() {
						f.deliverWith(kernel, acc, tch, nil, evs)
					}
					b.ReportMetric(float64(b.N*synapses)/b.Elapsed().Seconds()/1e9, "Gevents/s")
					// Per CPU second too: the machine is shared.
					b.ReportMetric(float64(b.N*synapses)/(cpuTime()-cpu0).Seconds()/1e9, "Gevents/cpu-s")
				})
			}
		}
	}
}
