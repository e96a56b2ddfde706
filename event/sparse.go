package event

import (
	"fmt"

	"github.com/evsnn/evsnn/network"
)

// sparseFan is the fan-out of a SparseLinear (network.SparseLinear): the
// synapses of pooled position p (internal order) are targets[ptr[p]:
// ptr[p+1]] with weights[...], targets increasing. When the pooled grid's
// internal order is the network's (a vector, one channel, one position)
// the layer's own arrays are used, not copied: a projection of 10⁸
// synapses is not held twice.
type sparseFan struct {
	ptr     []int32
	targets []int32
	weights []float32
}

// sparsePlan lays out the synapse lists of a SparseLinear target in the
// pooled source's internal order.
func (pr *proj) sparsePlan(l *network.SparseLinear) error {
	pg := pr.pooled
	if pg.size() != l.In {
		return fmt.Errorf("%d inputs, the pooled source has %d values", l.In, pg.size())
	}
	if l.Out != pr.targetSize {
		return fmt.Errorf("%d outputs into a layer of %d neurons", l.Out, pr.targetSize)
	}
	if pg.c == 1 || pg.h*pg.w == 1 {
		pr.sp = sparseFan{ptr: l.Ptr, targets: l.Targets, weights: l.Weights}
		return nil
	}
	sp := sparseFan{ptr: make([]int32, l.In+1), targets: make([]int32, 0, len(l.Targets)), weights: make([]float32, 0, len(l.Weights))}
	for p := range l.In {
		tg, ws := l.Synapses(pg.user(p))
		sp.targets = append(sp.targets, tg...)
		sp.weights = append(sp.weights, ws...)
		sp.ptr[p+1] = int32(len(sp.targets))
	}
	pr.sp = sp
	return nil
}

// synapses is the number of synapses of pooled position p.
func (f *sparseFan) synapses(p int32) int { return int(f.ptr[p+1] - f.ptr[p]) }

// scatter adds amp × the synapses of pooled position p to acc.
func (f *sparseFan) scatter(p int, amp float32, acc []float32) {
	a, b := f.ptr[p], f.ptr[p+1]
	sparseAdd(acc, f.targets[a:b], f.weights[a:b], amp)
}

// deliverSparse adds the events of a SparseLinear projection to its
// target's accumulator along each event's synapse list, marking the
// targets touched — or, when the events reach more synapses than a
// sixteenth of the layer, the whole layer (an update then sweeps it, and
// marking would cost more than it saves; the sparse update policy of the
// tests always marks).
func (s *Simulator) deliverSparse(pr *proj, evs []ev, w *Work) {
	k := pr.target
	st := &s.layers[k]
	f := &pr.sp
	syn := 0
	for _, e := range evs {
		syn += f.synapses(e.pos)
	}
	w.Adds[k] += int64(syn)
	var touched, top []uint64
	if s.p.layers[k].readout || (syn*16 >= len(st.acc) && s.policy != policySparse) {
		if !s.p.layers[k].readout {
			st.all = true
		}
	} else {
		touched, top = st.touched.Words(), st.touched.Top()
	}
	f.deliver(st.acc, touched, top, evs)
}

// deliver adds the events' synapses to acc, marking their targets in
// touched unless it is nil (and in top, a two-level set's second level,
// unless it is nil). Lists and targets were checked when the plan
// was made (network.SparseLinear's own check, and sparsePlan: targets <
// len(acc)), so the assembly kernels run without checks.
func (f *sparseFan) deliver(acc []float32, touched, top []uint64, evs []ev) {
	f.deliverWith(sparseKernels[len(sparseKernels)-1], acc, touched, top, evs)
}

// sparseKernel names a SparseLinear delivery kernel; every one gives the
// same sums bit for bit (each synapse's product rounded, then added, the
// events in order), so the engine runs the fastest this CPU has and the
// tests run them all.
type sparseKernel uint8

const (
	kernelGo        sparseKernel = iota // portable loops
	kernelScalarAsm                     // amd64, AVX + BMI2, unrolled by four
	kernelTailAsm                       // kernelScalarAsm, unmarked lists' ends without branches
)

func (k sparseKernel) String() string {
	return [...]string{"go", "scalar-asm", "tail-asm"}[k]
}

// deliverWith is deliver on the kernel k.
func (f *sparseFan) deliverWith(k sparseKernel, acc []float32, touched, top []uint64, evs []ev) {
	if len(evs) == 0 {
		return
	}
	if k == kernelTailAsm && touched == nil && len(f.targets) > 0 {
		// Unmarked (a small target layer, or a busy step): the list ends
		// without branches. Marking runs as kernelScalarAsm: its cost is
		// the second store per synapse, not the branches (a marked
		// version of this kernel was 5–25 % slower).
		sparseEventsTailAsm(&acc[0], &evs[0], len(evs), &f.ptr[0], &f.targets[0], &f.weights[0])
		return
	}
	if k != kernelGo && len(f.targets) > 0 {
		var tp, up *uint64
		if touched != nil {
			tp = &touched[0]
			if top != nil {
				up = &top[0]
			}
		}
		sparseEventsAsm(&acc[0], tp, up, &evs[0], len(evs), &f.ptr[0], &f.targets[0], &f.weights[0])
		return
	}
	for _, e := range evs {
		a, b := f.ptr[e.pos], f.ptr[e.pos+1]
		switch {
		case touched == nil:
			sparseAdd(acc, f.targets[a:b], f.weights[a:b], e.amp)
		case top == nil:
			sparseAddMark(acc, touched, f.targets[a:b], f.weights[a:b], e.amp)
		default:
			sparseAddMark(acc, touched, f.targets[a:b], f.weights[a:b], e.amp)
			for _, t := range f.targets[a:b] {
				top[uint32(t)>>12] |= 1 << (uint32(t) >> 6 & 63)
			}
		}
	}
}

// sparseAdd performs acc[targets[i]] += float32(amp·weights[i]) in order
// (each product rounded before the add, as everywhere in the engines).
func sparseAdd(acc []float32, targets []int32, weights []float32, amp float32) {
	weights = weights[:len(targets)]
	for i, t := range targets {
		acc[t] += float32(amp * weights[i])
	}
}

// sparseAddMark is sparseAdd that also sets each target's bit in touched.
func sparseAddMark(acc []float32, touched []uint64, targets []int32, weights []float32, amp float32) {
	weights = weights[:len(targets)]
	for i, t := range targets {
		acc[t] += float32(amp * weights[i])
		touched[uint32(t)>>6] |= 1 << (uint32(t) & 63)
	}
}
