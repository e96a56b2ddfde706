package analysis

import (
	"errors"
	"log/slog"
)

// Env is what the calls of this package share: where they log and how they
// report the progress of long tasks. The zero Env logs nothing and reports
// nothing.
type Env struct {
	// Log receives a line per finished step (a simulation, a conversion,
	// the ANN's accuracy) and warnings (engines that disagree, a model
	// fitted for another T); nil discards them.
	Log *slog.Logger
	// Progress, if set, is called when a long task starts (a simulation:
	// total = its images) and returns the Tracker the task reports to.
	Progress func(task string, total int) Tracker
}

// Tracker follows one long task. Update may be called from several
// goroutines.
type Tracker interface {
	// Update records that done units (of the total) are finished.
	Update(done int)
	// Done ends the task.
	Done()
}

func (e Env) log() *slog.Logger {
	if e.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Log
}

func (e Env) track(task string, total int) Tracker {
	if e.Progress == nil {
		return noTracker{}
	}
	return e.Progress(task, total)
}

type noTracker struct{}

func (noTracker) Update(int) {}
func (noTracker) Done()      {}

// InputError marks an error caused by what the caller asked for: a
// malformed or unsupported model, data that does not fit it, options out
// of range. A command line exits with status 2 on it (1 on other errors).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// BadInput marks err as an InputError (nil stays nil).
func BadInput(err error) error {
	var ie *InputError
	if err == nil || errors.As(err, &ie) {
		return err
	}
	return &InputError{err}
}

// IsBadInput reports whether err is (or wraps) an InputError.
func IsBadInput(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}
