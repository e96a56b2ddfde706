//go:build hdf5

package format

import (
	"fmt"
	"path/filepath"

	"github.com/evsnn/evsnn/format/nir"
	"github.com/evsnn/evsnn/network"
)

// With the hdf5 build tag, NIR files load like any other model file.
func init() {
	Register(Loader{Name: "NIR", Sniff: IsNIR, Load: loadNIR})
}

// loadNIR reads a NIR file into an evsnn network.
func loadNIR(path string) (*network.Network, error) {
	graph, err := nir.ReadFile(path)
	if err != nil {
		return nil, err
	}
	net, err := nir.ToNetwork(graph)
	if err != nil {
		return nil, fmt.Errorf("NIR: %w", err)
	}
	if net.Meta.Source == "nir" {
		net.Meta.Source = "nir:" + filepath.Base(path)
	}
	return net, nil
}
