//go:build race

package event

// raceEnabled shrinks the slow tests under the race detector.
const raceEnabled = true
