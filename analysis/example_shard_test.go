package analysis_test

import (
	"fmt"
	"log"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/engines"
	"github.com/evsnn/evsnn/network"
)

// A run of the built-in model on 24 images, in 3 shards (each would run
// on a machine of its own) merged into the result of the whole run.
func ExampleMergeParts() {
	engine, _ := engines.ByName("event")
	req := analysis.Request{Images: 24, Opts: network.SimOptions{T: 8, Encoding: network.EncodingPoisson, Seed: 1}, CalibImages: 64}
	var parts []*analysis.Part
	for k := range 3 {
		req.Shard = analysis.Shard{K: k, N: 3}
		in, err := analysis.Prepare(req, analysis.Env{})
		if err != nil {
			log.Fatal(err)
		}
		sim, err := in.Simulate(engine, analysis.Env{})
		if err != nil {
			log.Fatal(err)
		}
		p, err := in.SimulationPart(sim)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("shard %d/3: images %d..%d\n", k, p.Shard.First, p.Shard.End-1)
		parts = append(parts, p)
	}
	m, err := analysis.MergeParts(parts, nil)
	if err != nil {
		log.Fatal(err)
	}
	req.Shard = analysis.Shard{}
	in, err := analysis.Prepare(req, analysis.Env{})
	if err != nil {
		log.Fatal(err)
	}
	whole, err := in.Simulate(engine, analysis.Env{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("merged: %d images, accuracy %.4f, %d spikes in %s\n", m.Simulation.Images, m.Simulation.Accuracy, m.Simulation.Layers[0].Spikes, m.Simulation.Layers[0].Name)
	fmt.Printf("one process: %d images, accuracy %.4f, %d spikes in %s\n", whole.Images, whole.Accuracy, whole.Layers[0].Spikes, whole.Layers[0].Name)
	// Output:
	// shard 0/3: images 0..7
	// shard 1/3: images 8..15
	// shard 2/3: images 16..23
	// merged: 24 images, accuracy 1.0000, 121716 spikes in relu1
	// one process: 24 images, accuracy 1.0000, 121716 spikes in relu1
}

// The Slurm jobs of a sweep over T: one array of (T value, shard) tasks and
// one merge per T.
func ExampleSlurmJob_Plan() {
	job := analysis.SlurmJob{
		Args:   []string{"simulate", "net.evsnn", "--images", "10000"},
		Shards: 8,
		Sweep:  []analysis.SweepAxis{{Name: "T", Values: []string{"4", "8", "16", "32"}}},
		Dir:    "/scratch/sweep", WorkDir: "/home/me", Evsnn: "/home/me/bin/evsnn",
	}
	p, err := job.Plan()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.Tasks, "tasks")
	for _, r := range p.Runs {
		fmt.Println(r.Name, "→", r.Result())
	}
	// Output:
	// 32 tasks
	// T=4 → /scratch/sweep/T=4/result.json
	// T=8 → /scratch/sweep/T=8/result.json
	// T=16 → /scratch/sweep/T=16/result.json
	// T=32 → /scratch/sweep/T=32/result.json
}
