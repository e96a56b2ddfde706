package event

// tuning holds the choices the engine makes for itself per layer and
// step — lazy updates or dense sweeps (policy), a flat or a two-level
// active set (form) — so that tests can force each and compare results,
// which must not depend on them.
type tuning struct {
	policy int
	form   int
	// flips counts the steps chooseForm saw (formAlternate).
	flips int
}

const (
	policyAdaptive = iota
	policySparse
	policyDense
)

const (
	formAdaptive = iota
	formFlat
	formTwoLevel
	// formAlternate switches every layer's active set between the two
	// forms at every other step (tests: a switch in the middle of an
	// image must change nothing).
	formAlternate
)

// constChunk is the number of steps a constLayer predicts at a time: 64
// (the AVX2 kernel costs the same per step for any chunk of two steps or
// more, so the chunk only sets how much is wasted when an image stops
// early), 4 with an exit rule, so that an image that stops at step t pays
// for at most t+3 steps of the layer.
func (s *Simulator) constChunk() int {
	if s.exit != nil {
		return 4
	}
	return 64
}

// twoLevelMin is the size from which a layer's active set may take the
// two-level form (queue.Bitset.SetSparse): below it a pass over the flat
// words costs less than 200 ns.
const twoLevelMin = 1 << 16

// chooseForm picks the form of layer k's active set for this step (it is
// empty between steps): two-level for a large layer whose last update
// touched less than a thirty-second of it, flat otherwise — the crossover
// of BenchmarkActiveSetScale in package queue (see doc.go, "Active sets").
func (s *Simulator) chooseForm(k int) {
	st := &s.layers[k]
	n := len(st.v)
	var two bool
	switch s.form {
	case formFlat:
	case formTwoLevel:
		two = true
	case formAlternate:
		s.flips++
		two = s.flips/2%2 == 1
	default:
		two = n >= twoLevelMin && st.lastTouched*32 < n
	}
	st.touched.SetSparse(two)
}
