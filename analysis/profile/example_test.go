package profile_test

import (
	"fmt"
	"os"

	"github.com/evsnn/evsnn/analysis/profile"
	"github.com/evsnn/evsnn/dense"
	"github.com/evsnn/evsnn/network"
)

// Profile a run of a small network (with SimOptions.KeepCounts and the
// ANN's activations on the same images, the profile has the conversion
// error).
func ExampleBuild() {
	net := linearNet() // 2 inputs → fc1 (3) → sp1 (IF, θ = 1) → fc2 (2)
	images := []float32{0.5, 0.25, 1, 0}
	res, err := dense.Engine{}.Run(net, images, []int{0, 0}, network.SimOptions{T: 4, KeepCounts: true})
	if err != nil {
		panic(err)
	}
	ann, err := net.Forward(images, 2)
	if err != nil {
		panic(err)
	}
	p, err := profile.Build(net, res, ann, profile.DefaultEnergy())
	if err != nil {
		panic(err)
	}
	l := p.Layers[0]
	fmt.Printf("%s: %d spikes, firing rate %.4f, %d SOPs into %s (%d MACs per image)\n",
		l.Name, l.Spikes, l.FiringRate, l.SOPs, l.Target, l.ANNMACs)
	fmt.Printf("MSE %.6f, first spike at step %.1f on average\n", *l.MSE, *l.FirstSpikeLatency)
	fmt.Println(p.Energy)
	// Output:
	// sp1: 10 spikes, firing rate 0.4167, 20 SOPs into fc2 (6 MACs per image)
	// MSE 0.002604, first spike at step 2.4 on average
	// 0.9 pJ per SOP (accumulate), 4.6 pJ per MAC (Horowitz 2014, 45 nm, 32-bit float)
}

func ExampleWriteCSV() {
	net := linearNet()
	res := handResult()
	p, err := profile.Build(net, res, nil, profile.DefaultEnergy())
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "profile")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := profile.WriteCSV(dir, p); err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(dir + "/" + profile.SpikesByStepCSV)
	fmt.Print(string(b))
	// Output:
	// step,sp1,total
	// 1,1,1
	// 2,3,3
	// 3,2,2
	// 4,4,4
}
