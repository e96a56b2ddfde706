package dense

import (
	"math/rand/v2"
	"testing"
)

// TestAxpy checks the axpy kernel bit for bit against the plain Go loop
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
			axpy(a, x[off:], y[off:off+n])
			for i := range y {
				if y[i] != want[i] {
					t.Fatalf("n=%d off=%d: y[%d] = %v, want %v", n, off, i, y[i], want[i])
				}
			}
			if n > 0 {
				ref := append([]float32(nil), want...)
				impl.Saxpy(n, a, x[off:off+n], 1, ref[off:off+n], 1)
				got := append([]float32(nil), want...)
				axpy(a, x[off:], got[off:off+n])
				for i := range got {
					if got[i] != ref[i] {
						t.Fatalf("n=%d off=%d: differs from gonum Saxpy at %d", n, off, i)
					}
				}
			}
		}
	}
}

// TestAxpyRows checks axpyRows against row-by-row axpy, with negative
// strides.
func TestAxpyRows(t *testing.T) {
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
			axpy(1.5, x[xo:xo+c.n], want[yo:yo+c.n])
		}
		got := append([]float32(nil), y...)
		axpyRows(1.5, x, c.xOff, c.xs, got, c.yOff, c.ys, c.n, c.rows)
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
	axpyRows(1, x, 0, 100, y, 0, 1, 10, 5)
}

func TestKernelName(t *testing.T) { t.Logf("axpy kernel: %s", kernelName()) }
