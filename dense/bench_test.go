package dense_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/evsnn/evsnn/internal/cputime"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

// fixtureSNN is the fixture LeNet converted as variant a (max thresholds
// of the fixture, IF, soft reset, v(0) = 0), built by hand so that this
// package's tests do not depend on package convert.
func fixtureSNN(tb testing.TB) *network.Network {
	tb.Helper()
	snn := fixture.LeNet(tb)
	exp := fixture.LoadExpected(tb)
	k := 0
	for i, l := range snn.Layers {
		if l.Kind() == network.KindReLU {
			snn.Layers[i] = &network.Spiking{LayerName: l.Name(), Threshold: []float32{float32(exp.Calibration.ReLUMax[k])},
				Alpha: 1, Reset: network.ResetSoft}
			k++
		}
	}
	if err := snn.Validate(); err != nil {
		tb.Fatal(err)
	}
	return snn
}

// BenchmarkLeNet times the dense engine on the fixture LeNet (variant a,
// T = 32, direct input, one worker) at batch sizes 1 and 100 over 100
// test images, and reports wall and CPU milliseconds per image per step.
// Run it with GOMAXPROCS=1:
//
//	GOMAXPROCS=1 go test -run XXX -bench LeNet ./dense/
func BenchmarkLeNet(b *testing.B) {
	snn := fixtureSNN(b)
	const images, T = 100, 32
	x, y := fixture.MNIST(b, "test", images)
	for _, bs := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("batch=%d", bs), func(b *testing.B) {
			e := dense.Engine{BatchSize: bs}
			opts := network.SimOptions{T: T, Workers: 1}
			c0 := cpuTime()
			for b.Loop() {
				if _, err := e.Run(snn, x, y, opts); err != nil {
					b.Fatal(err)
				}
			}
			per := float64(b.N * images * T)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/per, "ms/image/step")
			b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/1e6/per, "cpu-ms/image/step")
		})
	}
}

// BenchmarkResNet times the dense engine, full products and skipped
// zeros, on the ResNet fixture (variant a, T = 32, direct input, one
// worker) over 20 test images, per image per step:
//
//	GOMAXPROCS=1 go test -run XXX -bench ResNet ./dense/
func BenchmarkResNet(b *testing.B) {
	snn := fixture.ResNetSNN(b, "a", 0)
	const images, T = 20, 32
	x, y := fixture.MNIST(b, "test", images)
	for _, e := range []dense.Engine{{}, {SkipSilent: true}} {
		b.Run(e.Name(), func(b *testing.B) {
			opts := network.SimOptions{T: T, Workers: 1}
			c0 := cpuTime()
			for b.Loop() {
				if _, err := e.Run(snn, x, y, opts); err != nil {
					b.Fatal(err)
				}
			}
			per := float64(b.N * images * T)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/per, "ms/image/step")
			b.ReportMetric(float64((cpuTime()-c0).Nanoseconds())/1e6/per, "cpu-ms/image/step")
		})
	}
}

// cpuTime is the CPU time the process has used (zero where the platform
// cannot tell).
func cpuTime() time.Duration {
	t, _ := cputime.Now()
	return t
}
