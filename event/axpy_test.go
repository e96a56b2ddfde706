package event

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// axpyRowsRef is the plain Go row-add, the reference for the grouped
// kernel: y[y0+r·yStride+i] += float32(a·x[r·xStride+i]).
func axpyRowsRef(a float32, x []float32, xStride int, y []float32, y0, yStride, n, rows int) {
	for r := 0; r < rows; r++ {
		xr, yr := x[r*xStride:r*xStride+n], y[y0+r*yStride:y0+r*yStride+n]
		for i := range yr {
			yr[i] += float32(a * xr[i])
		}
	}
}

// BenchmarkRowAdd compares row-add kernels on the fixture's conv2 shape
// (5 rows of 160 contiguous floats per event) and a 800-long row.
func BenchmarkRowAdd(b *testing.B) {
	x := make([]float32, 16*5*5*32)
	y := make([]float32, 14*14*32)
	for i := range x {
		x[i] = float32(i%7) * 0.1
	}
	const rows, n = 5, 160
	report := func(b *testing.B, adds int) {
		b.ReportMetric(float64(adds)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gadds/s")
	}
	b.Run("conv-event/asm", func(b *testing.B) {
		for b.Loop() {
			axpyRows(0.5, x, 160, y, 4*14*32, -14*32, n, rows)
		}
		report(b, rows*n)
	})
	b.Run("conv-3events-grouped/asm", func(b *testing.B) {
		offs := []int32{0, 4000, 8000}
		amps := []float32{0.5, 0.25, 0.75}
		for b.Loop() {
			convGroup(y, 4*14*32, -14*32, n, rows, x, 160, offs, amps)
		}
		report(b, 3*rows*n)
	})
	b.Run("conv-3events-separate/asm", func(b *testing.B) {
		for b.Loop() {
			for _, o := range []int{0, 4000, 8000} {
				axpyRows(0.5, x[o:], 160, y, 4*14*32, -14*32, n, rows)
			}
		}
		report(b, 3*rows*n)
	})
	b.Run("conv-event/go", func(b *testing.B) {
		for b.Loop() {
			axpyRowsRef(0.5, x, 160, y, 4*14*32, -14*32, n, rows)
		}
		report(b, rows*n)
	})
	b.Run("conv-event/blas32", func(b *testing.B) {
		for b.Loop() {
			for r := 0; r < rows; r++ {
				blas32.Axpy(0.5, blas32.Vector{N: n, Inc: 1, Data: x[r*160:]}, blas32.Vector{N: n, Inc: 1, Data: y[(4-r)*14*32:]})
			}
		}
		report(b, rows*n)
	})
	for _, n := range []int{128, 800} {
		name := "row" + itoa(n)
		b.Run(name+"/asm", func(b *testing.B) {
			for b.Loop() {
				axpy(0.5, x[:n], y)
			}
			report(b, n)
		})
		b.Run(name+"/go", func(b *testing.B) {
			for b.Loop() {
				axpyRowsRef(0.5, x[:n], 0, y, 0, 0, n, 1)
			}
			report(b, n)
		})
		b.Run(name+"/blas32", func(b *testing.B) {
			for b.Loop() {
				blas32.Axpy(0.5, blas32.Vector{N: n, Inc: 1, Data: x}, blas32.Vector{N: n, Inc: 1, Data: y})
			}
			report(b, n)
		})
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	s := ""
	for ; n > 0; n /= 10 {
		s = string(rune('0'+n%10)) + s
	}
	return s
}

func TestConvGroupMatchesAxpyRows(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for trial := 0; trial < 300; trial++ {
		n := 1 + r.IntN(170)
		rows := 1 + r.IntN(5)
		m := 1 + r.IntN(6)
		wStride := n + r.IntN(20)
		w := make([]float32, m*((rows-1)*wStride+n)+r.IntN(10))
		for i := range w {
			w[i] = r.Float32()*2 - 1
		}
		offs := make([]int32, m)
		amps := make([]float32, m)
		maxOff := len(w) - ((rows-1)*wStride + n)
		for i := range offs {
			offs[i] = int32(r.IntN(maxOff + 1))
			amps[i] = r.Float32() * 3
		}
		yStride := -(n + r.IntN(10))
		y0 := (rows - 1) * -yStride
		y := make([]float32, y0+n+r.IntN(5))
		for i := range y {
			y[i] = r.Float32()*4 - 2
		}
		want := append([]float32(nil), y...)
		for i := range offs {
			axpyRowsRef(amps[i], w[offs[i]:], wStride, want, y0, yStride, n, rows)
		}
		convGroup(y, y0, yStride, n, rows, w, wStride, offs, amps)
		for i := range y {
			if math.Float32bits(y[i]) != math.Float32bits(want[i]) {
				t.Fatalf("trial %d (n=%d rows=%d m=%d): y[%d] = %v, want %v", trial, n, rows, m, i, y[i], want[i])
			}
		}
	}
}
