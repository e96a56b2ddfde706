package convert_test

import (
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

// The thresholds of the fixture ANN over the first 1,024 training images,
// as Activations + Thresholds compute them (TestFixtureThresholds checks
// that they still do, and that they are within 1e-5 of PyTorch's). The
// other fixture tests use these values, so that they need not run the
// ANN over the calibration set (slow under the race detector).
var (
	lenetMax    = [][]float32{{2.922324}, {16.334984}, {25.572542}}
	lenetP99_99 = [][]float32{{2.6355147}, {11.104299}, {22.728916}}
)

// calibThresholds returns the max and p99.99 thresholds of the fixture
// ANN over the first 1,024 training images.
func calibThresholds(t testing.TB, ann *network.Network) (maxTh, pctTh [][]float32) {
	return lenetMax, lenetP99_99
}

func TestFixtureThresholds(t *testing.T) {
	if testenv.RaceEnabled || testing.Short() {
		t.Skip("runs the ANN over 1,024 images: skipped with -race and -short")
	}
	ann := fixture.LeNet(t)
	exp := fixture.LoadExpected(t)
	calib, _ := fixture.MNIST(t, "train", convert.DefaultCalibImages)
	la, err := convert.Activations(ann, calib, convert.DefaultCalibImages)
	if err != nil {
		t.Fatal(err)
	}
	maxTh, err := la.Thresholds(convert.Max)
	if err != nil {
		t.Fatal(err)
	}
	pctTh, err := la.Thresholds(convert.Statistic{Percentile: 99.99})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(maxTh, lenetMax) || !reflect.DeepEqual(pctTh, lenetP99_99) {
		t.Errorf("thresholds changed: max %v p99.99 %v, recorded %v %v", maxTh, pctTh, lenetMax, lenetP99_99)
	}
	// Thresholds (no stored activations for the maximum) agrees.
	if th, err := convert.Thresholds(ann, calib, convert.DefaultCalibImages, convert.Max); err != nil || !reflect.DeepEqual(th, maxTh) {
		t.Errorf("Thresholds(max) = %v, %v; from activations %v", th, err, maxTh)
	}
	for k := range 3 {
		for _, c := range []struct {
			name string
			got  float32
			want float64
		}{{"max", maxTh[k][0], exp.Calibration.ReLUMax[k]}, {"p99.99", pctTh[k][0], exp.Calibration.ReLUP99_99[k]}} {
			rel := math.Abs(float64(c.got)-c.want) / c.want
			if rel > 1e-5 {
				t.Errorf("layer %d %s threshold = %v, fixture %v (relative error %.2g)", k, c.name, c.got, c.want, rel)
			}
			t.Logf("layer %d %s threshold = %v, fixture %v (relative error %.2g)", k, c.name, c.got, c.want, rel)
		}
	}
	// Per channel: the largest channel maximum is the layer's maximum;
	// every channel's p99.99 lies between its smallest and largest value.
	perCh, err := la.Thresholds(convert.Statistic{Percentile: 100, PerChannel: true})
	if err != nil {
		t.Fatal(err)
	}
	perChP, err := la.Thresholds(convert.Statistic{Percentile: 99.99, PerChannel: true})
	if err != nil {
		t.Fatal(err)
	}
	for k, th := range perCh {
		if len(th) != []int{16, 32, 128}[k] || slices.Max(th) != maxTh[k][0] {
			t.Errorf("layer %d: %d per-channel maxima, largest %v, layer max %v", k, len(th), slices.Max(th), maxTh[k][0])
		}
		for c := range th {
			if !(perChP[k][c] > 0 && perChP[k][c] <= th[c]) {
				t.Errorf("layer %d channel %d: p99.99 %v, max %v", k, c, perChP[k][c], th[c])
			}
		}
	}
	// Thresholds does not reorder the activations: asking again gives
	// the same answers.
	again, err := la.Thresholds(convert.Statistic{Percentile: 99.99})
	if err != nil || !reflect.DeepEqual(again, pctTh) {
		t.Errorf("second p99.99: %v, %v; first %v", again, err, pctTh)
	}
}

// TestFixtureTrace checks variant a (max thresholds, v(0) = 0) at T = 32 on
// the first 16 test images against the PyTorch trace.
func TestFixtureTrace(t *testing.T) {
	ann := fixture.LeNet(t)
	exp := fixture.LoadExpected(t)
	maxTh, _ := calibThresholds(t, ann)
	snn, err := convert.Convert(ann, maxTh, convert.Options{Images: convert.DefaultCalibImages})
	if err != nil {
		t.Fatal(err)
	}
	x, y := fixture.MNIST(t, "test", 16)
	res, err := dense.Engine{SkipSilent: true}.Run(snn, x, y, network.SimOptions{T: 32, KeepOutputs: true})
	if err != nil {
		t.Fatal(err)
	}
	tr := exp.Trace
	for i := range 16 {
		if res.Predictions[i] != tr.Pred[i] {
			t.Errorf("image %d: prediction %d, fixture %d", i, res.Predictions[i], tr.Pred[i])
		}
		for c := range 10 {
			got, want := float64(res.Outputs[i*10+c]), tr.Output[i][c]
			if rel := math.Abs(got-want) / math.Max(math.Abs(want), 1); rel > 1e-3 {
				t.Errorf("image %d class %d: output %v, fixture %v", i, c, got, want)
			}
		}
		for k := range 3 {
			if d := res.ImageSpikes[i][k] - tr.Spikes[i][k]; d < -1 || d > 1 {
				t.Errorf("image %d layer %d: %d spikes, fixture %d", i, k, res.ImageSpikes[i][k], tr.Spikes[i][k])
			}
		}
	}
	t.Logf("spikes image 0: %v fixture %v", res.ImageSpikes[0], tr.Spikes[0])
}
