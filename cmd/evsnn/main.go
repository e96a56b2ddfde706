// Command evsnn converts trained ANNs into spiking neural networks and
// simulates them event-driven. Run `evsnn --help` for the commands; `evsnn`
// with no arguments runs the demo on the built-in model.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/rs/zerolog"
	"golang.org/x/term"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/dataset"
)

// CLI is the whole command line. Each command lives in a file of its own
// with a Run(*Globals) error method that parses its flags, makes one call
// into the library (package analysis, mostly) and prints the result.
type CLI struct {
	LogLevel   string `help:"Log level: debug, info, warn, error." default:"info" enum:"debug,info,warn,error"`
	LogFormat  string `help:"Log format on stderr: console or json." default:"console" enum:"console,json"`
	Dataset    string `help:"Data set: ${datasets}." default:"mnist" placeholder:"NAME"`
	Data       string `help:"The data set's directory or file (default: the set's usual place; MNIST's test images and first 1,024 training images are built in)." type:"path" placeholder:"PATH"`
	Normalize  string `help:"Normalise every image per channel as the model was trained: MEAN,STD (every channel) or M1,M2,M3;S1,S2,S3." placeholder:"MEAN,STD"`
	Workers    int    `help:"Goroutines for simulation and training (0: all cores)." default:"0"`
	CPUProfile string `name:"cpu-profile" help:"Write a Go CPU profile of the command to FILE (for go tool pprof)." type:"path" placeholder:"FILE"`

	Demo      DemoCmd      `cmd:"" help:"The main job: the built-in MNIST CNN converted, simulated event-driven, compared, profiled, written up (default command)."`
	Train     TrainCmd     `cmd:"" help:"Train an ANN in Go, on MNIST or --dataset (the built-in model was made this way)."`
	Inspect   InspectCmd   `cmd:"" help:"Show a model's graph: each node's inputs, shape, parameters and MACs; --accuracy runs the ANN on the test set."`
	Convert   ConvertCmd   `cmd:"" help:"Convert an ANN into an SNN by threshold balancing."`
	Calibrate CalibrateCmd `cmd:"" help:"Calibrate an SNN layer by layer for a given T (threshold search, bias, potential and weight calibration)."`
	Simulate  SimulateCmd  `cmd:"" help:"Simulate an SNN on test images (event-driven by default)."`
	Compare   CompareCmd   `cmd:"" help:"Run the ANN, the dense SNN and the event SNN on the same images and compare them."`
	Profile   ProfileCmd   `cmd:"" help:"Profile an SNN run per layer: spikes, firing rates, SOPs, MACs, energy, conversion error."`
	Merge     MergeCmd     `cmd:"" help:"Merge the partial results of a sharded run (--shard K/N) into the run's result."`
	Slurm     SlurmCmd     `cmd:"" help:"Write (and with --submit, submit) the Slurm job array of a sharded run or sweep and its merge job."`
	Report    ReportCmd    `cmd:"" help:"Write a self-contained HTML report of a profiled run (or of a spike recording), with figures."`
	Bench     BenchCmd     `cmd:"" help:"Time the engines on a model and on a synthetic network swept over activity; with --target-accuracy, find the fastest configuration (T, calibration, early exit) that reaches an accuracy."`
	Export    ExportCmd    `cmd:"" help:"Write a converted SNN as a NIR file (HDF5; build with -tags hdf5)."`
	Spikes    SpikesCmd    `cmd:"" help:"Summarise a spike recording (simulate --record): spikes and rates per layer; --raster draws an image, --csv exports, --profile adds SOPs and energy."`
	Prune     PruneCmd     `cmd:"" help:"Prune an ANN's Linear layers by magnitude, convert or calibrate it, and compare accuracy and SOPs before and after."`
	ImportCSR ImportCSRCmd `cmd:"" name:"import-csr" help:"Replace a Linear layer's weights by a SciPy CSR matrix (save_npz), making it a SparseLinear."`

	Version kong.VersionFlag `help:"Print the version and exit."`
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args, runs the chosen command and returns the exit status:
// 0 on success, 2 on bad input, 1 on any other failure.
func run(args []string, stdout, stderr io.Writer) int {
	var cli CLI
	parser, err := newParser(&cli, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "evsnn: internal error:", err)
		return 1
	}
	if len(args) == 0 {
		args = defaultArgs
	}
	kctx, code, err := parse(parser, args)
	if code >= 0 {
		return code
	}
	if err != nil {
		fmt.Fprintln(stderr, "evsnn: "+oneLine(err.Error()))
		return 2
	}
	g, err := newGlobals(&cli, stdout, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "evsnn: "+oneLine(err.Error()))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	g.Ctx = ctx
	if cli.CPUProfile != "" {
		stopProfile, err := startCPUProfile(cli.CPUProfile)
		if err != nil {
			fmt.Fprintln(stderr, "evsnn: "+oneLine(err.Error()))
			return 1
		}
		defer stopProfile()
	}
	if err := kctx.Run(g); err != nil {
		fmt.Fprintln(stderr, "evsnn: "+oneLine(err.Error()))
		if analysis.IsBadInput(err) {
			return 2
		}
		return 1
	}
	return 0
}

