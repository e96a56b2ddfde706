package queue

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
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
