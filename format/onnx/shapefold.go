package onnx

// Constant folding: Constant nodes, and the integer tensors computed from
// activation shapes (Shape → Gather → Unsqueeze → Concat, what PyTorch
// writes for x.view(x.size(0), -1)), with the batch size kept symbolic.

import (
	"fmt"
	"slices"

	"github.com/evsnn/evsnn/format/onnx/onnxpb"
	"github.com/evsnn/evsnn/network"
)

func (im *importer) constant(ref nodeRef, a attrs) error {
	if len(a) != 1 {
		return fmt.Errorf("%d value attributes, want exactly one", len(a))
	}
	var v *value
	for name, at := range a {
		switch name {
		case "value":
			t := at.GetT()
			if t == nil {
				return fmt.Errorf("attribute value holds no tensor")
			}
			switch t.GetDataType() {
			case int32(onnxpb.TensorProto_FLOAT):
				ft, err := decodeFloat(t)
				if err != nil {
					return err
				}
				v = &value{kind: kindFloat, f: ft}
			default:
				it, err := decodeInt(t)
				if err != nil {
					return err
				}
				v = &value{kind: kindInt, i: it}
			}
		case "value_float":
			f, err := a.float(name, 0)
			if err != nil {
				return err
			}
			v = &value{kind: kindFloat, f: &floatTensor{dims: network.Shape{}, data: []float32{f}}}
		case "value_floats":
			fs := at.GetFloats()
			if len(fs) > maxIntElements {
				return fmt.Errorf("value_floats with %d values", len(fs))
			}
			v = &value{kind: kindFloat, f: &floatTensor{dims: network.Shape{len(fs)}, data: slices.Clone(fs)}}
		case "value_int":
			i, err := a.int(name, 0)
			if err != nil {
				return err
			}
			v = &value{kind: kindInt, i: &intTensor{scalar: true, vals: []symInt{{v: i}}}}
		case "value_ints":
			is := at.GetInts()
			if len(is) > maxIntElements {
				return fmt.Errorf("value_ints with %d values", len(is))
			}
			it := &intTensor{vals: make([]symInt, len(is))}
			for i, x := range is {
				it.vals[i].v = x
			}
			v = &value{kind: kindInt, i: it}
		default:
			return unsupportedf("Constant with attribute %s", name)
		}
	}
	return im.output(ref, v)
}

// shape gives the input's shape with the batch size symbolic.
func (im *importer) shape(ref nodeRef, a attrs) error {
	name := input(ref.nd, 0)
	x, ok := im.values[name]
	if !ok || x.kind != kindAct {
		return unsupportedf("Shape of %s, which is not an activation", quote(name))
	}
	full := make([]symInt, 0, len(x.n.shape)+1)
	full = append(full, symInt{batch: true})
	for _, d := range x.n.shape {
		full = append(full, symInt{v: int64(d)})
	}
	r := int64(len(full))
	start, err := a.int("start", 0)
	if err != nil {
		return err
	}
	end, err := a.int("end", r)
	if err != nil {
		return err
	}
	clamp := func(i int64) int64 {
		if i < 0 {
			i += r
		}
		return max(0, min(i, r))
	}
	start, end = clamp(start), clamp(end)
	var vals []symInt
	if start < end {
		vals = slices.Clone(full[start:end])
	}
	return im.output(ref, &value{kind: kindInt, i: &intTensor{vals: vals}})
}

func (im *importer) gather(ref nodeRef, a attrs) error {
	data, err := im.constInts(ref, 0, "data")
	if err != nil {
		return err
	}
	if data == nil || data.scalar {
		return unsupportedf("Gather from something other than a shape vector")
	}
	if axis, err := a.int("axis", 0); err != nil {
		return err
	} else if axis != 0 && axis != -1 {
		return fmt.Errorf("axis %d of a vector", axis)
	}
	idx, err := im.constInts(ref, 1, "indices")
	if err != nil {
		return err
	}
	if idx == nil {
		return fmt.Errorf("no indices")
	}
	iv, ok := idx.known()
	if !ok {
		return unsupportedf("indices depend on the batch size")
	}
	n := int64(len(data.vals))
	out := &intTensor{scalar: idx.scalar, vals: make([]symInt, len(iv))}
	for j, i := range iv {
		if i < 0 {
			i += n
		}
		if i < 0 || i >= n {
			return fmt.Errorf("index %d out of range for %d values", iv[j], n)
		}
		out.vals[j] = data.vals[i]
	}
	return im.output(ref, &value{kind: kindInt, i: out})
}

func (im *importer) unsqueeze(ref nodeRef, a attrs) error {
	data, err := im.constInts(ref, 0, "data")
	if err != nil {
		return err
	}
	if data == nil {
		return fmt.Errorf("no data input")
	}
	var axes []int64
	if input(ref.nd, 1) != "" {
		t, err := im.constInts(ref, 1, "axes")
		if err != nil {
			return err
		}
		v, ok := t.known()
		if !ok {
			return unsupportedf("axes depend on the batch size")
		}
		axes = v
	} else if axes, err = a.ints("axes"); err != nil {
		return err
	}
	if !data.scalar || len(axes) != 1 || (axes[0] != 0 && axes[0] != -1) {
		return unsupportedf("Unsqueeze of a shape value other than a scalar to a vector (axes %v)", axes)
	}
	return im.output(ref, &value{kind: kindInt, i: &intTensor{vals: slices.Clone(data.vals)}})
}

func (im *importer) concat(ref nodeRef, a attrs) error {
	for i := range ref.nd.GetInput() {
		if im.isAct(ref, i) {
			return unsupportedf("Concat of activations (a merge of branches by channel); only Add joins branches")
		}
	}
	if axis, err := a.int("axis", 0); err != nil {
		return err
	} else if axis != 0 && axis != -1 {
		return unsupportedf("Concat on axis %d of shape vectors", axis)
	}
	out := &intTensor{}
	for i := range ref.nd.GetInput() {
		t, err := im.constInts(ref, i, "input")
		if err != nil {
			return err
		}
		if t == nil {
			continue
		}
		if t.scalar {
			return fmt.Errorf("input %d is a scalar", i)
		}
		if len(out.vals)+len(t.vals) > maxIntElements {
			return fmt.Errorf("result longer than %d", maxIntElements)
		}
		out.vals = append(out.vals, t.vals...)
	}
	return im.output(ref, &value{kind: kindInt, i: out})
}
