package calibrate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/network"
)

// TestSparseForward checks the sparse drive kernel against the dense
// conv and linear kernels for several geometries.
func TestSparseForward(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int, density float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			if r.Float64() < density {
				v[i] = float32(r.Float64())
			}
		}
		return v
	}
	for _, tc := range []struct {
		name             string
		inC, h, w        int
		outC, kh, kw     int
		strideH, strideW int
		padH, padW       int
	}{
		{"lenet-conv2", 16, 14, 14, 32, 5, 5, 1, 1, 2, 2},
		{"stride2", 3, 9, 8, 5, 3, 3, 2, 2, 1, 1},
		{"stride-mixed-nopad", 2, 7, 9, 4, 3, 2, 1, 3, 0, 0},
		{"1x1", 4, 5, 5, 6, 1, 1, 1, 1, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &network.Conv2d{LayerName: "c", InC: tc.inC, OutC: tc.outC, KH: tc.kh, KW: tc.kw, StrideH: tc.strideH, StrideW: tc.strideW,
				PadH: tc.padH, PadW: tc.padW, Weight: rnd(tc.outC*tc.inC*tc.kh*tc.kw, 1), Bias: make([]float32, tc.outC)}
			in := network.Shape{tc.inC, tc.h, tc.w}
			out, err := l.OutShape(in)
			if err != nil {
				t.Fatal(err)
			}
			src := rnd(in.Size(), 0.3)
			want := make([]float32, out.Size())
			var ws network.Workspace
			l.Forward(want, src, in, 1, &ws)
			got := make([]float32, out.Size())
			newSparseForward(l, in).forward(got, src, make([]float32, out.Size()))
			for i := range want {
				if math.Abs(float64(want[i]-got[i])) > 1e-4 {
					t.Fatalf("output %d: sparse %v, dense %v", i, got[i], want[i])
				}
			}
		})
	}
	lin := &network.Linear{LayerName: "l", In: 30, Out: 7, Weight: rnd(210, 1), Bias: make([]float32, 7)}
	src := rnd(30, 0.3)
	want, got := make([]float32, 7), make([]float32, 7)
	lin.Forward(want, src, 1)
	newSparseForward(lin, network.Shape{30}).forward(got, src, nil)
	for i := range want {
		if math.Abs(float64(want[i]-got[i])) > 1e-4 {
			t.Fatalf("linear output %d: sparse %v, dense %v", i, got[i], want[i])
		}
	}
}
