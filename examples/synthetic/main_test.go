package main

import (
	"testing"

	"github.com/evsnn/evsnn/event"
)

// More activity means more spikes (the times are not checked: timing
// belongs in benchmarks, not tests).
func TestActivityDrivesSpikes(t *testing.T) {
	lo, err := measure(event.SyntheticConfig{Inputs: 64, Neurons: 128, Activity: 0.01, Seed: 1}, 2, 16)
	if err != nil {
		t.Fatal(err)
	}
	hi, err := measure(event.SyntheticConfig{Inputs: 64, Neurons: 128, Activity: 0.2, Seed: 1}, 2, 16)
	if err != nil {
		t.Fatal(err)
	}
	if !(hi.spikes > 5*lo.spikes) {
		t.Errorf("spikes per input %.0f at 20 %% vs %.0f at 1 %%: want many more", hi.spikes, lo.spikes)
	}
}
