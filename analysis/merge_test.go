package analysis_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// provenanceOf is the provenance of a run on random inputs (no model
// file: the SNN's hash stands for the file's).
func provenanceOf(t *testing.T, in *analysis.Inputs) *analysis.Provenance {
	t.Helper()
	h, err := analysis.NetHash(in.SNN)
	if err != nil {
		t.Fatal(err)
	}
	return &analysis.Provenance{
		Model:   analysis.ModelID{Name: in.Model, SHA256: h, SNNSHA256: h},
		Data:    analysis.DataID{Set: "random", Split: "test", Images: in.Set.N, SHA256: analysis.SetHash(in.Set)},
		Version: "test",
	}
}

// shardParts runs every shard of n of in through run and returns the
// parts as Merge reads them (written and decoded again), last shard first:
// the order parts are given in does not matter.
func shardParts(t *testing.T, in *analysis.Inputs, n int, run func(*analysis.Inputs) (*analysis.Part, error)) []*analysis.Part {
	t.Helper()
	prov := provenanceOf(t, in)
	var parts []*analysis.Part
	for k := n - 1; k >= 0; k-- {
		sh, err := in.ShardOf(analysis.Shard{K: k, N: n}, prov)
		if err != nil {
			t.Fatal(err)
		}
		p, err := run(sh)
		if err != nil {
			t.Fatalf("shard %d/%d: %v", k, n, err)
		}
		parts = append(parts, roundTrip(t, p))
	}
	return parts
}

