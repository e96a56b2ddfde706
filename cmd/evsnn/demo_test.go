package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/evsnn/evsnn/internal/testenv"
)

// The demo on a few images: conversion, both engines, the profile and the
// report, from the data built into the binary.
func TestDemo(t *testing.T) {
	if testenv.RaceEnabled {
		t.Skip("the demo's conversion and figures take minutes under -race")
	}
	dir := filepath.Join(t.TempDir(), "report")
	code, out, stderr := runCLI(t, "--log-level", "warn", "demo", "--images", "40", "--compare-images", "20", "--error-images", "10", "-o", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, s := range []string{"T=32, 20 images", "event vs dense: same prediction for 20 of 20 images", "engine event, T = 32, 40 images", "report written to"} {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
	page, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(page), "evsnn demo: an MNIST CNN as an event-driven SNN") {
		t.Errorf("report: %v", err)
	}
}
