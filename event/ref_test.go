package event

import (
	"math/rand/v2"

	"github.com/evsnn/evsnn/network"
)

// refResult is what the naive reference produces for one image.
type refResult struct {
	predByStep []int
	output     []float32
	// raster[k][t-1] lists the spiking neurons (network order) of spiking
	// layer k at step t.
	raster [][][]int
}

// refRun is a naive, literal per-step float32 simulation of SPEC §2: every
// step, every layer in order, dense loops, delays as a history of inputs.
func refRun(net *network.Network, x []float32, image int, opts network.SimOptions) refResult {
	shapes, err := net.Shapes()
	if err != nil {
		panic(err)
	}
	L := len(net.Layers)
	v := make([][]float32, L)
	hist := make([][][]float32, L) // hist[i][t] = input of weighted layer i at step t
	nsp := 0
	spikingIdx := map[int]int{}
	for i, l := range net.Layers {
		if s, ok := l.(*network.Spiking); ok {
			v[i] = make([]float32, shapes[i].Size())
			for j := range v[i] {
				v[i][j] = s.InitialPotential(shapes[i], j)
			}
			spikingIdx[i] = nsp
			nsp++
		}
		hist[i] = make([][]float32, opts.T+1)
	}
	var r refResult
	r.raster = make([][][]int, nsp)
	for k := range r.raster {
		r.raster[k] = make([][]int, opts.T)
	}
	A := make([]float32, shapes[L-1].Size())
	for t := 1; t <= opts.T; t++ {
		cur := make([]float32, len(x))
		if opts.Encoding == network.EncodingPoisson {
			network.PoissonFrame(cur, x, opts.Seed, image, t)
		} else {
			copy(cur, x)
		}
		inShape := net.Input
		for i, l := range net.Layers {
			d := 0
			if opts.Delays != nil {
				d = opts.Delays[i]
			}
			switch l := l.(type) {
			case *network.AvgPool2d:
				cur = refPool(l, cur, inShape, shapes[i])
			case *network.Flatten:
			case *network.Conv2d:
				hist[i][t] = cur
				in := make([]float32, len(cur))
				if t-d >= 1 {
					in = hist[i][t-d]
				}
				cur = refConv(l, in, inShape, shapes[i])
			case *network.Linear:
				hist[i][t] = cur
				in := make([]float32, len(cur))
				if t-d >= 1 {
					in = hist[i][t-d]
				}
				out := make([]float32, l.Out)
				for o := range out {
					var s float32
					for j := 0; j < l.In; j++ {
						s += l.Weight[o*l.In+j] * in[j]
					}
					out[o] = s + l.Bias[o]
				}
				cur = out
			case *network.Spiking:
				k := spikingIdx[i]
				out := make([]float32, len(cur))
				for j := range cur {
					vj := float32(l.Alpha*v[i][j]) + cur[j]
					th := l.ThresholdAt(shapes[i], j)
					if vj >= th {
						out[j] = th
						r.raster[k][t-1] = append(r.raster[k][t-1], j)
						if l.Reset == network.ResetHard {
							vj = 0
						} else {
							vj -= th
						}
					}
					v[i][j] = vj
				}
				cur = out
			}
			inShape = shapes[i]
		}
		for o := range A {
			A[o] += cur[o]
		}
		r.predByStep = append(r.predByStep, network.Argmax(A))
	}
	r.output = A
	return r
}

func refPool(l *network.AvgPool2d, x []float32, in, out network.Shape) []float32 {
	y := make([]float32, out.Size())
	l.Forward(y, x, in, 1)
	return y
}

func refConv(l *network.Conv2d, x []float32, in, out network.Shape) []float32 {
	y := make([]float32, out.Size())
	h, w := in[1], in[2]
	oh, ow := out[1], out[2]
	for co := 0; co < l.OutC; co++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				var s float32
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
							s += l.Weight[((co*l.InC+ci)*l.KH+ky)*l.KW+kx] * x[(ci*h+iy)*w+ix]
						}
					}
				}
				y[(co*oh+oy)*ow+ox] = s + l.Bias[co]
			}
		}
	}
	return y
}

// dyadic returns k·2^-4 for a uniform integer k in [lo, hi].
func dyadic(r *rand.Rand, lo, hi int) float32 {
	return float32(lo+r.IntN(hi-lo+1)) / 16
}

func dyadicSlice(r *rand.Rand, n, lo, hi int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = dyadic(r, lo, hi)
	}
	return s
}

