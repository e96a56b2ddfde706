package main

import (
	"io"
	"os"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/internal/fsutil"
)

// shardFlags are the flags of the commands that can run one shard of
// their images (simulate, compare, profile) and write their result to a
// file.
type shardFlags struct {
	Shard      string `help:"Run shard K/N of the images (0 ≤ K < N, contiguous slices); the output is a partial result for 'evsnn merge'. auto (the default): the shard of the Slurm array task (SLURM_ARRAY_TASK_ID) or Kubernetes Indexed Job pod (JOB_COMPLETION_INDEX, with --shard-count) this runs in, else all images; none: all images." default:"auto" placeholder:"K/N"`
	ShardCount int    `help:"Number of shards of a Kubernetes Indexed Job (its completions) for --shard auto (0: $EVSNN_SHARD_COUNT)." default:"0"`
	Output     string `short:"o" help:"Write the JSON result (with --shard, the partial result) to FILE, atomically." type:"path" placeholder:"FILE"`
}

// shardRequest is the request of a simulating command, with its shard
// resolved: a shard's result is a partial result, so it needs -o or
// --json.
func (g *Globals) shardRequest(model string, f simFlags, s shardFlags, jsonOut bool) (analysis.Request, error) {
	req := g.request(model, f)
	sh, err := analysis.ResolveShard(s.Shard, s.ShardCount, os.Getenv, g.Env)
	if err != nil {
		return req, err
	}
	if !sh.IsZero() && s.Output == "" && !jsonOut {
		return req, badInputf("--shard %s: a shard's result is a partial result for 'evsnn merge': write it with -o FILE or print it with --json", sh)
	}
	req.Shard, req.Version = sh, version
	return req, nil
}

// emit prints a simulating command's result: a shard's partial result
// (part) to -o FILE, else to stdout; otherwise the JSON of value to -o
// FILE, and to stdout with --json (the text tables without).
func (g *Globals) emit(s shardFlags, jsonOut bool, in *analysis.Inputs, part func() (*analysis.Part, error), value any, text func(io.Writer) error) error {
	if in.Sharded() {
		p, err := part()
		if err != nil {
			return err
		}
		if s.Output != "" {
			if err := analysis.SavePart(s.Output, p); err != nil {
				return err
			}
			g.Log.Info().Str("file", s.Output).Msg("partial result written")
			return nil
		}
		return analysis.WritePart(g.Out, p)
	}
	if s.Output != "" {
		if err := fsutil.WriteAtomic(s.Output, func(w io.Writer) error { return writeJSON(w, value) }); err != nil {
			return err
		}
		g.Log.Info().Str("file", s.Output).Msg("result written")
	}
	if jsonOut {
		return writeJSON(g.Out, value)
	}
	return text(g.Out)
}
