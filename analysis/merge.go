package analysis

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/network"
)

// Merged is a run rebuilt from its partial results: exactly what the run
// in one process gives (the same JSON, but for wall-clock times, which
// are the sums of the parts').
type Merged struct {
	Command string
	// Parts is the number of parts merged.
	Parts int
	// One of these is set, by Command.
	Simulation *Simulation
	Comparison *Comparison
	Profile    *profile.Profile
	// Provenance is the run's.
	Provenance Provenance
}

// Value is what `evsnn merge --json` prints: the command's result.
func (m *Merged) Value() any {
	switch {
	case m.Simulation != nil:
		return m.Simulation
	case m.Comparison != nil:
		return m.Comparison
	default:
		return m.Profile
	}
}

// WriteText prints the merged result as the command prints it.
func (m *Merged) WriteText(w io.Writer) error {
	switch {
	case m.Simulation != nil:
		return m.Simulation.WriteText(w)
	case m.Comparison != nil:
		return m.Comparison.WriteText(w, 20)
	default:
		return profile.PrintTable(w, m.Profile)
	}
}

// MergeFiles reads the partial results at paths (ReadPart) and merges
// them (MergeParts).
func MergeFiles(paths []string) (*Merged, error) {
	if len(paths) == 0 {
		return nil, BadInput(fmt.Errorf("merge: no parts given"))
	}
	parts := make([]*Part, len(paths))
	for i, p := range paths {
		var err error
		if parts[i], err = ReadPart(p); err != nil {
			return nil, err
		}
	}
	return MergeParts(parts, paths)
}

// MergeParts merges the parts of one run (names[i] names parts[i] in
// errors) into the run's result. The parts must have the same command,
// provenance (model and SNN hashes, data but for its path, calibration
// images, evsnn version), options and SNN metadata, be shards of the
// same N, and cover every image of the run exactly once; the first
// violation is a one-line error naming the part.
func MergeParts(parts []*Part, names []string) (*Merged, error) {
	if len(parts) == 0 {
		return nil, BadInput(fmt.Errorf("merge: no parts given"))
	}
	if len(names) != len(parts) {
		names = make([]string, len(parts))
		for i := range names {
			names[i] = fmt.Sprintf("#%d", i+1)
		}
	}
	for i, p := range parts {
		if p.Format != PartFormat || p.Version != PartVersion {
			return nil, BadInput(fmt.Errorf("part %s: format %q version %d, want %q version %d", names[i], p.Format, p.Version, PartFormat, PartVersion))
		}
		if err := p.check(); err != nil {
			return nil, BadInput(fmt.Errorf("part %s: %w", names[i], err))
		}
	}
	ref := parts[0]
	for i, p := range parts[1:] {
		if err := sameRun(ref, p, names[0]); err != nil {
			return nil, BadInput(fmt.Errorf("part %s: %w", names[i+1], err))
		}
	}
	order, err := shardOrder(parts, names)
	if err != nil {
		return nil, BadInput(err)
	}
	m := &Merged{Command: ref.Command, Parts: len(parts), Provenance: ref.Provenance}
	var labels, ann []int
	var annWall time.Duration
	runs := map[string]*network.SimResult{}
	var sums []profile.ErrorSums
	for _, i := range order {
		p := parts[i]
		labels = append(labels, p.Labels...)
		if p.ANN != nil {
			ann = append(ann, p.ANN.Predictions...)
			annWall += time.Duration(p.ANN.WallNS)
		}
		for name, r := range map[string]*PartRun{"run": p.Run, "dense": p.Dense, "event": p.Event} {
			if r == nil {
				continue
			}
			if runs[name] == nil {
				runs[name] = r.result()
			} else if err := runs[name].Append(r.result()); err != nil {
				return nil, BadInput(fmt.Errorf("part %s: %s simulation: %w", names[i], name, err))
			}
		}
		if p.Profile != nil && p.Options.ErrorImages > 0 {
			if sums == nil {
				sums = make([]profile.ErrorSums, len(p.Profile.ErrorSums))
			}
			for k := range sums {
				if err := sums[k].Add(p.Profile.ErrorSums[k]); err != nil {
					return nil, BadInput(fmt.Errorf("part %s: %w", names[i], err))
				}
			}
		}
	}
	o := ref.Options
	opts := network.SimOptions{T: o.T, Encoding: network.Encoding(o.Encoding), Seed: o.Seed}
	switch ref.Command {
	case "simulate":
		m.Simulation = newSimulation(runs["run"], opts, ref.SNN)
		m.Simulation.setExit(o.Exit)
	case "compare":
		m.Comparison = CompareResults(labels, ann, annWall, runs["dense"], runs["event"])
		m.Comparison.ANNSource = ref.ANN.Source
	case "profile":
		if o.Energy == nil {
			return nil, BadInput(fmt.Errorf("part %s: profile without energy constants", names[0]))
		}
		if m.Profile, err = profile.FromCosts(ref.Profile.Costs, runs["run"], *o.Energy); err != nil {
			return nil, BadInput(fmt.Errorf("part %s: %w", names[0], err))
		}
		m.Profile.SetANNAccuracy(accuracy(ann, labels))
		if sums != nil {
			if err := m.Profile.SetConversionError(sums); err != nil {
				return nil, BadInput(err)
			}
		}
	}
	return m, nil
}

