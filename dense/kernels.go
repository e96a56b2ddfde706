package dense

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/evsnn/evsnn/internal/rowadd"
	"github.com/evsnn/evsnn/network"
)

// Matrix products are cut into pieces of at most gemmRows rows and
// gemmCols columns of the result, small enough that gonum computes each
// serially (it goes parallel from 4 blocks of 64×64): the engine's own
// workers are its only goroutines. Cutting rows or columns does not change
// how any element is summed (gonum adds the products of one element in
// increasing k order either way), so results do not depend on it.
const (
	gemmRows = 64
	gemmCols = 192
)

// gemmSparseLeft computes C[m×n] += A[m×k] · B[k×n] (all row-major with
// the given strides) with gonum's Sgemm, which skips the zero entries of
// A: with A holding spikes, the cost follows the number of spikes. Each
// element is c + Σ_l a[i,l]·b[l,j] summed in increasing l.
func gemmSparseLeft(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for i0 := 0; i0 < m; i0 += gemmRows {
		mi := min(gemmRows, m-i0)
		for j0 := 0; j0 < n; j0 += gemmCols {
			nj := min(gemmCols, n-j0)
			blas32.Gemm(blas.NoTrans, blas.NoTrans, 1,
				blas32.General{Rows: mi, Cols: k, Stride: lda, Data: a[i0*lda:]},
				blas32.General{Rows: k, Cols: nj, Stride: ldb, Data: b[j0:]}, 1,
				blas32.General{Rows: mi, Cols: nj, Stride: ldc, Data: c[i0*ldc+j0:]})
		}
	}
}

// gemmFull is gemmSparseLeft without skipping: every entry of A, zero or
// not, adds its row of B (the axpy that gonum's Sgemm calls, bit for bit),
// so each element is summed in the same order and its value is the same;
// the cost is m·n·k whatever A holds. Columns are cut as in gemmSparseLeft
// so that a row of C and the rows of B it meets stay in cache.
func gemmFull(m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	for j0 := 0; j0 < n; j0 += gemmCols {
		nj := min(gemmCols, n-j0)
		for i := 0; i < m; i++ {
			ci := c[i*ldc+j0 : i*ldc+j0+nj]
			for l, v := range a[i*lda : i*lda+k] {
				rowadd.Axpy(v, b[l*ldb+j0:l*ldb+j0+nj], ci)
			}
		}
	}
}

// convOp computes a Conv2d as a sparse-times-dense matrix product: the
// transposed patch matrix (one row per output position, one column per
// k = (c_in, ky, kx)) times the transposed weights [K × OutC]. The patch
// matrix is never formed: each nonzero input element adds its value times
// the weight rows it meets to the output rows it reaches, with axpy
// (y += a·x; AVX on amd64, else gonum's Saxpy, the same bits). For a
// stride-1 convolution the targets of one input element and one kernel row
// ky are KW consecutive output positions meeting KW consecutive rows of the
// kernel stored flipped in kx, so one axpy of KW·OutC values covers them
// (axpyRows does the KH kernel rows in one call); the result buffer is
// padded so that no target falls outside it. Other strides add one
// OutC-long row per target.
//
// Each output element is the bias plus its products in increasing k (the
// inputs are visited in increasing (c_in, y, x) order, which for a fixed
// output position is increasing (c_in, ky, kx)), each product rounded
// before it is added: exactly what im2col followed by gonum's Sgemm (which
// sums in increasing k, skipping zero entries) computes.
type convOp struct {
	l         *network.Conv2d
	inSize    int
	h, w      int // input height and width
	outC, pos int // output channels, output positions OH·OW
	oh, ow    int
	k         int // InC·KH·KW
	stride1   bool
	// stride 1: wf[((ci·KH+ky)·KW+kxr)·OutC+o] = W[o, ci, ky, KW-1-kxr];
	// the padded result has ph×pw positions (OutC values each).
	wf     []float32
	ph, pw int
	// biasCT is the result buffer's initial value (the bias at every
	// position); at[p] is where output position p starts in it.
	biasCT []float32
	at     []int32
	// other strides: wt[k·OutC+o] = W[o, k]; input element j reaches the
	// (output position, k) pairs of the runs tgt[start[j]:start[j+1]].
	wt    []float32
	start []int32
	tgt   []convRun
}