// newParser is the command line's parser, filling cli.
func newParser(cli *CLI, stdout, stderr io.Writer) (*kong.Kong, error) {
	return kong.New(cli,
		kong.Name("evsnn"),
		kong.Description("Convert trained CNNs into spiking neural networks and simulate them event-driven."),
		kong.Vars{"version": version, "datasets": strings.Join(dataset.Names(), ", ")},
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitCode(code)) }),
	)
}

// exitCode carries a status out of kong's Exit hook (--help, --version).
type exitCode int

// parse runs kong's parser; code ≥ 0 means kong asked to exit (after
// printing help or the version) with that status.
func parse(parser *kong.Kong, args []string) (kctx *kong.Context, code int, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, ok := r.(exitCode)
			if !ok {
				panic(r)
			}
			kctx, code, err = nil, int(c), nil
		}
	}()
	kctx, err = parser.Parse(args)
	return kctx, -1, err
}

// defaultArgs is what `evsnn` with no arguments runs.
var defaultArgs = []string{"demo"}

// Globals carries what every command needs: the logger (and the library's
// view of it, Env), the data, the context cancelled by Ctrl-C.
type Globals struct {
	Out     io.Writer // results (stdout)
	Log     zerolog.Logger
	Env     analysis.Env
	Data    analysis.Data
	Workers int
	Quiet   bool // no progress bars: stderr is not a terminal
	Ctx     context.Context
}

func newGlobals(cli *CLI, stdout, stderr io.Writer) (*Globals, error) {
	data, err := analysis.ParseData(cli.Dataset, cli.Data, cli.Normalize)
	if err != nil {
		return nil, err
	}
	// Durations in logs read as seconds with a fraction, not integer ms.
	zerolog.DurationFieldUnit = time.Second
	zerolog.DurationFieldInteger = false
	level, _ := zerolog.ParseLevel(cli.LogLevel)
	var logger zerolog.Logger
	if cli.LogFormat == "json" {
		logger = zerolog.New(stderr).With().Timestamp().Logger()
	} else {
		logger = zerolog.New(zerolog.ConsoleWriter{
			Out:        stderr,
			NoColor:    !isTerminal(stderr),
			TimeFormat: "15:04:05",
		}).With().Timestamp().Logger()
	}
	g := &Globals{Out: stdout, Log: logger.Level(level), Data: data, Workers: cli.Workers,
		Quiet: !isTerminal(stderr), Ctx: context.Background()}
	g.Env = analysis.Env{Log: slog.New(zerolog.NewSlogHandler(g.Log)), Progress: g.Progress}
	return g, nil
}

// isTerminal reports whether w is a terminal (for colours and bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// badInputf formats a bad-input error (exit status 2).
func badInputf(format string, args ...any) error {
	return analysis.BadInput(fmt.Errorf(format, args...))
}

// oneLine keeps an error on one line, as scripts expect.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// startCPUProfile starts a CPU profile written to path; the returned
// function stops it and closes the file.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
