package event

import (
	"fmt"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

var lenetCalibrated struct {
	sync.Mutex
	snn *network.Network
}

// calibratedLeNet is the LeNet fixture converted by convert.FromANN with
// max thresholds on the first 1,024 training images (the early-exit
// report's network).
func calibratedLeNet(tb testing.TB) *network.Network {
	tb.Helper()
	c := &lenetCalibrated
	c.Lock()
	defer c.Unlock()
	if c.snn == nil {
		x, _ := fixture.MNIST(tb, "train", 1024)
		snn, err := convert.FromANN(fixture.LeNet(tb), x, 1024, convert.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		c.snn = snn
	}
	return c.snn
}

// TestFixtureExactExit: on the LeNet fixture the exact rule keeps the
// accuracy after every step and every final prediction of the full run
// (300 test images; all 10,000 and T = 8, 16, 32 with EVSNN_FULL=1).
func TestFixtureExactExit(t *testing.T) {
	snn := calibratedLeNet(t)
	n, Ts := 300, []int{8, 32}
	switch {
	case testenv.Full():
		n, Ts = 0, []int{8, 16, 32}
	case testing.Short() || testenv.RaceEnabled:
		n, Ts = 30, []int{8}
	}
	x, y := fixture.MNIST(t, "test", n)
	exact, err := network.NewExactExit(snn)
	if err != nil {
		t.Fatal(err)
	}
	for _, T := range Ts {
		opts := network.SimOptions{T: T}
		full, fullBy := runByStep(t, snn, x, y, opts)
		opts.Exit = exact
		early, earlyBy := runByStep(t, snn, x, y, opts)
		checkSameAccuracy(t, fmt.Sprintf("T = %d", T), full, early, fullBy, earlyBy)
		steps := 0
		for _, s := range early.Steps {
			steps += s
		}
		t.Logf("T = %d: %d images, %.2f steps per image with the exact rule, %d correct", T, len(y), float64(steps)/float64(len(y)), early.CorrectByStep[T-1])
	}
}