func newConvOp(l *network.Conv2d, in, out network.Shape) *convOp {
	c := &convOp{l: l, inSize: in.Size(), h: in[1], w: in[2], outC: l.OutC, oh: out[1], ow: out[2],
		pos: out[1] * out[2], k: l.InC * l.KH * l.KW}
	c.stride1 = l.StrideH == 1 && l.StrideW == 1 && l.PadH < l.KH && l.PadW < l.KW
	if c.stride1 {
		c.wf = make([]float32, c.k*c.outC)
		for o := 0; o < c.outC; o++ {
			for ci := 0; ci < l.InC; ci++ {
				for ky := 0; ky < l.KH; ky++ {
					for kx := 0; kx < l.KW; kx++ {
						kr := (ci*l.KH+ky)*l.KW + (l.KW - 1 - kx)
						c.wf[kr*c.outC+o] = l.Weight[((o*l.InC+ci)*l.KH+ky)*l.KW+kx]
					}
				}
			}
		}
		c.ph, c.pw = c.h+l.KH-1, c.w+l.KW-1
		c.initLayout(c.ph*c.pw, l.KH-1-l.PadH, l.KW-1-l.PadW, c.pw)
		return c
	}
	c.initLayout(c.pos, 0, 0, c.ow)
	c.wt = make([]float32, c.k*c.outC)
	for o := 0; o < c.outC; o++ {
		for kk := 0; kk < c.k; kk++ {
			c.wt[kk*c.outC+o] = l.Weight[o*c.k+kk]
		}
	}
	lists := make([][]convRun, c.inSize)
	for oy := 0; oy < c.oh; oy++ {
		for ox := 0; ox < c.ow; ox++ {
			row := oy*c.ow + ox
			for ci := 0; ci < l.InC; ci++ {
				for ky := 0; ky < l.KH; ky++ {
					iy := oy*l.StrideH - l.PadH + ky
					if iy < 0 || iy >= c.h {
						continue
					}
					for kx := 0; kx < l.KW; kx++ {
						ix := ox*l.StrideW - l.PadW + kx
						if ix < 0 || ix >= c.w {
							continue
						}
						j := (ci*c.h+iy)*c.w + ix
						kk := (ci*l.KH+ky)*l.KW + kx
						lst := lists[j]
						out, w := int32(row*c.outC), int32(kk*c.outC)
						// The next position of an output row meets
						// the weights StrideW columns to the left.
						if n := len(lst) - 1; n >= 0 && ox > 0 && lst[n].out+lst[n].n*int32(c.outC) == out &&
							lst[n].w-lst[n].n*int32(l.StrideW*c.outC) == w {
							lst[n].n++
						} else {
							lst = append(lst, convRun{out: out, w: w, n: 1})
						}
						lists[j] = lst
					}
				}
			}
		}
	}
	c.start = make([]int32, c.inSize+1)
	for j, lst := range lists {
		c.start[j+1] = c.start[j] + int32(len(lst))
		c.tgt = append(c.tgt, lst...)
	}
	return c
}

// convRun is a run of n (output position, kernel offset) pairs that an
// input element of a strided convolution meets: consecutive positions of
// an output row (offsets out, out+OutC, ... in the result), meeting
// kernel columns StrideW apart (weight offsets w, w−StrideW·OutC, ...).
type convRun struct{ out, w, n int32 }

// initLayout sets the bias template of a result buffer of n positions and
// the offset of each output position (oy, ox), found at padded position
// (oy+oy0, ox+ox0) of rows of width pw.
func (c *convOp) initLayout(n, oy0, ox0, pw int) {
	c.biasCT = make([]float32, n*c.outC)
	for p := 0; p < n; p++ {
		copy(c.biasCT[p*c.outC:(p+1)*c.outC], c.l.Bias)
	}
	c.at = make([]int32, c.pos)
	for oy := 0; oy < c.oh; oy++ {
		for ox := 0; ox < c.ow; ox++ {
			c.at[oy*c.ow+ox] = int32(((oy+oy0)*pw + ox + ox0) * c.outC)
		}
	}
}

// convScratch is a worker's scratch memory for one convolution.
type convScratch struct {
	ct []float32 // result of one image, channel-last (padded for stride 1)
}

