// Package analysis is what the evsnn command line does, as a library: load
// a model and data, simulate, compare the engines, profile a run, time the
// engines, describe a model. Each command of cmd/evsnn parses its flags,
// makes one or two calls here and prints the result; a Go program gets the
// same results, with the same JSON field names, without copying CLI code.
//
// # The flow
//
//	in, err := analysis.Prepare(analysis.Request{Model: "net.onnx", Images: 1000,
//		Opts: network.SimOptions{T: 32}}, env)      // model, data, checks, conversion
//	sim, err := in.Simulate(engine, env)           // simulate --json
//	cmp, err := in.Compare(env)                    // compare --json
//	a, err := in.Analyze(analysis.AnalyzeOptions{ErrorImages: 1000}, env)
//	                                               // profile --json: a.Profile
//	path, err := report.WriteRun(dir, a, report.RunInfo{}) // the HTML report
//
// Prepare loads the model in any format package format reads ("" is the
// built-in model), loads the test images Request.Data names (the zero Data
// is MNIST; without a path its test set and first 1,024 training images come
// from the copies built into the binary, models.LoadData), checks that
// they fit the model (shape, classes; for Poisson input pixels in [0, 1],
// which normalised data is not), and converts an ANN with the defaults of
// SPEC §7 (max threshold, IF, soft reset, v(0)=0, the first 1,024 training
// images of the same data).
//
// The types printed as JSON — Simulation, Comparison, Inspection, Bench,
// and profile.Profile — keep the field names of the command line's output:
// scripts read them (SPEC §7). Comparison lists every image on which the
// engines' predictions disagree and every image whose spike counts differ.
// Each type also has a WriteText method that prints the command line's
// tables.
//
// # Sharded runs
//
// Images are independent, so a run splits into shards that run anywhere
// (Slurm array tasks, Kubernetes Indexed Job pods) and merge exactly:
//
//	in, err := analysis.Prepare(analysis.Request{..., Shard: analysis.Shard{K: 3, N: 8}}, env)
//	sim, err := in.Simulate(engine, env)   // shard 3 of 8 of the images
//	part, err := in.SimulationPart(sim)    // its partial result
//	err = analysis.SavePart("part-3.json", part)
//	...
//	m, err := analysis.MergeFiles(paths)   // m.Simulation: the whole run's
//
// Shard K of N is a contiguous slice of the run's images (Shard.Range)
// and runs with SimOptions.ImageOffset at its first image, so Poisson
// input, drawn per dataset index, is the same whatever N is. A Part
// (ComparisonPart, Analysis.Part for compare and profile) carries the
// run's Provenance — sha256 of the model file and of the simulated SNN,
// the data (set, split, image count and sha256 of the whole run's images),
// the evsnn version —, the options that change numbers, the shard, and
// per-image data and sums; its JSON form is versioned (PartFormat,
// PartVersion). MergeParts refuses parts of different runs, of different
// N, missing or duplicated shards, and ReadPart truncated or inconsistent
// files, each with a one-line error naming the part. The merged result is
// the one-process result but for wall-clock times: integer sums add
// exactly, and the profile's conversion error is kept as exact sums
// (profile.ErrorSums), so it too is the same bit for bit for any N.
//
// ResolveShard reads the shard of a job array task from the environment
// (ShardFromEnv); SlurmJob writes the sbatch scripts of a sharded run or a
// sweep of them (one job array, a merge job with --dependency=afterok),
// and SlurmPlan.Submit and Wait submit and follow them.
//
// # Early exit and time to accuracy
//
// Request.Exit ("exact", "margin:M[@S]", "loss:X[@S]") is resolved by
// ResolveExit: loss:X traces the first 1,024 training images — never the
// test set — and picks the smallest margin M whose accuracy there is within
// X points of the full run's. TraceExits records one full run with every
// image's prediction and margin after every step; Replay prices any margin
// rule on it exactly (what an engine run with the rule gives, image for
// image), Sweep marks the Pareto front of accuracy against mean steps, and
// SimulateWith adds VsFull, Sweep and Record (every spike to a
// format/spikes file) to a simulation. Inputs.FindTarget is `bench
// --target-accuracy`: candidates T × calibration pipeline × exit rule,
// priced on traces, the ones reaching the target timed on one core.
//
// # Recordings, pruning, sparse weights
//
// OpenRecording, SummariseRecording, WriteRecordingCSV and RecordingRaster
// read a spike recording; RecordingResult and LoadRecordedRun rebuild the
// run's per-layer spikes, SOPs and profile from it (report.WriteRecorded).
// PruneModel is `evsnn prune` (convert.Prune, then conversion or
// calibration, accuracy and SOPs before and after); ImportCSR replaces a
// Linear layer's weights by a scipy.sparse CSR matrix.
//
// # Environment and errors
//
// Env says where logs go (a *slog.Logger; nil: nowhere) and how the
// progress of long tasks is reported (a callback; nil: not at all). The
// package keeps no global state and never prints.
//
// Errors caused by what was asked for — a malformed or unsupported model,
// data that does not fit it, options out of range, an engine refusing the
// network — are *InputError (IsBadInput): a command line exits with status
// 2 on them and 1 on anything else. Every error is one line naming what is
// wrong.
//
// Graph networks (residual Adds, MaxPools, global average pooling) go
// through every call: profiles charge each spiking layer the SOPs and MACs
// of every projection out of it, shortcuts and MaxPool events included
// (package profile), and Inspect lists each node's inputs.
package analysis
