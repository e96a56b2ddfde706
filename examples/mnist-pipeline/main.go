// Command mnist-pipeline runs evsnn's pipeline end to end on the library
// API: the built-in MNIST CNN, converted by threshold balancing with the
// θ/2T bias shift, simulated event-driven on the first 1,000 test images.
package main

import (
	"fmt"
	"log"

	"github.com/evsnn/evsnn/convert"
	"github.com/evsnn/evsnn/event"
	"github.com/evsnn/evsnn/models"
	"github.com/evsnn/evsnn/network"
)

func main() {
	acc, err := run(32, 1000, 1024)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("event-driven SNN, T=32, 1000 MNIST test images: %.2f %%\n", 100*acc)
}

// run converts the built-in ANN for T steps on the first calib training
// images (at most the 1,024 built in) and returns the SNN's accuracy on the
// first n test images.
func run(T, n, calib int) (float64, error) {
	ann, err := models.Default()
	if err != nil {
		return 0, err
	}
	train, err := models.CalibrationSet()
	if err != nil {
		return 0, err
	}
	train = train.Slice(0, calib)
	snn, err := convert.FromANN(ann, train.Images, train.N, convert.Options{BiasShift: true, T: T})
	if err != nil {
		return 0, err
	}
	test, err := models.TestSet()
	if err != nil {
		return 0, err
	}
	test = test.Slice(0, n)
	res, err := event.Engine{}.Run(snn, test.Images, test.Labels, network.SimOptions{T: T})
	if err != nil {
		return 0, err
	}
	acc := res.AccuracyByStep()
	return acc[T-1], nil
}