// forward computes dst = conv(src) + b for batch images (CHW in, CHW out);
// with skip, zero inputs are skipped (same result, cost follows nonzeros).
func (c *convOp) forward(dst, src []float32, batch int, s *convScratch, skip bool) {
	l := c.l
	n := c.pos
	if c.stride1 {
		n = c.ph * c.pw
	}
	if len(s.ct) != n*c.outC {
		s.ct = make([]float32, n*c.outC)
	}
	ct := s.ct
	outSize := c.outC * c.pos
	seg := l.KW * c.outC
	for b := 0; b < batch; b++ {
		x := src[b*c.inSize : (b+1)*c.inSize]
		copy(ct, c.biasCT)
		if c.stride1 {
			rowStep := c.pw * c.outC
			kyStep := l.KW * c.outC
			j := 0
			for ci := 0; ci < l.InC; ci++ {
				wOff := ci * l.KH * kyStep
				for iy := 0; iy < c.h; iy++ {
					// Kernel row ky meets output row oy' = iy + KH-1-ky,
					// columns ix..ix+KW-1 of the padded result.
					rowOff := (iy + l.KH - 1) * c.pw * c.outC
					for ix := 0; ix < c.w; ix++ {
						v := x[j]
						j++
						if v == 0 && skip {
							continue
						}
						rowadd.Rows(v, c.wf, wOff, kyStep, ct, rowOff+ix*c.outC, -rowStep, seg, l.KH)
					}
				}
			}
		} else {
			c.scatterStrided(ct, x, skip)
		}
		// Transpose the valid part to CHW.
		y := dst[b*outSize : (b+1)*outSize]
		for o := 0; o < c.outC; o++ {
			yo := y[o*c.pos : (o+1)*c.pos]
			for oy := 0; oy < c.oh; oy++ {
				yr := yo[oy*c.ow : (oy+1)*c.ow]
				src := ct[int(c.at[oy*c.ow])+o:]
				for ox := range yr {
					yr[ox] = src[ox*c.outC]
				}
			}
		}
	}
}

// scatterStrided adds the products of one image x to the result ct of a
// convolution that is not stride 1. (A method of its own, so that the
// stride-1 loop of forward keeps its registers.)
func (c *convOp) scatterStrided(ct, x []float32, skip bool) {
	wStep := c.l.StrideW * c.outC
	for j, v := range x {
		if v == 0 && skip {
			continue
		}
		for _, r := range c.tgt[c.start[j]:c.start[j+1]] {
			rowadd.Rows(v, c.wt, int(r.w), -wStep, ct, int(r.out), c.outC, c.outC, int(r.n))
		}
	}
}

// linOp is a Linear layer as I = b + S · Wᵀ with Wᵀ stored [In × Out].
type linOp struct {
	l  *network.Linear
	wt []float32
}

func newLinOp(l *network.Linear) *linOp {
	wt := make([]float32, l.In*l.Out)
	for o := 0; o < l.Out; o++ {
		for i := 0; i < l.In; i++ {
			wt[i*l.Out+o] = l.Weight[o*l.In+i]
		}
	}
	return &linOp{l: l, wt: wt}
}

// forward computes dst = W src + b for batch vectors; with skip, zero
// inputs are skipped (same result, cost follows nonzeros).
func (o *linOp) forward(dst, src []float32, batch int, skip bool) {
	l := o.l
	for b := 0; b < batch; b++ {
		copy(dst[b*l.Out:(b+1)*l.Out], l.Bias)
	}
	if skip {
		gemmSparseLeft(batch, l.Out, l.In, src, l.In, o.wt, l.Out, dst, l.Out)
		return
	}
	gemmFull(batch, l.Out, l.In, src, l.In, o.wt, l.Out, dst, l.Out)
}

// sparseLinear computes dst = W src + b for batch vectors of a
// SparseLinear layer: the bias, then each input's synapses (its fan-out
// list) in increasing input order, each product rounded before it is
// added, as network.SparseLinear.Forward and internal/snnref do. Only the
// synapses that exist are visited: this is what a clock-driven simulator
// of a sparse layer costs. With skip, silent inputs are skipped too (a
// zero adds nothing: the same bits); without it their synapses are
// computed as well, whatever the activity.
func sparseLinear(l *network.SparseLinear, dst, src []float32, batch int, skip bool) {
	for b := 0; b < batch; b++ {
		y := dst[b*l.Out : (b+1)*l.Out]
		copy(y, l.Bias)
		x := src[b*l.In : (b+1)*l.In]
		for j, v := range x {
			if v == 0 && skip {
				continue
			}
			a, e := l.Ptr[j], l.Ptr[j+1]
			tg := l.Targets[a:e]
			w := l.Weights[a:e]
			w = w[:len(tg)]
			for k, o := range tg {
				y[o] += float32(w[k] * v)
			}
		}
	}
}
