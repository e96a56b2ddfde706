// Package cputime reads the CPU time the process has used. On a shared
// machine CPU time measures a computation's cost where wall time cannot.
// It is behind build tags: getrusage on Unix, the process times on
// Windows, and zero (with ok = false) elsewhere.
package cputime
