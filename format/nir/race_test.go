//go:build race

package nir

const raceEnabled = true
