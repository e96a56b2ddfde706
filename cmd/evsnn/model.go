package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/format/onnx"
	"github.com/evsnn/evsnn/models"
	"github.com/evsnn/evsnn/network"
)

// maxModelBytes bounds what a command reads as a model file.
const maxModelBytes = 1 << 30

// modelLoader reads one more model format; build-tagged files (NIR over
// HDF5) append to modelLoaders.
type modelLoader struct {
	name  string
	sniff func(path string, head []byte) bool
	load  func(path string) (*network.Network, error)
}

var modelLoaders = []modelLoader{
	{
		name: "ONNX",
		sniff: func(path string, head []byte) bool {
			return strings.EqualFold(filepath.Ext(path), ".onnx")
		},
		load: onnx.Import,
	},
	{
		name: "evsnn model",
		sniff: func(path string, head []byte) bool {
			return modelfile.IsModelFile(head)
		},
		load: modelfile.Load,
	},
}

// LoadModel reads MODEL: an evsnn model file or an .onnx file (or another
// registered format); "" means the built-in default model.
func (g *Globals) LoadModel(path string) (*network.Network, error) {
	if path == "" {
		net, err := models.Default()
		if err != nil {
			return nil, fmt.Errorf("built-in model: %w", err)
		}
		g.Log.Info().Msg("no model given: using the built-in MNIST CNN")
		return net, nil
	}
	head, err := readHead(path, 4096)
	if err != nil {
		return nil, badInput(err)
	}
	for _, l := range modelLoaders {
		if l.sniff(path, head) {
			net, err := l.load(path)
			if err != nil {
				return nil, badInputf("%s: %w", path, err)
			}
			g.Log.Debug().Str("format", l.name).Str("path", path).Msg("model loaded")
			return net, nil
		}
	}
	return nil, badInputf("%s: not an evsnn model file or an .onnx file", path)
}

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a model file", path)
	}
	if st.Size() > maxModelBytes {
		return nil, fmt.Errorf("%s: %d bytes, larger than any model evsnn reads (%d)", path, st.Size(), maxModelBytes)
	}
	buf := make([]byte, n)
	k, _ := f.Read(buf)
	return bytes.Clone(buf[:k]), nil
}

// embeddedSplit returns the built-in copy of the data asked for, or nil if
// there is none (or --data was given).
func (g *Globals) embeddedSplit(split string, n int) (*mnist.Set, error) {
	if g.DataDir != "" {
		return nil, nil
	}
	switch {
	case split == mnist.Test:
		return models.TestSet()
	case split == mnist.Train && n > 0 && n <= models.CalibrationImages:
		return models.CalibrationSet()
	}
	return nil, nil
}

// dataDir resolves the MNIST directory: --data, or the GoMNIST module.
func (g *Globals) dataDir() (string, error) {
	if g.DataDir != "" {
		return g.DataDir, nil
	}
	dir, err := mnist.DefaultDir()
	if err != nil {
		return "", badInput(err)
	}
	return dir, nil
}

// TestSet loads the MNIST test set, or its first n images if n > 0.
func (g *Globals) TestSet(n int) (*mnist.Set, error) {
	return g.loadSplit("test", n)
}

// CalibrationSet loads the first n MNIST training images (SPEC §3).
func (g *Globals) CalibrationSet(n int) (*mnist.Set, error) {
	return g.loadSplit("train", n)
}

// loadSplit loads n images (0: all) of a split. Without --data, the test
// set and the first 1,024 training images come from the copies built into
// the binary (models.TestSet, models.CalibrationSet), so the main job runs
// offline; anything else comes from the GoMNIST module.
func (g *Globals) loadSplit(split string, n int) (*mnist.Set, error) {
	set, err := g.embeddedSplit(split, n)
	if err != nil {
		return nil, err
	}
	if set == nil {
		dir, err := g.dataDir()
		if err != nil {
			return nil, err
		}
		if set, err = mnist.LoadN(dir, split, n); err != nil {
			return nil, badInput(err)
		}
	}
	if n < 0 || n > set.N {
		return nil, badInputf("asked for %d %s images, the set has %d", n, split, set.N)
	}
	if n > 0 && n < set.N {
		set = set.Slice(0, n)
	}
	return set, nil
}
