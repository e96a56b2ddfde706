package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/internal/fsutil"
)

// SlurmCmd writes the Slurm job array of a sharded run (or sweep of runs)
// and its merge job, and with --submit submits them.
type SlurmCmd struct {
	Args        []string      `arg:"" passthrough:"" help:"The run, as for one process (after --): simulate, compare or profile with its model and flags; global flags may come first."`
	Shards      int           `help:"Shards per run: tasks of the array (one per shard and run)." default:"8"`
	Sweep       []string      `sep:"none" help:"NAME=V1,V2,...: one run per value of --NAME (or of {NAME} in the run's arguments); repeated, one run per combination. Each run has its own shards and merge." placeholder:"NAME=V,..."`
	Dir         string        `help:"Directory for parts, results and logs (one subdirectory per run of a sweep)." default:"evsnn-slurm" type:"path"`
	Evsnn       string        `help:"The evsnn binary the tasks run (default: this one)." type:"path" placeholder:"PATH"`
	Name        string        `help:"Job name (default: evsnn-COMMAND)."`
	Partition   string        `help:"sbatch --partition."`
	Account     string        `help:"sbatch --account."`
	Time        string        `help:"sbatch --time of each task and of the merge."`
	Mem         string        `help:"sbatch --mem of each task."`
	CPUsPerTask int           `name:"cpus-per-task" help:"CPUs of each task (sbatch --cpus-per-task), and its --workers." default:"1"`
	Sbatch      []string      `sep:"none" help:"More sbatch options for both jobs, e.g. --sbatch=--qos=short." placeholder:"OPTION"`
	Output      string        `short:"o" help:"Write the submission script (bash FILE submits both jobs) to FILE instead of printing it." type:"path" placeholder:"FILE"`
	Submit      bool          `help:"Submit the jobs with sbatch and print their ids."`
	Wait        bool          `help:"With --submit: block until the merge job has finished (non-zero exit if a task or the merge failed)."`
	Poll        time.Duration `help:"How often --wait asks scontrol." default:"2s"`
}

// Run implements the command.
func (c *SlurmCmd) Run(g *Globals) error {
	plan, err := c.plan(g)
	if err != nil {
		return err
	}
	if c.Output != "" {
		if err := fsutil.WriteFileAtomic(c.Output, []byte(plan.Script)); err != nil {
			return err
		}
		if err := os.Chmod(c.Output, 0o755); err != nil {
			return err
		}
		g.Log.Info().Str("file", c.Output).Int("tasks", plan.Tasks).Msg("submission script written")
	} else if !c.Submit {
		_, err := io.WriteString(g.Out, plan.Script)
		return err
	}
	if !c.Submit {
		return nil
	}
	ids, err := plan.Submit(g.Ctx, analysis.ExecRunner)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Out, "array job %s (%d tasks), merge job %s\n", ids.Array, plan.Tasks, ids.Merge)
	if !c.Wait {
		return nil
	}
	if err := plan.Wait(g.Ctx, ids, analysis.ExecRunner, c.Poll, g.Env); err != nil {
		return err
	}
	for _, r := range plan.Runs {
		fmt.Fprintln(g.Out, r.Result())
	}
	return nil
}

// plan checks the run's arguments with the command line's own parser
// (every sweep value in turn) and plans the jobs.
func (c *SlurmCmd) plan(g *Globals) (*analysis.SlurmPlan, error) {
	if d := g.Data; d.Name() != "mnist" || d.Path != "" || d.Mean != nil || d.Std != nil {
		return nil, badInputf("slurm: data flags before 'slurm' do not reach the tasks: give them with the run, after --: evsnn slurm -- --dataset %s simulate ...", d.Name())
	}
	args := c.Args
	if len(args) > 0 && args[0] == "--" { // kong keeps the -- before passthrough arguments
		args = args[1:]
	}
	job := analysis.SlurmJob{Args: args, Shards: c.Shards, Evsnn: c.Evsnn, Name: c.Name, Partition: c.Partition,
		Account: c.Account, Time: c.Time, Mem: c.Mem, CPUsPerTask: c.CPUsPerTask, Sbatch: c.Sbatch}
	if c.Wait && !c.Submit {
		return nil, badInputf("--wait needs --submit")
	}
	for _, s := range c.Sweep {
		ax, err := analysis.ParseSweep(s)
		if err != nil {
			return nil, err
		}
		job.Sweep = append(job.Sweep, ax)
	}
	var err error
	if job.Dir, err = filepath.Abs(c.Dir); err != nil {
		return nil, err
	}
	if job.WorkDir, err = os.Getwd(); err != nil {
		return nil, err
	}
	if job.Evsnn == "" {
		if job.Evsnn, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("slurm: the evsnn binary: %w (give --evsnn)", err)
		}
	}
	if job.Evsnn, err = filepath.Abs(job.Evsnn); err != nil {
		return nil, err
	}
	plan, err := job.Plan()
	if err != nil {
		return nil, err
	}
	for _, r := range plan.Runs {
		if err := checkRunArgs(append(r.Args, "--shard", fmt.Sprintf("0/%d", c.Shards), "-o", r.Part(0))); err != nil {
			what := "the run's arguments"
			if r.Name != "" {
				what = "run " + r.Name
			}
			return nil, badInputf("slurm: %s: %v", what, err)
		}
	}
	return plan, nil
}

// checkRunArgs parses args as the command line would, without running
// anything, and checks that the model file is there (a task would fail
// on it after waiting in the queue).
func checkRunArgs(args []string) error {
	var cli CLI
	parser, err := newParser(&cli, io.Discard, io.Discard)
	if err != nil {
		return err
	}
	_, code, err := parse(parser, args)
	if code >= 0 {
		return fmt.Errorf("the arguments ask for help or the version")
	}
	if err != nil {
		return err
	}
	for _, model := range []string{cli.Simulate.Model, cli.Compare.Model, cli.Profile.Model} {
		if model == "" {
			continue
		}
		if _, err := os.Stat(model); err != nil {
			return err
		}
	}
	return nil
}
