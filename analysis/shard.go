package analysis

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is shard K of N of a run: the K-th of N contiguous slices of its
// images, numbered from 0 as Slurm array task ids and Kubernetes
// completion indexes are. The zero Shard is the whole run (no shard: the
// run's output is the result itself, not a partial result).
type Shard struct {
	K, N int
}

// IsZero reports whether s is the whole run (no shard).
func (s Shard) IsZero() bool { return s == Shard{} }

// String is "K/N", or "none" for the whole run.
func (s Shard) String() string {
	if s.IsZero() {
		return "none"
	}
	return fmt.Sprintf("%d/%d", s.K, s.N)
}

// Range returns the images [first, end) of shard K of a run of total
// images: image i belongs to the shard K with K·total/N ≤ i < (K+1)·total/N,
// so the shards tile the run, differ in size by at most one image and
// depend on nothing but K, N and total. The whole run is [0, total).
func (s Shard) Range(total int) (first, end int) {
	if s.N < 1 { // the whole run, or not a shard (Check)
		return 0, total
	}
	return int(int64(s.K) * int64(total) / int64(s.N)), int(int64(s.K+1) * int64(total) / int64(s.N))
}

// Check reports whether 0 ≤ K < N.
func (s Shard) Check() error {
	if s.IsZero() {
		return nil
	}
	if s.N < 1 || s.K < 0 || s.K >= s.N {
		return fmt.Errorf("shard %d/%d: want K/N with N ≥ 1 and 0 ≤ K < N (shards are numbered from 0, as Slurm array task ids are)", s.K, s.N)
	}
	return nil
}

// ParseShard parses "K/N" ("none" or "" is the whole run).
func ParseShard(v string) (Shard, error) {
	if v == "" || v == "none" {
		return Shard{}, nil
	}
	ks, ns, ok := strings.Cut(v, "/")
	k, err1 := strconv.Atoi(strings.TrimSpace(ks))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, BadInput(fmt.Errorf("--shard %q: want K/N (e.g. 3/8), none or auto", v))
	}
	s := Shard{K: k, N: n}
	if err := s.Check(); err != nil {
		return Shard{}, BadInput(fmt.Errorf("--shard %s: %w", v, err))
	}
	return s, nil
}

// The environment variables ShardFromEnv reads.
const (
	// EnvShardCount is the number of shards of a Kubernetes Indexed Job
	// (its spec.completions), which Kubernetes does not put in the pods'
	// environment.
	EnvShardCount = "EVSNN_SHARD_COUNT"
	// EnvCompletionIndex is the index Kubernetes gives each pod of an
	// Indexed Job.
	EnvCompletionIndex = "JOB_COMPLETION_INDEX"
)

// ShardFromEnv finds the shard a task of a job array is: in a Slurm array
// job, K = (SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN)/SLURM_ARRAY_TASK_STEP
// and N = SLURM_ARRAY_TASK_COUNT (an array like --array=1-8 or 0-14:2 is
// fine; a list of ids with gaps is refused); in a Kubernetes Indexed Job,
// K = JOB_COMPLETION_INDEX and N = count (EVSNN_SHARD_COUNT when count is
// 0). from says where it came from, for the log; ok is false outside both
// (and in an Indexed Job without a count).
func ShardFromEnv(getenv func(string) string, count int) (s Shard, from string, ok bool, err error) {
	if id := getenv("SLURM_ARRAY_TASK_ID"); id != "" {
		num := func(name string, def int) (int, error) {
			v := getenv(name)
			if v == "" {
				if def >= 0 {
					return def, nil
				}
				return 0, fmt.Errorf("%s is not set", name)
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("%s=%q is not a number", name, v)
			}
			return n, nil
		}
		task, err := num("SLURM_ARRAY_TASK_ID", -1)
		if err != nil {
			return s, "", false, BadInput(err)
		}
		lo, err1 := num("SLURM_ARRAY_TASK_MIN", 0)
		step, err2 := num("SLURM_ARRAY_TASK_STEP", 1)
		n, err3 := num("SLURM_ARRAY_TASK_COUNT", -1)
		hi, err4 := num("SLURM_ARRAY_TASK_MAX", -1)
		for _, e := range []error{err1, err2, err3} {
			if e != nil {
				return s, "", false, BadInput(fmt.Errorf("slurm array: %w", e))
			}
		}
		if step < 1 || (task-lo)%step != 0 || (err4 == nil && (hi-lo)/step+1 != n) {
			return s, "", false, BadInput(fmt.Errorf("slurm array task %d of %d (min %d, step %d): the array is not a range, so its tasks are not shards 0..%d; use --array=0-%d or --shard K/N", task, n, lo, step, n-1, n-1))
		}
		s = Shard{K: (task - lo) / step, N: n}
		if err := s.Check(); err != nil {
			return Shard{}, "", false, BadInput(fmt.Errorf("slurm array task %d: %w", task, err))
		}
		return s, fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d of SLURM_ARRAY_TASK_COUNT=%d", task, n), true, nil
	}
	if idx := getenv(EnvCompletionIndex); idx != "" {
		k, err := strconv.Atoi(idx)
		if err != nil {
			return s, "", false, BadInput(fmt.Errorf("%s=%q is not a number", EnvCompletionIndex, idx))
		}
		if count == 0 {
			v := getenv(EnvShardCount)
			if v == "" {
				return s, "", false, nil
			}
			if count, err = strconv.Atoi(v); err != nil {
				return s, "", false, BadInput(fmt.Errorf("%s=%q is not a number", EnvShardCount, v))
			}
		}
		s = Shard{K: k, N: count}
		if err := s.Check(); err != nil {
			return Shard{}, "", false, BadInput(fmt.Errorf("%s=%d: %w", EnvCompletionIndex, k, err))
		}
		return s, fmt.Sprintf("%s=%d of %d shards", EnvCompletionIndex, k, count), true, nil
	}
	return s, "", false, nil
}

// ResolveShard is what a --shard flag means: "K/N"; "none" (the whole
// run, even inside a job array); or "auto" (the default): the shard of
// the job array task the process runs in (ShardFromEnv), else the whole
// run. count is the number of shards of a Kubernetes Indexed Job (0:
// EVSNN_SHARD_COUNT). A shard taken from the environment is logged.
func ResolveShard(flag string, count int, getenv func(string) string, env Env) (Shard, error) {
	if flag != "auto" {
		return ParseShard(flag)
	}
	s, from, ok, err := ShardFromEnv(getenv, count)
	if err != nil || !ok {
		return Shard{}, err
	}
	env.log().Info(fmt.Sprintf("running shard %s of the images (from %s): the output is a partial result for evsnn merge; --shard none runs them all", s, from))
	return s, nil
}
