package event

import "github.com/evsnn/evsnn/network"

// grid is a tensor shape as the engine sees it: C channels on an H×W grid,
// stored channel-last (HWC): element (c, y, x) lives at (y·W+x)·C+c. A
// vector of n values (or any shape that is not [C,H,W]) is the grid
// (n,1,1), for which HWC and CHW coincide.
type grid struct{ c, h, w int }

func (g grid) size() int { return g.c * g.h * g.w }

func gridOf(s network.Shape) grid {
	if len(s) == 3 {
		return grid{s[0], s[1], s[2]}
	}
	return grid{s.Size(), 1, 1}
}

// user converts an internal (HWC) index into the network's (CHW) index.
func (g grid) user(q int) int {
	c := q % g.c
	yx := q / g.c
	return c*g.h*g.w + yx
}

// internal converts a CHW index into the HWC index.
func (g grid) internal(i int) int {
	hw := g.h * g.w
	c := i / hw
	return (i%hw)*g.c + c
}

// toInternal reorders a per-neuron slice from the network's order into
// the internal one.
func toInternal[E any](g grid, user []E) []E {
	out := make([]E, len(user))
	for j, v := range user {
		out[g.internal(j)] = v
	}
	return out
}

func ones(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = 1
	}
	return s
}
