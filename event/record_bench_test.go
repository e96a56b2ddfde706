package event

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/evsnn/evsnn/format/spikes"
	"github.com/evsnn/evsnn/network"
)

// BenchmarkFixtureRecord measures what recording every spike costs on the
// LeNet fixture (calibratedLeNet, T = 32, direct input): each iteration
// simulates one test image with a plain Simulator and again with
// RecordSpikes, its ids then written by format/spikes (Writer.Add; the
// file in EVSNN_BENCH_DIR if set, else the test's temporary directory),
// the two in alternating order, and reports the CPU time of each and the
// overhead of recording, (record − plain)/plain, split into the engine's
// part (RunImage with RecordSpikes against without) and the writer's
// (Writer.Add).
//
//	GOMAXPROCS=1 go test -run '^$' -bench FixtureRecord -benchtime 2000x ./event/
func BenchmarkFixtureRecord(b *testing.B) {
	snn := calibratedLeNet(b)
	loadFixture(b)
	const T = 32
	plain, err := NewSimulator(snn, network.SimOptions{T: T})
	if err != nil {
		b.Fatal(err)
	}
	recording, err := NewSimulator(snn, network.SimOptions{T: T, RecordSpikes: true})
	if err != nil {
		b.Fatal(err)
	}
	layers, err := spikes.LayersOf(snn)
	if err != nil {
		b.Fatal(err)
	}
	dir := os.Getenv("EVSNN_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	w, err := spikes.Create(filepath.Join(dir, "bench.spikes"), spikes.Header{T: T, Images: 1 << 20, Engine: "event", Layers: layers})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Abort()
	pr, rr := plain.NewImageResult(), recording.NewImageResult()
	var tPlain, tRec, tSim time.Duration
	var ids int64
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		img := i % 1000
		x := fixtureImage(img)
		runPlain := func() {
			c0 := cpuTime()
			if err := plain.RunImage(x, img, pr); err != nil {
				b.Fatal(err)
			}
			tPlain += cpuTime() - c0
		}
		runRec := func() {
			c0 := cpuTime()
			if err := recording.RunImage(x, img, rr); err != nil {
				b.Fatal(err)
			}
			c1 := cpuTime()
			if err := w.Add(i, rr.Recorded); err != nil {
				b.Fatal(err)
			}
			c2 := cpuTime()
			tRec += c2 - c0
			tSim += c1 - c0
		}
		if i%2 == 0 {
			runPlain()
			runRec()
		} else {
			runRec()
			runPlain()
		}
		for _, n := range rr.Spikes {
			ids += n
		}
		i++
	}
	b.ReportMetric(float64(tPlain.Nanoseconds())/float64(i), "plain-ns/image")
	b.ReportMetric(float64(tRec.Nanoseconds())/float64(i), "record-ns/image")
	b.ReportMetric(100*(tRec.Seconds()/tPlain.Seconds()-1), "overhead%")
	b.ReportMetric(100*(tSim.Seconds()/tPlain.Seconds()-1), "engine-overhead%")
	b.ReportMetric(100*(tRec-tSim).Seconds()/tPlain.Seconds(), "writer%")
	b.ReportMetric(float64(ids)/float64(i), "spikes/image")
}
