package event

import (
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"

	"github.com/evsnn/evsnn/network"
)

// TestSyntheticActivity checks that the synthetic network fires about the
// activity it was built for, and that both engines agree on it.
func TestSyntheticActivity(t *testing.T) {
	for _, a := range []float64{0.01, 0.1, 0.5} {
		cfg := SyntheticConfig{Inputs: 256, Neurons: 1024, Activity: a, Seed: 1}
		if testenv.RaceEnabled {
			cfg.Neurons = 512
		}
		net, err := SyntheticNetwork(cfg)
		if err != nil {
			t.Fatal(err)
		}
		x, _ := SyntheticImages(cfg, 2)
		opts := network.SimOptions{T: 32, Workers: 1}
		res, err := Engine{}.Run(net, x, nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range res.Layers {
			rate := float64(l.Spikes) / float64(2*32*l.Neurons)
			t.Logf("activity %v: %s fires %.4f of its neurons per step", a, l.Name, rate)
			if rate < a/2 || rate > 2*a {
				t.Errorf("activity %v: %s fires %.4f per step", a, l.Name, rate)
			}
		}
	}
}
