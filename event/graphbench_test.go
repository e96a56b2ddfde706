package event

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/internal/snnref"
	"github.com/evsnn/evsnn/internal/testenv"
	"github.com/evsnn/evsnn/network"
)

// annBuilder grows a random ANN (He-initialised weights) for the graph
// benchmarks.
type annBuilder struct {
	r   *rand.Rand
	net *network.Network
}

func (b *annBuilder) shape(i int) network.Shape {
	if i == network.InputNode {
		return b.net.Input
	}
	sh, err := b.net.Shapes()
	if err != nil {
		panic(err)
	}
	return sh[i]
}

func (b *annBuilder) add(l network.Layer, in ...int) int {
	b.net.Layers = append(b.net.Layers, l)
	b.net.Inputs = append(b.net.Inputs, in)
	return len(b.net.Layers) - 1
}

func (b *annBuilder) normal(n int, std float64) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = float32(b.r.NormFloat64() * std)
	}
	return w
}

func (b *annBuilder) conv(name string, in, outC, k, stride, pad int) int {
	inC := b.shape(in)[0]
	std := math.Sqrt(2 / float64(inC*k*k))
	return b.add(&network.Conv2d{LayerName: name, InC: inC, OutC: outC, KH: k, KW: k, StrideH: stride, StrideW: stride, PadH: pad, PadW: pad,
		Weight: b.normal(outC*inC*k*k, std), Bias: b.normal(outC, 0.02)}, in)
}

func (b *annBuilder) linear(name string, in, out int) int {
	n := b.shape(in).Size()
	return b.add(&network.Linear{LayerName: name, In: n, Out: out, Weight: b.normal(out*n, math.Sqrt(2/float64(n))), Bias: b.normal(out, 0.02)}, in)
}

func (b *annBuilder) relu(name string, in int) int { return b.add(&network.ReLU{LayerName: name}, in) }

