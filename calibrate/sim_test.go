package calibrate

import (
	"testing"

	"github.com/evsnn/evsnn/network"
)

// naiveRun simulates net on each image step by step, layer by layer, as
// SPEC §2 states it, with the network package's kernels at batch 1. It is
// the reference the calibrator's layer simulator is checked against.
// It returns the predictions and, per spiking layer, images × neurons
// spike counts.
func naiveRun(t testing.TB, net *network.Network, images []float32, T int) ([]int, [][]int32) {
	t.Helper()
	shapes, err := net.Shapes()
	if err != nil {
		t.Fatal(err)
	}
	size := net.Input.Size()
	count := len(images) / size
	spiking := net.SpikingLayers()
	counts := make([][]int32, len(spiking))
	for k, i := range spiking {
		counts[k] = make([]int32, count*shapes[i].Size())
	}
	preds := make([]int, count)
	var ws network.Workspace
	for img := 0; img < count; img++ {
		v := make([][]float32, len(net.Layers))
		for k, i := range spiking {
			sp := net.Layers[i].(*network.Spiking)
			v[i] = make([]float32, shapes[i].Size())
			for j := range v[i] {
				v[i][j] = sp.InitialPotential(shapes[i], j)
			}
			_ = k
		}
		acc := make([]float32, shapes[len(shapes)-1].Size())
		for step := 0; step < T; step++ {
			x, in := images[img*size:(img+1)*size], net.Input
			k := 0
			for i, l := range net.Layers {
				out := make([]float32, shapes[i].Size())
				switch l := l.(type) {
				case *network.Conv2d:
					l.Forward(out, x, in, 1, &ws)
				case *network.Linear:
					l.Forward(out, x, 1)
				case *network.AvgPool2d:
					l.Forward(out, x, in, 1)
				case *network.Flatten:
					copy(out, x)
				case *network.Spiking:
					c := counts[k][img*len(out) : (img+1)*len(out)]
					for j := range out {
						vv := l.Alpha*v[i][j] + x[j]
						th := l.ThresholdAt(shapes[i], j)
						if vv >= th {
							if l.Reset == network.ResetHard {
								vv = 0
							} else {
								vv -= th
							}
							out[j] = th
							c[j]++
						}
						v[i][j] = vv
					}
					k++
				default:
					t.Fatalf("naiveRun: layer %T", l)
				}
				x, in = out, shapes[i]
			}
			for j := range acc {
				acc[j] += x[j]
			}
		}
		preds[img] = network.Argmax(acc)
	}
	return preds, counts
}

// layeredRun simulates net with the calibrator's layer simulator, in
// blocks of images to bound memory; the readout uses the linearity of the
// last layer: Σ_t (W·s(t) + b) = W·Σ_t s(t) + T·b.
func layeredRun(t testing.TB, net *network.Network, images []float32, T int) ([]int, [][]int32) {
	t.Helper()
	stages, err := planStages(net)
	if err != nil {
		t.Fatal(err)
	}
	size := net.Input.Size()
	count := len(images) / size
	counts := make([][]int32, len(stages))
	for k, st := range stages {
		counts[k] = make([]int32, count*st.n)
	}
	preds := make([]int, 0, count)
	const block = 500
	for lo := 0; lo < count; lo += block {
		hi := min(lo+block, count)
		n := hi - lo
		imgs := images[lo*size : hi*size]
		var prev *trains
		var prevTheta []float32
		var last *stage
		for k := range stages {
			st := &stages[k]
			d, err := computeDrive(net, st, imgs, n, prev, prevTheta, T, 0)
			if err != nil {
				t.Fatal(err)
			}
			p := paramsOf(net, st)
			tr := newTrains(n, st.n, T)
			c := counts[k][lo*st.n : hi*st.n]
			parallel(0, chunks(n), func(ch int) {
				a, b := chunkRange(ch, n)
				v := make([]float32, st.n)
				for i := a; i < b; i++ {
					p.simulate(st, d.image(i), d.constant(), T, v, c[i*st.n:(i+1)*st.n], tr, i)
				}
			})
			prev, prevTheta, last = tr, p.theta, st
		}
		// Readout.
		p := paramsOf(net, last)
		r := rateInput(net, &stage{from: last.index, weighted: len(net.Layers) - 1, srcShape: last.shape},
			&layerResult{counts: counts[len(stages)-1][lo*last.n : hi*last.n], theta: p.theta}, n, T)
		out := net.Layers[len(net.Layers)-1].(*network.Linear)
		logits := make([]float32, n*out.Out)
		out.Forward(logits, r, n)
		for i := 0; i < n; i++ {
			preds = append(preds, network.Argmax(logits[i*out.Out:(i+1)*out.Out]))
		}
	}
	return preds, counts
}
