package convert

import (
	"fmt"
	"math"

	"github.com/evsnn/evsnn/network"
)

// DefaultCalibImages is the default size of the calibration set: the first
// 1,024 training images (SPEC §3).
const DefaultCalibImages = 1024

// ForwardBatch is the number of images Activations runs through the ANN at
// a time.
const ForwardBatch = 128

// ForEachBatch runs the network (an ANN, or an SNN read as the ANN it came
// from) over the first n images of x in batches of at most ForwardBatch
// and calls fn with the index of each batch's first image and every
// layer's outputs for that batch. It stops at the first error fn returns.
func ForEachBatch(net *network.Network, x []float32, n int, fn func(start int, act *network.Activations) error) error {
	if net == nil {
		return fmt.Errorf("nil network")
	}
	size := net.Input.Size()
	if size <= 0 {
		return fmt.Errorf("input shape %v is empty", net.Input)
	}
	if n <= 0 {
		return fmt.Errorf("%d calibration images: need at least one", n)
	}
	if len(x) < n*size {
		return fmt.Errorf("%d calibration images requested, only %d given", n, len(x)/size)
	}
	for start := 0; start < n; start += ForwardBatch {
		b := min(ForwardBatch, n-start)
		act, err := net.Forward(x[start*size:(start+b)*size], b)
		if err != nil {
			return err
		}
		if err := fn(start, act); err != nil {
			return err
		}
	}
	return nil
}

// LayerActivations are the outputs of the ReLU (or spiking) layers of a
// network over a set of images.
type LayerActivations struct {
	// Layers are the indices in Network.Layers (Network.SpikingLayers).
	Layers []int
	// Shapes are the per-image shapes of those layers.
	Shapes []network.Shape
	// Images is the number of images.
	Images int
	// Values[k] holds Images × Shapes[k].Size() values, image-major.
	Values [][]float32
}

// Activations runs the ANN over the first n images of x (n × Input.Size()
// values, pixels scaled to [0,1]) and returns every ReLU layer's output.
// It holds n × (sum of the ReLU layers' sizes) float32s: 78 MB for the
// LeNet fixture over 1,024 images.
func Activations(ann *network.Network, x []float32, n int) (*LayerActivations, error) {
	if err := ann.Validate(); err != nil {
		return nil, err
	}
	la := &LayerActivations{Layers: ann.SpikingLayers(), Images: n}
	if len(la.Layers) == 0 {
		return nil, fmt.Errorf("the network has no ReLU layer: nothing to convert")
	}
	shapes, err := ann.Shapes()
	if err != nil {
		return nil, err
	}
	for _, li := range la.Layers {
		la.Shapes = append(la.Shapes, shapes[li])
		if int64(n)*int64(shapes[li].Size()) > network.MaxElements {
			return nil, fmt.Errorf("%d images × %d activations of layer %d are too many to hold", n, shapes[li].Size(), li)
		}
		la.Values = append(la.Values, make([]float32, 0, n*shapes[li].Size()))
	}
	err = ForEachBatch(ann, x, n, func(_ int, act *network.Activations) error {
		for k, li := range la.Layers {
			la.Values[k] = append(la.Values[k], act.Output[li]...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return la, nil
}

// Thresholds computes one threshold vector per ReLU layer from the
// activations: a single value, or one per channel with a per-channel
// statistic. It leaves la unchanged (percentiles are selected in a
// scratch copy of one layer at a time).
//
// A channel whose statistic is 0 (it never fired on the calibration set)
// gets its layer's statistic instead, so that every threshold is positive;
// a layer whose statistic is 0 is an error.
func (la *LayerActivations) Thresholds(stat Statistic) ([][]float32, error) {
	if err := stat.check(); err != nil {
		return nil, err
	}
	th := make([][]float32, len(la.Layers))
	var scratch []float32
	// percentile of v without reordering it.
	percentile := func(v []float32, p float64) float64 {
		if p >= 100 {
			return float64(maxOf(v))
		}
		scratch = append(scratch[:0], v...)
		return Percentile(scratch, p)
	}
	for k, vals := range la.Values {
		sh := la.Shapes[k]
		if len(vals) == 0 {
			return nil, fmt.Errorf("layer %d: no activations", la.Layers[k])
		}
		if !stat.PerChannel {
			t := percentile(vals, stat.Percentile)
			if !(t > 0) || math.IsInf(t, 0) {
				return nil, fmt.Errorf("layer %d: the %s activation over %d images is %v: the layer never fires on the calibration set",
					la.Layers[k], stat, la.Images, t)
			}
			th[k] = []float32{float32(t)}
			continue
		}
		ch := sh[0]
		per := sh.Size() / ch
		buf := make([]float32, 0, la.Images*per)
		th[k] = make([]float32, ch)
		var zero []int
		for c := 0; c < ch; c++ {
			buf = buf[:0]
			for i := 0; i < la.Images; i++ {
				off := i*sh.Size() + c*per
				buf = append(buf, vals[off:off+per]...)
			}
			t := Percentile(buf, stat.Percentile)
			if !(t > 0) {
				zero = append(zero, c)
				continue
			}
			th[k][c] = float32(t)
		}
		if len(zero) > 0 {
			t := percentile(vals, stat.Percentile)
			if !(t > 0) {
				return nil, fmt.Errorf("layer %d: the %s activation over %d images is %v: the layer never fires on the calibration set",
					la.Layers[k], Statistic{Percentile: stat.Percentile}, la.Images, t)
			}
			for _, c := range zero {
				th[k][c] = float32(t)
			}
		}
	}
	return th, nil
}

// Thresholds runs the ANN over the first n calibration images of x and
// returns the thresholds of its ReLU layers for the statistic (SPEC §3).
// For the maximum over whole layers it keeps only running maxima; other
// statistics hold all activations (see Activations).
func Thresholds(ann *network.Network, x []float32, n int, stat Statistic) ([][]float32, error) {
	if err := stat.check(); err != nil {
		return nil, err
	}
	if stat.Percentile < 100 || stat.PerChannel {
		la, err := Activations(ann, x, n)
		if err != nil {
			return nil, err
		}
		return la.Thresholds(stat)
	}
	if err := ann.Validate(); err != nil {
		return nil, err
	}
	layers := ann.SpikingLayers()
	if len(layers) == 0 {
		return nil, fmt.Errorf("the network has no ReLU layer: nothing to convert")
	}
	mx := make([]float32, len(layers))
	err := ForEachBatch(ann, x, n, func(_ int, act *network.Activations) error {
		for k, li := range layers {
			mx[k] = max(mx[k], maxOf(act.Output[li]))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	th := make([][]float32, len(layers))
	for k, m := range mx {
		if !(m > 0) {
			return nil, fmt.Errorf("layer %d: the maximum activation over %d images is 0: the layer never fires on the calibration set", layers[k], n)
		}
		th[k] = []float32{m}
	}
	return th, nil
}
