package calibrate

import (
	"testing"

	"github.com/evsnn/evsnn/network"
)

// TestWCKeepZeros: with WCKeepZeros weight calibration leaves every weight
// that was exactly zero at zero and trains the others; without it the
// zeros move (so the test can tell).
func TestWCKeepZeros(t *testing.T) {
	ann := smallNet(5)
	// Zero every third weight of every weighted layer: a pruned network.
	for _, l := range ann.Layers {
		switch l := l.(type) {
		case *network.Conv2d:
			for i := 0; i < len(l.Weight); i += 3 {
				l.Weight[i] = 0
			}
		case *network.Linear:
			for i := 0; i < len(l.Weight); i += 3 {
				l.Weight[i] = 0
			}
		}
	}
	images := randomImages(9, 48, 64)
	weights := func(net *network.Network) [][]float32 {
		var ws [][]float32
		for _, l := range net.Layers {
			switch l := l.(type) {
			case *network.Conv2d:
				ws = append(ws, l.Weight)
			case *network.Linear:
				ws = append(ws, l.Weight)
			}
		}
		return ws
	}
	before := weights(ann)
	for _, keep := range []bool{true, false} {
		snn, _, err := Calibrate(ann, images, Options{T: 4, Method: Method{Search: true, WC: true}, Seed: 1, WCIters: 40, KeepWorse: true, WCKeepZeros: keep})
		if err != nil {
			t.Fatal(err)
		}
		movedZeros, moved := 0, 0
		for j, w := range weights(snn) {
			for i, v := range w {
				switch {
				case before[j][i] == 0 && v != 0:
					movedZeros++
				case before[j][i] != 0 && v != before[j][i]:
					moved++
				}
			}
		}
		if keep && (movedZeros != 0 || moved == 0) {
			t.Errorf("WCKeepZeros: %d zero weights moved, %d others trained", movedZeros, moved)
		}
		if !keep && movedZeros == 0 {
			t.Errorf("without WCKeepZeros no zero weight moved: the case tests nothing")
		}
	}
}
