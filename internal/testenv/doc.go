// Package testenv tells tests about the environment they run in, so that
// every package asks the same way: whether the race detector is on (slow
// tests then shrink) and whether the long checks were asked for.
package testenv
