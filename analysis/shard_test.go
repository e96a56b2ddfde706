package analysis_test

import (
	"strings"
	"testing"

	"github.com/evsnn/evsnn/analysis"
)

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want analysis.Shard
		err  string
	}{
		{"3/8", analysis.Shard{K: 3, N: 8}, ""},
		{"0/1", analysis.Shard{K: 0, N: 1}, ""},
		{" 2 / 4 ", analysis.Shard{K: 2, N: 4}, ""},
		{"none", analysis.Shard{}, ""},
		{"", analysis.Shard{}, ""},
		{"8/8", analysis.Shard{}, "0 ≤ K < N"},
		{"-1/4", analysis.Shard{}, "0 ≤ K < N"},
		{"1/0", analysis.Shard{}, "N ≥ 1"},
		{"3", analysis.Shard{}, "want K/N"},
		{"a/b", analysis.Shard{}, "want K/N"},
		{"auto", analysis.Shard{}, "want K/N"},
	} {
		got, err := analysis.ParseShard(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !analysis.IsBadInput(err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("%q: error %v, want one line with %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// The shards of a run tile its images: contiguous, in order, none
// missing, sizes within one image of each other.
func TestShardRangesTile(t *testing.T) {
	for _, total := range []int{1, 2, 7, 10, 97, 10000} {
		for n := 1; n <= min(total, 13); n++ {
			next, lo, hi := 0, total, 0
			for k := range n {
				first, end := analysis.Shard{K: k, N: n}.Range(total)
				if first != next || end <= first {
					t.Fatalf("%d images, shard %d/%d: [%d, %d) after %d", total, k, n, first, end, next)
				}
				next = end
				lo, hi = min(lo, end-first), max(hi, end-first)
			}
			if next != total || hi-lo > 1 {
				t.Errorf("%d images in %d shards: end %d, sizes %d..%d", total, n, next, lo, hi)
			}
		}
	}
	if first, end := (analysis.Shard{}).Range(42); first != 0 || end != 42 {
		t.Errorf("whole run: [%d, %d)", first, end)
	}
}

func TestShardFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		count int
		want  analysis.Shard
		ok    bool
		err   string
	}{
		{"not in a job", nil, 0, analysis.Shard{}, false, ""},
		{"slurm --array=0-7", map[string]string{"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "7", "SLURM_ARRAY_TASK_STEP": "1"}, 0, analysis.Shard{K: 3, N: 8}, true, ""},
		{"slurm --array=1-8", map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "8"}, 0, analysis.Shard{K: 0, N: 8}, true, ""},
		{"slurm --array=0-14:2", map[string]string{"SLURM_ARRAY_TASK_ID": "10", "SLURM_ARRAY_TASK_COUNT": "8", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "14", "SLURM_ARRAY_TASK_STEP": "2"}, 0, analysis.Shard{K: 5, N: 8}, true, ""},
		{"slurm --array=1,5,7", map[string]string{"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "7"}, 0, analysis.Shard{}, false, "not a range"},
		{"slurm without a count", map[string]string{"SLURM_ARRAY_TASK_ID": "5"}, 0, analysis.Shard{}, false, "SLURM_ARRAY_TASK_COUNT is not set"},
		{"slurm garbage", map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "8"}, 0, analysis.Shard{}, false, "not a number"},
		{"kubernetes with EVSNN_SHARD_COUNT", map[string]string{"JOB_COMPLETION_INDEX": "6", "EVSNN_SHARD_COUNT": "8"}, 0, analysis.Shard{K: 6, N: 8}, true, ""},
		{"kubernetes with a count flag", map[string]string{"JOB_COMPLETION_INDEX": "2", "EVSNN_SHARD_COUNT": "99"}, 4, analysis.Shard{K: 2, N: 4}, true, ""},
		{"kubernetes without a count", map[string]string{"JOB_COMPLETION_INDEX": "2"}, 0, analysis.Shard{}, false, ""},
		{"kubernetes index beyond the count", map[string]string{"JOB_COMPLETION_INDEX": "4"}, 4, analysis.Shard{}, false, "0 ≤ K < N"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, from, ok, err := analysis.ShardFromEnv(func(k string) string { return tc.env[k] }, tc.count)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || ok != tc.ok || s != tc.want || ok && from == "" {
				t.Errorf("%v from %q, ok %v, err %v; want %v, %v", s, from, ok, err, tc.want, tc.ok)
			}
		})
	}
	// --shard auto takes the environment's shard; K/N and none override it.
	env := func(k string) string {
		return map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"}[k]
	}
	for flag, want := range map[string]analysis.Shard{"auto": {K: 2, N: 4}, "none": {}, "1/3": {K: 1, N: 3}} {
		if got, err := analysis.ResolveShard(flag, 0, env, analysis.Env{}); err != nil || got != want {
			t.Errorf("--shard %s in a Slurm array: %v, %v; want %v", flag, got, err, want)
		}
	}
}
