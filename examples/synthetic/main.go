// Command synthetic shows the event engine's time following the spikes: a
// synthetic fully connected SNN (1024 inputs, three hidden IF layers, a
// readout) is simulated at activities from 0.1 % to 30 % of neurons firing
// per step, on both engines: the dense engine as a clock-driven simulator
// (every product in full) and skipping silent inputs (dense-skip: the same
// numbers, at a cost that follows the spikes too).
package main

import (
	"fmt"
	"log"
	"time"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

func main() {
	fmt.Println("activity  spikes/input  event ms/input  dense ms/input  dense-skip ms/input")
	for _, activity := range []float64{0.001, 0.01, 0.1, 0.3} {
		row, err := measure(event.SyntheticConfig{Neurons: 2048, Activity: activity, Seed: 1}, 8, 32)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%7.1f%%  %12.0f  %14.3f  %14.3f  %19.3f\n", 100*activity, row.spikes, row.eventMS, row.denseMS, row.skipMS)
	}
}

type row struct{ spikes, eventMS, denseMS, skipMS float64 }

// measure returns the spikes per input and the per-input times of both
// engines, set-up excluded: the event engine streams inputs through one
// Simulator; the dense engine's set-up is removed by timing n and 2n inputs.
func measure(cfg event.SyntheticConfig, n, T int) (row, error) {
	net, err := event.SyntheticNetwork(cfg)
	if err != nil {
		return row{}, err
	}
	x, err := event.SyntheticImages(cfg, 2*n)
	if err != nil {
		return row{}, err
	}
	opts := network.SimOptions{T: T, Workers: 1}
	sim, err := event.NewSimulator(net, opts)
	if err != nil {
		return row{}, err
	}
	res := sim.NewImageResult()
	size := net.Input.Size()
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := sim.RunImage(x[i*size:(i+1)*size], i, res); err != nil {
			return row{}, err
		}
	}
	var r row
	r.eventMS = float64(time.Since(start).Microseconds()) / 1000 / float64(n)
	full, err := dense.Engine{}.Run(net, x[:n*size], nil, opts)
	if err != nil {
		return row{}, err
	}
	for _, l := range full.Layers {
		r.spikes += float64(l.Spikes) / float64(n)
	}
	if r.denseMS, err = perInput(dense.Engine{}, net, x, n, opts); err != nil {
		return row{}, err
	}
	if r.skipMS, err = perInput(dense.Engine{SkipSilent: true}, net, x, n, opts); err != nil {
		return row{}, err
	}
	return r, nil
}

// perInput is an engine's time per input without set-up: the run on 2n
// inputs minus the run on the first n, divided by n.
func perInput(e network.Engine, net *network.Network, x []float32, n int, opts network.SimOptions) (float64, error) {
	size := net.Input.Size()
	start := time.Now()
	if _, err := e.Run(net, x[:n*size], nil, opts); err != nil {
		return 0, err
	}
	once := time.Since(start)
	start = time.Now()
	if _, err := e.Run(net, x, nil, opts); err != nil {
		return 0, err
	}
	return float64((time.Since(start) - once).Microseconds()) / 1000 / float64(n), nil
}
