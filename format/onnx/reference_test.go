package onnx_test

// A naive float64 evaluator of the (unfolded) ONNX graph, to check the
// imported networks against.

import (
	"encoding/binary"
	"math"
	"testing"

	pb "github.com/evsnn/evsnn/format/onnx/onnxpb"
)

// tens is a float64 tensor (integer tensors are held as float64 too).
type tens struct {
	dims []int
	d    []float64
}

func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

func tensorValue(t *testing.T, tp *pb.TensorProto) tens {
	t.Helper()
	dims := make([]int, len(tp.GetDims()))
	for i, d := range tp.GetDims() {
		dims[i] = int(d)
	}
	n := size(dims)
	out := tens{dims: dims, d: make([]float64, n)}
	raw := tp.GetRawData()
	switch pb.TensorProto_DataType(tp.GetDataType()) {
	case pb.TensorProto_FLOAT:
		for i := range out.d {
			if raw != nil {
				out.d[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			} else {
				out.d[i] = float64(tp.GetFloatData()[i])
			}
		}
	case pb.TensorProto_INT64:
		for i := range out.d {
			if raw != nil {
				out.d[i] = float64(int64(binary.LittleEndian.Uint64(raw[8*i:])))
			} else {
				out.d[i] = float64(tp.GetInt64Data()[i])
			}
		}
	default:
		t.Fatalf("reference: tensor %q of type %d", tp.GetName(), tp.GetDataType())
	}
	return out
}

type refAttrs map[string]*pb.AttributeProto

func (a refAttrs) i(name string, def int64) int64 {
	if at, ok := a[name]; ok {
		return at.GetI()
	}
	return def
}

func (a refAttrs) f(name string, def float64) float64 {
	if at, ok := a[name]; ok {
		return float64(at.GetF())
	}
	return def
}

func (a refAttrs) ints(name string, def ...int64) []int {
	v := def
	if at, ok := a[name]; ok {
		v = at.GetInts()
	}
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// reference evaluates the model's graph naively in float64 on input x
// (batch samples) and returns the output tensor.
func reference(t *testing.T, m *pb.ModelProto, x []float32, batch int) tens {
	t.Helper()
	g := m.GetGraph()
	vals := map[string]tens{}
	for _, in := range g.GetInitializer() {
		vals[in.GetName()] = tensorValue(t, in)
	}
	dims := []int{batch}
	for _, d := range g.GetInput()[0].GetType().GetTensorType().GetShape().GetDim()[1:] {
		dims = append(dims, int(d.GetDimValue()))
	}
	in := tens{dims: dims, d: make([]float64, len(x))}
	for i, v := range x {
		in.d[i] = float64(v)
	}
	vals[g.GetInput()[0].GetName()] = in
	for _, nd := range g.GetNode() {
		a := refAttrs{}
		for _, at := range nd.GetAttribute() {
			a[at.GetName()] = at
		}
		var ins []tens
		for _, name := range nd.GetInput() {
			if name == "" {
				ins = append(ins, tens{})
				continue
			}
			v, ok := vals[name]
			if !ok {
				t.Fatalf("reference: %s: no value %q", nd.GetName(), name)
			}
			ins = append(ins, v)
		}
		vals[nd.GetOutput()[0]] = refOp(t, nd.GetOpType(), a, ins)
	}
	return vals[g.GetOutput()[0].GetName()]
}

func refOp(t *testing.T, op string, a refAttrs, in []tens) tens {
	switch op {
	case "Identity", "Dropout":
		return in[0]
	case "Constant":
		return tensorValue(t, a["value"].GetT())
	case "Relu":
		out := tens{dims: in[0].dims, d: make([]float64, len(in[0].d))}
		for i, v := range in[0].d {
			out.d[i] = math.Max(0, v)
		}
		return out
	case "Conv":
		return refConv(in[0], in[1], in, a)
	case "BatchNormalization":
		x := in[0]
		eps := a.f("epsilon", 1e-5)
		c := x.dims[1]
		per := size(x.dims[2:])
		out := tens{dims: x.dims, d: make([]float64, len(x.d))}
		for i, v := range x.d {
			ch := (i / per) % c
			out.d[i] = (v-in[3].d[ch])/math.Sqrt(in[4].d[ch]+eps)*in[1].d[ch] + in[2].d[ch]
		}
		return out
	case "Pad":
		var pads []int
		if len(in) > 1 && in[1].d != nil {
			for _, v := range in[1].d {
				pads = append(pads, int(v))
			}
		} else {
			pads = a.ints("pads")
		}
		return refPad(in[0], pads)
	case "AveragePool":
		return refPool(in[0], a.ints("kernel_shape"), a.ints("strides", 1, 1), a.ints("pads", 0, 0, 0, 0), poolAvg, a.i("count_include_pad", 0) == 1)
	case "MaxPool":
		return refPool(in[0], a.ints("kernel_shape"), a.ints("strides", 1, 1), a.ints("pads", 0, 0, 0, 0), poolMax, false)
	case "GlobalAveragePool":
		return refPool(in[0], in[0].dims[2:], in[0].dims[2:], []int{0, 0, 0, 0}, poolAvg, false)
	case "Flatten":
		axis := int(a.i("axis", 1))
		if axis < 0 {
			axis += len(in[0].dims)
		}
		return tens{dims: []int{size(in[0].dims[:axis]), size(in[0].dims[axis:])}, d: in[0].d}
	case "Reshape":
		target := make([]int, len(in[1].d))
		neg := -1
		for i, v := range in[1].d {
			target[i] = int(v)
			if target[i] == 0 {
				target[i] = in[0].dims[i]
			}
			if target[i] == -1 {
				neg = i
			}
		}
		if neg >= 0 {
			target[neg] = 1
			target[neg] = len(in[0].d) / size(target)
		}
		if size(target) != len(in[0].d) {
			t.Fatalf("reference: Reshape %v to %v", in[0].dims, target)
		}
		return tens{dims: target, d: in[0].d}
	case "Shape":
		out := tens{dims: []int{len(in[0].dims)}}
		for _, d := range in[0].dims {
			out.d = append(out.d, float64(d))
		}
		return out
	case "Gather":
		out := tens{dims: in[1].dims}
		for _, i := range in[1].d {
			out.d = append(out.d, in[0].d[int(i)])
		}
		return out
	case "Unsqueeze":
		return tens{dims: []int{len(in[0].d)}, d: in[0].d}
	case "Concat":
		var out tens
		for _, x := range in {
			out.d = append(out.d, x.d...)
		}
		out.dims = []int{len(out.d)}
		return out
	case "Gemm":
		return refGemm(in, a.i("transB", 0) == 1, a.f("alpha", 1), a.f("beta", 1))
	case "MatMul":
		return refGemm(in[:2], false, 1, 1)
	case "Add":
		return refAdd(in[0], in[1])
	}
	t.Fatalf("reference: op %s", op)
	return tens{}
}

func refConv(x, w tens, in []tens, a refAttrs) tens {
	n, c, h, wd := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
	m, kh, kw := w.dims[0], w.dims[2], w.dims[3]
	s := a.ints("strides", 1, 1)
	p := a.ints("pads", 0, 0, 0, 0)
	oh := (h+p[0]+p[2]-kh)/s[0] + 1
	ow := (wd+p[1]+p[3]-kw)/s[1] + 1
	out := tens{dims: []int{n, m, oh, ow}, d: make([]float64, n*m*oh*ow)}
	for b := 0; b < n; b++ {
		for o := 0; o < m; o++ {
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					sum := 0.0
					if len(in) > 2 && in[2].d != nil {
						sum = in[2].d[o]
					}
					for ci := 0; ci < c; ci++ {
						for ky := 0; ky < kh; ky++ {
							for kx := 0; kx < kw; kx++ {
								iy, ix := oy*s[0]-p[0]+ky, ox*s[1]-p[1]+kx
								if iy < 0 || iy >= h || ix < 0 || ix >= wd {
									continue
								}
								sum += x.d[((b*c+ci)*h+iy)*wd+ix] * w.d[((o*c+ci)*kh+ky)*kw+kx]
							}
						}
					}
					out.d[((b*m+o)*oh+oy)*ow+ox] = sum
				}
			}
		}
	}
	return out
}

