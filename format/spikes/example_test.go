package spikes_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/evsnn/evsnn/analysis/plot"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/format/spikes"
	"github.com/evsnn/evsnn/network"
)

// Record the spikes of two images of a network with a 2×2×2 feature map
// and a 3-neuron dense layer over T = 4 steps, then read them back.
func Example() {
	dir, _ := os.MkdirTemp("", "spikes")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.spikes")

	w, err := spikes.Create(path, spikes.Header{
		T: 4, Images: 2, Engine: "event",
		Layers: []spikes.Layer{
			{Name: "relu1", Index: 1, Shape: []int{2, 2, 2}},
			{Name: "relu2", Index: 4, Shape: []int{3}},
		},
		Provenance: map[string]string{"model": "example"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Rasters as the engines record them: ordered by step, layer, neuron.
	rasters := [][]network.RasterEvent{
		{{Layer: 0, Neuron: 5, Step: 1}, {Layer: 1, Neuron: 2, Step: 1}, {Layer: 0, Neuron: 0, Step: 3}, {Layer: 0, Neuron: 5, Step: 3}},
		{{Layer: 1, Neuron: 0, Step: 2}},
	}
	// Images may come in any order (and from several goroutines).
	for _, i := range []int{1, 0} {
		if err := w.AddRaster(i, rasters[i]); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}

	r, err := spikes.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	ev, _ := r.Raster(0)
	fmt.Println("image 0:", ev)
	bm, _ := r.Bitmap(0, 0)
	fmt.Println("relu1 ids (p·T + t−1):", bm.ToArray())
	s, _ := r.Summary()
	for _, l := range s.Layers {
		fmt.Printf("%s: %d spikes, by step %v, rate %.4f\n", l.Name, l.Spikes, l.SpikesByStep, l.Rate)
	}
	// Output:
	// image 0: [{0 5 1} {1 2 1} {0 0 3} {0 5 3}]
	// relu1 ids (p·T + t−1): [2 20 22]
	// relu1: 3 spikes, by step [1 0 2 0], rate 0.0469
	// relu2: 2 spikes, by step [1 1 0 0], rate 0.0833
}

// Draw one image's raster with analysis/plot (the format package itself
// does not draw).
func ExampleReader_Raster() {
	dir, _ := os.MkdirTemp("", "spikes")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.spikes")
	w, _ := spikes.Create(path, spikes.Header{T: 8, Images: 1, Layers: []spikes.Layer{{Name: "relu1", Shape: []int{4, 3, 3}}}})
	var raster []network.RasterEvent
	for t := int32(1); t <= 8; t++ {
		for n := t % 3; n < 36; n += 5 {
			raster = append(raster, network.RasterEvent{Layer: 0, Neuron: n, Step: t})
		}
	}
	w.AddRaster(0, raster)
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}

	r, err := spikes.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	h := r.Header()
	ev, err := r.Raster(0)
	if err != nil {
		fmt.Println(err)
		return
	}
	svg := filepath.Join(dir, "raster.svg")
	if err := plot.Raster(svg, ev, h.LayerNames(), h.LayerSizes(), h.T); err != nil {
		fmt.Println(err)
		return
	}
	st, _ := os.Stat(svg)
	fmt.Println(len(ev), "spikes drawn:", st.Size() > 1000)
	// Output: 58 spikes drawn: true
}

// Record a simulation: the engine fills each image's network.SpikeSet
// (SimOptions.RecordSpikes) and OnImage hands it to the writer.
func ExampleWriter_Add() {
	dir, _ := os.MkdirTemp("", "spikes")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "run.spikes")

	// A spiking layer of 2 neurons driven by a fixed current, read out
	// by a dense layer; T = 4 steps, two images (currents 1, 0.5 and
	// 0.25, 0). Events print as {layer neuron step}.
	net := &network.Network{Input: network.Shape{2}, Layers: []network.Layer{
		&network.Linear{LayerName: "fc1", In: 2, Out: 2, Weight: []float32{1, 0, 0, 1}, Bias: []float32{0, 0}},
		&network.Spiking{LayerName: "sp1", Threshold: []float32{1}, Alpha: 1, Reset: network.ResetSoft},
		&network.Linear{LayerName: "fc2", In: 2, Out: 1, Weight: []float32{1, 1}, Bias: []float32{0}},
	}}
	layers, err := spikes.LayersOf(net)
	if err != nil {
		fmt.Println(err)
		return
	}
	w, err := spikes.Create(path, spikes.Header{T: 4, Images: 2, Engine: "event", Layers: layers})
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := network.SimOptions{T: 4, RecordSpikes: true,
		OnImage: func(i int, rec *network.ImageRecord) error { return w.Add(i, rec.Recorded) }}
	if _, err := (event.Engine{}).Run(net, []float32{1, 0.5, 0.25, 0}, nil, opts); err != nil {
		w.Abort()
		fmt.Println(err)
		return
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}
	r, err := spikes.Open(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for i := range 2 {
		ev, _ := r.Raster(i)
		fmt.Println("image", i, ev)
	}
	// Output:
	// image 0 [{0 0 1} {0 0 2} {0 1 2} {0 0 3} {0 0 4} {0 1 4}]
	// image 1 [{0 0 4}]
}
