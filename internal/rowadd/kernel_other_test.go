//go:build !amd64 || purego

package rowadd

import "testing"

// TestKernelName: without the amd64 assembly the Go loop runs.
func TestKernelName(t *testing.T) {
	if got := Kernel(); got != "go" {
		t.Fatalf("Kernel() = %q, want go", got)
	}
}
