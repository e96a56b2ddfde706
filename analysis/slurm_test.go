package analysis_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/evsnn/evsnn/analysis"
)

func slurmJob(dir string, args ...string) analysis.SlurmJob {
	return analysis.SlurmJob{Args: args, Shards: 4, Dir: filepath.Join(dir, "out"), WorkDir: dir, Evsnn: "/bin/echo"}
}

// bashRun runs script with bash in env and returns its output.
func bashRun(t *testing.T, script string, env ...string) string {
	t.Helper()
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return string(out)
}

// The array script runs, in task i, shard i%N of run i/N with the run's
// arguments; the merge script merges run r's N parts. Both are run here
// by bash with echo standing in for evsnn.
func TestSlurmPlanScripts(t *testing.T) {
	dir := t.TempDir()
	job := slurmJob(dir, "--dataset", "mnist", "simulate", "{model}", "--images", "100")
	job.Sweep = []analysis.SweepAxis{{Name: "model", Values: []string{"a.evsnn", "my net.evsnn"}}, {Name: "T", Values: []string{"4", "8"}}}
	job.Partition, job.Time, job.CPUsPerTask, job.Sbatch = "short", "00:10:00", 2, []string{"--qos=ci"}
	p, err := job.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if p.Tasks != 16 || len(p.Runs) != 4 || p.Runs[3].Name != "model=my net.evsnn,T=8" {
		t.Fatalf("%d tasks, runs %+v", p.Tasks, p.Runs)
	}
	out := filepath.Join(dir, "out")
	for _, want := range []string{
		"#SBATCH --array=0-15\n", "#SBATCH --output=" + out + "/logs/task-%a.out\n", "#SBATCH --chdir=" + dir + "\n",
		"#SBATCH --partition=short\n", "#SBATCH --time=00:10:00\n", "#SBATCH --qos=ci\n", "#SBATCH --cpus-per-task=2\n",
	} {
		if !strings.Contains(p.Array, want) {
			t.Errorf("array script lacks %q:\n%s", want, p.Array)
		}
	}
	if !strings.Contains(p.Merge, "#SBATCH --array=0-3\n") || !strings.Contains(p.Merge, "/logs/merge-%a.out\n") {
		t.Errorf("merge script:\n%s", p.Merge)
	}
	// Task 13 = shard 1 of run 3 (my net.evsnn, T=8).
	got := bashRun(t, p.Array, "SLURM_ARRAY_TASK_ID=13", "SLURM_CPUS_PER_TASK=2")
	run3 := filepath.Join(out, "model=my_net.evsnn,T=8")
	want := fmt.Sprintf("--workers 2 --dataset mnist simulate my net.evsnn --images 100 --T 8 --shard 1/4 -o %s/parts/part-1.json", run3)
	if !strings.Contains(got, want) || !strings.Contains(got, "shard 1/4 of run 3") {
		t.Errorf("task 13 ran\n%s\nwant\n%s", got, want)
	}
	if _, err := os.Stat(filepath.Join(run3, "parts")); err != nil {
		t.Errorf("the task did not make its parts directory: %v", err)
	}
	got = bashRun(t, p.Merge, "SLURM_ARRAY_TASK_ID=2")
	run2 := filepath.Join(out, "model=my_net.evsnn,T=4")
	want = fmt.Sprintf("merge %[1]s/parts/part-0.json %[1]s/parts/part-1.json %[1]s/parts/part-2.json %[1]s/parts/part-3.json -o %[1]s/result.json", run2)
	if strings.TrimSpace(got) != want {
		t.Errorf("merge 2 ran\n%s\nwant\n%s", got, want)
	}
	// The submission script is valid bash and holds both scripts.
	if _, err := exec.LookPath("bash"); err == nil {
		if out, err := exec.Command("bash", "-n", "-c", p.Script).CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v\n%s", err, out)
		}
	}
	if !strings.Contains(p.Script, p.Array) || !strings.Contains(p.Script, p.Merge) || !strings.Contains(p.Script, "--dependency=afterok:$array") {
		t.Errorf("submission script:\n%s", p.Script)
	}
}

// A run without a sweep: one merge job (no array) and results in Dir.
func TestSlurmPlanSingleRun(t *testing.T) {
	dir := t.TempDir()
	p, err := slurmJob(dir, "profile", "net.evsnn", "--T", "16").Plan()
	if err != nil {
		t.Fatal(err)
	}
	if p.Tasks != 4 || len(p.Runs) != 1 || p.Runs[0].Result() != filepath.Join(dir, "out", "result.json") {
		t.Errorf("%d tasks, runs %+v", p.Tasks, p.Runs)
	}
	if strings.Contains(p.Merge, "--array") || !strings.Contains(p.Merge, "/logs/merge.out\n") || !strings.Contains(p.Merge, "#SBATCH --job-name=evsnn-profile-merge\n") {
		t.Errorf("merge script:\n%s", p.Merge)
	}
	got := bashRun(t, p.Array, "SLURM_ARRAY_TASK_ID=3")
	if !strings.Contains(got, "--workers 1 profile net.evsnn --T 16 --shard 3/4 -o "+dir+"/out/parts/part-3.json") {
		t.Errorf("task 3 ran %s", got)
	}
}

