package onnx

// Relu, Add, BatchNormalization, Flatten, Reshape, and the ops dropped at
// import (Identity, Dropout).

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

func (im *importer) relu(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	return im.addLayer(ref, &network.ReLU{}, x)
}

// add reads an Add of two activations of one shape (a residual join →
// network.Add) or of an activation and a constant (a bias: an irBias node
// that fold.go folds into the Conv, Gemm or Add before it).
func (im *importer) add(ref nodeRef, a attrs) error {
	if len(ref.nd.GetInput()) != 2 {
		return fmt.Errorf("%d inputs, want 2", len(ref.nd.GetInput()))
	}
	act0, act1 := im.isAct(ref, 0), im.isAct(ref, 1)
	switch {
	case act0 && act1:
		x, _ := im.act(ref, 0)
		y, _ := im.act(ref, 1)
		if x == y {
			return unsupportedf("it adds %s to itself (a residual join adds two different branches)", x.describe())
		}
		if !x.shape.Equal(y.shape) {
			return unsupportedf("it adds %s of shape %v and %s of shape %v: a residual join needs two tensors of one shape (no broadcasting)",
				x.describe(), x.shape, y.describe(), y.shape)
		}
		return im.addLayer(ref, &network.Add{}, x, y)
	case !act0 && !act1:
		return unsupportedf("Add of two constants (not computed from the input)")
	}
	ai := 0
	if act1 {
		ai = 1
	}
	x, err := im.act(ref, ai)
	if err != nil {
		return err
	}
	c, err := im.constF(ref, 1-ai, "addend")
	if err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("input %d missing", 1-ai)
	}
	if base := folded(x); !base.weighted() && (base.kind != irLayer || base.layer.Kind() != network.KindAdd) {
		return unsupportedf("an Add of a constant is a bias: it must directly follow a Conv, Gemm, MatMul or residual Add, and it reads %s", x.describe())
	}
	b, err := channelBias(c, x.shape)
	if err != nil {
		return err
	}
	return im.newNode(ref, &irNode{kind: irBias, bias: b, shape: x.shape}, x)
}

// channelBias returns the constant c added to an activation of per-sample
// shape sh as one value per channel (per feature for a vector), if c
// broadcasts that way against [N]+sh (numpy rules): a scalar, [C,1,1] or
// [1,C,1,1] on a feature map, [K] or [1,K] on a vector.
func channelBias(c *floatTensor, sh network.Shape) ([]float32, error) {
	full := len(sh) + 1
	bad := func() error {
		return unsupportedf("Add of a constant of dims %v to an activation of shape %v: only a scalar or per-channel bias is folded", c.dims, sh)
	}
	if len(c.dims) > full {
		return nil, bad()
	}
	ch := -1 // index into c.dims of the channel axis, if present
	for i, d := range c.dims {
		switch axis := full - len(c.dims) + i; {
		case d == 1:
		case axis == 1 && d == sh[0]:
			ch = i
		default:
			return nil, bad()
		}
	}
	out := make([]float32, sh[0])
	if ch < 0 {
		if len(c.data) != 1 {
			return nil, bad()
		}
		for i := range out {
			out[i] = c.data[0]
		}
		return out, nil
	}
	copy(out, c.data)
	return out, nil
}

// batchNorm reads a BatchNormalization in inference mode: an irBN node
// that fold.go folds into the Conv or Gemm before it.
func (im *importer) batchNorm(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if tm, err := a.int("training_mode", 0); err != nil {
		return err
	} else if tm != 0 {
		return unsupportedf("training_mode=1 (export the model in eval mode)")
	}
	if sp, err := a.int("spatial", 1); err != nil {
		return err
	} else if sp != 1 {
		return unsupportedf("spatial=%d", sp)
	}
	eps, err := a.float("epsilon", 1e-5)
	if err != nil {
		return err
	}
	if !folded(x).weighted() {
		return unsupportedf("a BatchNormalization that does not directly follow a Conv or Gemm cannot be folded (it reads %s)", x.describe())
	}
	c := x.shape[0]
	var params [4][]float32
	for i, what := range []string{"scale", "B", "mean", "var"} {
		t, err := im.constF(ref, i+1, what)
		if err != nil {
			return err
		}
		if t == nil {
			return fmt.Errorf("input %s missing", what)
		}
		if len(t.dims) != 1 || t.dims[0] != c {
			return fmt.Errorf("%s dims %v, want [%d] (one per channel)", what, t.dims, c)
		}
		params[i] = t.data
	}
	bn := &bnParams{scale: params[0], beta: params[1], mean: params[2], vr: params[3], eps: eps}
	return im.newNode(ref, &irNode{kind: irBN, bn: bn, shape: x.shape}, x)
}

