package analysis

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// SlurmJob is a sharded run, or a sweep of sharded runs, as Slurm jobs:
// one job array with a task per (run, shard), and a merge job (an array
// of one task per run, for a sweep) that starts once every task has
// succeeded (--dependency=afterok) and merges each run's parts into its
// result. Plan writes the scripts; SlurmPlan.Submit submits them.
//
// Files: shard K of run r writes DIR[/RUN]/parts/part-K.json, the merge
// DIR[/RUN]/result.json; every task logs to DIR/logs/task-%a.out and
// every merge to DIR/logs/merge-%a.out (%a: the array index).
type SlurmJob struct {
	// Args is the run's evsnn command line as for one process, global
	// flags included: a command that takes --shard (simulate, compare or
	// profile), its model and flags, e.g. {"simulate", "net.evsnn",
	// "--T", "32"}. It must not give --shard or -o (each task adds its
	// own).
	Args []string
	// Shards is the number of shards of each run (≥ 1).
	Shards int
	// Sweep expands the run into one run per combination of values of
	// its axes (the first axis varies slowest).
	Sweep []SweepAxis
	// Dir is where parts, results and logs go; WorkDir is the tasks'
	// working directory (relative paths in Args are relative to it).
	// Both must be absolute.
	Dir, WorkDir string
	// Evsnn is the absolute path of the evsnn binary the tasks run.
	Evsnn string
	// Name is the job name (default: "evsnn-" + the command).
	Name string
	// Partition, Account, Time and Mem, if set, are passed to sbatch
	// (Mem and CPUsPerTask to the array only); CPUsPerTask (default 1) is
	// also each task's --workers.
	Partition, Account, Time, Mem string
	CPUsPerTask                   int
	// Sbatch are more sbatch options for both jobs, e.g. "--qos=short".
	Sbatch []string
}

// SweepAxis is one swept flag: the run gets --NAME VALUE, or, if its
// arguments contain {NAME}, VALUE substituted there (e.g. a model file:
// {model}).
type SweepAxis struct {
	Name   string
	Values []string
}

// ParseSweep parses NAME=V1,V2,... (e.g. T=4,8,16,32).
func ParseSweep(s string) (SweepAxis, error) {
	name, vals, ok := strings.Cut(s, "=")
	name = strings.TrimLeft(strings.TrimSpace(name), "-")
	if !ok || name == "" || vals == "" {
		return SweepAxis{}, BadInput(fmt.Errorf("--sweep %q: want NAME=V1,V2,... (e.g. T=4,8,16,32)", s))
	}
	a := SweepAxis{Name: name}
	for _, v := range strings.Split(vals, ",") {
		if v = strings.TrimSpace(v); v == "" {
			return SweepAxis{}, BadInput(fmt.Errorf("--sweep %q: an empty value", s))
		}
		if slices.Contains(a.Values, v) {
			return SweepAxis{}, BadInput(fmt.Errorf("--sweep %q: %s twice", s, v))
		}
		a.Values = append(a.Values, v)
	}
	return a, nil
}

// SweepRun is one run of a SlurmJob: its name ("" without a sweep, else
// e.g. "T=4"), its arguments and its directory.
type SweepRun struct {
	Name string
	Args []string
	Dir  string
}

// Result is the path of the run's merged result.
func (r SweepRun) Result() string { return filepath.Join(r.Dir, "result.json") }

// Part is the path of shard k's partial result.
func (r SweepRun) Part(k int) string {
	return filepath.Join(r.Dir, "parts", fmt.Sprintf("part-%d.json", k))
}

// SlurmPlan is a SlurmJob's scripts.
type SlurmPlan struct {
	Job  SlurmJob
	Runs []SweepRun
	// Tasks is the number of tasks of the array (runs × shards).
	Tasks int
	// Array and Merge are the batch scripts of the two jobs (sbatch reads
	// them on stdin); Script is a bash script that submits both, the
	// merge with --dependency=afterok on the array.
	Array, Merge, Script string
}

// shardedCommands are the commands that take --shard.
var shardedCommands = []string{"simulate", "compare", "profile"}

// Command is the evsnn command among args (the first of
// shardedCommands), or "".
func Command(args []string) string {
	for _, a := range args {
		if slices.Contains(shardedCommands, a) {
			return a
		}
	}
	return ""
}

