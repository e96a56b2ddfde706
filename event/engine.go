package event

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

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
	workers := opts.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, count))
	nl := len(p.layers) - 1
	T := opts.T
	classes := p.readout().n

	res := &network.SimResult{
		Engine:      "event",
		T:           T,
		Images:      count,
		Encoding:    opts.Encoding,
		Predictions: make([]int, count),
		ImageSpikes: make([][]int64, count),
		Layers:      make([]network.LayerStats, nl),
	}
	if labels != nil {
		res.CorrectByStep = make([]int, T)
	}
	if opts.KeepOutputs {
		res.Outputs = make([]float32, count*classes)
	}
	if opts.KeepCounts {
		res.Counts = make([][]int32, nl)
		for k := range res.Counts {
			res.Counts[k] = make([]int32, count*p.layers[k].n)
		}
	}
	type acc struct {
		correct                        []int
		spikes, sops, firstSum, firstN []int64
		byStep                         [][]int64
		inSpikes, inSOPs               int64
		work                           Work
		err                            error
	}
	accs := make([]acc, workers)
	var next atomic.Int64
	var done atomic.Int64
	var progMu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(a *acc) {
			defer wg.Done()
			sim := newSimulator(p)
			r := sim.NewImageResult()
			a.correct = make([]int, T)
			a.spikes = make([]int64, nl)
			a.sops = make([]int64, nl)
			a.firstSum = make([]int64, nl)
			a.firstN = make([]int64, nl)
			a.byStep = make([][]int64, nl)
			for k := range a.byStep {
				a.byStep[k] = make([]int64, T)
			}
			a.work = newWork(nl + 1)
			for {
				i := int(next.Add(1) - 1)
				if i >= count {
					return
				}
				r.RecordRaster = opts.Raster && i == 0
				if err := sim.RunImage(images[i*size:(i+1)*size], opts.ImageOffset+i, r); err != nil {
					a.err = err
					return
				}
				if r.RecordRaster {
					res.Raster = append([]network.RasterEvent{}, r.Raster...)
				}
				res.Predictions[i] = r.Prediction
				res.ImageSpikes[i] = append([]int64(nil), r.Spikes...)
				if labels != nil {
					for t, pr := range r.PredictionByStep {
						if pr == labels[i] {
							a.correct[t]++
						}
					}
				}
				if res.Outputs != nil {
					copy(res.Outputs[i*classes:], r.Output)
				}
				for k := 0; k < nl; k++ {
					a.spikes[k] += r.Spikes[k]
					a.sops[k] += r.SOPs[k]
					a.firstSum[k] += r.FirstSpikeSum[k]
					a.firstN[k] += r.FirstSpikers[k]
					for t, c := range r.SpikesByStep[k] {
						a.byStep[k][t] += int64(c)
					}
					if res.Counts != nil {
						copy(res.Counts[k][i*p.layers[k].n:], r.Counts[k])
					}
				}
				a.inSpikes += r.InputSpikes
				a.inSOPs += r.InputSOPs
				a.work.Add(&r.Work)
				d := done.Add(1)
				if opts.Progress != nil {
					progMu.Lock()
					opts.Progress(int(d))
					progMu.Unlock()
				}
			}
		}(&accs[w])
	}
	wg.Wait()
	work := newWork(nl + 1)
	for w := range accs {
		a := &accs[w]
		if a.err != nil {
			return nil, nil, a.err
		}
		if a.correct == nil {
			continue
		}
		if res.CorrectByStep != nil {
			for t, c := range a.correct {
				res.CorrectByStep[t] += c
			}
		}
		res.InputSpikes += a.inSpikes
		res.InputSOPs += a.inSOPs
		work.Add(&a.work)
	}
	for k := 0; k < nl; k++ {
		L := p.layers[k]
		ls := network.LayerStats{Name: L.name, Layer: L.netIndex, Neurons: L.n, SpikesByStep: make([]int64, T)}
		for w := range accs {
			a := &accs[w]
			if a.spikes == nil {
				continue
			}
			ls.Spikes += a.spikes[k]
			ls.SOPs += a.sops[k]
			ls.FirstSpikeSum += a.firstSum[k]
			ls.FirstSpikers += a.firstN[k]
			for t, c := range a.byStep[k] {
				ls.SpikesByStep[t] += c
			}
		}
		res.Layers[k] = ls
	}
	res.Wall = time.Since(start)
	return res, &work, nil
}
