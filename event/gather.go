package event

// gatherCandidates left-packs the neurons that can cross on their constant
// current (v ≥ θ or d > 0) for constLayer: their index, v, d and θ, and
// the window one[q] (with a zero count, into fused) and fan-out fan[q]
// when one is not nil, go to the front of cand, cv, cd, cth, fused and
// cfan in increasing order of q; it returns how many. The outputs
// must hold len(v)+8 elements (the AVX2 kernel stores whole vectors).
// Which neuron is a candidate is a coin toss per neuron on an image, so
// the scalar loop is written without a branch on it, and the AVX2 kernel
// packs 8 neurons at a time with a permutation per 8-bit mask.
func gatherCandidates(v, d, th []float32, one, fan []int32, cand []int32, cv, cd, cth []float32, fused []winCount, cfan []int32) int {
	nq := len(v)
	d, th = d[:nq], th[:nq]
	cand, cv, cd, cth = cand[:nq+8], cv[:nq+8], cd[:nq+8], cth[:nq+8]
	if one != nil {
		one, fan, fused, cfan = one[:nq], fan[:nq], fused[:nq+8], cfan[:nq+8]
	}
	n, q0 := 0, 0
	if haveStep && nq >= 8 {
		q0 = nq &^ 7
		var op, fp, cfp *int32
		var wp *winCount
		if one != nil {
			op, fp, wp, cfp = &one[0], &fan[0], &fused[0], &cfan[0]
		}
		n = gatherAsm(&v[0], &d[0], &th[0], op, fp, q0, &cand[0], &cv[0], &cd[0], &cth[0], wp, cfp, &gatherLUT[0])
	}
	for q := q0; q < nq; q++ {
		vq, dq, tq := v[q], d[q], th[q]
		cand[n], cv[n], cd[n], cth[n] = int32(q), vq, dq, tq
		if one != nil {
			fused[n], cfan[n] = winCount{win: one[q]}, fan[q]
		}
		keep := 0
		if vq >= tq || dq > 0 {
			keep = 1
		}
		n += keep
	}
	return n
}

// gatherLUT[8m : 8m+8] lists the set bits of the 8-bit mask m in
// increasing order (then zeros): the permutation that packs the lanes m
// selects.
var gatherLUT = func() []int32 {
	lut := make([]int32, 256*8)
	for m := range 256 {
		k := 0
		for b := range 8 {
			if m&(1<<b) != 0 {
				lut[8*m+k] = int32(b)
				k++
			}
		}
	}
	return lut
}()
