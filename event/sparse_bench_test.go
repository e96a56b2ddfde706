package event

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// BenchmarkSparseKernel times the SparseLinear delivery kernels this CPU
// has (sparseKernels: the portable loops, the scalar assembly, AVX-512)
// on random synapse lists — targets increasing
// per source, as network.SparseLinear keeps them — for target layers in
// L1 (128: the pruned LeNet's fc1), L2 and beyond, and reports synaptic
// events per second (wall and CPU time). Each op delivers one step's events: a source list
// of events spikes, each of fan synapses.
func BenchmarkSparseKernel(b *testing.B) {
	for _, c := range []struct{ out, fan, events int }{
		{128, 13, 100}, {4096, 16, 200}, {4096, 64, 200}, {1 << 20, 16, 1000},
	} {
		r := rand.New(rand.NewPCG(1, uint64(c.out)))
		const sources = 4096
		f := sparseFan{ptr: make([]int32, sources+1)}
		for s := range sources {
			tg := make([]int32, 0, c.fan)
			for _, t := range r.Perm(c.out)[:c.fan] {
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
				b.Run(fmt.Sprintf("out=%d/fan=%d/mark=%v/%s", c.out, c.fan, mark, kernel), func(b *testing.B) {
					cpu0 := cpuTime()
					for b.Loop() {
						f.deliverWith(kernel, acc, tch, nil, evs)
					}
					b.ReportMetric(float64(b.N*c.events*c.fan)/b.Elapsed().Seconds()/1e9, "Gevents/s")
					// Per CPU second too: the machine is shared.
					b.ReportMetric(float64(b.N*c.events*c.fan)/(cpuTime()-cpu0).Seconds()/1e9, "Gevents/cpu-s")
				})
			}
		}
	}
}
