package analysis

import (
	"fmt"
	"strings"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/models"
)

// Data names the images a run works on: a set of dataset.Names, where its
// files are, and an optional normalisation per channel. The zero Data is
// MNIST, which without a Path comes from the copies built into the binary
// (models.LoadData) wherever they hold what is asked.
type Data struct {
	// Set is one of dataset.Names(); "" means "mnist".
	Set string
	// Path is the data's directory or file; "" for the set's default.
	Path string
	// Mean and Std, if set, normalise every image: (x − mean_c)/std_c per
	// channel (one value each: every channel), as the model was trained.
	Mean, Std []float32
}

// ParseData checks a set name and parses a --normalize value (see
// dataset.ParseNormalize; "" for none).
func ParseData(set, path, normalize string) (Data, error) {
	d := Data{Set: set, Path: path}
	if d.Set == "" {
		d.Set = "mnist"
	}
	if dataset.Describe(strings.ToLower(d.Set)) == "" {
		return d, BadInput(fmt.Errorf("--dataset %q: want one of %s", set, strings.Join(dataset.Names(), ", ")))
	}
	if normalize != "" {
		mean, std, err := dataset.ParseNormalize(normalize)
		if err != nil {
			return d, BadInput(fmt.Errorf("--normalize: %w", err))
		}
		d.Mean, d.Std = mean, std
	}
	return d, nil
}

// Name is the set's name ("mnist" for the zero Data).
func (d Data) Name() string {
	if d.Set == "" {
		return "mnist"
	}
	return strings.ToLower(d.Set)
}

// Test loads the first n test images (0: all of them).
func (d Data) Test(n int) (*dataset.Set, error) { return d.load(dataset.Test, n, true) }

// Calibration loads the first n training images: the calibration set of
// SPEC §3 (n = convert.DefaultCalibImages by default).
func (d Data) Calibration(n int) (*dataset.Set, error) {
	if n <= 0 {
		return nil, BadInput(fmt.Errorf("--calib-images %d: must be positive", n))
	}
	return d.load(dataset.Train, n, true)
}

// Train loads the first n training images (0: all of them).
func (d Data) Train(n int) (*dataset.Set, error) { return d.load(dataset.Train, n, true) }

// load loads the first n images of a split (0: all); with exact, a split
// of fewer than n images is an error.
func (d Data) load(split string, n int, exact bool) (*dataset.Set, error) {
	if n < 0 {
		return nil, BadInput(fmt.Errorf("asked for %d %s images", n, split))
	}
	set, err := models.LoadData(d.Name(), d.Path, split, n)
	if err != nil {
		return nil, BadInput(err)
	}
	if exact && n > set.N {
		return nil, BadInput(fmt.Errorf("asked for %d %s images, the set has %d", n, split, set.N))
	}
	if d.Mean != nil || d.Std != nil {
		if err := set.Normalize(d.Mean, d.Std); err != nil {
			return nil, BadInput(fmt.Errorf("%s: --normalize: %w", set.Name, err))
		}
	}
	return set, nil
}