func roundTrip(t *testing.T, p *analysis.Part) *analysis.Part {
	t.Helper()
	var b bytes.Buffer
	if err := analysis.WritePart(&b, p); err != nil {
		t.Fatal(err)
	}
	q, err := analysis.DecodePart(&b)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// untimed is v's JSON with the wall-clock times zeroed: the only figures
// a merged result does not share with the one-process run.
func untimed(t *testing.T, v any) string {
	t.Helper()
	switch r := v.(type) {
	case *analysis.Simulation:
		c := *r
		c.WallSeconds = 0
		v = &c
	case *analysis.Comparison:
		c := *r
		c.ANNSeconds, c.DenseSeconds, c.EventSeconds, c.Speedup = 0, 0, 0, 0
		v = &c
	case *profile.Profile:
		c := *r
		c.WallSeconds = 0
		v = &c
	}
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func merge(t *testing.T, parts []*analysis.Part) *analysis.Merged {
	t.Helper()
	m, err := analysis.MergeParts(parts, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// engineFor is the event engine on chains and the reference on graphs
// (while the engines learn graphs).
func engineFor(kind snnref.Kind) network.Engine {
	if kind == snnref.Chain || kind == snnref.MLP {
		return event.Engine{}
	}
	return fixture.ReferenceEngine{}
}

// Shards of a simulation merge into exactly the one-process result, for
// any number of shards, with direct and with Poisson input (whose spikes
// are drawn per dataset index).
func TestMergeSimulateEqualsUnsharded(t *testing.T) {
	for _, kind := range []snnref.Kind{snnref.Chain, snnref.ResNet} {
		for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
			run := fixture.RandomRun(t, kind, 31, 11, 6)
			in := inputsOf(run, network.SimOptions{T: 6, Encoding: enc, Seed: 7, Workers: 2})
			engine := engineFor(kind)
			want, err := in.Simulate(engine, analysis.Env{})
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range []int{1, 2, 3, 5, 11} {
				parts := shardParts(t, in, n, func(sh *analysis.Inputs) (*analysis.Part, error) {
					sim, err := sh.Simulate(engine, analysis.Env{})
					if err != nil {
						return nil, err
					}
					return sh.SimulationPart(sim)
				})
				m := merge(t, parts)
				if got, w := untimed(t, m.Value()), untimed(t, want); got != w {
					t.Errorf("%v, %s, %d shards: merged\n%s\nwant\n%s", kind, enc, n, got, w)
				}
				if d := snnref.Diff(want.Result, m.Simulation.Result); d != "" {
					t.Errorf("%v, %s, %d shards: merged result differs: %s", kind, enc, n, d)
				}
			}
		}
	}
}

// Shards of a comparison merge into the one-process comparison: the
// disagreement lists keep the run's image numbers.
func TestMergeCompareEqualsUnsharded(t *testing.T) {
	run := fixture.RandomRun(t, snnref.Chain, 5, 10, 8)
	for _, enc := range []network.Encoding{network.EncodingDirect, network.EncodingPoisson} {
		in := inputsOf(run, network.SimOptions{T: 8, Encoding: enc, Seed: 3, Workers: 1})
		want, err := in.Compare(analysis.Env{})
		if err != nil {
			t.Fatal(err)
		}
		// Give the lists something to merge: the same runs, two images
		// disagreeing.
		for _, n := range []int{1, 3, 4} {
			parts := shardParts(t, in, n, func(sh *analysis.Inputs) (*analysis.Part, error) {
				c, err := sh.Compare(analysis.Env{})
				if err != nil {
					return nil, err
				}
				return sh.ComparisonPart(c)
			})
			if got, w := untimed(t, merge(t, parts).Value()), untimed(t, want); got != w {
				t.Errorf("%s, %d shards: merged\n%s\nwant\n%s", enc, n, got, w)
			}
		}
	}
}

// Disagreements and spike differences found in shards are numbered as in
// the whole run and merge in image order.
func TestMergeCompareListsImages(t *testing.T) {
	run := fixture.RandomRun(t, snnref.Chain, 5, 10, 8)
	in := inputsOf(run, network.SimOptions{T: 8, Workers: 1})
	prov := provenanceOf(t, in)
	var parts []*analysis.Part
	for k := range 2 {
		sh, err := in.ShardOf(analysis.Shard{K: k, N: 2}, prov)
		if err != nil {
			t.Fatal(err)
		}
		c, err := sh.Compare(analysis.Env{})
		if err != nil {
			t.Fatal(err)
		}
		// Pretend the event engine predicted another class on the
		// shard's second image, with one more spike.
		c.Event.Predictions[1]++
		c.Event.ImageSpikes[1][0]++
		c.Event.Layers[0].Spikes++
		c.Event.Layers[0].SpikesByStep[0]++
		if c.Event.CorrectByStep != nil && c.Event.Predictions[1]-1 == sh.Set.Labels[1] {
			for s := range c.Event.CorrectByStep {
				c.Event.CorrectByStep[s]--
			}
		}
		p, err := sh.ComparisonPart(c)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, roundTrip(t, p))
	}
	c := merge(t, parts).Comparison
	if len(c.Disagreements) != 2 || c.Disagreements[0].Image != 1 || c.Disagreements[1].Image != 6 {
		t.Errorf("disagreements %+v, want images 1 and 6", c.Disagreements)
	}
	if len(c.ImagesSpikes) != 2 || c.ImagesSpikes[0].Image != 1 || c.ImagesSpikes[1].Image != 6 {
		t.Errorf("spike differences %+v, want images 1 and 6", c.ImagesSpikes)
	}
}

// Shards of a profile merge into the one-process profile, the conversion
// error of the first ErrorImages images included, bit for bit, however
// those images fall into shards.
func TestMergeProfileEqualsUnsharded(t *testing.T) {
	for _, kind := range []snnref.Kind{snnref.Chain, snnref.ResNet} {
		run := fixture.RandomRun(t, kind, 13, 11, 7)
		for _, tc := range []struct {
			enc    network.Encoding
			errors int
		}{{network.EncodingDirect, 7}, {network.EncodingPoisson, 11}, {network.EncodingDirect, 0}} {
			in := inputsOf(run, network.SimOptions{T: 7, Encoding: tc.enc, Seed: 5, Workers: 2})
			o := analysis.AnalyzeOptions{Engine: engineFor(kind), ErrorImages: tc.errors}
			want, err := in.Analyze(o, analysis.Env{})
			if err != nil {
				t.Fatal(err)
			}
			if (want.Profile.Layers[0].MSE != nil) != (tc.errors > 0) {
				t.Fatalf("%v: conversion error %v with %d error images", kind, want.Profile.Layers[0].MSE, tc.errors)
			}
			for _, n := range []int{1, 2, 3, 5} {
				parts := shardParts(t, in, n, func(sh *analysis.Inputs) (*analysis.Part, error) {
					a, err := sh.Analyze(o, analysis.Env{})
					if err != nil {
						return nil, err
					}
					return a.Part()
				})
				if got, w := untimed(t, merge(t, parts).Value()), untimed(t, want.Profile); got != w {
					t.Errorf("%v, %s, %d error images, %d shards: merged\n%s\nwant\n%s", kind, tc.enc, tc.errors, n, got, w)
				}
			}
		}
	}
}

// simParts are the 3 parts of a simulation of 9 random images.
func simParts(t *testing.T) []*analysis.Part {
	t.Helper()
	run := fixture.RandomRun(t, snnref.Chain, 2, 9, 5)
	in := inputsOf(run, network.SimOptions{T: 5, Workers: 1})
	return shardParts(t, in, 3, func(sh *analysis.Inputs) (*analysis.Part, error) {
		sim, err := sh.Simulate(event.Engine{}, analysis.Env{})
		if err != nil {
			return nil, err
		}
		return sh.SimulationPart(sim)
	})
}

// clone copies a part deeply.
func clone(t *testing.T, p *analysis.Part) *analysis.Part { return roundTrip(t, p) }

// Merge refuses parts that are not of one run, and images missing or
// counted twice, each with a one-line error naming the part.
func TestMergeRefusesMixedParts(t *testing.T) {
	base := simParts(t) // shards 2, 1, 0
	names := []string{"p2.json", "p1.json", "p0.json"}
	other := func() []*analysis.Part {
		return []*analysis.Part{clone(t, base[0]), clone(t, base[1]), clone(t, base[2])}
	}
	run2 := fixture.RandomRun(t, snnref.Chain, 2, 9, 5)
	halves := shardParts(t, inputsOf(run2, network.SimOptions{T: 5, Workers: 1}), 2, func(sh *analysis.Inputs) (*analysis.Part, error) {
		sim, err := sh.Simulate(event.Engine{}, analysis.Env{})
		if err != nil {
			return nil, err
		}
		return sh.SimulationPart(sim)
	})
	profiles := shardParts(t, inputsOf(run2, network.SimOptions{T: 5, Workers: 1}), 3, func(sh *analysis.Inputs) (*analysis.Part, error) {
		a, err := sh.Analyze(analysis.AnalyzeOptions{}, analysis.Env{})
		if err != nil {
			return nil, err
		}
		return a.Part()
	})
	for _, tc := range []struct {
		name   string
		change func(ps []*analysis.Part) ([]*analysis.Part, []string)
		want   string
	}{
		{"model hash", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[1].Provenance.Model.SHA256 = "0123"
			return ps, names
		}, "part p1.json: not the same run as p2.json: provenance.model.sha256 is \"0123\""},
		{"SNN hash", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[2].Provenance.Model.SNNSHA256 = "4567"
			return ps, names
		}, "part p0.json: not the same run as p2.json: provenance.model.snn_sha256"},
		{"options", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[1].Options.Seed = 99
			return ps, names
		}, "part p1.json: not the same run as p2.json: options.seed is 99, not 0"},
		{"engine", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[1].Options.Engine = "dense"
			return ps, names
		}, "options.engine is \"dense\", not \"event\""},
		{"data", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[2].Provenance.Data.SHA256 = "89ab"
			return ps, names
		}, "part p0.json: not the same run as p2.json: provenance.data.sha256"},
		{"data images", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[1].Provenance.Data.Images = 10
			return ps, names
		}, "provenance.data.images is 10, not 9"},
		{"dataset", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[1].Provenance.Data.Set = "kmnist"
			return ps, names
		}, "provenance.data.dataset is \"kmnist\""},
		{"calibration images", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[1].Provenance.CalibImages = 64
			return ps, names
		}, "provenance.calib_images is 64, not 0"},
		{"version", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[1].Provenance.Version = "v9"
			return ps, names
		}, "provenance.evsnn_version is \"v9\""},
		{"SNN metadata", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[1].SNN.Source = "elsewhere"
			return ps, names
		}, "snn.source is \"elsewhere\""},
		{"command", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			ps[1] = profiles[1]
			return ps, names
		}, "part p1.json: a partial result of profile, p2.json is of simulate"},
		{"shard count", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			return []*analysis.Part{ps[0], halves[0]}, []string{"p2.json", "h1.json"}
		}, "part h1.json: shard 1/2, p2.json is a shard of 3"},
		{"missing", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			return []*analysis.Part{ps[0], ps[2]}, []string{"p2.json", "p0.json"}
		}, "2 of 3 parts given; missing shard 1/3 (images 3..5)"},
		{"duplicate", func(ps []*analysis.Part) ([]*analysis.Part, []string) {
			return append(ps, clone(t, ps[1])), append(names, "copy.json")
		}, "part copy.json: shard 1/3 (images 3..5) is also in p1.json: an image would be counted twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, ns := tc.change(other())
			_, err := analysis.MergeParts(ps, ns)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || !analysis.IsBadInput(err) {
				t.Errorf("error %v\nwant one line with %q", err, tc.want)
			}
		})
	}
	// The data's path is informational: the same data elsewhere merges.
	ps := other()
	ps[1].Provenance.Data.Path = "/elsewhere/mnist"
	ps[1].Provenance.Model.Name = "/elsewhere/net.evsnn"
	if _, err := analysis.MergeParts(ps, names); err != nil {
		t.Errorf("same data and model at other paths: %v", err)
	}
}

