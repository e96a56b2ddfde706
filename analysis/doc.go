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