// vggANN is a small VGG for MNIST: 4 convolutions of 16–32 channels, two
// MaxPools, a hidden Linear of 128.
func vggANN(seed uint64) *network.Network {
	b := &annBuilder{r: rand.New(rand.NewPCG(seed, 1)), net: &network.Network{Input: network.Shape{1, 28, 28}}}
	x := b.relu("r1", b.conv("c1", network.InputNode, 16, 3, 1, 1))
	x = b.relu("r2", b.conv("c2", x, 16, 3, 1, 1))
	x = b.add(&network.MaxPool2d{LayerName: "mp1", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, x)
	x = b.relu("r3", b.conv("c3", x, 32, 3, 1, 1))
	x = b.relu("r4", b.conv("c4", x, 32, 3, 1, 1))
	x = b.add(&network.MaxPool2d{LayerName: "mp2", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, x)
	x = b.add(&network.Flatten{LayerName: "flat"}, x)
	x = b.relu("r5", b.linear("fc1", x, 128))
	b.linear("fc2", x, 10)
	return b.net
}

// resnetANN has the fixture ResNet's shape (testdata/README.md) with
// random weights.
func resnetANN(seed uint64) *network.Network {
	b := &annBuilder{r: rand.New(rand.NewPCG(seed, 2)), net: &network.Network{Input: network.Shape{1, 28, 28}}}
	x := b.relu("stem_relu", b.conv("stem", network.InputNode, 16, 3, 1, 1))
	h0 := b.add(&network.MaxPool2d{LayerName: "stem_pool", KH: 2, KW: 2, StrideH: 2, StrideW: 2}, x)
	x = b.relu("b0r1", b.conv("b0c1", h0, 16, 3, 1, 1))
	x = b.add(&network.Add{LayerName: "b0add"}, b.conv("b0c2", x, 16, 3, 1, 1), h0)
	h1 := b.relu("b0r2", x)
	x = b.relu("b1r1", b.conv("b1c1", h1, 32, 3, 2, 1))
	x = b.add(&network.Add{LayerName: "b1add"}, b.conv("b1c2", x, 32, 3, 1, 1), b.conv("b1down", h1, 32, 1, 2, 0))
	x = b.relu("b1r2", x)
	x = b.add(&network.GlobalAvgPool{LayerName: "gap"}, x)
	x = b.add(&network.Flatten{LayerName: "flat"}, x)
	b.linear("fc", x, 10)
	return b.net
}

var graphNets struct {
	sync.Mutex
	m map[string]*network.Network
}

// graphSNN converts a random graph ANN with thresholds at the 99.9th
// percentile of 256 MNIST training images.
func graphSNN(tb testing.TB, name string) *network.Network {
	tb.Helper()
	graphNets.Lock()
	defer graphNets.Unlock()
	if n := graphNets.m[name]; n != nil {
		return n
	}
	var ann *network.Network
	switch name {
	case "vgg":
		ann = vggANN(1)
	case "resnet-random":
		ann = resnetANN(1)
	default:
		tb.Fatalf("no graph network %q", name)
	}
	if err := ann.Validate(); err != nil {
		tb.Fatal(err)
	}
	x, _ := fixture.MNIST(tb, "train", 256)
	snn, err := convert.FromANN(ann, x, 256, convert.Options{Statistic: "p99.9"})
	if err != nil {
		tb.Fatal(err)
	}
	if graphNets.m == nil {
		graphNets.m = map[string]*network.Network{}
	}
	graphNets.m[name] = snn
	return snn
}

// benchImages times the event engine image by image on net (T = 32,
// direct input) over the first 200 MNIST test images, and reports spikes,
// SOPs and additions per image and the rate they run at.
func benchImages(b *testing.B, net *network.Network) {
	loadFixture(b)
	sim, err := NewSimulator(net, network.SimOptions{T: 32})
	if err != nil {
		b.Fatal(err)
	}
	res := sim.NewImageResult()
	var work Work
	var spikes, sops int64
	i := 0
	b.ReportAllocs()
	c0 := cpuTime()
	for b.Loop() {
		img := i % 200
		if err := sim.RunImage(fixtureImage(img), img, res); err != nil {
			b.Fatal(err)
		}
		work.Add(&res.Work)
		for k := range res.Spikes {
			spikes += res.Spikes[k]
			sops += res.SOPs[k]
		}
		i++
	}
	cpu := (cpuTime() - c0).Seconds()
	b.ReportMetric(cpu*1e9/float64(i), "cpu-ns/image")
	b.ReportMetric(float64(spikes)/float64(i), "spikes/image")
	b.ReportMetric(float64(sops)/float64(i), "SOPs/image")
	b.ReportMetric(float64(work.TotalAdds())/float64(i), "adds/image")
	b.ReportMetric(float64(work.TotalAdds())/b.Elapsed().Seconds()/1e9, "Gadds/s")
	b.ReportMetric(float64(sops)/b.Elapsed().Seconds()/1e9, "GSOP/s")
}

// BenchmarkGraphImage is the per-image cost of graph networks: a VGG with
// MaxPools and a ResNet of the fixture's shape, both with random weights
// (T = 32, direct input, MNIST test images).
func BenchmarkGraphImage(b *testing.B) {
	for _, name := range []string{"vgg", "resnet-random"} {
		b.Run(name, func(b *testing.B) { benchImages(b, graphSNN(b, name)) })
	}
}

// TestGraphNetRates checks that the benchmark networks are in the regime
// they are meant to measure (layers firing about 1–10 % of their neurons
// per step) and that the event engine agrees with the naive reference on a
// few images: on non-dyadic networks only threshold ties may differ.
func TestGraphNetRates(t *testing.T) {
	if testing.Short() || testenv.RaceEnabled {
		t.Skip("converts two networks on MNIST and runs the naive reference on them")
	}
	loadFixture(t)
	for _, name := range []string{"vgg", "resnet-random"} {
		net := graphSNN(t, name)
		const n = 8
		res, err := Engine{}.Run(net, fixtureImages[:n*784], fixtureLabels[:n], network.SimOptions{T: 32})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range res.Layers {
			rate := float64(l.Spikes) / float64(n*32*l.Neurons)
			t.Logf("%s %s: %.2f %% per step", name, l.Name, 100*rate)
			if rate < 0.002 || rate > 0.3 {
				t.Errorf("%s %s fires %.2f %% of its neurons per step", name, l.Name, 100*rate)
			}
		}
		const m = 2
		opts := network.SimOptions{T: 32, KeepCounts: true}
		ref, err := snnref.Run(net, fixtureImages[:m*784], fixtureLabels[:m], opts)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Engine{}.Run(net, fixtureImages[:m*784], fixtureLabels[:m], opts)
		if err != nil {
			t.Fatal(err)
		}
		for k := range ev.Layers {
			diff := 0
			for j := range ev.Counts[k] {
				if ev.Counts[k][j] != ref.Counts[k][j] {
					diff++
				}
			}
			a, b := ev.Layers[k].Spikes, ref.Layers[k].Spikes
			t.Logf("%s %s: event %d spikes, snnref %d; %d (image, neuron) counts differ", name, ev.Layers[k].Name, a, b, diff)
			if math.Abs(float64(a-b)) > 1e-3*float64(b) {
				t.Errorf("%s %s: event %d spikes, snnref %d", name, ev.Layers[k].Name, a, b)
			}
		}
	}
}
