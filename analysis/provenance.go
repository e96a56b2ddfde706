package analysis

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"math"
	"os"

	"github.com/evsnn/evsnn/dataset"
	"github.com/evsnn/evsnn/format/modelfile"
	"github.com/evsnn/evsnn/models"
	"github.com/evsnn/evsnn/network"
)

// Provenance is what identifies a run, recorded in every partial result
// of it: parts merge only if their provenance is the same (but for the
// data path, which may differ between machines holding the same data).
type Provenance struct {
	Model ModelID `json:"model"`
	Data  DataID  `json:"data"`
	// CalibImages is the number of training images an ANN was converted
	// on (0: the default); it does not matter for an SNN model file.
	CalibImages int `json:"calib_images"`
	// Version is the evsnn version that ran the shard.
	Version string `json:"evsnn_version"`
}

// ModelID identifies a model.
type ModelID struct {
	// Name is the path as given, or BuiltinName; informational.
	Name string `json:"name"`
	// SHA256 is the hex sha256 of the model file's bytes (for the built-in
	// model, of models.DefaultFile()).
	SHA256 string `json:"sha256"`
	// SNNSHA256 is the sha256 of the SNN that was simulated (an ANN
	// converted by the run included), encoded as an evsnn model file.
	SNNSHA256 string `json:"snn_sha256"`
}

// DataID identifies the images of a whole run.
type DataID struct {
	Set string `json:"dataset"`
	// Path is the data's path as given ("" for the set's default);
	// informational: SHA256 is what must agree.
	Path      string `json:"path,omitempty"`
	Split     string `json:"split"`
	Normalize string `json:"normalize,omitempty"`
	// Images is the number of images of the whole run (all shards).
	Images int `json:"images"`
	// SHA256 is the sha256 of the whole run's images (float32 pixels,
	// after normalisation) and labels (SetHash).
	SHA256 string `json:"sha256"`
}

// FileHash returns the hex sha256 of the file at path ("" is the built-in
// model).
func FileHash(path string) (string, error) {
	h := sha256.New()
	if path == "" {
		h.Write(models.DefaultFile())
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", BadInput(err)
	}
	defer f.Close()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// NetHash returns the hex sha256 of net encoded as an evsnn model file.
func NetHash(net *network.Network) (string, error) {
	h := sha256.New()
	if err := modelfile.Encode(h, net); err != nil {
		return "", fmt.Errorf("hash of the SNN: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// SetHash returns the hex sha256 of a set's shape, pixels (float32, little
// endian) and labels (int64, little endian).
func SetHash(set *dataset.Set) string {
	h := sha256.New()
	var b [8]byte
	put := func(h hash.Hash, v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	for _, d := range set.Shape() {
		put(h, uint64(d))
	}
	put(h, uint64(set.N))
	buf := make([]byte, 0, 1<<16)
	for _, v := range set.Images {
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
	}
	h.Write(buf)
	for _, l := range set.Labels {
		put(h, uint64(int64(l)))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// provenance describes the whole run of req on the whole set.
func provenance(req Request, name string, whole *dataset.Set, snn *network.Network) (*Provenance, error) {
	mh, err := FileHash(req.Model)
	if err != nil {
		return nil, err
	}
	sh, err := NetHash(snn)
	if err != nil {
		return nil, err
	}
	p := &Provenance{
		Model:       ModelID{Name: name, SHA256: mh, SNNSHA256: sh},
		Data:        DataID{Set: req.Data.Name(), Path: req.Data.Path, Split: dataset.Test, Images: whole.N, SHA256: SetHash(whole)},
		CalibImages: req.CalibImages,
		Version:     req.Version,
	}
	if req.Data.Mean != nil || req.Data.Std != nil {
		p.Data.Normalize = fmt.Sprintf("%v;%v", req.Data.Mean, req.Data.Std)
	}
	return p, nil
}
