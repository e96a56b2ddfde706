package onnx

// The weighted layers: Conv → Conv2d, Gemm and MatMul → Linear.

import (
	"fmt"
	"math"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// geom reads a 2-element INTS attribute (kernel, strides, dilations; n = 4
// for pads) with a default, each value in [lo, maxGeom].
func geom(a attrs, name string, def []int64, n int, lo int64) ([]int, error) {
	v, err := a.ints(name)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = def
	}
	if v == nil {
		return nil, fmt.Errorf("attribute %s missing", name)
	}
	if len(v) != n {
		return nil, unsupportedf("attribute %s = %v: want %d values (2-D only)", name, v, n)
	}
	out := make([]int, n)
	for i, x := range v {
		if x < lo || x > maxGeom {
			return nil, fmt.Errorf("attribute %s = %v: value out of range", name, v)
		}
		out[i] = int(x)
	}
	return out, nil
}

// checkAutoPad accepts auto_pad NOTSET (explicit pads) and VALID (no pads).
func checkAutoPad(a attrs) (valid bool, err error) {
	s, err := a.str("auto_pad", "NOTSET")
	if err != nil {
		return false, err
	}
	switch s {
	case "NOTSET", "":
		return false, nil
	case "VALID":
		return true, nil
	}
	return false, unsupportedf("auto_pad %s (only NOTSET, with explicit pads)", quote(s))
}

// symPads reads a pads attribute [top, left, bottom, right] (default
// zeros) that must be symmetric per axis, and returns the rows and
// columns padded on each side.
func symPads(a attrs) (int, int, error) {
	valid, err := checkAutoPad(a)
	if err != nil {
		return 0, 0, err
	}
	p, err := geom(a, "pads", []int64{0, 0, 0, 0}, 4, 0)
	if err != nil {
		return 0, 0, err
	}
	if valid && (p[0] != 0 || p[1] != 0 || p[2] != 0 || p[3] != 0) {
		return 0, 0, fmt.Errorf("auto_pad VALID with pads %v", p)
	}
	if p[0] != p[2] || p[1] != p[3] {
		return 0, 0, unsupportedf("asymmetric pads %v (begin and end must match per axis)", p)
	}
	return p[0], p[1], nil
}

// noDilation refuses dilations other than 1.
func noDilation(a attrs) error {
	d, err := geom(a, "dilations", []int64{1, 1}, 2, 1)
	if err != nil {
		return err
	}
	if d[0] != 1 || d[1] != 1 {
		return unsupportedf("dilations %v (only 1)", d)
	}
	return nil
}

func (im *importer) conv(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	w, err := im.constF(ref, 1, "weight")
	if err != nil {
		return err
	}
	if w == nil {
		return fmt.Errorf("no weight input")
	}
	b, err := im.constF(ref, 2, "bias")
	if err != nil {
		return err
	}
	if len(w.dims) != 4 {
		return unsupportedf("weight of rank %d: only 2-D convolutions", len(w.dims))
	}
	if len(x.shape) != 3 {
		return fmt.Errorf("input shape %v is not [C,H,W]", x.shape)
	}
	outC, inC, kh, kw := w.dims[0], w.dims[1], w.dims[2], w.dims[3]
	if outC == 0 || kh == 0 || kw == 0 {
		return fmt.Errorf("weight dims %v", w.dims)
	}
	if g, err := a.int("group", 1); err != nil {
		return err
	} else if g != 1 {
		return unsupportedf("group %d (grouped or depthwise convolution)", g)
	}
	if inC != x.shape[0] {
		return fmt.Errorf("weight dims %v expect %d input channels, the input has %d", w.dims, inC, x.shape[0])
	}
	if err := noDilation(a); err != nil {
		return err
	}
	k, err := geom(a, "kernel_shape", []int64{int64(kh), int64(kw)}, 2, 1)
	if err != nil {
		return err
	}
	if k[0] != kh || k[1] != kw {
		return fmt.Errorf("kernel_shape %v does not match weight dims %v", k, w.dims)
	}
	s, err := geom(a, "strides", []int64{1, 1}, 2, 1)
	if err != nil {
		return err
	}
	ph, pw, err := symPads(a)
	if err != nil {
		return err
	}
	bias := make([]float32, outC)
	if b != nil {
		if len(b.data) != outC || len(b.dims) != 1 {
			return fmt.Errorf("bias dims %v, want [%d]", b.dims, outC)
		}
		copy(bias, b.data)
	}
	// The weight is copied: folding a BatchNormalization changes it in
	// place, and an initializer may be shared by several nodes.
	return im.addLayer(ref, &network.Conv2d{
		InC: inC, OutC: outC, KH: kh, KW: kw,
		StrideH: s[0], StrideW: s[1], PadH: ph, PadW: pw,
		Weight: slices.Clone(w.data),
		Bias:   bias,
	}, x)
}

