package calibrate

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// layeredBlock is the number of images layeredRun simulates at a time: it
// bounds the memory of the recorded spike trains and drives.
const layeredBlock = 256

// layeredResult is what layeredRun measures.
type layeredResult struct {
	preds  []int
	logits []float32 // images × classes: the readout accumulated over T steps
	counts [][]int32 // per spiking layer: images × neurons
}

// layeredRun simulates a whole SNN with direct input the way the
// calibrator simulates one layer: spiking layers in topological order,
// each from the recorded spike trains of the layers (and the count-gated
// MaxPools) that feed it. The readout uses its linearity: Σ_t (W·s(t) + b)
// = W·Σ_t s(t) + T·b. It is the calibrator's own view of the network, for
// checking it against the engines and for measuring networks end to end.
func layeredRun(net *network.Network, images []float32, T, workers int, keepCounts bool) (*layeredResult, error) {
	pl, err := planStages(net)
	if err != nil {
		return nil, err
	}
	for _, st := range pl.stages {
		if net.Layers[st.index].Kind() != network.KindSpiking {
			return nil, fmt.Errorf("layer %d (%q) is a ReLU: convert the network first", st.index, net.Layers[st.index].Name())
		}
	}
	shapes, err := net.Shapes()
	if err != nil {
		return nil, err
	}
	size := net.Input.Size()
	count := len(images) / size
	last := len(net.Layers) - 1
	classes := shapes[last].Size()
	res := &layeredResult{preds: make([]int, count), logits: make([]float32, count*classes)}
	if keepCounts {
		res.counts = make([][]int32, len(pl.stages))
		for k, st := range pl.stages {
			res.counts[k] = make([]int32, count*st.n)
		}
	}
	life := pl.sourceLife()
	for lo := 0; lo < count; lo += layeredBlock {
		hi := min(lo+layeredBlock, count)
		n := hi - lo
		imgs := images[lo*size : hi*size]
		got := map[int]*spikes{}
		source := func(i int) *spikes {
			if s, ok := got[i]; ok {
				return s
			}
			from := net.InputOf(i)
			s := poolSpikes(net.Layers[i].(*network.MaxPool2d), shapes[from], shapes[i], got[from], n, T, workers)
			got[i] = s
			return s
		}
		for k := range pl.stages {
			st := &pl.stages[k]
			d, err := computeDrive(net, st, imgs, n, source, T, workers)
			if err != nil {
				return nil, err
			}
			p := paramsOf(net, st)
			m := measure(st, p, d, nil, n, subsets{n, n}, T, workers, true)
			got[st.index] = &spikes{tr: m.tr, counts: m.counts, theta: p.theta, perCh: st.perCh}
			if keepCounts {
				copy(res.counts[k][lo*st.n:hi*st.n], m.counts)
			}
			for i := range got {
				from := i
				if network.RoleOf(net.Layers[i]) == network.RoleMaxPool {
					from = net.InputOf(i)
				}
				if life[from] <= k {
					delete(got, i)
				}
			}
		}
		logits := res.logits[lo*classes : hi*classes]
		if err := readout(net, pl.readout, imgs, n, source, T, logits); err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			res.preds[lo+i] = network.Argmax(logits[i*classes : (i+1)*classes])
		}
	}
	return res, nil
}

// readout writes the readout's accumulated output Σ_t I_L(t) for n images
// into out: the sum over its projections of W·path(Σ_t s(t)), plus T·b.
func readout(net *network.Network, projs []proj, images []float32, n int, source func(int) *spikes, T int, out []float32) error {
	last := len(net.Layers) - 1
	classes := len(out) / n
	bias := biasOf(net.Layers[last])
	per := classes / len(bias) // a readout Conv2d has one bias per channel
	for i := 0; i < n; i++ {
		for j := 0; j < classes; j++ {
			out[i*classes+j] = float32(T) * bias[j/per]
		}
	}
	for k := range projs {
		p := &projs[k]
		var sums []float32
		if p.kind.constant() {
			x := analogSource(net, p, images, n)
			sums = make([]float32, len(x))
			for i, v := range x {
				sums[i] = float32(T) * v
			}
		} else {
			sp := source(p.source)
			sums = make([]float32, len(sp.counts))
			size := p.srcShape.Size()
			for i, c := range sp.counts {
				if c != 0 {
					sums[i] = sp.theta[(i%size)/sp.perCh] * float32(c)
				}
			}
		}
		in := applyPath(net, p, sums, n)
		f, err := zeroBiasForward(net.Layers[p.weighted], p.inShape)
		if err != nil {
			return err
		}
		y := make([]float32, len(out))
		var ws network.Workspace
		f(y, in, n, &ws)
		addTo(out, y)
	}
	return nil
}
