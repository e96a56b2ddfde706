package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/evsnn/evsnn/internal/fsutil"
)

// A checkpoint file is
//
//	"EVSNNCK1"                 8-byte magic
//	header length              uint64, little-endian
//	header                     JSON: format, config, architecture, position, history
//	parameters                 float32 little-endian, the layers' weights and biases in order
//	optimiser state            float32 little-endian: Adam m and v, or the SGD momentum buffer
//	buffers                    format 2 only: float32 little-endian, the BatchNorm running
//	                           means and variances, node by node, means first
//	SHA-256                    of everything before it
//
// Format 1 is written for networks without BatchNorm (and is what evsnn
// wrote before BatchNorm), format 2 for networks with.
//
// The shuffling generator needs no saved state: each epoch's order is a
// function of the seed and the epoch number.
const ckptMagic = "EVSNNCK1"

type ckptHeader struct {
	Format       int          `json:"format"`
	Config       Config       `json:"config"`
	Architecture Architecture `json:"architecture"`
	Source       string       `json:"source,omitempty"`
	Epoch        int          `json:"epoch"` // finished epochs
	Batch        int          `json:"batch"` // finished batches of the next epoch
	Step         int64        `json:"step"`  // finished updates
	Samples      int          `json:"samples"`
	LabelHash    string       `json:"label_hash"`
	Params       int          `json:"params"`
	OptTensors   int          `json:"optimizer_tensors"`
	Buffers      int          `json:"buffers,omitempty"`
	History      []EpochStats `json:"history,omitempty"`
}

// SaveCheckpoint writes the model, the optimiser state and the position in
// the run to path, atomically.
func (t *Trainer) SaveCheckpoint(path string) error {
	opt := t.opt.state()
	h := ckptHeader{Format: 1, Config: t.cfg, Architecture: *t.m.arch, Source: t.m.out.Meta.Source,
		Epoch: t.epoch, Batch: t.batch, Step: t.step, Samples: t.samples, LabelHash: t.labelHash,
		Params: len(t.m.params), OptTensors: len(opt), History: t.History}
	tensors := append([][]float32{t.m.params}, opt...)
	if len(t.m.buffers) > 0 {
		h.Format, h.Buffers = 2, len(t.m.buffers)
		tensors = append(tensors, t.m.buffers)
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return err
	}
	err = fsutil.WriteAtomic(path, func(w io.Writer) error {
		sum := sha256.New()
		mw := io.MultiWriter(w, sum)
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(hj)))
		if _, err := io.WriteString(mw, ckptMagic); err != nil {
			return err
		}
		if _, err := mw.Write(n[:]); err != nil {
			return err
		}
		if _, err := mw.Write(hj); err != nil {
			return err
		}
		for _, v := range tensors {
			if err := writeFloats(mw, v); err != nil {
				return err
			}
		}
		_, err := w.Write(sum.Sum(nil))
		return err
	})
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

func writeFloats(w io.Writer, v []float32) error {
	buf := make([]byte, 4*4096)
	for len(v) > 0 {
		k := min(len(v), 4096)
		for i, f := range v[:k] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
		}
		if _, err := w.Write(buf[:4*k]); err != nil {
			return err
		}
		v = v[k:]
	}
	return nil
}

