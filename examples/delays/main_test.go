package main

import "testing"

func TestDelays(t *testing.T) {
	res, err := run()
	if err != nil {
		t.Fatal(err)
	}
	// Neuron 0 spikes at steps 2,4,6,8; neuron 1 at 4,8.
	want := map[[2]int32]bool{{0, 2}: true, {0, 4}: true, {0, 6}: true, {0, 8}: true, {1, 4}: true, {1, 8}: true}
	if len(res.Raster) != len(want) {
		t.Fatalf("raster %v, want %d spikes", res.Raster, len(want))
	}
	for _, e := range res.Raster {
		if !want[[2]int32{e.Neuron, e.Step}] {
			t.Errorf("unexpected spike %+v", e)
		}
	}
	// With a 3-step delay only spikes of steps ≤ 5 reach the readout by
	// step 8: neuron 0 at 2 and 4 (1 each), neuron 1 at 4 (10).
	if got := res.Outputs[0]; got != 12 {
		t.Errorf("readout %v, want 12", got)
	}
}
