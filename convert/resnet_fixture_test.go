package convert_test

import (
	"math"
	"testing"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/testenv"
)

// TestResNetFixtureThresholds: the max threshold of every ReLU of the
// ResNet fixture over the first 1,024 training images (after an Add: the
// ReLU of the sum) is PyTorch's within 1e-5 relative.
func TestResNetFixtureThresholds(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("skipped under -race: the forward pass over 1,024 images is slow")
	}
	const n = 1024
	ann := fixture.ResNet(t)
	want := fixture.LoadResNetExpected(t)
	x, _ := fixture.MNIST(t, "train", n)
	th, err := convert.Thresholds(ann, x, n, convert.Max)
	if err != nil {
		t.Fatal(err)
	}
	for k, name := range want.SpikingLayers {
		w := want.Calibration.ReLUMax[name]
		if rel := math.Abs(float64(th[k][0])-w) / w; rel > 1e-5 {
			t.Errorf("%s: θ = %v, PyTorch %v (relative %.2g)", name, th[k][0], w, rel)
		}
	}
	snn, err := convert.Convert(ann, th, convert.Options{BiasShift: true, T: 8})
	if err != nil {
		t.Fatal(err)
	}
	if snn.Meta.Conversion == nil || !snn.Meta.Conversion.BiasShift {
		t.Fatalf("conversion not recorded: %+v", snn.Meta.Conversion)
	}
}
