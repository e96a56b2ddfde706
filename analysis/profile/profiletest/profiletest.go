// Package profiletest provides what the tests and examples of the profile,
// plot and report packages share: a small, slow, plainly written reference
// simulation of SPEC §2 (direct input, one image at a time, every counter a
// SimResult has) and small networks and images to run it on.
//
// It is not an engine: use dense or event for real runs.
package profiletest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/evsnn/evsnn/network"
)

// Simulate runs net on count images (direct encoding) for T steps and fills
// in a SimResult as the engines do, with Counts, Outputs and the raster of
// the first image. labels may be nil.
func Simulate(net *network.Network, images []float32, labels []int, T int) (*network.SimResult, []network.RasterEvent, error) {
	shapes, err := net.Shapes()
	if err != nil {
		return nil, nil, err
	}
	inSize := net.Input.Size()
	if inSize == 0 || len(images)%inSize != 0 {
		return nil, nil, fmt.Errorf("simulate: %d values are not whole images of %v", len(images), net.Input)
	}
	count := len(images) / inSize
	if labels != nil && len(labels) != count {
		return nil, nil, fmt.Errorf("simulate: %d labels for %d images", len(labels), count)
	}
	spiking := net.SpikingLayers()
	res := &network.SimResult{Engine: "reference", T: T, Images: count}
	fans := make([][]int32, len(spiking))
	kOf := map[int]int{}
	for k, li := range spiking {
		kOf[li] = k
		res.Layers = append(res.Layers, network.LayerStats{
			Name: net.Layers[li].Name(), Layer: li, Neurons: shapes[li].Size(),
			SpikesByStep: make([]int64, T),
		})
		res.Counts = append(res.Counts, make([]int32, count*shapes[li].Size()))
		if net.NextWeighted(li) >= 0 {
			if fans[k], err = net.FanOut(li); err != nil {
				return nil, nil, err
			}
		}
	}
	if labels != nil {
		res.CorrectByStep = make([]int, T)
	}
	classes := shapes[len(shapes)-1].Size()
	res.Outputs = make([]float32, count*classes)
	var raster []network.RasterEvent
	var ws network.Workspace
	for img := 0; img < count; img++ {
		x := images[img*inSize : (img+1)*inSize]
		v := make([][]float32, len(net.Layers))
		first := make([][]int32, len(net.Layers))
		for _, li := range spiking {
			sp := net.Layers[li].(*network.Spiking)
			v[li] = make([]float32, shapes[li].Size())
			first[li] = make([]int32, shapes[li].Size())
			for j := range v[li] {
				v[li][j] = sp.InitialPotential(shapes[li], j)
			}
		}
		acc := res.Outputs[img*classes : (img+1)*classes]
		imgSpikes := make([]int64, len(spiking))
		for t := 1; t <= T; t++ {
			in, inShape := x, net.Input
			for i, l := range net.Layers {
				out := make([]float32, shapes[i].Size())
				switch l := l.(type) {
				case *network.Conv2d:
					l.Forward(out, in, inShape, 1, &ws)
				case *network.AvgPool2d:
					l.Forward(out, in, inShape, 1)
				case *network.Linear:
					l.Forward(out, in, 1)
				case *network.Flatten:
					copy(out, in)
				case *network.Spiking:
					k := kOf[i]
					st := &res.Layers[k]
					n := len(out)
					for j, cur := range in {
						th := l.ThresholdAt(shapes[i], j)
						vt := l.Alpha*v[i][j] + cur
						if vt >= th {
							out[j] = th
							if l.Reset == network.ResetHard {
								vt = 0
							} else {
								vt -= th
							}
							st.Spikes++
							st.SpikesByStep[t-1]++
							res.Counts[k][img*n+j]++
							imgSpikes[k]++
							if fans[k] != nil {
								st.SOPs += int64(fans[k][j])
							}
							if first[i][j] == 0 {
								first[i][j] = int32(t)
								st.FirstSpikeSum += int64(t)
								st.FirstSpikers++
							}
							if img == 0 {
								raster = append(raster, network.RasterEvent{Layer: int32(k), Neuron: int32(j), Step: int32(t)})
							}
						}
						v[i][j] = vt
					}
				default:
					return nil, nil, fmt.Errorf("simulate: layer %d: %T is not supported", i, l)
				}
				in, inShape = out, shapes[i]
			}
			for c := range acc {
				acc[c] += in[c]
			}
			if labels != nil && network.Argmax(acc) == labels[img] {
				res.CorrectByStep[t-1]++
			}
		}
		res.Predictions = append(res.Predictions, network.Argmax(acc))
		res.ImageSpikes = append(res.ImageSpikes, imgSpikes)
	}
	return res, raster, nil
}

