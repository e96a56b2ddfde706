package profile_test

import (
	"testing"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// Every engine's run of a random network profiles as the reference's does:
// Build accepts its counts (spike totals, Σ count·fan-out = SOPs) and the
// profile is the same, field for field, but for the wall time.
func TestEngineProfilesMatchReference(t *testing.T) {
	for _, kind := range []snnref.Kind{snnref.Chain, snnref.MLP} {
		run := fixture.RandomRun(t, kind, 9, 12, 12)
		want, err := profile.Build(run.Net, run.Result, run.ANN, profile.DefaultEnergy())
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range engines.Names() {
			e, _ := engines.ByName(name)
			res, err := e.Run(run.Net, run.Images, run.Labels, network.SimOptions{T: 12, KeepCounts: true, Workers: 2})
			if err != nil {
				t.Fatalf("%v, %s: %v", kind, name, err)
			}
			if d := snnref.Diff(run.Result, res); d != "" {
				t.Errorf("%v, %s differs from the reference: %s", kind, name, d)
			}
			got, err := profile.Build(run.Net, res, run.ANN, profile.DefaultEnergy())
			if err != nil {
				t.Fatalf("%v, %s: %v", kind, name, err)
			}
			got.Engine, got.WallSeconds = want.Engine, want.WallSeconds
			if a, b := jsonOf(t, got), jsonOf(t, want); a != b {
				t.Errorf("%v, %s: profile\n%s\nreference\n%s", kind, name, a, b)
			}
		}
	}
}