// ReadPart refuses truncated, malformed and inconsistent files, each with
// a one-line error naming the file.
func TestReadPartRefusesBadFiles(t *testing.T) {
	part := simParts(t)[1]
	var good bytes.Buffer
	if err := analysis.WritePart(&good, part); err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	run := func(m map[string]any) map[string]any { return m["run"].(map[string]any) }
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good.Bytes()[:good.Len()/2], "truncated"},
		{"truncated by one byte", good.Bytes()[:good.Len()-2], "truncated"},
		{"empty", nil, "empty file"},
		{"not JSON", []byte("PK\x03\x04 zip"), "not a partial result"},
		{"other JSON", []byte(`{"engine":"event","T":32}`), "not a partial result"},
		{"newer version", edit(func(m map[string]any) { m["version"] = 2 }), "version 2"},
		{"unknown field", edit(func(m map[string]any) { m["extra"] = 1 }), "unknown field"},
		{"two objects", append(append([]byte{}, good.Bytes()...), good.Bytes()...), "after top-level value"},
		{"a prediction missing", edit(func(m map[string]any) {
			p := run(m)["predictions"].([]any)
			run(m)["predictions"] = p[1:]
		}), "predictions"},
		{"spikes that do not add up", edit(func(m map[string]any) {
			run(m)["layers"].([]any)[0].(map[string]any)["spikes"] = 1e9
		}), "layer"},
		{"a label missing", edit(func(m map[string]any) { m["labels"] = m["labels"].([]any)[1:] }), "labels"},
		{"a shard range of another split", edit(func(m map[string]any) { m["shard"].(map[string]any)["end"] = 7 }), "covers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := os.WriteFile(path, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := analysis.ReadPart(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "\n") || !analysis.IsBadInput(err) {
				t.Errorf("error %v\nwant one line naming %s with %q", err, path, tc.want)
			}
			if _, err := analysis.MergeFiles([]string{path}); err == nil {
				t.Error("merge accepted it")
			}
		})
	}
	// The good file itself reads back as written.
	path := filepath.Join(dir, "good.json")
	if err := analysis.SavePart(path, part); err != nil {
		t.Fatal(err)
	}
	back, err := analysis.ReadPart(path)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := fmt.Sprint(untimed(t, back)), fmt.Sprint(untimed(t, part)); a != b {
		t.Errorf("read back\n%s\nwritten\n%s", a, b)
	}
}
