package queue

// RadixSort sorts s (values in [0, n)) in increasing order, using scratch
// (at least len(s) long): a least-significant-digit radix sort with 11-bit
// digits, as many passes as n needs (three for n ≤ 2³³), each a count
// and a scatter. It beats comparison sorts once s has a few thousand
// members; below that, slices.Sort is as fast.
func RadixSort(s, scratch []int32, n int) {
	if len(s) < 2 {
		return
	}
	const bits = 11
	var count [1 << bits]int32
	src, dst := s, scratch[:len(s)]
	for shift := uint(0); shift < 32 && n > 1<<shift; shift += bits {
		clear(count[:])
		for _, v := range src {
			count[uint32(v)>>shift&(1<<bits-1)]++
		}
		sum := int32(0)
		for i, c := range count {
			count[i] = sum
			sum += c
		}
		for _, v := range src {
			d := uint32(v) >> shift & (1<<bits - 1)
			dst[count[d]] = v
			count[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &s[0] {
		copy(s, src)
	}
}