// Resume loads a checkpoint written by SaveCheckpoint and returns a
// Trainer positioned where it stopped; Run continues the run to a result
// identical, bit for bit, to an uninterrupted one. The numeric settings
// come from the checkpoint: a non-zero numeric field of cfg that differs
// from the saved one is an error. Workers, Checkpoint, Test and
// ProgressEvery are taken from cfg.
func Resume(path string, cfg Config) (*Trainer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	t, err := decodeCheckpoint(data)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s: %w", path, err)
	}
	s := t.cfg
	conflict := func(name string, given, saved any) error {
		return fmt.Errorf("checkpoint %s was made with %s %v, not %v (a resumed run keeps its settings)", path, name, saved, given)
	}
	switch {
	case cfg.Epochs != 0 && cfg.Epochs != s.Epochs:
		return nil, conflict("epochs", cfg.Epochs, s.Epochs)
	case cfg.BatchSize != 0 && cfg.BatchSize != s.BatchSize:
		return nil, conflict("batch size", cfg.BatchSize, s.BatchSize)
	case cfg.LR != 0 && cfg.LR != s.LR:
		return nil, conflict("learning rate", cfg.LR, s.LR)
	case cfg.Optimizer != "" && cfg.Optimizer != s.Optimizer:
		return nil, conflict("optimizer", cfg.Optimizer, s.Optimizer)
	case cfg.Momentum != 0 && cfg.Momentum != s.Momentum:
		return nil, conflict("momentum", cfg.Momentum, s.Momentum)
	case cfg.WeightDecay != 0 && cfg.WeightDecay != s.WeightDecay:
		return nil, conflict("weight decay", cfg.WeightDecay, s.WeightDecay)
	case cfg.Schedule != "" && cfg.Schedule != s.Schedule:
		return nil, conflict("schedule", cfg.Schedule, s.Schedule)
	case cfg.StepEpochs != 0 && cfg.StepEpochs != s.StepEpochs:
		return nil, conflict("step epochs", cfg.StepEpochs, s.StepEpochs)
	case cfg.Gamma != 0 && cfg.Gamma != s.Gamma:
		return nil, conflict("gamma", cfg.Gamma, s.Gamma)
	case cfg.Seed != 0 && cfg.Seed != s.Seed:
		return nil, conflict("seed", cfg.Seed, s.Seed)
	case cfg.ShardSize != 0 && cfg.ShardSize != s.ShardSize:
		return nil, conflict("shard size", cfg.ShardSize, s.ShardSize)
	}
	s.Workers, s.Checkpoint, s.Test, s.ProgressEvery = cfg.Workers, cfg.Checkpoint, cfg.Test, cfg.ProgressEvery
	t.cfg = s.WithDefaults()
	return t, nil
}

func decodeCheckpoint(data []byte) (*Trainer, error) {
	if len(data) < len(ckptMagic)+8+sha256.Size || string(data[:len(ckptMagic)]) != ckptMagic {
		return nil, fmt.Errorf("not an evsnn training checkpoint")
	}
	body, tail := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], tail) {
		return nil, fmt.Errorf("checksum mismatch: the file is truncated or corrupt")
	}
	rest := body[len(ckptMagic):]
	hl := binary.LittleEndian.Uint64(rest)
	rest = rest[8:]
	if hl > uint64(len(rest)) {
		return nil, fmt.Errorf("header length %d exceeds the file", hl)
	}
	var h ckptHeader
	dec := json.NewDecoder(bytes.NewReader(rest[:hl]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	rest = rest[hl:]
	if h.Format != 1 && h.Format != 2 {
		return nil, fmt.Errorf("format %d is not supported", h.Format)
	}
	cfg := h.Config.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	t, err := NewTrainer(h.Architecture, 0, cfg)
	if err != nil {
		return nil, err
	}
	opt := t.opt.state()
	if h.Params != len(t.m.params) || h.OptTensors != len(opt) || h.Buffers != len(t.m.buffers) {
		return nil, fmt.Errorf("header says %d parameters, %d optimiser tensors and %d buffer values, the architecture has %d, %d and %d",
			h.Params, h.OptTensors, h.Buffers, len(t.m.params), len(opt), len(t.m.buffers))
	}
	if (h.Format == 2) != (h.Buffers > 0) {
		return nil, fmt.Errorf("format %d with %d buffer values", h.Format, h.Buffers)
	}
	tensors := append([][]float32{t.m.params}, opt...)
	tensors = append(tensors, t.m.buffers)
	if want := 4 * (len(t.m.params)*(1+len(opt)) + len(t.m.buffers)); len(rest) != want {
		return nil, fmt.Errorf("%d bytes of tensors, want %d", len(rest), want)
	}
	for _, v := range tensors {
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*i:]))
		}
		rest = rest[4*len(v):]
	}
	for _, i := range t.m.bns {
		bn := t.m.g.Layers[i].(*batchNorm)
		for c := range bn.C {
			if m, v := float64(bn.Mean[c]), float64(bn.Var[c]); math.IsNaN(m) || math.IsInf(m, 0) || !(v >= 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: channel %d has running mean %v and variance %v", bn.Name(), c, m, v)
			}
		}
	}
	net := t.Net()
	net.Meta.Source = h.Source
	if err := net.Validate(); err != nil {
		return nil, err
	}
	if h.Epoch < 0 || h.Epoch > cfg.Epochs || h.Batch < 0 || h.Step < 0 {
		return nil, fmt.Errorf("position epoch %d batch %d step %d is not valid", h.Epoch, h.Batch, h.Step)
	}
	if h.Samples < 0 {
		return nil, fmt.Errorf("%d samples", h.Samples)
	}
	t.epoch, t.batch, t.step, t.History = h.Epoch, h.Batch, h.Step, h.History
	t.samples, t.labelHash = h.Samples, h.LabelHash
	return t, nil
}
