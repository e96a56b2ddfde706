package network_test

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// A spike set holds one image's spikes where a recording stores them: the
// spike of neuron n at step t has id SpikePosition(n)·T + t − 1.
func ExampleSpikeSet() {
	set, err := network.NewSpikeSet([]network.Shape{{2, 2, 3}, {4}}, 4)
	if err != nil {
		panic(err)
	}
	set.Add(0, 1, []int32{1, 7}) // layer 0, step 1: neurons (c,h,w) = (0,0,1), (1,0,1)
	set.Add(0, 3, []int32{1})
	set.Add(1, 4, []int32{2})
	for i, sl := range set.Slots() {
		fmt.Printf("layer %d steps %d–%d: ids %v\n", sl.Layer, sl.FirstStep, sl.FirstStep+sl.Steps-1, set.IDs(i, nil))
	}
	for _, e := range set.Spikes() {
		fmt.Printf("step %d layer %d neuron %d\n", e.Step, e.Layer, e.Neuron)
	}
	// Output:
	// layer 0 steps 1–4: ids [16 18 20]
	// layer 1 steps 1–4: ids [11]
	// step 1 layer 0 neuron 1
	// step 1 layer 0 neuron 7
	// step 3 layer 0 neuron 1
	// step 4 layer 1 neuron 2
}