func refPad(x tens, pads []int) tens {
	r := len(x.dims)
	od := make([]int, r)
	for i := range od {
		od[i] = x.dims[i] + pads[i] + pads[i+r]
	}
	out := tens{dims: od, d: make([]float64, size(od))}
	idx := make([]int, r)
	for i, v := range x.d {
		rem := i
		for k := r - 1; k >= 0; k-- {
			idx[k] = rem % x.dims[k]
			rem /= x.dims[k]
		}
		o := 0
		for k := 0; k < r; k++ {
			o = o*od[k] + idx[k] + pads[k]
		}
		out.d[o] = v
	}
	return out
}

type poolKind int

const (
	poolAvg poolKind = iota
	poolMax
)

// refPool is ONNX's AveragePool (count_include_pad as given: padding
// counts in the divisor or not) or MaxPool (padding never wins), floor
// mode, pads [top, left, bottom, right].
func refPool(x tens, k, s, p []int, kind poolKind, countPad bool) tens {
	n, c, h, w := x.dims[0], x.dims[1], x.dims[2], x.dims[3]
	oh, ow := (h+p[0]+p[2]-k[0])/s[0]+1, (w+p[1]+p[3]-k[1])/s[1]+1
	out := tens{dims: []int{n, c, oh, ow}, d: make([]float64, n*c*oh*ow)}
	for bc := 0; bc < n*c; bc++ {
		for oy := 0; oy < oh; oy++ {
			for ox := 0; ox < ow; ox++ {
				sum, best, cnt := 0.0, math.Inf(-1), 0
				for ky := 0; ky < k[0]; ky++ {
					for kx := 0; kx < k[1]; kx++ {
						iy, ix := oy*s[0]-p[0]+ky, ox*s[1]-p[1]+kx
						if iy < 0 || iy >= h || ix < 0 || ix >= w {
							continue
						}
						v := x.d[(bc*h+iy)*w+ix]
						sum += v
						best = math.Max(best, v)
						cnt++
					}
				}
				switch {
				case kind == poolMax:
					out.d[(bc*oh+oy)*ow+ox] = best
				case countPad:
					out.d[(bc*oh+oy)*ow+ox] = sum / float64(k[0]*k[1])
				default:
					out.d[(bc*oh+oy)*ow+ox] = sum / float64(cnt)
				}
			}
		}
	}
	return out
}

