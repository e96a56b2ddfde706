package nir

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/network"
)

// FuzzToNetwork edits exported graphs (a residual network, a VGG-like one
// without MaxPool, the hand network) edge by edge and value by value, and
// imports them: ToNetwork must never panic, and a network it returns must
// validate.
func FuzzToNetwork(f *testing.F) {
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), []byte{0, 3, 7, 1, 5, 9})
	f.Add(uint8(2), []byte{2, 4, 4, 6, 1, 1, 3, 0})
	f.Fuzz(func(t *testing.T, which uint8, ops []byte) {
		var net *network.Network
		switch which % 3 {
		case 0:
			net = handNet(t)
		case 1:
			net = snnref.RandomNet(rand.New(rand.NewPCG(3, 11)), snnref.Config{Kind: snnref.ResNet, Alpha: 1, Reset: network.ResetSoft})
		default:
			net = snnref.RandomNet(rand.New(rand.NewPCG(2, 11)), snnref.Config{Kind: snnref.Chain, Alpha: 0.5, Reset: network.ResetHard})
		}
		for i, l := range net.Layers {
			if p, ok := l.(*network.MaxPool2d); ok {
				net.Layers[i] = &network.AvgPool2d{LayerName: p.LayerName, KH: p.KH, KW: p.KW, StrideH: p.StrideH, StrideW: p.StrideW, PadH: p.PadH, PadW: p.PadW}
			}
		}
		g, err := FromNetwork(net)
		if err != nil {
			t.Skip(err)
		}
		n := len(g.Order)
		for k := 0; k+2 < len(ops); k += 3 {
			a, b := g.Order[int(ops[k])%n], g.Order[int(ops[k+1])%n]
			switch ops[k+2] % 6 {
			case 0: // add an edge
				g.Connect(a, b)
			case 1: // drop an edge
				if len(g.Edges) > 0 {
					e := int(ops[k]) % len(g.Edges)
					g.Edges = append(g.Edges[:e], g.Edges[e+1:]...)
				}
			case 2: // redirect an edge
				if len(g.Edges) > 0 {
					g.Edges[int(ops[k])%len(g.Edges)][1] = b
				}
			case 3: // change a value
				for _, p := range g.Nodes[a].Params {
					if p.DType == Float32 && len(p.F32) > 0 {
						p.F32[int(ops[k+1])%len(p.F32)] = []float32{0, -1, 2, float32(math.NaN()), 1e30}[ops[k+2]%5]
						break
					}
				}
			case 4: // change a type
				g.Nodes[a].Type = g.Nodes[b].Type
			case 5: // drop the metadata
				g.Nodes[a].Metadata = nil
			}
		}
		back, err := ToNetwork(g)
		if err != nil {
			return
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("ToNetwork returned an invalid network: %v", err)
		}
	})
}
