package train

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemm is blas32.Gemm (c = alpha·op(a)·op(b) + beta·c) computed on panels
// of c small enough that gonum runs each serially, on the calling
// goroutine, with long inner loops. Training parallelises over shards
// instead; gonum's own parallel path would split c into 64×64 blocks and
// start a goroutine for each. Every element of c is summed in the same
// order (k = 0, 1, ...) as by one blas32.Gemm call on the serial path.
func gemm(ta, tb blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General) {
	// gonum goes parallel when (⌈m/64⌉·⌈n/64⌉) >= 4.
	const rows, cols = 64, 192
	if c.Rows <= rows && c.Cols <= cols || c.Rows <= cols && c.Cols <= rows {
		blas32.Gemm(ta, tb, alpha, a, b, beta, c)
		return
	}
	for i := 0; i < c.Rows; i += rows {
		m := min(rows, c.Rows-i)
		for j := 0; j < c.Cols; j += cols {
			n := min(cols, c.Cols-j)
			blas32.Gemm(ta, tb, alpha, rowsOf(a, ta, i, m), colsOf(b, tb, j, n), beta, sub(c, i, j, m, n))
		}
	}
}

// rowsOf is the part of a whose op(a) rows are i..i+m.
func rowsOf(a blas32.General, t blas.Transpose, i, m int) blas32.General {
	if t == blas.NoTrans {
		return blas32.General{Rows: m, Cols: a.Cols, Stride: a.Stride, Data: a.Data[i*a.Stride:]}
	}
	return blas32.General{Rows: a.Rows, Cols: m, Stride: a.Stride, Data: a.Data[i:]}
}

// colsOf is the part of b whose op(b) columns are j..j+n.
func colsOf(b blas32.General, t blas.Transpose, j, n int) blas32.General {
	if t == blas.NoTrans {
		return blas32.General{Rows: b.Rows, Cols: n, Stride: b.Stride, Data: b.Data[j:]}
	}
	return blas32.General{Rows: n, Cols: b.Cols, Stride: b.Stride, Data: b.Data[j*b.Stride:]}
}

func sub(c blas32.General, i, j, m, n int) blas32.General {
	return blas32.General{Rows: m, Cols: n, Stride: c.Stride, Data: c.Data[i*c.Stride+j:]}
}
