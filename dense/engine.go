package dense

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evsnn/evsnn/network"
)

// DefaultBatchSize is the number of images one worker simulates together
// when Engine.BatchSize is 0.
const DefaultBatchSize = 100

// Engine is the dense, clock-driven reference simulator (SPEC §5). Every
// step it computes every layer's input current by a matrix product over the
// whole spike tensor of a batch of images, then updates every neuron.
//
// The zero value is ready to use.
type Engine struct {
	// BatchSize is the number of images simulated together by one worker
	// (0: DefaultBatchSize). Results do not depend on it.
	BatchSize int
	// SkipSilent skips the zero entries of the spike tensor (silent
	// neurons, empty pooling windows) in the products. A zero adds nothing
	// to a sum, so the results are the same bits; the cost then follows
	// the spikes instead of the layer sizes. The default computes every
	// product in full, at the same cost whatever the activity, as a
	// clock-driven simulator (PyTorch on dense tensors) does: that is the
	// baseline the event-driven engine is timed against. Reference runs
	// where only the numbers matter (tests, calibration checks) set it.
	SkipSilent bool
}

// Name implements network.Engine: "dense", or "dense-skip" with
// SkipSilent.
func (e Engine) Name() string {
	if e.SkipSilent {
		return "dense-skip"
	}
	return "dense"
}

var _ network.Engine = Engine{}

// Run implements network.Engine: it simulates count = len(images)/
// net.Input.Size() images for opts.T steps. See the package documentation
// for what each field of the result holds. opts.Progress, if set, is
// called from the worker goroutines, one call at a time, after each batch.
//
// The network must be an SNN: no ReLU layers, at least one spiking layer,
// each spiking layer followed (through pools and flatten) by a Conv2d or
// Linear layer, and a last layer that is not spiking (the readout).
func (e Engine) Run(net *network.Network, images []float32, labels []int, opts network.SimOptions) (*network.SimResult, error) {
	start := time.Now()
	if net == nil {
		return nil, fmt.Errorf("dense: nil network")
	}
	if err := opts.Check(); err != nil {
		return nil, fmt.Errorf("dense: %w", err)
	}
	if e.BatchSize < 0 {
		return nil, fmt.Errorf("dense: batch size %d is negative", e.BatchSize)
	}
	p, err := compile(net, opts)
	if err != nil {
		return nil, fmt.Errorf("dense: %w", err)
	}
	inSize := p.inShape.Size()
	if len(images)%inSize != 0 {
		return nil, fmt.Errorf("dense: %d input values are not a whole number of %v images", len(images), p.inShape)
	}
	count := len(images) / inSize
	if labels != nil && len(labels) != count {
		return nil, fmt.Errorf("dense: %d labels for %d images", len(labels), count)
	}

	res := p.newResult(count, labels != nil, opts)
	res.Engine = e.Name()

	workers := opts.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	batch := e.BatchSize
	if batch == 0 {
		batch = DefaultBatchSize
	}
	// Give every worker something to do; per-image results do not depend
	// on how images are grouped.
	if per := (count + workers - 1) / workers; per < batch {
		batch = max(per, 1)
	}
	chunks := (count + batch - 1) / batch
	workers = max(min(workers, chunks), 1)

	var (
		next     atomic.Int64
		mu       sync.Mutex
		done     int
		wg       sync.WaitGroup
		partials = make([]*tally, workers)
	)
	for w := 0; w < workers; w++ {
		partials[w] = p.newTally(opts.T)
		wg.Add(1)
		go func(tl *tally) {
			defer wg.Done()
			st := p.newState(batch, opts, e.SkipSilent)
			for {
				c := int(next.Add(1) - 1)
				if c >= chunks {
					return
				}
				first := c * batch
				b := min(batch, count-first)
				var lab []int
				if labels != nil {
					lab = labels[first : first+b]
				}
				st.run(images[first*inSize:(first+b)*inSize], lab, first, b, res, tl)
				if opts.Progress != nil {
					mu.Lock()
					done += b
					opts.Progress(done)
					mu.Unlock()
				}
			}
		}(partials[w])
	}
	wg.Wait()
	for _, tl := range partials {
		tl.addTo(res)
	}
	res.Wall = time.Since(start)
	return res, nil
}

// newResult allocates a result for count images.
func (p *plan) newResult(count int, withLabels bool, opts network.SimOptions) *network.SimResult {
	res := &network.SimResult{
		Engine:      "dense",
		T:           opts.T,
		Images:      count,
		Encoding:    opts.Encoding,
		Predictions: make([]int, count),
		ImageSpikes: make([][]int64, count),
	}
	flat := make([]int64, count*len(p.spiking))
	for i := range res.ImageSpikes {
		res.ImageSpikes[i] = flat[i*len(p.spiking) : (i+1)*len(p.spiking) : (i+1)*len(p.spiking)]
	}
	if withLabels {
		res.CorrectByStep = make([]int, opts.T)
	}
	if opts.KeepOutputs {
		res.Outputs = make([]float32, count*p.classes)
	}
	if opts.KeepCounts {
		res.Counts = make([][]int32, len(p.spiking))
		for k, li := range p.spiking {
			res.Counts[k] = make([]int32, count*p.shapes[li].Size())
		}
	}
	res.Layers = make([]network.LayerStats, len(p.spiking))
	for k, li := range p.spiking {
		res.Layers[k] = network.LayerStats{
			Name:         p.net.Layers[li].Name(),
			Layer:        li,
			Neurons:      p.shapes[li].Size(),
			SpikesByStep: make([]int64, opts.T),
		}
	}
	return res
}

// tally holds one worker's sums; they are added up after the run, so the
// totals do not depend on the number of workers.
type tally struct {
	// Poisson input spikes and their SOPs
	inSpikes, inSOPs int64
	correct          []int
	spikes           []int64
	sops             []int64
	byStep           [][]int64
	firstSum         []int64
	firstN           []int64
}

func (p *plan) newTally(T int) *tally {
	n := len(p.spiking)
	tl := &tally{
		correct:  make([]int, T),
		spikes:   make([]int64, n),
		sops:     make([]int64, n),
		byStep:   make([][]int64, n),
		firstSum: make([]int64, n),
		firstN:   make([]int64, n),
	}
	for k := range tl.byStep {
		tl.byStep[k] = make([]int64, T)
	}
	return tl
}

func (tl *tally) addTo(res *network.SimResult) {
	res.InputSpikes += tl.inSpikes
	res.InputSOPs += tl.inSOPs
	if res.CorrectByStep != nil {
		for t, c := range tl.correct {
			res.CorrectByStep[t] += c
		}
	}
	for k := range res.Layers {
		ls := &res.Layers[k]
		ls.Spikes += tl.spikes[k]
		ls.SOPs += tl.sops[k]
		ls.FirstSpikeSum += tl.firstSum[k]
		ls.FirstSpikers += tl.firstN[k]
		for t, c := range tl.byStep[k] {
			ls.SpikesByStep[t] += c
		}
	}
}
