package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
)

// timings are the JSON fields that hold wall-clock times: the only ones
// a merged result does not share with the one-process run.
var timings = []string{"wall_seconds", "ann_seconds", "dense_seconds", "event_seconds", "event_speedup_over_dense"}

// untimedJSON is a command's JSON output without its timings, re-encoded
// with sorted keys.
func untimedJSON(t *testing.T, out string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range timings {
		delete(m, k)
	}
	b, _ := json.MarshalIndent(m, "", " ")
	return string(b)
}

// cli runs the command line and returns stdout, failing on a non-zero
// exit.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	code, out, stderr := runCLI(t, append([]string{"--log-level", "warn"}, args...)...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	return out
}

// simulate, compare and profile run in 3 shards (-o FILE) merge into
// exactly the JSON of the one-process run, timings aside.
func TestShardsMergeToTheUnshardedRun(t *testing.T) {
	snn := fixtureSNNFile(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"simulate", []string{"simulate", snn, "--images", "12", "--T", "6"}},
		{"simulate-poisson", []string{"simulate", snn, "--images", "12", "--T", "6", "--encoding", "poisson", "--seed", "4"}},
		{"compare", []string{"compare", snn, "--images", "9", "--T", "5"}},
		{"profile", []string{"profile", snn, "--images", "10", "--T", "5", "--error-images", "7"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := untimedJSON(t, cli(t, append(tc.args, "--json", "--shard", "none")...))
			var parts []string
			for k := 2; k >= 0; k-- {
				p := filepath.Join(dir, fmt.Sprintf("%s-%d.json", tc.name, k))
				if out := cli(t, append(tc.args, "--shard", fmt.Sprintf("%d/3", k), "-o", p)...); out != "" {
					t.Errorf("shard %d printed %q", k, out)
				}
				parts = append(parts, p)
			}
			res := filepath.Join(dir, tc.name+"-result.json")
			got := cli(t, append([]string{"merge", "--json", "-o", res}, parts...)...)
			if u := untimedJSON(t, got); u != want {
				t.Errorf("merged\n%s\nwant\n%s", u, want)
			}
			if b, err := os.ReadFile(res); err != nil || string(b) != got {
				t.Errorf("merge -o wrote %d bytes (%v), printed %d", len(b), err, len(got))
			}
			// A part missing: exit status 2 and a line naming what is missing.
			code, _, stderr := runCLI(t, append([]string{"merge"}, parts[:2]...)...)
			if code != 2 || !strings.Contains(lastLine(stderr), "missing shard 0/3") {
				t.Errorf("two of three parts: exit %d, %q", code, lastLine(stderr))
			}
		})
	}
}

// A shard needs somewhere for its partial result to go; inside a Slurm
// array job the shard comes from the environment unless --shard says
// otherwise.
func TestShardFlags(t *testing.T) {
	snn := fixtureSNNFile(t)
	code, _, stderr := runCLI(t, "simulate", snn, "--images", "6", "--T", "2", "--shard", "1/3")
	if code != 2 || !strings.Contains(lastLine(stderr), "write it with -o FILE or print it with --json") {
		t.Errorf("shard without -o: exit %d, %q", code, lastLine(stderr))
	}
	code, _, stderr = runCLI(t, "profile", snn, "--images", "6", "--T", "2", "--shard", "1/3", "--json", "--csv", t.TempDir())
	if code != 2 || !strings.Contains(lastLine(stderr), "merge the parts first") {
		t.Errorf("shard with --csv: exit %d, %q", code, lastLine(stderr))
	}
	code, _, stderr = runCLI(t, "simulate", snn, "--images", "2", "--T", "2", "--shard", "0/3", "--json")
	if code != 2 || !strings.Contains(lastLine(stderr), "fewer than 3 shards") {
		t.Errorf("more shards than images: exit %d, %q", code, lastLine(stderr))
	}

	t.Setenv("SLURM_ARRAY_TASK_ID", "1")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "3")
	var p analysis.Part
	runJSON(t, &p, "simulate", snn, "--images", "6", "--T", "2", "--json")
	if p.Format != analysis.PartFormat || p.Shard != (analysis.ShardRange{K: 1, N: 3, First: 2, End: 4}) || p.Provenance.Data.Images != 6 {
		t.Errorf("in a Slurm array task: %q, shard %+v of %d images", p.Format, p.Shard, p.Provenance.Data.Images)
	}
	var sim analysis.Simulation
	runJSON(t, &sim, "simulate", snn, "--images", "6", "--T", "2", "--json", "--shard", "none")
	if sim.Images != 6 {
		t.Errorf("--shard none in a Slurm array task: %d images", sim.Images)
	}
}

// -o FILE writes the whole run's JSON atomically and still prints the
// table.
func TestOutputFile(t *testing.T) {
	snn := fixtureSNNFile(t)
	path := filepath.Join(t.TempDir(), "sim.json")
	out := cli(t, "simulate", snn, "--images", "4", "--T", "3", "-o", path)
	var sim analysis.Simulation
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &sim) != nil || sim.Images != 4 || !strings.Contains(out, "accuracy after t steps") {
		t.Errorf("-o: %v, %d images; stdout %q", err, sim.Images, out)
	}
}

// `evsnn slurm` prints the submission script, or writes it (executable)
// with -o, after checking the run's arguments with the command line's own
// parser.
func TestSlurmCommand(t *testing.T) {
	dir := t.TempDir()
	net := "../../testdata/mnist_lenet.onnx"
	out := cli(t, "slurm", "--shards", "3", "--dir", dir, "--evsnn", "/opt/evsnn", "--sweep", "T=4,8", "--", "simulate", net, "--images", "30")
	for _, want := range []string{"#SBATCH --array=0-5", "--dependency=afterok:$array", "exec /opt/evsnn --workers", "args=(simulate " + net + " --images 30 --T 8)", dir + "/T=8"} {
		if !strings.Contains(out, want) {
			t.Errorf("script lacks %q:\n%s", want, out)
		}
	}
	script := filepath.Join(dir, "submit.sh")
	if out := cli(t, "slurm", "--dir", dir, "-o", script, "profile", net); out != "" {
		t.Errorf("with -o it printed %q", out)
	}
	if st, err := os.Stat(script); err != nil || st.Mode().Perm()&0o100 == 0 {
		t.Errorf("script %v, mode %v", err, st)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"slurm", "--", "simulate", net, "--frobnicate"}, "unknown flag --frobnicate"},
		{[]string{"slurm", "--", "simulate", "nowhere.evsnn"}, "nowhere.evsnn: no such file"},
		{[]string{"slurm", "--", "simulate", "--shard", "1/2"}, "each task sets its own --shard"},
		{[]string{"slurm", "--", "convert", "net.onnx"}, "must be one of simulate, compare, profile"},
		{[]string{"slurm", "--sweep", "T=4,x", "--", "simulate", net}, "run T=x"},
		{[]string{"slurm", "--wait", "--", "simulate"}, "--wait needs --submit"},
		{[]string{"--dataset", "kmnist", "slurm", "--", "simulate"}, "give them with the run, after --"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(lastLine(stderr), tc.want) {
			t.Errorf("%v: exit %d, %q; want %q", tc.args, code, lastLine(stderr), tc.want)
		}
	}
}
