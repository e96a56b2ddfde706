package dense

import (
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/evsnn/evsnn/internal/parallel"
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
// The network must be an SNN that network.Validate accepts: Spiking
// layers in place of every ReLU, and a Linear (or Conv2d) readout.
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
	res, err := network.NewSimResult(net, e.Name(), count, labels, opts)
	if err != nil {
		return nil, fmt.Errorf("dense: %w", err)
	}

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
	workers = parallel.Workers(workers, chunks)
	states := make([]*state, workers)
	tallies := make([]*network.Tally, workers)
	var (
		mu   sync.Mutex
		done int
	)
	err = parallel.For(workers, chunks, func(w, c int) error {
		st := states[w]
		if st == nil {
			st = p.newState(batch, opts, e.SkipSilent, res)
			states[w], tallies[w] = st, res.NewTally()
		}
		first := c * batch
		b := min(batch, count-first)
		if err := st.run(images[first*inSize:(first+b)*inSize], first, b, tallies[w]); err != nil {
			return err
		}
		if opts.Progress != nil {
			mu.Lock()
			done += b
			opts.Progress(done)
			mu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dense: %w", err)
	}
	for _, tl := range tallies {
		if tl != nil {
			res.AddTally(tl)
		}
	}
	res.Wall = time.Since(start)
	return res, nil
}
