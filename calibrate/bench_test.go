package calibrate

import (
	"testing"
	"time"

	"github.com/evsnn/evsnn/internal/cputime"
	"github.com/evsnn/evsnn/internal/fixture"

	"github.com/evsnn/evsnn/network"
)

// BenchmarkFixtureLight times the light pipeline on the fixture at T=4
// (the budget: ≤ 30 s on one core).
func BenchmarkFixtureLight(b *testing.B) {
	ann := fixture.LeNet(b)
	calib, _ := fixture.MNIST(b, "train", DefaultImages)
	for b.Loop() {
		if _, _, err := Calibrate(ann, calib, Options{T: 4, Method: Light}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResNetLight times the light pipeline on the ResNet fixture at
// T=4 (budget: ≤ 30 s of CPU on one core).
func BenchmarkResNetLight(b *testing.B) {
	ann := fixture.ResNet(b)
	calib, _ := fixture.MNIST(b, "train", DefaultImages)
	for b.Loop() {
		if _, _, err := Calibrate(ann, calib, Options{T: 4, Method: Light}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSparseConv is the drive kernel on the fixture's conv2 shape
// with 20 % of the pooled inputs nonzero.
func BenchmarkSparseConv(b *testing.B) {
	l := &network.Conv2d{LayerName: "conv2", InC: 16, OutC: 32, KH: 5, KW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2,
		Weight: make([]float32, 12800), Bias: make([]float32, 32)}
	for i := range l.Weight {
		l.Weight[i] = float32(i%13) * 0.01
	}
	in := network.Shape{16, 14, 14}
	src := make([]float32, in.Size())
	for i := range src {
		if i%5 == 0 {
			src[i] = 0.5
		}
	}
	s := newSparseForward(l, in)
	dst := make([]float32, 32*14*14)
	tmp := make([]float32, len(dst))
	for b.Loop() {
		s.forward(dst, src, tmp)
	}
}

// cpuTime is the CPU time the process has used (zero where the platform
// cannot tell).
func cpuTime() time.Duration {
	t, _ := cputime.Now()
	return t
}
