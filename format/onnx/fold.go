package onnx

// The rewrites between reading the nodes and emitting the network: they
// fold into the layers what evsnn has no layer for, and put MaxPools
// where SPEC §1 wants them. Folded parameters are computed in float64 and
// rounded to float32 once; the reorderings are exact.

import (
	"fmt"
	"math"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// fold visits the nodes in topological order, so that a node's inputs are
// final when it is visited:
//
//   - a BatchNormalization is folded into the Conv or Gemm/MatMul it reads,
//     when nothing else reads that layer's result;
//   - an Add of a constant is folded into the bias of the Conv, Gemm or
//     residual Add it reads, under the same condition;
//   - a Pad of nonzero spatial zero pads is folded into the padding of the
//     AveragePool that alone reads it (counted in every window, as PyTorch's
//     count_include_pad=True);
//   - an Add that reads another Add read by nothing else absorbs it
//     (a sum of three branches);
//   - Conv → MaxPool → ReLU (or Add → MaxPool → ReLU) becomes
//     Conv → ReLU → MaxPool: ReLU is monotone, so max and ReLU commute.
//
// Anything else left between a layer and its ReLU is an error naming the
// node.
func (im *importer) fold() error {
	for i := 0; i < len(im.nodes); i++ {
		n := im.nodes[i]
		if n.dead {
			continue
		}
		var err error
		switch n.kind {
		case irBN:
			err = im.foldBN(n)
		case irBias:
			err = im.foldBias(n)
		case irPad:
			err = im.foldPad(n)
		case irLayer:
			switch n.layer.(type) {
			case *network.Add:
				err = im.mergeAdds(n)
			case *network.MaxPool2d:
				err = im.poolAfterReLU(n)
			}
		}
		if err != nil {
			return im.wrap(n.String(), err)
		}
	}
	return nil
}

// replace makes the readers of old read nw instead and drops old.
func (im *importer) replace(old, nw *irNode) {
	nw.users = slices.DeleteFunc(nw.users, func(u *irNode) bool { return u == old })
	for _, u := range old.users {
		for k, in := range u.ins {
			if in == old {
				u.ins[k] = nw
			}
		}
		if !slices.Contains(nw.users, u) {
			nw.users = append(nw.users, u)
		}
	}
	old.users, old.dead = nil, true
	if im.out == old {
		im.out = nw
	}
}

// alsoRead describes why n cannot be changed for its reader u: someone else
// reads it too.
func (im *importer) alsoRead(n, u *irNode) string {
	if im.out == n {
		return fmt.Sprintf("the result of %s is also the graph output", n.describe())
	}
	for _, o := range n.users {
		if o != u {
			return fmt.Sprintf("the result of %s is also read by %s", n.describe(), o.describe())
		}
	}
	return fmt.Sprintf("the result of %s is read by other nodes too", n.describe())
}

func (im *importer) foldBN(n *irNode) error {
	in := n.ins[0]
	if !in.weighted() {
		return unsupportedf("a BatchNormalization that does not directly follow a Conv or Gemm cannot be folded (it reads %s)", in.describe())
	}
	if !im.soleUser(in, n) {
		return unsupportedf("the BatchNormalization cannot be folded into its Conv or Gemm: %s", im.alsoRead(in, n))
	}
	var w, b []float32
	switch l := in.layer.(type) {
	case *network.Conv2d:
		w, b = l.Weight, l.Bias
	case *network.Linear:
		w, b = l.Weight, l.Bias
	}
	c := len(n.bn.scale)
	if len(b) != c || len(w)%c != 0 {
		return fmt.Errorf("%s has %d outputs, the BatchNormalization %d channels", in.describe(), len(b), c)
	}
	per := len(w) / c
	p := n.bn
	for o := 0; o < c; o++ {
		d := float64(p.vr[o]) + float64(p.eps)
		if !(d > 0) {
			return fmt.Errorf("channel %d: var+epsilon = %v is not positive", o, d)
		}
		s := float64(p.scale[o]) / math.Sqrt(d)
		for j := o * per; j < (o+1)*per; j++ {
			w[j] = float32(float64(w[j]) * s)
		}
		b[o] = float32((float64(b[o])-float64(p.mean[o]))*s + float64(p.beta[o]))
	}
	if err := finite(w, b); err != nil {
		return fmt.Errorf("folding into %s: %v", in.describe(), err)
	}
	im.replace(n, in)
	return nil
}

func (im *importer) foldBias(n *irNode) error {
	in := n.ins[0]
	var b []float32
	switch l := in.layer.(type) {
	case *network.Conv2d:
		b = l.Bias
	case *network.Linear:
		b = l.Bias
	case *network.Add:
		if l.Bias == nil {
			l.Bias = make([]float32, len(n.bias))
		}
		b = l.Bias
	}
	if in.kind != irLayer || b == nil {
		return unsupportedf("an Add of a constant is a bias: it must directly follow a Conv, Gemm, MatMul or residual Add, and it reads %s", in.describe())
	}
	if !im.soleUser(in, n) {
		return unsupportedf("the constant cannot be folded into the bias: %s", im.alsoRead(in, n))
	}
	if len(b) != len(n.bias) {
		return fmt.Errorf("%d bias values for %d outputs of %s", len(n.bias), len(b), in.describe())
	}
	for o := range b {
		b[o] = float32(float64(b[o]) + float64(n.bias[o]))
	}
	if err := finite(b); err != nil {
		return fmt.Errorf("adding to the bias of %s: %v", in.describe(), err)
	}
	im.replace(n, in)
	return nil
}

func (im *importer) foldPad(n *irNode) error {
	ph, pw := n.pads[0], n.pads[1]
	pads := []int{0, 0, ph, pw, 0, 0, ph, pw}
	var u *irNode
	if len(n.users) == 1 && im.out != n {
		u = n.users[0]
	}
	var ap *network.AvgPool2d
	if u != nil && u.kind == irLayer {
		ap, _ = u.layer.(*network.AvgPool2d)
	}
	if ap == nil {
		next := "the graph output"
		if len(n.users) > 0 {
			next = n.users[0].describe()
		}
		if len(n.users) > 1 || (len(n.users) == 1 && im.out == n) {
			next = "several nodes"
		}
		return unsupportedf("nonzero pads %v before %s: only zero padding read by an AveragePool alone is folded (into its padding)", pads, next)
	}
	ap.PadH += ph
	ap.PadW += pw
	ap.CountIncludePad = true // the Pad's zeros count in every window
	if 2*ap.PadH > ap.KH || 2*ap.PadW > ap.KW {
		return unsupportedf("pads %v with the AveragePool's kernel %dx%d: padding more than half the kernel", pads, ap.KH, ap.KW)
	}
	im.replace(n, n.ins[0])
	return nil
}

// maxAddInputs bounds the branches one Add sums after merging.
const maxAddInputs = 64

// mergeAdds makes Add(Add(a, b), c) one Add of a, b and c when nothing
// else reads the inner sum.
func (im *importer) mergeAdds(n *irNode) error {
	var ins []*irNode
	merged := false
	for k, in := range n.ins {
		inner, ok := in.layer.(*network.Add)
		// The bound keeps a hostile chain of nested Adds from costing
		// quadratic time; Validate refuses an Add of an Add left unmerged.
		if !ok || in.kind != irLayer || !im.soleUser(in, n) || len(ins)+len(in.ins)+len(n.ins)-k-1 > maxAddInputs {
			ins = append(ins, in)
			continue
		}
		merged = true
		l := n.layer.(*network.Add)
		if inner.Bias != nil {
			if l.Bias == nil {
				l.Bias = make([]float32, len(inner.Bias))
			}
			for o := range l.Bias {
				l.Bias[o] = float32(float64(l.Bias[o]) + float64(inner.Bias[o]))
			}
		}
		for _, x := range in.ins {
			x.users = slices.DeleteFunc(x.users, func(u *irNode) bool { return u == in })
			if !slices.Contains(x.users, n) {
				x.users = append(x.users, n)
			}
		}
		ins = append(ins, in.ins...)
		in.users, in.dead = nil, true
	}
	if !merged {
		return nil
	}
	for i, x := range ins {
		if slices.Contains(ins[:i], x) {
			return unsupportedf("the sum adds %s twice", x.describe())
		}
	}
	n.ins = ins
	return nil
}

// poolAfterReLU checks that a MaxPool reads the input or a ReLU, and turns
// X → MaxPool → ReLU into X → ReLU → MaxPool.
func (im *importer) poolAfterReLU(n *irNode) error {
	p := n.ins[0]
	if p.kind == irInput {
		return nil
	}
	if _, ok := p.layer.(*network.ReLU); ok {
		return nil
	}
	_, isAdd := p.layer.(*network.Add)
	if !p.weighted() && !isAdd {
		return unsupportedf("a MaxPool must read the input or a ReLU, and it reads %s", p.describe())
	}
	var r *irNode
	if len(n.users) == 1 && im.out != n && n.users[0].kind == irLayer {
		if _, ok := n.users[0].layer.(*network.ReLU); ok {
			r = n.users[0]
		}
	}
	if r == nil || !im.soleUser(p, n) {
		return unsupportedf("a MaxPool must read the input or a ReLU, and it reads %s; Conv → MaxPool → ReLU is reordered to Conv → ReLU → MaxPool only when the MaxPool alone reads the Conv and that ReLU alone reads the MaxPool", p.describe())
	}
	// p → n → r → rest  becomes  p → r → n → rest.
	rest := r.users
	r.ins[0], p.users = p, []*irNode{r}
	n.ins[0], r.users = r, []*irNode{n}
	n.users = rest
	for _, u := range rest {
		for k, in := range u.ins {
			if in == r {
				u.ins[k] = n
			}
		}
	}
	if im.out == r {
		im.out = n
	}
	r.shape = p.shape
	// Swapping the two places keeps the order topological: r reads p,
	// which comes before n's place, and only r read n.
	i, j := n.pos, r.pos
	im.nodes[i], im.nodes[j] = r, n
	r.pos, n.pos = i, j
	return nil
}
