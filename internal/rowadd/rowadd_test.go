package rowadd

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/gonum"
)

// TestAxpy checks the kernel bit for bit against the plain Go loop
// (and so against gonum's Saxpy) for all lengths up to 100 and offsets.
func TestAxpy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 0; n <= 100; n++ {
		for off := 0; off < 3; off++ {
			x := make([]float32, n+off+5)
			y := make([]float32, n+off+5)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
				y[i] = float32(rng.NormFloat64())
			}
			a := float32(rng.NormFloat64())
			want := append([]float32(nil), y...)
			for i := 0; i < n; i++ {
				want[off+i] += float32(a * x[off+i])
			}
			Axpy(a, x[off:], y[off:off+n])
			for i := range y {
				if y[i] != want[i] {
					t.Fatalf("n=%d off=%d: y[%d] = %v, want %v", n, off, i, y[i], want[i])
				}
			}
			if n > 0 {
				ref := append([]float32(nil), want...)
				gonum.Implementation{}.Saxpy(n, a, x[off:off+n], 1, ref[off:off+n], 1)
				got := append([]float32(nil), want...)
				Axpy(a, x[off:], got[off:off+n])
				for i := range got {
					if got[i] != ref[i] {
						t.Fatalf("n=%d off=%d: differs from gonum Saxpy at %d", n, off, i)
					}
				}
			}
		}
	}
}

// TestRows checks Rows against row-by-row Axpy, with negative
// strides.
func TestRows(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	x := make([]float32, 400)
	y := make([]float32, 600)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	for _, c := range []struct{ xOff, xs, yOff, ys, n, rows int }{
		{0, 80, 500, -100, 80, 5}, {10, 13, 0, 40, 37, 4}, {300, -50, 20, 7, 7, 3}, {0, 0, 0, 0, 1, 1}, {5, 20, 100, -20, 160, 1},
	} {
		want := append([]float32(nil), y...)
		for r := 0; r < c.rows; r++ {
			xo, yo := c.xOff+r*c.xs, c.yOff+r*c.ys
			Axpy(1.5, x[xo:xo+c.n], want[yo:yo+c.n])
		}
		got := append([]float32(nil), y...)
		Rows(1.5, x, c.xOff, c.xs, got, c.yOff, c.ys, c.n, c.rows)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%+v: y[%d] = %v, want %v", c, i, got[i], want[i])
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Errorf("no panic out of range")
		}
	}()
	Rows(1, x, 0, 100, y, 0, 1, 10, 5)
}

// TestRowsMatchesGo checks Rows bit for bit against the Go loop on random
// shapes and strides (negative target strides included).
func TestRowsMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 500; trial++ {
		n := 1 + r.IntN(200)
		rows := 1 + r.IntN(6)
		xStride := n + r.IntN(10)
		yStride := n + r.IntN(10)
		if r.IntN(2) == 0 {
			yStride = -yStride
		}
		x := make([]float32, (rows-1)*xStride+n+r.IntN(3))
		for i := range x {
			x[i] = r.Float32()*2 - 1
		}
		y0 := 0
		if yStride < 0 {
			y0 = (rows - 1) * -yStride
		}
		y := make([]float32, (rows-1)*max(yStride, -yStride)+n+r.IntN(3))
		for i := range y {
			y[i] = r.Float32()*10 - 5
		}
		want := append([]float32(nil), y...)
		a := r.Float32()*3 - 1
		for row := 0; row < rows; row++ {
			axpyGo(a, x[row*xStride:row*xStride+n], want[y0+row*yStride:y0+row*yStride+n])
		}
		Rows(a, x, 0, xStride, y, y0, yStride, n, rows)
		for i := range y {
			if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
				t.Fatalf("trial %d (n=%d rows=%d strides %d %d): y[%d] = %v, Go %v", trial, n, rows, xStride, yStride, i, y[i], want[i])
			}
		}
	}
}