// ConvNet returns a small converted LeNet-like SNN on [1,12,12] inputs with
// random weights from seed: conv1 (4×3×3) → sp1 → pool1 (2×2) → conv2
// (8×3×3) → sp2 → flatten → fc1 (32) → sp3 → fc2 (10, readout). Biases are
// small and positive, thresholds are fitted to the ANN's maximum activation
// on images so that every layer fires.
func ConvNet(seed uint64, images []float32) *network.Network {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	rnd := func(n int, scale float32) []float32 {
		w := make([]float32, n)
		for i := range w {
			w[i] = float32(r.NormFloat64()) * scale
		}
		return w
	}
	conv1 := &network.Conv2d{LayerName: "conv1", InC: 1, OutC: 4, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
		Weight: rnd(4*9, 0.5), Bias: rnd(4, 0.05)}
	conv2 := &network.Conv2d{LayerName: "conv2", InC: 4, OutC: 8, KH: 3, KW: 3, StrideH: 1, StrideW: 1,
		Weight: rnd(8*4*9, 0.3), Bias: rnd(8, 0.05)}
	fc1 := &network.Linear{LayerName: "fc1", In: 8 * 4 * 4, Out: 32, Weight: rnd(32*128, 0.15), Bias: rnd(32, 0.05)}
	fc2 := &network.Linear{LayerName: "fc2", In: 32, Out: 10, Weight: rnd(10*32, 0.3), Bias: rnd(10, 0.05)}
	sp := func(name string) *network.Spiking {
		return &network.Spiking{LayerName: name, Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft}
	}
	net := &network.Network{
		Input: network.Shape{1, 12, 12},
		Layers: []network.Layer{
			conv1, sp("sp1"), &network.AvgPool2d{LayerName: "pool1", KH: 2, KW: 2, StrideH: 2, StrideW: 2},
			conv2, sp("sp2"), &network.Flatten{LayerName: "flatten"}, fc1, sp("sp3"), fc2,
		},
	}
	if images != nil {
		count := len(images) / net.Input.Size()
		if act, err := net.Forward(images, count); err == nil {
			for _, li := range net.SpikingLayers() {
				m := float32(0)
				for _, v := range act.Output[li] {
					m = max(m, v)
				}
				if m > 0 && !math.IsInf(float64(m), 0) {
					net.Layers[li].(*network.Spiking).Threshold[0] = m
				}
			}
		}
	}
	return net
}

// Images returns count random [1,12,12] images with pixels in [0,1): a
// bright blob on a dark background, and labels (the blob's quadrant and
// size, 0..9).
func Images(seed uint64, count int) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 0x1a6e))
	x := make([]float32, count*144)
	labels := make([]int, count)
	for i := range count {
		cy, cx := r.IntN(12), r.IntN(12)
		rad := 1 + r.IntN(4)
		img := x[i*144 : (i+1)*144]
		for y := range 12 {
			for xx := range 12 {
				d := float64((y-cy)*(y-cy) + (xx-cx)*(xx-cx))
				img[y*12+xx] = float32(math.Min(0.999, 0.1*r.Float64()+math.Exp(-d/float64(rad*rad))))
			}
		}
		labels[i] = (cy/6*2+cx/6)*2 + rad/3
		labels[i] %= 10
	}
	return x, labels
}

// ANNLabels returns the ANN's own predictions on images: used as labels,
// they make the ANN 100 % accurate and show how fast the SNN catches up.
func ANNLabels(net *network.Network, images []float32) ([]int, error) {
	return net.Predict(images, len(images)/net.Input.Size(), 256)
}
