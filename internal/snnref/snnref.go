// Package snnref is the naive reference simulator every engine is tested
// against: SPEC §2 and §2a read literally, one image at a time, every node
// of the graph in topological order at every step, dense nested loops in
// float32, no cleverness. It is slow on purpose and not an engine: use
// package dense or event for real runs.
//
// On dyadic networks (RandomNet: weights, biases, thresholds and inputs
// small multiples of 2^-4, leak 1 or ½, pool divisors powers of two) every
// float32 sum is exact in any order, so an engine must match this
// reference spike for spike, layer by layer and step by step, and its
// readout bit for bit.
//
// Conventions it fixes for the engines:
//   - A Conv2d or Linear sums its bias first, then its products in
//     increasing input order; each product is rounded before it is added.
//   - An Add sums its inputs in order, then its bias.
//   - A spiking layer updates v = float32(α·v) + I, spikes when v ≥ θ, and
//     resets by subtraction (soft) or to zero (hard).
//   - A MaxPool after a spiking layer is count-gated (§2a), amplitude the
//     window's channel's θ. On the input it is the plain max with direct
//     encoding and count-gated with amplitude 1 on Poisson spikes.
//   - SimOptions.Delays[i] (weighted layer i) delays the input of that
//     layer by so many steps (zero before the first delayed input arrives).
//   - SimOptions.Exit: after every step t < T the rule sees the readout
//     accumulator; when it says done the image stops and its prediction
//     after t holds for every later step (Output is A(t)).
//   - SOPs: every spike of a spiking layer (or of the Poisson input) counts
//     network.FanOut of its neuron; every event of a MaxPool counts the
//     pool's FanOut and is charged to the layer the pool reads.
package snnref

