package queue

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/evsnn/evsnn/internal/cputime"
)

// The engine's two kinds of per-step active sets, with the fixture's
// sizes: touched neurons of the conv2 layer (6,272 neurons; events touch
// runs of 32 channels at ~150 positions a step) and the spikes of the
// conv1 layer (12,544 neurons, ~700 spikes a step, produced sorted).
// Each sub-benchmark builds the set and iterates it in order, as a step
// does, and reports ns per member.

func touchedRuns(r *rand.Rand) [][2]int {
	var runs [][2]int
	for i := 0; i < 150; i++ {
		p := r.IntN(196)
		runs = append(runs, [2]int{p * 32, p*32 + 32})
	}
	return runs
}

func sortedSpikes(r *rand.Rand) []uint32 {
	var s []uint32
	for i := 0; i < 12544; i++ {
		if r.IntN(18) == 0 {
			s = append(s, uint32(i))
		}
	}
	return s
}

func BenchmarkActiveSet(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	runs := touchedRuns(r)
	spikes := sortedSpikes(r)
	bs := NewBitset(6272)
	for _, rr := range runs {
		bs.AddRange(rr[0], rr[1])
	}
	touched := bs.Count()
	bs.Clear()
	perMember := func(b *testing.B, n int) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/member")
	}
	buf32 := make([]int32, 0, 12544)
	bufU := make([]uint32, 256)

	b.Run("touched-ranges/bitset", func(b *testing.B) {
		for b.Loop() {
			for _, rr := range runs {
				bs.AddRange(rr[0], rr[1])
			}
			buf32 = bs.DrainTo(buf32[:0])
		}
		perMember(b, touched)
	})
	b.Run("touched-ranges/roaring", func(b *testing.B) {
		rb := roaring.New()
		var it roaring.ManyIntIterator
		for b.Loop() {
			rb.Clear()
			for _, rr := range runs {
				rb.AddRange(uint64(rr[0]), uint64(rr[1]))
			}
			it.Initialize(rb)
			buf32 = buf32[:0]
			for n := it.NextMany(bufU); n > 0; n = it.NextMany(bufU) {
				for _, v := range bufU[:n] {
					buf32 = append(buf32, int32(v))
				}
			}
		}
		perMember(b, touched)
	})
	sb := NewBitset(12544)
	b.Run("spikes-sorted/bitset", func(b *testing.B) {
		for b.Loop() {
			for _, s := range spikes {
				sb.Add(int(s))
			}
			buf32 = sb.DrainTo(buf32[:0])
		}
		perMember(b, len(spikes))
	})
	b.Run("spikes-sorted/roaring-AddMany", func(b *testing.B) {
		rb := roaring.New()
		var it roaring.ManyIntIterator
		for b.Loop() {
			rb.Clear()
			rb.AddMany(spikes)
			it.Initialize(rb)
			buf32 = buf32[:0]
			for n := it.NextMany(bufU); n > 0; n = it.NextMany(bufU) {
				for _, v := range bufU[:n] {
					buf32 = append(buf32, int32(v))
				}
			}
		}
		perMember(b, len(spikes))
	})
	b.Run("spikes-sorted/roaring-Add", func(b *testing.B) {
		rb := roaring.New()
		var it roaring.IntIterator
		for b.Loop() {
			rb.Clear()
			for _, s := range spikes {
				rb.Add(s)
			}
			it.Initialize(rb)
			buf32 = buf32[:0]
			for it.HasNext() {
				buf32 = append(buf32, int32(it.Next()))
			}
		}
		perMember(b, len(spikes))
	})
	b.Run("spikes-sorted/roaring-FromDense", func(b *testing.B) {
		words := make([]uint64, 12544/64)
		rb := roaring.New()
		var it roaring.ManyIntIterator
		for b.Loop() {
			clear(words)
			for _, s := range spikes {
				words[s>>6] |= 1 << (s & 63)
			}
			rb.Clear()
			rb.FromDense(words, false)
			it.Initialize(rb)
			buf32 = buf32[:0]
			for n := it.NextMany(bufU); n > 0; n = it.NextMany(bufU) {
				for _, v := range bufU[:n] {
					buf32 = append(buf32, int32(v))
				}
			}
		}
		perMember(b, len(spikes))
	})
}

