package network

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestSparseLinear(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	dense := &Linear{LayerName: "fc", In: 9, Out: 5, Weight: make([]float32, 45), Bias: []float32{0.5, -0.25, 1, 0, 0.125}}
	for i := range dense.Weight {
		if r.IntN(3) == 0 {
			dense.Weight[i] = float32(r.IntN(9)-4) / 4
		}
	}
	sp := Sparsify(dense)
	if err := sp.check(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sp.Dense(), dense.Weight) {
		t.Fatal("Dense() does not give the weights back")
	}
	x := make([]float32, 2*9)
	for i := range x {
		x[i] = float32(r.IntN(5)) / 4
	}
	a, b := make([]float32, 10), make([]float32, 10)
	dense.Forward(a, x, 2)
	sp.Forward(b, x, 2)
	if !slices.Equal(a, b) {
		t.Fatalf("sparse %v, dense %v", b, a)
	}
	nnz := 0
	for _, w := range dense.Weight {
		if w != 0 {
			nnz++
		}
	}
	if sp.MACs(Shape{9}) != nnz {
		t.Fatalf("MACs %d, want %d", sp.MACs(Shape{9}), nnz)
	}
	fan := weightedFanOut(sp, Shape{9}, Shape{5})
	for j := range fan {
		if int(fan[j]) != int(sp.Ptr[j+1]-sp.Ptr[j]) {
			t.Fatalf("fan-out of %d is %d", j, fan[j])
		}
	}
	for _, tc := range []struct {
		edit func(s *SparseLinear)
		want string
	}{
		{func(s *SparseLinear) { s.Ptr = s.Ptr[:3] }, "offsets"},
		{func(s *SparseLinear) { s.Targets[0] = 99 }, "out of range"},
		{func(s *SparseLinear) { s.Weights = s.Weights[1:] }, "must agree"},
		{func(s *SparseLinear) { s.Bias = nil }, "bias"},
		{func(s *SparseLinear) { s.Ptr[1] = s.Ptr[s.In] + 5 }, "past the last offset"},
	} {
		c := cloneLayer(sp).(*SparseLinear)
		tc.edit(c)
		if err := c.check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("check = %v, want %q", err, tc.want)
		}
	}
}
