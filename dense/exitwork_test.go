package dense

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// TestStoppedImagesCostNothing checks that an image an Exit rule stopped
// is not simulated any further within its batch: when it is handed to
// OnImage the test overwrites the image's spike tensors and Poisson frame
// with a large value (so that any layer computed from them later gives
// new numbers, which a layer recomputed from unchanged spikes would not)
// and takes a copy of every layer's output, potentials and counts of that
// image; at the end of the batch they must be as they were (so no layer,
// Linear products included, and no neuron ran for it), and its record
// must hold no spike after its last step.
func TestStoppedImagesCostNothing(t *testing.T) {
	stoppedSome := false
	for _, kind := range snnref.Kinds {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			r := rand.New(rand.NewPCG(uint64(kind), 21))
			net := snnref.RandomNet(r, snnref.Config{Kind: kind, Alpha: 1, Reset: network.ResetSoft})
			const batch, T = 6, 16
			x := snnref.RandomImages(r, net, batch)
			opts := network.SimOptions{T: T, Encoding: enc, Exit: network.MarginExit{M: 0.25}, RecordSpikes: true}
			if err := opts.Check(); err != nil {
				t.Fatal(err)
			}
			p, err := compile(net, opts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := network.NewSimResult(net, "dense", batch, nil, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, skip := range []bool{false, true} {
				var st *state
				snap := map[int][][]float32{}
				steps := map[int]int{}
				opts.OnImage = func(b int, rec *network.ImageRecord) error {
					steps[b] = rec.Steps
					poison(st, b)
					snap[b] = imageState(st, b)
					return nil
				}
				st = p.newState(batch, opts, skip, res)
				if err := st.run(x, 0, batch, res.NewTally()); err != nil {
					t.Fatal(err)
				}
				for b, s := range steps {
					if s == T {
						continue
					}
					stoppedSome = true
					for k, v := range imageState(st, b) {
						if !slices.Equal(v, snap[b][k]) {
							t.Fatalf("%v %s skip=%v: image %d stopped after step %d, but buffer %d of it changed later", kind, enc, skip, b, s, k)
						}
					}
					for k, by := range st.recs[b].SpikesByStep {
						for u := s; u < T; u++ {
							if by[u] != 0 {
								t.Fatalf("%v %s: image %d stopped after step %d, spiking layer %d fired at step %d", kind, enc, b, s, k, u+1)
							}
						}
					}
				}
			}
		}
	}
	if !stoppedSome {
		t.Fatal("no image stopped early: the test shows nothing")
	}
}

// imageState copies what the state holds of image b: every layer's output,
// the potentials and counts of the spiking layers, the readout
// accumulator and the Poisson frame.
func imageState(st *state, b int) [][]float32 {
	var out [][]float32
	part := func(buf []float32, size int) {
		if buf != nil {
			out = append(out, slices.Clone(buf[b*size:(b+1)*size]))
		}
	}
	for i := range st.p.nodes {
		size := st.p.shapes[i].Size()
		part(st.out[i], size)
		part(st.v[i], size)
		if c := st.cnt[i]; c != nil {
			f := make([]float32, size)
			for j, n := range c[b*size : (b+1)*size] {
				f[j] = float32(n)
			}
			out = append(out, f)
		}
	}
	part(st.acc, st.p.classes)
	part(st.frame, st.p.inShape.Size())
	return out
}

// poison overwrites the spike tensors and the Poisson frame of image b.
func poison(st *state, b int) {
	fill := func(buf []float32, size int) {
		if buf != nil {
			for j := b * size; j < (b+1)*size; j++ {
				buf[j] = 1 << 20
			}
		}
	}
	for i, n := range st.p.nodes {
		if n.spk != nil || n.mp != nil {
			fill(st.out[i], st.p.shapes[i].Size())
		}
	}
	fill(st.frame, st.p.inShape.Size())
}
