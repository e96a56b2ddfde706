//go:build unix

package cputime

import (
	"syscall"
	"time"
)

// Now is the CPU time (user + system) the process has used so far, and
// whether the platform can tell.
func Now() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