// checkFlat checks that a Gemm or MatMul reads a vector per sample.
func checkFlat(x *irNode) error {
	if len(x.shape) != 1 {
		return fmt.Errorf("input shape %v is not a vector (missing Flatten?)", x.shape)
	}
	return nil
}

func (im *importer) gemm(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if err := checkFlat(x); err != nil {
		return err
	}
	if ta, err := a.int("transA", 0); err != nil {
		return err
	} else if ta != 0 {
		return unsupportedf("transA=%d", ta)
	}
	tb, err := a.int("transB", 0)
	if err != nil {
		return err
	}
	if tb != 0 && tb != 1 {
		return fmt.Errorf("transB=%d", tb)
	}
	alpha, err := a.float("alpha", 1)
	if err != nil {
		return err
	}
	beta, err := a.float("beta", 1)
	if err != nil {
		return err
	}
	bt, err := im.constF(ref, 1, "B")
	if err != nil {
		return err
	}
	if bt == nil {
		return fmt.Errorf("no B input")
	}
	if len(bt.dims) != 2 {
		return fmt.Errorf("B dims %v are not a matrix", bt.dims)
	}
	f := x.shape[0]
	var k int
	if tb == 1 {
		if bt.dims[1] != f {
			return fmt.Errorf("B dims %v with transB=1 do not fit %d input features", bt.dims, f)
		}
		k = bt.dims[0]
	} else {
		if bt.dims[0] != f {
			return fmt.Errorf("B dims %v with transB=0 do not fit %d input features", bt.dims, f)
		}
		k = bt.dims[1]
	}
	if k == 0 {
		return fmt.Errorf("B dims %v: no outputs", bt.dims)
	}
	c, err := im.constF(ref, 2, "C")
	if err != nil {
		return err
	}
	w := make([]float32, k*f)
	for o := 0; o < k; o++ {
		for i := 0; i < f; i++ {
			var v float32
			if tb == 1 {
				v = bt.data[o*f+i]
			} else {
				v = bt.data[i*k+o]
			}
			w[o*f+i] = float32(float64(alpha) * float64(v))
		}
	}
	bias := make([]float32, k)
	if c != nil {
		cb, err := biasVector(c, k)
		if err != nil {
			return fmt.Errorf("C: %v", err)
		}
		for o := range bias {
			bias[o] = float32(float64(beta) * float64(cb[o]))
		}
	}
	if err := finite(w, bias); err != nil {
		return fmt.Errorf("folding alpha=%v, beta=%v: %v", alpha, beta, err)
	}
	return im.addLayer(ref, &network.Linear{In: f, Out: k, Weight: w, Bias: bias}, x)
}

// biasVector broadcasts a bias tensor of dims [], [1], [K] or [1,K] to K
// values.
func biasVector(c *floatTensor, k int) ([]float32, error) {
	n := len(c.data)
	ones := 0
	for _, d := range c.dims {
		if d == 1 {
			ones++
		}
	}
	switch {
	case n == 1 && ones == len(c.dims) && len(c.dims) <= 2:
		out := make([]float32, k)
		for i := range out {
			out[i] = c.data[0]
		}
		return out, nil
	case n == k && len(c.dims) >= 1 && len(c.dims) <= 2 && c.dims[len(c.dims)-1] == k:
		return c.data, nil
	}
	return nil, unsupportedf("bias dims %v do not broadcast as a per-output bias of %d values", c.dims, k)
}

func (im *importer) matMul(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if err := checkFlat(x); err != nil {
		return err
	}
	bt, err := im.constF(ref, 1, "B")
	if err != nil {
		return err
	}
	if bt == nil {
		return fmt.Errorf("no B input")
	}
	f := x.shape[0]
	if len(bt.dims) != 2 || bt.dims[0] != f || bt.dims[1] == 0 {
		return fmt.Errorf("B dims %v do not fit %d input features", bt.dims, f)
	}
	k := bt.dims[1]
	w := make([]float32, k*f)
	for o := 0; o < k; o++ {
		for i := 0; i < f; i++ {
			w[o*f+i] = bt.data[i*k+o]
		}
	}
	return im.addLayer(ref, &network.Linear{In: f, Out: k, Weight: w, Bias: make([]float32, k)}, x)
}

func finite(s ...[]float32) error {
	for _, v := range s {
		for i, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("parameter %d becomes %v", i, x)
			}
		}
	}
	return nil
}