// BenchmarkActiveSetScale is the crossover of the active-set forms for
// large, quiet layers: sets of N = 10⁴ … 1.6·10⁷ possible members with a
// fraction a = 10⁻⁵ … 10 % present (at least one), added one by one in
// random order (as a step's synaptic targets and predicted crossings
// arrive) and listed in increasing order, emptying the set, as a step of
// the engine does. Forms: the flat bitset; the two-level bitset
// (SetSparse); a sorted list (a flat bitset only filters repeats, the
// list of new members is sorted by slices.Sort or by a radix sort, and
// its bits are cleared one by one); roaring bitmaps built by Add, or by
// AddMany from the sorted list, listed by ManyIntIterator. Reports ns per
// step and per member. The bitsets are counted before they are listed,
// as the engine counts a layer's touched set to choose its update.
func BenchmarkActiveSetScale(b *testing.B) {
	for _, n := range []int{1e4, 1e5, 1e6, 4e6, 16e6} {
		filter := NewBitset(n)
		flat := NewBitset(n)
		two := NewBitset(n)
		two.SetSparse(true)
		rb := roaring.New()
		for _, a := range []float64{1e-5, 1e-4, 1e-3, 1e-2, 1e-1} {
			k := max(1, int(a*float64(n)))
			r := rand.New(rand.NewPCG(uint64(n), uint64(k)))
			members := make([]int32, 0, k)
			for len(members) < k {
				if i := r.IntN(n); !filter.Contains(i) {
					filter.Add(i)
					members = append(members, int32(i))
				}
			}
			filter.Clear()
			out := make([]int32, 0, k)
			list := make([]int32, 0, k)
			scratch := make([]int32, k)
			ul := make([]uint32, 0, k)
			bufU := make([]uint32, 256)
			// report gives wall and CPU time per step (CPU time: the
			// machine is shared, and a benchmark preempted by another
			// process is charged only what it ran).
			report := func(b *testing.B, cpu0 time.Duration) {
				cpu, _ := cputime.Now()
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/step")
				b.ReportMetric(float64((cpu-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/step")
				b.ReportMetric(float64((cpu-cpu0).Nanoseconds())/float64(b.N*k), "cpu-ns/member")
			}
			name := func(form string) string { return fmt.Sprintf("N=%d/a=%g/%s", n, a, form) }
			b.Run(name("bitset"), func(b *testing.B) {
				cpu0, _ := cputime.Now()
				for b.Loop() {
					for _, m := range members {
						flat.Add(int(m))
					}
					// The engine counts the set (to pick its update) before
					// it lists it.
					if flat.Count() == 0 {
						b.Fatal("empty")
					}
					out = flat.DrainTo(out[:0])
				}
				report(b, cpu0)
			})
			b.Run(name("bitset2"), func(b *testing.B) {
				cpu0, _ := cputime.Now()
				for b.Loop() {
					for _, m := range members {
						two.Add(int(m))
					}
					if two.Count() == 0 {
						b.Fatal("empty")
					}
					out = two.DrainTo(out[:0])
				}
				report(b, cpu0)
			})
			for _, radix := range []bool{false, true} {
				form := "list-sort"
				if radix {
					form = "list-radix"
				}
				b.Run(name(form), func(b *testing.B) {
					cpu0, _ := cputime.Now()
					words := filter.Words()
					for b.Loop() {
						list = list[:0]
						for _, m := range members {
							if w, bit := &words[m>>6], uint64(1)<<(uint(m)&63); *w&bit == 0 {
								*w |= bit
								list = append(list, m)
							}
						}
						if radix {
							RadixSort(list, scratch, n)
						} else {
							slices.Sort(list)
						}
						for _, m := range list {
							words[m>>6] = 0
						}
						out = append(out[:0], list...)
					}
					report(b, cpu0)
				})
			}
			b.Run(name("roaring-Add"), func(b *testing.B) {
				cpu0, _ := cputime.Now()
				var it roaring.ManyIntIterator
				for b.Loop() {
					rb.Clear()
					for _, m := range members {
						rb.Add(uint32(m))
					}
					it.Initialize(rb)
					out = out[:0]
					for c := it.NextMany(bufU); c > 0; c = it.NextMany(bufU) {
						for _, v := range bufU[:c] {
							out = append(out, int32(v))
						}
					}
				}
				report(b, cpu0)
			})
			b.Run(name("roaring-AddMany"), func(b *testing.B) {
				cpu0, _ := cputime.Now()
				var it roaring.ManyIntIterator
				for b.Loop() {
					ul = ul[:0]
					for _, m := range members {
						ul = append(ul, uint32(m))
					}
					slices.Sort(ul)
					rb.Clear()
					rb.AddMany(ul)
					it.Initialize(rb)
					out = out[:0]
					for c := it.NextMany(bufU); c > 0; c = it.NextMany(bufU) {
						for _, v := range bufU[:c] {
							out = append(out, int32(v))
						}
					}
				}
				report(b, cpu0)
			})
		}
	}
}
