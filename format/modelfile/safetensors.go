package modelfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
)

// This file is the safetensors container: the header with its tensor
// entries and the data section, independent of what the tensors mean.

// tensorInfo is one entry of the safetensors header.
type tensorInfo struct {
	DType       string  `json:"dtype"`
	Shape       []int64 `json:"shape"`
	DataOffsets []int64 `json:"data_offsets"`
}

// outTensor is a tensor on its way into a file: float32 data (F32), or
// int32 data (I32) if i32.
type outTensor struct {
	name  string
	shape []int
	data  []float32
	ints  []int32
	i32   bool
}

// dtype is the safetensors dtype of the tensor.
func (t outTensor) dtype() string {
	if t.i32 {
		return "I32"
	}
	return "F32"
}

// count is the number of elements.
func (t outTensor) count() int {
	if t.i32 {
		return len(t.ints)
	}
	return len(t.data)
}

// writeSafetensors writes a safetensors file: the header (metadata first,
// then the tensors in the given order, back to back) and the data.
func writeSafetensors(w io.Writer, metadata map[string]string, tensors []outTensor) error {
	var hdr bytes.Buffer
	hdr.WriteString(`{"__metadata__":`)
	meta, err := json.Marshal(metadata)
	if err != nil {
		return fmt.Errorf("modelfile: encode: metadata: %w", err)
	}
	hdr.Write(meta)
	var off int64
	for _, t := range tensors {
		n := int64(t.count()) * 4
		entry, err := json.Marshal(struct {
			DType       string  `json:"dtype"`
			Shape       []int   `json:"shape"`
			DataOffsets []int64 `json:"data_offsets"`
		}{t.dtype(), t.shape, []int64{off, off + n}})
		if err != nil {
			return fmt.Errorf("modelfile: encode: tensor %s: %w", t.name, err)
		}
		name, _ := json.Marshal(t.name)
		hdr.WriteByte(',')
		hdr.Write(name)
		hdr.WriteByte(':')
		hdr.Write(entry)
		off += n
	}
	hdr.WriteByte('}')
	// Pad with spaces so that the data starts 8-byte aligned, as the
	// safetensors writers do.
	for (8+hdr.Len())%8 != 0 {
		hdr.WriteByte(' ')
	}
	if hdr.Len() > MaxHeaderBytes {
		return fmt.Errorf("modelfile: encode: header of %d bytes exceeds the %d-byte limit", hdr.Len(), MaxHeaderBytes)
	}

	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 0, 64<<10)
	put := func(u uint32) error {
		buf = binary.LittleEndian.AppendUint32(buf, u)
		if len(buf) == cap(buf) {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
		return nil
	}
	for _, t := range tensors {
		for _, v := range t.data {
			if err := put(math.Float32bits(v)); err != nil {
				return err
			}
		}
		for _, v := range t.ints {
			if err := put(uint32(v)); err != nil {
				return err
			}
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// splitSafetensors checks the header length and returns the header and the
// data section of a safetensors file.
func splitSafetensors(data []byte) (hdr, buf []byte, err error) {
	if len(data) < 8 {
		return nil, nil, invalid("file of %d bytes is too short for a safetensors header length", len(data))
	}
	n := binary.LittleEndian.Uint64(data[:8])
	if n > MaxHeaderBytes {
		return nil, nil, invalid("header length %d exceeds the %d-byte limit", n, MaxHeaderBytes)
	}
	if n > uint64(len(data)-8) {
		return nil, nil, invalid("header length %d exceeds the %d bytes that follow it (truncated file?)", n, len(data)-8)
	}
	hdr = data[8 : 8+n]
	if len(hdr) == 0 || hdr[0] != '{' {
		return nil, nil, invalid("header does not start with '{': not a safetensors file")
	}
	return hdr, data[8+n:], nil
}

// tensor is a parsed, bounds-checked header entry; data is a view into the
// file's data section.
type tensor struct {
	dtype string // F32 or I32
	shape []int
	data  []byte
	begin int64
	end   int64
}

// parseTensors checks every header entry against the data section and
// returns the tensors by name. Nothing is allocated in proportion to a
// declared size: shapes are bounded and matched against their bytes first.
func parseTensors(entries map[string]json.RawMessage, buf []byte) (map[string]*tensor, error) {
	tensors := make(map[string]*tensor, len(entries))
	names := make([]string, 0, len(entries))
	for name := range entries {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(entries[name], &fields); err != nil {
			return nil, invalid("tensor %q: header entry is not a JSON object: %w", name, err)
		}
		for _, f := range []string{"dtype", "shape", "data_offsets"} {
			if _, ok := fields[f]; !ok {
				return nil, invalid("tensor %q: header entry has no %q", name, f)
			}
		}
		if len(fields) != 3 {
			return nil, invalid("tensor %q: header entry has fields other than dtype, shape and data_offsets", name)
		}
		var info tensorInfo
		if err := json.Unmarshal(entries[name], &info); err != nil {
			return nil, invalid("tensor %q: %w", name, err)
		}
		if info.DType != "F32" && info.DType != "I32" {
			return nil, invalid("tensor %q: dtype %q, evsnn model files hold only F32 (and I32 synapse indices)", name, info.DType)
		}
		if len(info.DataOffsets) != 2 {
			return nil, invalid("tensor %q: data_offsets has %d values, want [begin, end]", name, len(info.DataOffsets))
		}
		begin, end := info.DataOffsets[0], info.DataOffsets[1]
		if begin < 0 || end < begin || end > int64(len(buf)) {
			return nil, invalid("tensor %q: data_offsets [%d, %d] out of range of the %d data bytes", name, begin, end, len(buf))
		}
		count := int64(1)
		for _, d := range info.Shape {
			if d < 0 || d > maxDim || (d > 0 && count > maxElements/d) {
				return nil, invalid("tensor %q: shape %v is absurd (more than %d elements or a negative dimension)", name, info.Shape, maxElements)
			}
			count *= d
		}
		if count*4 != end-begin {
			return nil, invalid("tensor %q: shape %v needs %d bytes, data_offsets [%d, %d] hold %d", name, info.Shape, count*4, begin, end, end-begin)
		}
		shape := make([]int, len(info.Shape))
		for k, d := range info.Shape {
			shape[k] = int(d)
		}
		tensors[name] = &tensor{dtype: info.DType, shape: shape, data: buf[begin:end], begin: begin, end: end}
	}

	// The data must be covered exactly: no overlaps, no holes, nothing
	// after the last tensor (as Python's safetensors demands).
	sort.Slice(names, func(a, b int) bool {
		ta, tb := tensors[names[a]], tensors[names[b]]
		if ta.begin != tb.begin {
			return ta.begin < tb.begin
		}
		if ta.end != tb.end {
			return ta.end < tb.end
		}
		return names[a] < names[b]
	})
	var pos int64
	prev := ""
	for _, name := range names {
		t := tensors[name]
		switch {
		case t.begin < pos:
			return nil, invalid("tensor %q: data_offsets [%d, %d] overlap tensor %q, which ends at %d", name, t.begin, t.end, prev, pos)
		case t.begin > pos:
			return nil, invalid("tensor %q: data_offsets [%d, %d] leave a hole of %d bytes before it", name, t.begin, t.end, t.begin-pos)
		}
		pos = t.end
		prev = name
	}
	if pos != int64(len(buf)) {
		return nil, invalid("%d bytes after the last tensor are not part of any tensor", int64(len(buf))-pos)
	}
	return tensors, nil
}

// strictUnmarshal decodes one JSON value into v, refusing unknown fields
// and trailing data.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}
