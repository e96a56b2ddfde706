//go:build !unix && !windows

package cputime

import "time"

// Now reports that the platform cannot tell the process's CPU time.
func Now() (time.Duration, bool) { return 0, false }