// sameRun reports how p is not of the same run as ref (named refName).
func sameRun(ref, p *Part, refName string) error {
	if p.Command != ref.Command {
		return fmt.Errorf("a partial result of %s, %s is of %s", p.Command, refName, ref.Command)
	}
	a, b := ref.Provenance, p.Provenance
	a.Model.Name, b.Model.Name, a.Data.Path, b.Data.Path = "", "", "", ""
	for _, c := range []struct {
		what string
		a, b any
	}{
		{"provenance", a, b},
		{"options", ref.Options, p.Options},
		{"snn", ref.SNN, p.SNN},
		{"ann.source", annSource(ref), annSource(p)},
	} {
		if d := firstDiff(c.a, c.b); d != "" {
			return fmt.Errorf("not the same run as %s: %s.%s", refName, c.what, d)
		}
	}
	if ref.Profile != nil && p.Profile != nil && !reflect.DeepEqual(ref.Profile.Costs, p.Profile.Costs) {
		return fmt.Errorf("not the same run as %s: the network's costs differ", refName)
	}
	if p.Shard.N != ref.Shard.N {
		return fmt.Errorf("shard %d/%d, %s is a shard of %d", p.Shard.K, p.Shard.N, refName, ref.Shard.N)
	}
	return nil
}

func annSource(p *Part) string {
	if p.ANN == nil {
		return ""
	}
	return p.ANN.Source
}

// shardOrder returns the parts' indices in shard order, checking that
// every shard is there once.
func shardOrder(parts []*Part, names []string) ([]int, error) {
	n := parts[0].Shard.N
	at := make([]int, n)
	for k := range at {
		at[k] = -1
	}
	for i, p := range parts {
		s := p.Shard
		if j := at[s.K]; j >= 0 {
			return nil, fmt.Errorf("part %s: shard %d/%d (images %d..%d) is also in %s: an image would be counted twice", names[i], s.K, s.N, s.First, s.End-1, names[j])
		}
		at[s.K] = i
	}
	var missing []string
	total := parts[0].Provenance.Data.Images
	for k, i := range at {
		if i < 0 {
			first, end := Shard{K: k, N: n}.Range(total)
			missing = append(missing, fmt.Sprintf("%d/%d (images %d..%d)", k, n, first, end-1))
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("merge: %d of %d parts given; missing shard %s", len(parts), n, strings.Join(missing, ", "))
	}
	return at, nil
}

// firstDiff names the first field in which a and b (JSON-encodable)
// differ, as "path: A, not B" (b's value, then a's), or "".
func firstDiff(a, b any) string {
	var x, y any
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) == string(jb) {
		return ""
	}
	json.Unmarshal(ja, &x)
	json.Unmarshal(jb, &y)
	return diffValues("", x, y)
}

func diffValues(path string, a, b any) string {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if okA && okB {
		keys := make([]string, 0, len(ma)+len(mb))
		for k := range ma {
			keys = append(keys, k)
		}
		for k := range mb {
			if _, ok := ma[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if d := diffValues(p, ma[k], mb[k]); d != "" {
				return d
			}
		}
		return ""
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) == string(jb) {
		return ""
	}
	return fmt.Sprintf("%s is %s, not %s", path, short(jb), short(ja))
}

// short abbreviates a long JSON value for an error line.
func short(b []byte) string {
	const max = 80
	if len(b) <= max {
		return string(b)
	}
	return string(slices.Clip(b[:max])) + "…"
}
