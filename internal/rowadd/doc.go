// Package rowadd holds the row-add kernel both simulation engines are
// built on: y += a·x over a row of float32s, every product rounded to
// float32 before it is added (a multiply, then an add; never a fused
// multiply-add). That rounding is what makes the engines agree bit for bit
// with each other, with gonum's Saxpy (which Gemm calls) and with the
// plain Go loop y[i] += float32(a*x[i]) on every CPU.
//
// On amd64 with AVX (checked at start-up: the CPU flag and the OS saving
// the YMM state) the rows run in assembly, 32 floats per iteration; the
// purego build tag or another architecture uses the Go loop.
package rowadd