import (
	"fmt"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// Raster[k][t-1] lists the neurons (network C,H,W order, increasing) of
// spiking layer k that fired at step t.
type Raster [][][]int

// Run simulates every image (count × Input.Size() values) and returns the
// result as the engines fill it.
func Run(net *network.Network, images []float32, labels []int, opts network.SimOptions) (*network.SimResult, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	sim, err := New(net, opts)
	if err != nil {
		return nil, err
	}
	size := net.Input.Size()
	if len(images)%size != 0 {
		return nil, fmt.Errorf("snnref: %d values are not whole images of %v", len(images), net.Input)
	}
	count := len(images) / size
	res, err := network.NewSimResult(net, "reference", count, labels, opts)
	if err != nil {
		return nil, err
	}
	tally := res.NewTally()
	rec := res.NewImageRecord()
	for i := 0; i < count; i++ {
		rec.Reset()
		raster := sim.Image(images[i*size:(i+1)*size], opts.ImageOffset+i, rec)
		if opts.Raster && i == 0 {
			for t := range opts.T {
				for k := range raster {
					for _, j := range raster[k][t] {
						rec.Raster = append(rec.Raster, network.RasterEvent{Layer: int32(k), Neuron: int32(j), Step: int32(t + 1)})
					}
				}
			}
		}
		tally.Add(i, rec)
		if opts.OnImage != nil {
			if err := opts.OnImage(i, rec); err != nil {
				return nil, err
			}
		}
	}
	res.AddTally(tally)
	return res, nil
}

// Sim is a network prepared for the reference simulation.
type Sim struct {
	net     *network.Network
	opts    network.SimOptions
	shapes  []network.Shape
	spiking map[int]int // layer index → spiking layer number
	fan     map[int][]int32
	// chargeTo[i] is the spiking layer (number) a MaxPool's events are
	// charged to, -1 for the input.
	chargeTo map[int]int
}

// New prepares net (an SNN) for simulation with opts.
func New(net *network.Network, opts network.SimOptions) (*Sim, error) {
	if err := net.Validate(); err != nil {
		return nil, err
	}
	shapes, _ := net.Shapes()
	s := &Sim{net: net, opts: opts, shapes: shapes, spiking: map[int]int{}, fan: map[int][]int32{}, chargeTo: map[int]int{}}
	for k, i := range net.SpikingLayers() {
		if net.Layers[i].Kind() != network.KindSpiking {
			return nil, fmt.Errorf("snnref: layer %d (%q) is a ReLU: convert the network first", i, net.Layers[i].Name())
		}
		s.spiking[i] = k
	}
	if len(s.spiking) == 0 {
		return nil, fmt.Errorf("snnref: no spiking layer")
	}
	if opts.Delays != nil && len(opts.Delays) != len(net.Layers) {
		return nil, fmt.Errorf("snnref: %d delays for %d layers", len(opts.Delays), len(net.Layers))
	}
	sources := []int{network.InputNode}
	for i := range net.Layers {
		if net.IsSource(i) {
			sources = append(sources, i)
		}
	}
	for _, i := range sources {
		fan, err := net.FanOut(i)
		if err != nil {
			return nil, err
		}
		s.fan[i] = fan
		if i >= 0 && net.Layers[i].Kind() == network.KindMaxPool2d {
			src := net.InputOf(i)
			s.chargeTo[i] = -1
			if src >= 0 {
				s.chargeTo[i] = s.spiking[src]
			}
		}
	}
	return s, nil
}

// Image simulates one image x with dataset index image (it seeds Poisson
// input) into rec (from SimResult.NewImageRecord, Reset) and returns its
// raster.
func (s *Sim) Image(x []float32, image int, rec *network.ImageRecord) Raster {
	net, opts, shapes := s.net, s.opts, s.shapes
	T := opts.T
	L := len(net.Layers)
	raster := make(Raster, len(s.spiking))
	for k := range raster {
		raster[k] = make([][]int, T)
	}
	v := map[int][]float32{}
	first := map[int][]int{} // step of each neuron's first spike, 0 for none
	for i := range s.spiking {
		sp := net.Layers[i].(*network.Spiking)
		v[i] = make([]float32, shapes[i].Size())
		for j := range v[i] {
			v[i][j] = sp.InitialPotential(shapes[i], j)
		}
		first[i] = make([]int, shapes[i].Size())
	}
	// Count-gated MaxPools: the spike count of every input neuron and the
	// last window maxima.
	poolCount := map[int][]int{}
	poolMax := map[int][]int{}
	// hist[i][t] is the input of delayed weighted layer i at step t.
	hist := map[int][][]float32{}
	acc := make([]float32, shapes[L-1].Size())
	outs := make([][]float32, L)
	frame := make([]float32, len(x))
	for t := 1; t <= T; t++ {
		in0 := x
		if opts.Encoding == network.EncodingPoisson {
			n := network.PoissonFrame(frame, x, opts.Seed, image, t)
			rec.InputSpikes += int64(n)
			for j, f := range frame {
				if f != 0 {
					rec.InputSOPs += int64(s.fan[network.InputNode][j])
				}
			}
			in0 = frame
		}
		output := func(j int) []float32 {
			if j == network.InputNode {
				return in0
			}
			return outs[j]
		}
		for i, l := range net.Layers {
			src := net.InputOf(i)
			in, inShape := output(src), net.ShapeOf(shapes, src)
			out := make([]float32, shapes[i].Size())
			switch l := l.(type) {
			case *network.Conv2d, *network.Linear, *network.SparseLinear:
				if d := s.delay(i); d > 0 {
					if hist[i] == nil {
						hist[i] = make([][]float32, T+1)
					}
					hist[i][t] = slices.Clone(in)
					in = make([]float32, len(in))
					if t-d >= 1 {
						in = hist[i][t-d]
					}
				}
				switch l := l.(type) {
				case *network.Conv2d:
					conv(l, in, inShape, shapes[i], out)
				case *network.Linear:
					linear(l, in, out)
				case *network.SparseLinear:
					l.Forward(out, in, 1)
				}
			case *network.AvgPool2d:
				l.Forward(out, in, inShape, 1)
			case *network.GlobalAvgPool:
				l.Forward(out, in, inShape, 1)
			case *network.Flatten:
				copy(out, in)
			case *network.Add:
				ins := net.InputsOf(i)
				srcs := make([][]float32, len(ins))
				for k, j := range ins {
					srcs[k] = output(j)
				}
				l.Forward(out, srcs, shapes[i], 1)
			case *network.MaxPool2d:
				if src == network.InputNode && opts.Encoding != network.EncodingPoisson {
					l.Forward(out, in, inShape, 1)
					break
				}
				if poolCount[i] == nil {
					poolCount[i] = make([]int, inShape.Size())
					poolMax[i] = make([]int, shapes[i].Size())
				}
				events := s.countGated(l, src, in, inShape, shapes[i], poolCount[i], poolMax[i], out)
				sops := int64(0)
				for _, w := range events {
					sops += int64(s.fan[i][w])
				}
				if k := s.chargeTo[i]; k >= 0 {
					rec.SOPs[k] += sops
				} else {
					rec.InputSOPs += sops
				}
			case *network.Spiking:
				k := s.spiking[i]
				vi := v[i]
				fired := len(raster[k][t-1])
				for j := range vi {
					vj := float32(l.Alpha*vi[j]) + in[j]
					th := l.ThresholdAt(shapes[i], j)
					if vj >= th {
						out[j] = th
						raster[k][t-1] = append(raster[k][t-1], j)
						rec.Spikes[k]++
						rec.SpikesByStep[k][t-1]++
						rec.SOPs[k] += int64(s.fan[i][j])
						if rec.Counts != nil {
							rec.Counts[k][j]++
						}
						if first[i][j] == 0 {
							first[i][j] = t
							rec.FirstSpikeSum[k] += int64(t)
							rec.FirstSpikers[k]++
						}
						if l.Reset == network.ResetHard {
							vj = 0
						} else {
							vj -= th
						}
					}
					vi[j] = vj
				}
				if rec.Recorded != nil {
					var ns []int32
					for _, j := range raster[k][t-1][fired:] {
						ns = append(ns, int32(j))
					}
					rec.Recorded.Add(k, t, ns)
				}
			default:
				panic(fmt.Sprintf("snnref: layer %d: unsupported %T", i, l))
			}
			outs[i] = out
		}
		for o, a := range outs[L-1] {
			acc[o] += a
		}
		rec.PredictionByStep[t-1] = network.Argmax(acc)
		rec.Steps = t
		if opts.Exit != nil && t < T && opts.Exit.Done(t, T, acc) {
			// Stopped early: the prediction holds for every later step.
			for u := t; u < T; u++ {
				rec.PredictionByStep[u] = rec.PredictionByStep[t-1]
			}
			break
		}
	}
	copy(rec.Output, acc)
	rec.Prediction = rec.PredictionByStep[T-1]
	return raster
}

func (s *Sim) delay(i int) int {
	if s.opts.Delays == nil {
		return 0
	}
	return s.opts.Delays[i]
}

// countGated is the MaxPool of SPEC §2a on the spike tensor in: it counts
// every input neuron's spikes and emits, into out, θ (the input's
// amplitude) for every window whose largest count rose. It returns the
// windows that emitted.
func (s *Sim) countGated(l *network.MaxPool2d, src int, in []float32, inShape, outShape network.Shape, count, last []int, out []float32) []int {
	amp := func(c int) float32 { return 1 }
	if src != network.InputNode {
		sp := s.net.Layers[src].(*network.Spiking)
		amp = func(c int) float32 { return sp.ThresholdAt(inShape, c*inShape[1]*inShape[2]) }
	}
	for j, a := range in {
		if a != 0 {
			count[j]++
		}
	}
	C, H, W := inShape[0], inShape[1], inShape[2]
	oh, ow := outShape[1], outShape[2]
	win := l.Window()
	var events []int
	for c := 0; c < C; c++ {
		for oy := 0; oy < oh; oy++ {
			y0, y1 := win.Rows(oy, H)
			for ox := 0; ox < ow; ox++ {
				x0, x1 := win.Cols(ox, W)
				m := 0
				for y := y0; y < y1; y++ {
					for x := x0; x < x1; x++ {
						m = max(m, count[(c*H+y)*W+x])
					}
				}
				w := (c*oh+oy)*ow + ox
				if m > last[w] {
					out[w] = amp(c)
					events = append(events, w)
				}
				last[w] = m
			}
		}
	}
	return events
}

func linear(l *network.Linear, in, out []float32) {
	for o := range out {
		s := l.Bias[o]
		for j := 0; j < l.In; j++ {
			s += float32(l.Weight[o*l.In+j] * in[j])
		}
		out[o] = s
	}
}

func conv(l *network.Conv2d, x []float32, in, outShape network.Shape, y []float32) {
	h, w := in[1], in[2]
	oh, ow := outShape[1], outShape[2]
	for co := 0; co < l.OutC; co++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				s := l.Bias[co]
				for ci := 0; ci < l.InC; ci++ {
					for ky := 0; ky < l.KH; ky++ {
						iy := oy*l.StrideH - l.PadH + ky
						if iy < 0 || iy >= h {
							continue
						}
						for kx := 0; kx < l.KW; kx++ {
							ix := ox*l.StrideW - l.PadW + kx
							if ix < 0 || ix >= w {
								continue
							}
							s += float32(l.Weight[((co*l.InC+ci)*l.KH+ky)*l.KW+kx] * x[(ci*h+iy)*w+ix])
						}
					}
				}
				y[(co*oh+oy)*ow+ox] = s
			}
		}
	}
}
