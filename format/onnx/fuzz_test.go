package onnx_test

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/evsnn/evsnn/format/onnx"
	pb "github.com/evsnn/evsnn/format/onnx/onnxpb"
)

// FuzzDecode feeds Decode mutated models: it must never panic, every error
// must be a one-line *onnx.Error, and every network it returns must be
// valid and run.
//
// The seeds are the Go-built chain and graph models of the tests and the
// 81 kB ResNet fixture; the 860 kB LeNet fixture is a seed only outside
// fuzzing (its mutations run ~100× slower than those of the small models,
// which exercise the same ops).
func FuzzDecode(f *testing.F) {
	for _, build := range fuzzModels() {
		f.Add(marshal(f, build()))
	}
	f.Add(marshal(f, small(nil)))
	resnet, err := os.ReadFile(resnetModel)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(resnet)
	if fl := flag.Lookup("test.fuzz"); fl == nil || fl.Value.String() == "" {
		data, err := os.ReadFile(fixtureModel)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(checkDecode)
}

// FuzzEdits changes attribute values, tensor dims and the input shape of
// the Go-built chain and graph models: structured mutations that reach the importer's
// geometry checks, which byte mutations of a protobuf rarely do.
func FuzzEdits(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint8(0), int64(2), uint8(0), uint8(0), int64(3), uint8(1), int64(5))
	f.Add(uint8(3), uint8(1), uint8(3), int64(-1), uint8(2), uint8(1), int64(0), uint8(2), int64(1<<40))
	f.Add(uint8(9), uint8(7), uint8(0), int64(1<<62), uint8(1), uint8(0), int64(-7), uint8(0), int64(0))
	// Seeds that edit the graph models (after the chains in fuzzModels).
	for k := range graphModels() {
		f.Add(uint8(len(goodModels())+k), uint8(3*k), uint8(k), int64(k%4), uint8(k), uint8(k%3), int64(k+1), uint8(1+k%3), int64(2*k+1))
	}
	models := fuzzModels()
	f.Fuzz(func(t *testing.T, which, node, attr uint8, av int64, init, dim uint8, dv int64, inDim uint8, iv int64) {
		m := models[int(which)%len(models)]()
		g := m.GetGraph()
		if nd := g.Node[int(node)%len(g.Node)]; len(nd.Attribute) > 0 {
			at := nd.Attribute[int(attr)%len(nd.Attribute)]
			switch {
			case len(at.Ints) > 0:
				at.Ints[int(attr/16)%len(at.Ints)] = av
			case at.I != nil:
				*at.I = av
			case at.F != nil:
				*at.F = float32(av) / 7
			}
		}
		if len(g.Initializer) > 0 {
			tp := g.Initializer[int(init)%len(g.Initializer)]
			if len(tp.Dims) > 0 {
				tp.Dims[int(dim)%len(tp.Dims)] = dv
			} else {
				tp.Dims = []int64{dv}
			}
		}
		if d := g.Input[0].Type.GetTensorType().Shape.Dim; inDim != 255 {
			d[int(inDim)%len(d)].Value = &pb.TensorShapeProto_Dimension_DimValue{DimValue: iv}
		}
		data, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		checkDecode(t, data)
	})
}

// fuzzModels are the builders of the Go-built models, chains and graphs.
func fuzzModels() []func() *pb.ModelProto {
	var out []func() *pb.ModelProto
	for _, m := range goodModels() {
		out = append(out, m.build)
	}
	for _, m := range graphModels() {
		out = append(out, m.build)
	}
	return out
}

// checkDecode is the property both fuzz targets check.
func checkDecode(t *testing.T, data []byte) {
	{
		net, err := onnx.Decode(data, "fuzz.onnx")
		if err != nil {
			var e *onnx.Error
			if !errors.As(err, &e) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\n\r") || len(msg) > 1000 {
				t.Fatalf("message not one short line: %q", msg)
			}
			return
		}
		if err := net.Validate(); err != nil {
			t.Fatalf("Decode returned an invalid network: %v", err)
		}
		shapes, err := net.Shapes()
		if err != nil {
			t.Fatal(err)
		}
		// Run the network when it is small enough to be quick.
		elems, macs := net.Input.Size(), 0
		in := net.Input
		for i, l := range net.Layers {
			elems += shapes[i].Size()
			macs += l.MACs(in)
			in = shapes[i]
		}
		if elems > 1<<16 || macs > 1<<20 {
			return
		}
		x := make([]float32, 2*net.Input.Size())
		for i := range x {
			x[i] = float32(i%7) / 7
		}
		act, err := net.Forward(x, 2)
		if err != nil {
			t.Fatalf("Forward: %v", err)
		}
		if got, want := len(act.Logits()), 2*shapes[len(shapes)-1].Size(); got != want {
			t.Fatalf("%d outputs, want %d", got, want)
		}
	}
}
