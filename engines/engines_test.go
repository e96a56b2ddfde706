package engines_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

func TestByName(t *testing.T) {
	for _, name := range engines.Names() {
		e, err := engines.ByName(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if e.Name() != name {
			t.Errorf("ByName(%q).Name() = %q", name, e.Name())
		}
		if want := strings.HasPrefix(name, "dense"); engines.IsDense(name) != want {
			t.Errorf("IsDense(%q) = %v", name, !want)
		}
	}
	for _, bad := range []string{"", "Event", "dense_skip", "reference"} {
		_, err := engines.ByName(bad)
		if err == nil || !strings.Contains(err.Error(), "event, dense or dense-skip") {
			t.Errorf("ByName(%q): error %v, want one listing the engines", bad, err)
		}
	}
}

// Every engine found by name matches the naive reference on a random
// dyadic chain network, where every float32 sum is exact.
func TestEnginesMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	net := snnref.RandomNet(r, snnref.Config{Kind: snnref.Chain, Alpha: 1, Reset: network.ResetSoft})
	x := snnref.RandomImages(r, net, 5)
	labels := []int{0, 1, 2, 3, 4}
	opts := network.SimOptions{T: 7, Workers: 1}
	ref, err := snnref.Run(net, x, labels, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range engines.Names() {
		e, _ := engines.ByName(name)
		res, err := e.Run(net, x, labels, opts)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if d := snnref.Diff(ref, res); d != "" {
			t.Errorf("%s differs from the reference: %s", name, d)
		}
	}
}
