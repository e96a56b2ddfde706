// Package engines finds evsnn's simulation engines by name, so that a
// command line, a configuration file or a table of tests can name one:
//
//	event       event.Engine{}: the event-driven engine (SPEC §5)
//	dense       dense.Engine{}: the clock-driven reference, every product in full
//	dense-skip  dense.Engine{SkipSilent: true}: the same numbers, skipping silent inputs
//
// Every engine implements network.Engine, fills network.SimResult the same
// way and, on the same network, images and options, gives the same
// predictions and spike counts (up to float rounding at exact threshold
// ties, which the engines report rather than hide). An engine's Name() is
// the name it is found by.
package engines
