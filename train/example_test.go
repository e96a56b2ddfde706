package train_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"strings"

	"github.com/evsnn/evsnn/network"
	"github.com/evsnn/evsnn/train"
)

// The fixture's network, with PyTorch-style initial weights from seed 1.
func ExampleDefaultArchitecture() {
	net := train.DefaultArchitecture(1)
	shapes, _ := net.Shapes()
	for i, l := range net.Layers {
		fmt.Printf("%-8s %v\n", l.Name(), shapes[i])
	}
	fmt.Println(net.NumParams(), "parameters")
	// Output:
	// conv1    [16,28,28]
	// relu1    [16,28,28]
	// pool1    [16,14,14]
	// conv2    [32,14,14]
	// relu2    [32,14,14]
	// pool2    [32,7,7]
	// flatten  [1568]
	// fc1      [128]
	// relu3    [128]
	// fc2      [10]
	// 215370 parameters
}

// A network described in JSON.
func ExampleParseArchitecture() {
	net, err := train.ParseArchitecture([]byte(`{
		"input": [1, 28, 28],
		"layers": [
			{"type": "conv2d", "out": 8, "kernel": 3, "stride": 2, "padding": 1},
			{"type": "relu"},
			{"type": "avgpool2d", "kernel": 2},
			{"type": "flatten"},
			{"type": "linear", "out": 10}]}`), 1)
	if err != nil {
		log.Fatal(err)
	}
	a, _ := train.Describe(net)
	fmt.Println(train.LayerList(a))

	_, err = train.ParseArchitecture([]byte(`{"input": [1, 28, 28], "layers": [{"type": "linear", "out": 10}]}`), 1)
	fmt.Println(err)
	// Output:
	// conv8k3s2p1,relu,pool2,flatten,fc10
	// architecture: layer 1 (fc1): linear needs a vector input, got [1,28,28] (add a flatten before it)
}

// Training a small network on a toy task: is the top half of a 4×4 image
// brighter than the bottom half?
func ExampleTrain() {
	r := rand.New(rand.NewPCG(1, 2))
	var data train.Dataset
	for range 256 {
		img := make([]float32, 16)
		var top, bottom float32
		for i := range img {
			img[i] = r.Float32()
			if i < 8 {
				top += img[i]
			} else {
				bottom += img[i]
			}
		}
		label := 0
		if top > bottom {
			label = 1
		}
		data.Images = append(data.Images, img...)
		data.Labels = append(data.Labels, label)
	}
	a, err := train.ParseLayers("conv4k3p1,relu,pool2,flatten,fc2", []int{1, 4, 4})
	if err != nil {
		log.Fatal(err)
	}
	net, err := train.Build(a, 1)
	if err != nil {
		log.Fatal(err)
	}
	cfg := train.Config{Epochs: 30, BatchSize: 32, LR: 0.01, Seed: 1}
	err = train.Train(context.Background(), net, data, cfg, func(p train.Progress) {
		if p.EpochDone && (p.Epoch == 1 || p.Epoch%10 == 0) {
			fmt.Printf("epoch %d: accuracy above 80%%: %v\n", p.Epoch, p.Accuracy > 0.8)
		}
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// epoch 1: accuracy above 80%: false
	// epoch 10: accuracy above 80%: true
	// epoch 20: accuracy above 80%: true
	// epoch 30: accuracy above 80%: true
}

// A small ResNet with BatchNorm, as evsnn exports it: the BatchNorms
// folded into the convolutions, the residual blocks as Add nodes.
func ExampleNewTrainer() {
	a, err := train.ParseLayers("conv8k3p1,bn,relu,maxpool2,res8,res16s2,gap,flatten,fc", []int{1, 28, 28})
	if err != nil {
		log.Fatal(err)
	}
	if a, err = a.WithClasses(10); err != nil {
		log.Fatal(err)
	}
	tr, err := train.NewTrainer(a, 1, train.Config{Epochs: 2})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(train.LayerList(tr.Architecture()))
	net := tr.Net() // up to date after tr.Run
	shapes, _ := net.Shapes()
	for i, l := range net.Layers {
		var from []string
		for _, j := range net.InputsOf(i) {
			if j == network.InputNode {
				from = append(from, "input")
			} else {
				from = append(from, net.Layers[j].Name())
			}
		}
		fmt.Printf("%-11s %-24s %v\n", l.Name(), strings.Join(from, " + "), shapes[i])
	}
	fmt.Println(net.Validate())
	// Output:
	// conv8k3p1,bn,relu,maxpool2,res8,res16s2,gap,flatten,fc10
	// conv1       input                    [8,28,28]
	// relu1       conv1                    [8,28,28]
	// maxpool1    relu1                    [8,14,14]
	// res1.conv1  maxpool1                 [8,14,14]
	// res1.relu1  res1.conv1               [8,14,14]
	// res1.conv2  res1.relu1               [8,14,14]
	// res1.add    res1.conv2 + maxpool1    [8,14,14]
	// res1.relu2  res1.add                 [8,14,14]
	// res2.conv1  res1.relu2               [16,7,7]
	// res2.relu1  res2.conv1               [16,7,7]
	// res2.conv2  res2.relu1               [16,7,7]
	// res2.down   res1.relu2               [16,7,7]
	// res2.add    res2.conv2 + res2.down   [16,7,7]
	// res2.relu2  res2.add                 [16,7,7]
	// gap         res2.relu2               [16,1,1]
	// flatten     gap                      [16]
	// fc1         flatten                  [10]
	// <nil>
}
