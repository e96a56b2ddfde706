package analysis

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Runner runs a Slurm client command (sbatch, scontrol) with stdin and
// returns its standard output. ExecRunner runs the real ones; tests give
// their own.
type Runner func(ctx context.Context, stdin, name string, args ...string) (string, error)

// ExecRunner runs name from PATH.
func ExecRunner(ctx context.Context, stdin, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		msg := strings.Join(strings.Fields(errb.String()), " ")
		return out.String(), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, msg)
	}
	return out.String(), nil
}

// SlurmIDs are the job ids of a submitted plan.
type SlurmIDs struct {
	Array, Merge string
}

var jobID = regexp.MustCompile(`^\d+`)

// Submit creates the log directory and submits the array, then the merge
// job with --dependency=afterok on it (and --kill-on-invalid-dep=yes, so
// that a failed task cancels the merge instead of leaving it pending).
func (p *SlurmPlan) Submit(ctx context.Context, run Runner) (SlurmIDs, error) {
	var ids SlurmIDs
	if err := os.MkdirAll(filepath.Join(p.Job.Dir, "logs"), 0o755); err != nil {
		return ids, err
	}
	out, err := run(ctx, p.Array, "sbatch", "--parsable")
	if err != nil {
		return ids, err
	}
	if ids.Array = jobID.FindString(strings.TrimSpace(out)); ids.Array == "" {
		return ids, fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	out, err = run(ctx, p.Merge, "sbatch", "--parsable", "--dependency=afterok:"+ids.Array, "--kill-on-invalid-dep=yes")
	if err != nil {
		return ids, fmt.Errorf("array job %s submitted, but the merge job not: %w", ids.Array, err)
	}
	if ids.Merge = jobID.FindString(strings.TrimSpace(out)); ids.Merge == "" {
		return ids, fmt.Errorf("sbatch printed %q, not a job id", strings.TrimSpace(out))
	}
	return ids, nil
}

var (
	jobState  = regexp.MustCompile(`\bJobState=(\S+)`)
	jobReason = regexp.MustCompile(`\bReason=(\S+)`)
)

// jobStates returns the state and reason of every line (task) scontrol
// shows for a job; gone is true once slurmctld has forgotten the job.
func jobStates(ctx context.Context, run Runner, id string) (states, reasons []string, gone bool, err error) {
	out, err := run(ctx, "", "scontrol", "show", "job", "--oneliner", id)
	if err != nil {
		if strings.Contains(err.Error(), "Invalid job id") {
			return nil, nil, true, nil
		}
		return nil, nil, false, err
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if m := jobState.FindStringSubmatch(line); m != nil {
			states = append(states, m[1])
			r := ""
			if m := jobReason.FindStringSubmatch(line); m != nil {
				r = m[1]
			}
			reasons = append(reasons, r)
		}
	}
	if len(states) == 0 {
		return nil, nil, false, fmt.Errorf("scontrol show job %s: no JobState in %q", id, strings.TrimSpace(out))
	}
	return states, reasons, false, nil
}

// failedState reports whether a job state is a terminal failure.
func failedState(s string) bool {
	switch s {
	case "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE", "PREEMPTED":
		return true
	}
	return false
}

// Wait polls scontrol every poll until the merge job has finished: nil
// once it COMPLETED (every run's result written), an error naming the
// state and the logs once it failed or was cancelled (a task of the
// array failed). It logs the array's progress as tasks complete.
func (p *SlurmPlan) Wait(ctx context.Context, ids SlurmIDs, run Runner, poll time.Duration, env Env) error {
	logs := filepath.Join(p.Job.Dir, "logs")
	lastDone := -1
	for {
		if states, _, gone, err := jobStates(ctx, run, ids.Array); err == nil && !gone {
			done := 0
			for _, s := range states {
				if s == "COMPLETED" {
					done++
				}
			}
			if done != lastDone {
				env.log().Info(fmt.Sprintf("array job %s: %d of %d tasks completed", ids.Array, done, p.Tasks))
				lastDone = done
			}
		}
		states, reasons, gone, err := jobStates(ctx, run, ids.Merge)
		if err != nil {
			return err
		}
		if gone {
			// slurmctld forgets finished jobs after MinJobAge: the results
			// tell whether the merge succeeded.
			for _, r := range p.Runs {
				if _, err := os.Stat(r.Result()); err != nil {
					return fmt.Errorf("merge job %s is gone and %s is missing; see the logs in %s", ids.Merge, r.Result(), logs)
				}
			}
			return nil
		}
		finished := 0
		for i, s := range states {
			if failedState(s) {
				if reasons[i] == "DependencyNeverSatisfied" {
					return fmt.Errorf("merge job %s %s: a task of array job %s failed; see %s/task-*.out", ids.Merge, s, ids.Array, logs)
				}
				return fmt.Errorf("merge job %s %s (%s); see %s/merge*.out", ids.Merge, s, reasons[i], logs)
			}
			if s == "COMPLETED" {
				finished++
			}
		}
		if finished == len(states) {
			for _, r := range p.Runs {
				if _, err := os.Stat(r.Result()); err != nil {
					return fmt.Errorf("merge job %s completed but %s is missing; see %s/merge*.out", ids.Merge, r.Result(), logs)
				}
			}
			env.log().Info(fmt.Sprintf("merge job %s completed", ids.Merge))
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting for merge job %s (the jobs keep running): %w", ids.Merge, ctx.Err())
		case <-time.After(poll):
		}
	}
}