var (
	flagName    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*$`)
	placeholder = regexp.MustCompile(`\{[A-Za-z][A-Za-z0-9-]*\}`)
	plainWord   = regexp.MustCompile(`^[A-Za-z0-9_./=,:+-]+$`)
)

// Plan checks the job and writes its scripts.
func (j SlurmJob) Plan() (*SlurmPlan, error) {
	cmd := Command(j.Args)
	switch {
	case cmd == "":
		return nil, BadInput(fmt.Errorf("slurm: the run must be one of %s, with its model and flags", strings.Join(shardedCommands, ", ")))
	case j.Shards < 1:
		return nil, BadInput(fmt.Errorf("slurm: --shards %d: must be ≥ 1", j.Shards))
	case !filepath.IsAbs(j.Dir) || !filepath.IsAbs(j.WorkDir) || !filepath.IsAbs(j.Evsnn):
		return nil, fmt.Errorf("slurm: Dir, WorkDir and Evsnn must be absolute paths")
	}
	for _, a := range j.Args {
		f, _, _ := strings.Cut(a, "=")
		if f == "--shard" || f == "-o" || f == "--output" || strings.HasPrefix(a, "-o") && len(a) > 2 && !strings.HasPrefix(a, "--") {
			return nil, BadInput(fmt.Errorf("slurm: the run's arguments give %s; each task sets its own --shard and -o", f))
		}
	}
	if j.CPUsPerTask == 0 {
		j.CPUsPerTask = 1
	}
	if j.Name == "" {
		j.Name = "evsnn-" + cmd
	}
	// sbatch reads #SBATCH lines word by word, without shell quoting.
	for _, v := range append([]string{j.Name, j.Dir, j.WorkDir, j.Partition, j.Account, j.Time, j.Mem}, j.Sbatch...) {
		if strings.ContainsAny(v, " \t\n\"'\\") {
			return nil, BadInput(fmt.Errorf("slurm: %q: a value of an #SBATCH line cannot hold spaces or quotes", v))
		}
	}
	for _, o := range j.Sbatch {
		if !strings.HasPrefix(o, "-") {
			return nil, BadInput(fmt.Errorf("slurm: --sbatch %q: want an sbatch option, e.g. --qos=short", o))
		}
	}
	runs, err := j.runs()
	if err != nil {
		return nil, err
	}
	p := &SlurmPlan{Job: j, Runs: runs, Tasks: len(runs) * j.Shards}
	p.Array, p.Merge = p.arrayScript(), p.mergeScript()
	p.Script = p.submitScript()
	return p, nil
}

// runs expands the sweep.
func (j SlurmJob) runs() ([]SweepRun, error) {
	runs := []SweepRun{{Args: slices.Clone(j.Args), Dir: j.Dir}}
	seen := map[string]bool{}
	for _, ax := range j.Sweep {
		if !flagName.MatchString(ax.Name) || len(ax.Values) == 0 {
			return nil, BadInput(fmt.Errorf("--sweep %s: want a flag name and values", ax.Name))
		}
		if seen[ax.Name] {
			return nil, BadInput(fmt.Errorf("--sweep %s given twice", ax.Name))
		}
		seen[ax.Name] = true
		hole := "{" + ax.Name + "}"
		inArgs := slices.ContainsFunc(j.Args, func(a string) bool { return strings.Contains(a, hole) })
		if !inArgs {
			for _, a := range j.Args {
				if a == "--"+ax.Name || strings.HasPrefix(a, "--"+ax.Name+"=") {
					return nil, BadInput(fmt.Errorf("--sweep %s: the run's arguments already give %s", ax.Name, a))
				}
			}
		}
		var next []SweepRun
		for _, r := range runs {
			for _, v := range ax.Values {
				n := SweepRun{Name: joinName(r.Name, ax.Name+"="+v)}
				if inArgs {
					for _, a := range r.Args {
						n.Args = append(n.Args, strings.ReplaceAll(a, hole, v))
					}
				} else {
					n.Args = append(slices.Clone(r.Args), "--"+ax.Name, v)
				}
				next = append(next, n)
			}
		}
		runs = next
	}
	dirs := map[string]string{}
	for i := range runs {
		if runs[i].Name == "" {
			continue
		}
		d := dirName(runs[i].Name)
		if other, ok := dirs[d]; ok {
			return nil, BadInput(fmt.Errorf("--sweep: runs %s and %s would share the directory %s", other, runs[i].Name, d))
		}
		dirs[d] = runs[i].Name
		runs[i].Dir = filepath.Join(j.Dir, d)
	}
	for _, r := range runs {
		for _, a := range r.Args {
			if m := placeholder.FindString(a); m != "" {
				return nil, BadInput(fmt.Errorf("slurm: the run's arguments have %s but no --sweep %s=...", m, strings.Trim(m, "{}")))
			}
		}
	}
	return runs, nil
}

func joinName(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

// dirName makes a run's name a directory name: "T=4,model=a.evsnn".
func dirName(name string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("=,.+-_", r):
			return r
		}
		return '_'
	}, name)
}

// quote quotes s for bash.
func quote(s string) string {
	if s != "" && plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func quoteAll(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = quote(a)
	}
	return strings.Join(q, " ")
}

// header is the #SBATCH lines both jobs share.
func (p *SlurmPlan) header(b *strings.Builder, name, array, log string) {
	j := p.Job
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(b, "#SBATCH --job-name=%s\n", name)
	if array != "" {
		fmt.Fprintf(b, "#SBATCH --array=%s\n", array)
	}
	fmt.Fprintf(b, "#SBATCH --output=%s\n", filepath.Join(j.Dir, "logs", log))
	fmt.Fprintf(b, "#SBATCH --chdir=%s\n", j.WorkDir)
	for _, o := range []struct{ flag, v string }{{"partition", j.Partition}, {"account", j.Account}, {"time", j.Time}} {
		if o.v != "" {
			fmt.Fprintf(b, "#SBATCH --%s=%s\n", o.flag, o.v)
		}
	}
	for _, o := range j.Sbatch {
		fmt.Fprintf(b, "#SBATCH %s\n", o)
	}
}

// caseRuns writes a bash case statement that sets dir (and, with args,
// the run's arguments) for run number $run.
func (p *SlurmPlan) caseRuns(b *strings.Builder, args bool) {
	b.WriteString("case $run in\n")
	for i, r := range p.Runs {
		fmt.Fprintf(b, "  %d) dir=%s", i, quote(r.Dir))
		if args {
			fmt.Fprintf(b, "; args=(%s)", quoteAll(r.Args))
		}
		b.WriteString(" ;;\n")
	}
	b.WriteString("  *) echo \"evsnn: no run $run\" >&2; exit 2 ;;\nesac\n")
}

func (p *SlurmPlan) arrayScript() string {
	j := p.Job
	var b strings.Builder
	p.header(&b, j.Name, fmt.Sprintf("0-%d", p.Tasks-1), "task-%a.out")
	fmt.Fprintf(&b, "#SBATCH --cpus-per-task=%d\n", j.CPUsPerTask)
	if j.Mem != "" {
		fmt.Fprintf(&b, "#SBATCH --mem=%s\n", j.Mem)
	}
	fmt.Fprintf(&b, "# evsnn: %d run(s) × %d shards, one task per (run, shard): task i is shard i%%%d of run i/%d.\n", len(p.Runs), j.Shards, j.Shards, j.Shards)
	b.WriteString("set -euo pipefail\n")
	fmt.Fprintf(&b, "shards=%d\nrun=$(( SLURM_ARRAY_TASK_ID / shards ))\nshard=$(( SLURM_ARRAY_TASK_ID %% shards ))\n", j.Shards)
	p.caseRuns(&b, true)
	b.WriteString("mkdir -p \"$dir/parts\"\n")
	b.WriteString("echo \"evsnn task $SLURM_ARRAY_TASK_ID: shard $shard/$shards of run $run ($dir) on $(hostname)\"\n")
	fmt.Fprintf(&b, "exec %s --workers \"${SLURM_CPUS_PER_TASK:-%d}\" \"${args[@]}\" --shard \"$shard/$shards\" -o \"$dir/parts/part-$shard.json\"\n", quote(j.Evsnn), j.CPUsPerTask)
	return b.String()
}

func (p *SlurmPlan) mergeScript() string {
	j := p.Job
	var b strings.Builder
	array, log := "", "merge.out"
	if len(p.Runs) > 1 {
		array, log = fmt.Sprintf("0-%d", len(p.Runs)-1), "merge-%a.out"
	}
	p.header(&b, j.Name+"-merge", array, log)
	fmt.Fprintf(&b, "# evsnn: merges the %d parts of each run into DIR/result.json once every task succeeded.\n", j.Shards)
	b.WriteString("set -euo pipefail\nrun=${SLURM_ARRAY_TASK_ID:-0}\n")
	p.caseRuns(&b, false)
	fmt.Fprintf(&b, "exec %s merge \"$dir\"/parts/part-{0..%d}.json -o \"$dir/result.json\"\n", quote(j.Evsnn), j.Shards-1)
	return b.String()
}

func (p *SlurmPlan) submitScript() string {
	j := p.Job
	var b strings.Builder
	b.WriteString("#!/bin/bash\n")
	fmt.Fprintf(&b, "# Written by evsnn slurm: %d run(s) of `evsnn %s`, %d shards each, as one Slurm job array\n", len(p.Runs), quoteAll(j.Args), j.Shards)
	fmt.Fprintf(&b, "# of %d tasks and a merge job that waits for all of them (afterok). Submit with: bash THIS_FILE\n", p.Tasks)
	b.WriteString("set -euo pipefail\n")
	fmt.Fprintf(&b, "mkdir -p %s\n", quote(filepath.Join(j.Dir, "logs")))
	fmt.Fprintf(&b, "array=$(sbatch --parsable <<'EVSNN_ARRAY'\n%sEVSNN_ARRAY\n)\narray=${array%%%%;*}\n", p.Array)
	fmt.Fprintf(&b, "merge=$(sbatch --parsable --dependency=afterok:$array --kill-on-invalid-dep=yes <<'EVSNN_MERGE'\n%sEVSNN_MERGE\n)\nmerge=${merge%%%%;*}\n", p.Merge)
	results := make([]string, len(p.Runs))
	for i, r := range p.Runs {
		results[i] = r.Result()
	}
	fmt.Fprintf(&b, "echo \"submitted array job $array (%d tasks) and merge job $merge; results: %s\"\n", p.Tasks, strings.Join(results, " "))
	return b.String()
}