func (im *importer) flatten(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	axis, err := a.int("axis", 1)
	if err != nil {
		return err
	}
	rank := int64(len(x.shape) + 1)
	if axis < 0 {
		axis += rank
	}
	if axis != 1 {
		return unsupportedf("Flatten axis %d (only axis 1, keeping the batch)", axis)
	}
	if len(x.shape) == 1 {
		return im.alias(ref, x)
	}
	return im.addLayer(ref, &network.Flatten{}, x)
}

// reshape accepts the reshapes that flatten each sample: to [N,-1],
// [N,C·H·W] or [-1,C·H·W], N being the batch size from a Shape chain, 0
// (copy), or the input's fixed batch; a reshape to the input's own shape is
// dropped.
func (im *importer) reshape(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	t, err := im.constInts(ref, 1, "shape")
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("no shape input")
	}
	allowZero, err := a.int("allowzero", 0)
	if err != nil {
		return err
	}
	if t.scalar {
		return fmt.Errorf("shape is a scalar")
	}
	full := append([]int{-2}, x.shape...) // -2: the batch
	size := int64(x.shape.Size())
	isBatch := func(i int, v symInt) bool {
		return v.batch || (v.v == 0 && allowZero == 0 && i == 0) || (im.staticBatch > 0 && v.v == im.staticBatch)
	}
	// resolve target dim i to a known size, or -2 for the batch.
	resolve := func(i int, v symInt) int64 {
		switch {
		case v.batch:
			return -2
		case v.v == 0 && allowZero == 0 && i < len(full):
			return int64(full[i])
		}
		return v.v
	}
	tv := t.vals
	bad := func() error {
		return unsupportedf("Reshape of %v to %v is not a flatten of each sample", x.shape, tv)
	}
	if len(tv) == len(full) {
		same := true
		for i, v := range tv {
			r := resolve(i, v)
			if i == 0 {
				same = same && (r == -2 || isBatch(0, v) || r == -1)
			} else {
				same = same && r == int64(full[i])
			}
		}
		if same {
			return im.alias(ref, x)
		}
	}
	if len(tv) != 2 {
		return bad()
	}
	r0, r1 := resolve(0, tv[0]), resolve(1, tv[1])
	switch {
	case r0 == -1 && r1 == size:
	case isBatch(0, tv[0]) && (r1 == -1 || r1 == size):
	default:
		return bad()
	}
	if len(x.shape) == 1 {
		return im.alias(ref, x)
	}
	return im.addLayer(ref, &network.Flatten{}, x)
}

func (im *importer) identity(ref nodeRef, a attrs) error {
	name := input(ref.nd, 0)
	v, ok := im.values[name]
	if !ok {
		if t, ok := im.inits[name]; ok {
			// A renamed initializer (PyTorch writes this for shared
			// weights): the output names the same tensor.
			outs := ref.nd.GetOutput()
			if len(outs) != 1 || outs[0] == "" {
				return fmt.Errorf("want exactly one output")
			}
			im.inits[outs[0]] = t
			return nil
		}
		return fmt.Errorf("input %s has no value", quote(name))
	}
	return im.output(ref, v)
}

func (im *importer) dropout(ref nodeRef, a attrs) error {
	x, err := im.act(ref, 0)
	if err != nil {
		return err
	}
	if input(ref.nd, 2) != "" {
		t, err := im.constInts(ref, 2, "training_mode")
		if err != nil {
			return err
		}
		v, ok := t.known()
		if !ok || len(v) != 1 || v[0] != 0 {
			return unsupportedf("Dropout in training mode (export the model in eval mode)")
		}
	}
	return im.alias(ref, x)
}
