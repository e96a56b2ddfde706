package engines

import (
	"fmt"
	"strings"

	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/network"
)

// The engine names, in the order Names lists them.
const (
	Event     = "event"
	Dense     = "dense"
	DenseSkip = "dense-skip"
)

var byName = map[string]network.Engine{
	Event:     event.Engine{},
	Dense:     dense.Engine{},
	DenseSkip: dense.Engine{SkipSilent: true},
}

// Names lists the engine names ByName knows: event, dense, dense-skip.
func Names() []string { return []string{Event, Dense, DenseSkip} }

// ByName returns the engine called name (see Names), or an error that
// lists the names it knows.
func ByName(name string) (network.Engine, error) {
	if e, ok := byName[name]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("unknown engine %q (want %s)", name, list(Names()))
}

// IsDense tells whether name is one of the dense engine's (dense,
// dense-skip): the clock-driven reference the event engine is compared
// with.
func IsDense(name string) bool { return name == Dense || name == DenseSkip }

// list joins names as "a, b or c".
func list(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
