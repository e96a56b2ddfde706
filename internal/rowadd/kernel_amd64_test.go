//go:build amd64 && !purego

package rowadd

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// TestKernelName: on amd64 the AVX kernel runs exactly when the CPU and
// the OS support AVX.
func TestKernelName(t *testing.T) {
	want := "go"
	if cpu.X86.HasAVX {
		want = "avx"
	}
	if got := Kernel(); got != want {
		t.Fatalf("Kernel() = %q, want %q (cpu.X86.HasAVX = %v)", got, want, cpu.X86.HasAVX)
	}
}
