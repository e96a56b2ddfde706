package format

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/format/onnx"
	"github.com/evsnn/evsnn/network"
)

// MaxBytes bounds the size of a model file Load reads (1 GiB).
const MaxBytes = 1 << 30

// HeadBytes is how much of the start of a file a Loader's Sniff sees.
const HeadBytes = 4096

// A Loader reads one model format.
type Loader struct {
	// Name names the format in errors and logs ("ONNX").
	Name string
	// Sniff tells, from the path and the first bytes of the file (at most
	// HeadBytes), whether the file is in this format.
	Sniff func(path string, head []byte) bool
	// Load reads the file.
	Load func(path string) (*network.Network, error)
}

var registry struct {
	sync.RWMutex
	loaders []Loader
}

// Register adds a loader after those already registered. It is meant to
// be called from init functions.
func Register(l Loader) {
	registry.Lock()
	defer registry.Unlock()
	registry.loaders = append(registry.loaders, l)
}

// Loaders returns the registered loaders, in the order Load tries them.
func Loaders() []Loader {
	registry.RLock()
	defer registry.RUnlock()
	return append([]Loader(nil), registry.loaders...)
}

func init() {
	Register(Loader{Name: "ONNX", Sniff: func(path string, _ []byte) bool { return hasExt(path, ".onnx") }, Load: onnx.Import})
	Register(Loader{Name: "evsnn model", Sniff: func(_ string, head []byte) bool { return modelfile.IsModelFile(head) }, Load: modelfile.Load})
}

// ErrUnknown is the error (wrapped with the path) for a file no loader
// claims.
var ErrUnknown = errors.New("not a model file evsnn reads")

// Detect returns the loader that claims the file at path.
func Detect(path string) (Loader, error) {
	head, err := readHead(path)
	if err != nil {
		return Loader{}, err
	}
	loaders := Loaders()
	for _, l := range loaders {
		if l.Sniff(path, head) {
			return l, nil
		}
	}
	names := make([]string, len(loaders))
	for i, l := range loaders {
		names[i] = l.Name
	}
	return Loader{}, fmt.Errorf("%s: %w (formats: %s)", path, ErrUnknown, strings.Join(names, ", "))
}

// Load reads the model file at path in whichever registered format claims
// it.
func Load(path string) (*network.Network, error) {
	l, err := Detect(path)
	if err != nil {
		return nil, err
	}
	net, err := l.Load(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return net, nil
}

// readHead returns the first HeadBytes of the file at path, refusing
// directories and files over MaxBytes.
func readHead(path string) ([]byte, error) {
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
	if st.Size() > MaxBytes {
		return nil, fmt.Errorf("%s: %d bytes, larger than any model evsnn reads (%d)", path, st.Size(), MaxBytes)
	}
	head := make([]byte, HeadBytes)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return head[:n], nil
}

func hasExt(path, ext string) bool { return strings.EqualFold(filepath.Ext(path), ext) }