// randomSpiking is a spiking layer with dyadic parameters.
func randomSpiking(r *rand.Rand, name string, sh network.Shape, alpha float32, reset network.Reset) *network.Spiking {
	s := &network.Spiking{LayerName: name, Alpha: alpha, Reset: reset}
	if r.IntN(2) == 0 {
		s.Threshold = []float32{dyadic(r, 8, 24)}
	} else {
		s.Threshold = dyadicSlice(r, sh[0], 6, 28)
	}
	if r.IntN(3) == 0 {
		s.V0Fraction = 0.5
	}
	if r.IntN(3) == 0 {
		s.V0 = dyadicSlice(r, sh.Size(), -8, 8)
	}
	return s
}

// randomNet builds a random small SNN with dyadic values: kind 0 is
// conv+pool+conv+pool+linear, kind 1 pure linear.
func randomNet(r *rand.Rand, kind int, alpha float32, reset network.Reset) *network.Network {
	net := &network.Network{}
	add := func(l network.Layer) network.Shape {
		net.Layers = append(net.Layers, l)
		sh, err := net.Shapes()
		if err != nil {
			panic(err)
		}
		return sh[len(sh)-1]
	}
	if kind == 0 {
		inC := 1 + r.IntN(2)
		net.Input = network.Shape{inC, 8 + r.IntN(3), 8 + r.IntN(3)}
		c1 := 2 + r.IntN(3)
		stride := 1
		if r.IntN(4) == 0 {
			stride = 2
		}
		pad := r.IntN(2)
		sh := add(&network.Conv2d{LayerName: "conv1", InC: inC, OutC: c1, KH: 3, KW: 3, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad,
			Weight: dyadicSlice(r, c1*inC*9, -10, 14), Bias: dyadicSlice(r, c1, -4, 6)})
		sh = add(randomSpiking(r, "sp1", sh, alpha, reset))
		ps := 2
		if r.IntN(3) == 0 {
			ps = 1 // overlapping windows
		}
		sh = add(&network.AvgPool2d{LayerName: "pool1", KH: 2, KW: 2, StrideH: ps, StrideW: ps})
		c2 := 2 + r.IntN(3)
		sh = add(&network.Conv2d{LayerName: "conv2", InC: sh[0], OutC: c2, KH: 3, KW: 3, StrideH: 1, StrideW: 1, PadH: 1, PadW: 1,
			Weight: dyadicSlice(r, c2*sh[0]*9, -10, 14), Bias: dyadicSlice(r, c2, -4, 6)})
		sh = add(randomSpiking(r, "sp2", sh, alpha, reset))
		if sh[1] >= 2 && sh[2] >= 2 && r.IntN(2) == 0 {
			sh = add(&network.AvgPool2d{LayerName: "pool2", KH: 2, KW: 2, StrideH: 2, StrideW: 2})
		}
		sh = add(&network.Flatten{LayerName: "flatten"})
		h := 6 + r.IntN(6)
		sh = add(&network.Linear{LayerName: "fc1", In: sh[0], Out: h, Weight: dyadicSlice(r, h*sh[0], -8, 10), Bias: dyadicSlice(r, h, -4, 6)})
		sh = add(randomSpiking(r, "sp3", sh, alpha, reset))
		add(&network.Linear{LayerName: "fc2", In: h, Out: 5, Weight: dyadicSlice(r, 5*h, -16, 16), Bias: dyadicSlice(r, 5, -4, 4)})
	} else {
		n := 10 + r.IntN(20)
		net.Input = network.Shape{n}
		sh := net.Input
		for li := 0; li < 1+r.IntN(3); li++ {
			h := 5 + r.IntN(15)
			sh = add(&network.Linear{LayerName: "fc" + string(rune('a'+li)), In: sh[0], Out: h, Weight: dyadicSlice(r, h*sh[0], -10, 12), Bias: dyadicSlice(r, h, -4, 6)})
			sh = add(randomSpiking(r, "sp"+string(rune('a'+li)), sh, alpha, reset))
		}
		add(&network.Linear{LayerName: "out", In: sh[0], Out: 4, Weight: dyadicSlice(r, 4*sh[0], -16, 16), Bias: dyadicSlice(r, 4, -4, 4)})
	}
	if err := net.Validate(); err != nil {
		panic(err)
	}
	return net
}

func randomDelays(r *rand.Rand, net *network.Network) []int {
	d := make([]int, len(net.Layers))
	for i, l := range net.Layers {
		if k := l.Kind(); k == network.KindConv2d || k == network.KindLinear {
			d[i] = r.IntN(3)
		}
	}
	return d
}