// refGemm computes alpha·A·op(B) + beta·C with A [N,F].
func refGemm(in []tens, transB bool, alpha, beta float64) tens {
	a, b := in[0], in[1]
	n, f := a.dims[0], a.dims[1]
	k := b.dims[1]
	if transB {
		k = b.dims[0]
	}
	out := tens{dims: []int{n, k}, d: make([]float64, n*k)}
	for i := 0; i < n; i++ {
		for o := 0; o < k; o++ {
			sum := 0.0
			for j := 0; j < f; j++ {
				bv := b.d[j*k+o]
				if transB {
					bv = b.d[o*f+j]
				}
				sum += a.d[i*f+j] * bv
			}
			out.d[i*k+o] = alpha * sum
		}
	}
	if len(in) > 2 && in[2].d != nil {
		c := refAdd(tens{dims: out.dims, d: make([]float64, len(out.d))}, in[2])
		for i := range out.d {
			out.d[i] += beta * c.d[i]
		}
	}
	return out
}

// refAdd adds with numpy broadcasting.
func refAdd(x, y tens) tens {
	if len(y.d) > len(x.d) {
		x, y = y, x
	}
	r := len(x.dims)
	yd := make([]int, r)
	for i := range yd {
		yd[i] = 1
	}
	copy(yd[r-len(y.dims):], y.dims)
	out := tens{dims: x.dims, d: make([]float64, len(x.d))}
	idx := make([]int, r)
	for i, v := range x.d {
		rem := i
		for k := r - 1; k >= 0; k-- {
			idx[k] = rem % x.dims[k]
			rem /= x.dims[k]
		}
		o := 0
		for k := 0; k < r; k++ {
			o = o*yd[k] + idx[k]%yd[k]
		}
		out.d[i] = v + y.d[o]
	}
	return out
}