func TestSlurmPlanRefuses(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		job   analysis.SlurmJob
		sweep string
		want  string
	}{
		{"not a sharded command", slurmJob(dir, "convert", "net.onnx"), "", "must be one of simulate, compare, profile"},
		{"a shard of its own", slurmJob(dir, "simulate", "--shard", "1/2"), "", "each task sets its own --shard and -o"},
		{"an output of its own", slurmJob(dir, "simulate", "-o", "x.json"), "", "each task sets its own"},
		{"a swept flag given", slurmJob(dir, "simulate", "--T=8"), "T=4,8", "already give --T=8"},
		{"a placeholder not swept", slurmJob(dir, "simulate", "{model}"), "", "{model} but no --sweep model"},
		{"a space in an sbatch value", func() analysis.SlurmJob { j := slurmJob(dir, "simulate"); j.Partition = "a b"; return j }(), "", "cannot hold spaces"},
		{"no shards", func() analysis.SlurmJob { j := slurmJob(dir, "simulate"); j.Shards = 0; return j }(), "", "--shards 0"},
		{"a bad sweep", slurmJob(dir, "simulate"), "T", "want NAME=V1,V2"},
		{"a value twice", slurmJob(dir, "simulate"), "T=4,4", "4 twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.sweep != "" {
				var ax analysis.SweepAxis
				if ax, err = analysis.ParseSweep(tc.sweep); err == nil {
					tc.job.Sweep = []analysis.SweepAxis{ax}
				}
			}
			if err == nil {
				_, err = tc.job.Plan()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || !analysis.IsBadInput(err) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// fakeSlurm answers sbatch with job ids and scontrol with a script of
// states, and records the calls.
type fakeSlurm struct {
	calls  []string
	stdin  []string
	merge  []string // successive scontrol answers for the merge job
	onDone func()
}

func (f *fakeSlurm) run(_ context.Context, stdin, name string, args ...string) (string, error) {
	f.calls = append(f.calls, name+" "+strings.Join(args, " "))
	f.stdin = append(f.stdin, stdin)
	switch {
	case name == "sbatch" && len(f.calls) == 1:
		return "101\n", nil
	case name == "sbatch":
		return "102;cluster\n", nil
	case name == "scontrol" && args[len(args)-1] == "101":
		return "JobId=101 ArrayJobId=101 ArrayTaskId=0-3 JobState=RUNNING Reason=None\n", nil
	case name == "scontrol":
		if len(f.merge) == 0 {
			return "", fmt.Errorf("scontrol: error: Invalid job id specified")
		}
		s := f.merge[0]
		if len(f.merge) > 1 {
			f.merge = f.merge[1:]
		} else if f.onDone != nil {
			f.onDone()
		}
		return s, nil
	}
	return "", fmt.Errorf("unexpected %s", name)
}

// Submit submits the array, then the merge with afterok on it; Wait
// follows the merge until it completes or fails.
func TestSlurmSubmitAndWait(t *testing.T) {
	dir := t.TempDir()
	p, err := slurmJob(dir, "simulate", "net.evsnn").Plan()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSlurm{merge: []string{
		"JobId=102 JobState=PENDING Reason=Dependency\n",
		"JobId=102 JobState=RUNNING Reason=None\n",
		"JobId=102 JobState=COMPLETED Reason=None\n",
	}}
	f.onDone = func() { os.WriteFile(p.Runs[0].Result(), []byte("{}"), 0o644) }
	ids, err := p.Submit(context.Background(), f.run)
	if err != nil {
		t.Fatal(err)
	}
	if ids.Array != "101" || ids.Merge != "102" || f.calls[0] != "sbatch --parsable" || f.stdin[0] != p.Array ||
		f.calls[1] != "sbatch --parsable --dependency=afterok:101 --kill-on-invalid-dep=yes" || f.stdin[1] != p.Merge {
		t.Fatalf("ids %+v, calls %q", ids, f.calls)
	}
	if _, err := os.Stat(filepath.Join(dir, "out", "logs")); err != nil {
		t.Errorf("no log directory: %v", err)
	}
	if err := p.Wait(context.Background(), ids, f.run, time.Millisecond, analysis.Env{}); err != nil {
		t.Errorf("wait: %v", err)
	}
	for _, tc := range []struct {
		name  string
		merge []string
		want  string
	}{
		{"a task failed", []string{"JobId=102 JobState=CANCELLED Reason=DependencyNeverSatisfied\n"}, "a task of array job 101 failed"},
		{"the merge failed", []string{"JobId=102 JobState=FAILED Reason=NonZeroExitCode\n"}, "merge job 102 FAILED (NonZeroExitCode)"},
		{"gone without a result", nil, "is missing"},
	} {
		os.Remove(p.Runs[0].Result())
		f := &fakeSlurm{merge: tc.merge}
		err := p.Wait(context.Background(), ids, f.run, time.Millisecond, analysis.Env{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
