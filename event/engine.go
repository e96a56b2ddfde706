package event

import (
	"fmt"
	"sync"
	"time"

	"github.com/evsnn/evsnn/internal/parallel"
	"github.com/evsnn/evsnn/network"
)

// Engine is the event-driven engine; it implements network.Engine.
type Engine struct{}

var _ network.Engine = Engine{}

// Name implements network.Engine.
func (Engine) Name() string { return "event" }

// Run implements network.Engine.
func (Engine) Run(net *network.Network, images []float32, labels []int, opts network.SimOptions) (*network.SimResult, error) {
	res, _, err := RunWork(net, images, labels, opts)
	return res, err
}

// RunWork is Engine.Run that also returns what the engine did (events
// delivered, additions performed, neuron updates) summed over images.
func RunWork(net *network.Network, images []float32, labels []int, opts network.SimOptions) (*network.SimResult, *Work, error) {
	return runWork(net, images, labels, opts, tuning{})
}

// runWork is RunWork with a given tuning (tests force sparse or dense
// updates, flat or two-level active sets).
func runWork(net *network.Network, images []float32, labels []int, opts network.SimOptions, tune tuning) (*network.SimResult, *Work, error) {
	start := time.Now()
	if err := opts.Check(); err != nil {
		return nil, nil, err
	}
	p, err := compile(net, opts)
	if err != nil {
		return nil, nil, err
	}
	size := p.input.size()
	if len(images)%size != 0 {
		return nil, nil, fmt.Errorf("event: %d image values is not a multiple of the input size %d", len(images), size)
	}
	count := len(images) / size
	if labels != nil && len(labels) != count {
		return nil, nil, fmt.Errorf("event: %d labels for %d images", len(labels), count)
	}
	res, err := network.NewSimResult(net, "event", count, labels, opts)
	if err != nil {
		return nil, nil, err
	}
	workers := parallel.Workers(opts.Workers, count)
	type worker struct {
		sim   *Simulator
		rec   *ImageResult
		tally *network.Tally
		work  Work
	}
	ws := make([]*worker, workers)
	var (
		progMu sync.Mutex
		done   int
	)
	err = parallel.For(workers, count, func(w, i int) error {
		wk := ws[w]
		if wk == nil {
			sim := newSimulator(p, res)
			sim.tuning = tune
			wk = &worker{sim: sim, rec: sim.NewImageResult(), tally: res.NewTally(), work: newWork(len(p.layers))}
			ws[w] = wk
		}
		wk.rec.RecordRaster = opts.Raster && i == 0
		if err := wk.sim.RunImage(images[i*size:(i+1)*size], opts.ImageOffset+i, wk.rec); err != nil {
			return err
		}
		wk.tally.Add(i, &wk.rec.ImageRecord)
		wk.work.Add(&wk.rec.Work)
		if opts.OnImage != nil {
			if err := opts.OnImage(i, &wk.rec.ImageRecord); err != nil {
				return err
			}
		}
		if opts.Progress != nil {
			progMu.Lock()
			done++
			opts.Progress(done)
			progMu.Unlock()
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	work := newWork(len(p.layers))
	for _, wk := range ws {
		if wk != nil {
			res.AddTally(wk.tally)
			work.Add(&wk.work)
		}
	}
	res.Wall = time.Since(start)
	return res, &work, nil
}
