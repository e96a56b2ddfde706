package spikes

import (
	"encoding/binary"
)

// Entry is one index entry: where the bitmap of one image, spiking layer
// and block of steps lies in the file.
type Entry struct {
	Image     int    // 0-based image of the recording
	Layer     int    // spiking layer (index into Header.Layers)
	FirstStep int    // first step of the block, 1-based
	Steps     int    // steps in the block
	Offset    int64  // of the serialized bitmap, from the start of the file
	Length    int64  // bytes of the serialized bitmap
	Spikes    int64  // the bitmap's cardinality
	CRC       uint32 // CRC-32 (IEEE) of the serialized bitmap
}

// appendEntry appends e in the file's 48-byte layout.
func appendEntry(b []byte, e *Entry) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(e.Image))
	b = binary.LittleEndian.AppendUint32(b, uint32(e.Layer))
	b = binary.LittleEndian.AppendUint32(b, uint32(e.FirstStep))
	b = binary.LittleEndian.AppendUint32(b, uint32(e.Steps))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Offset))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Length))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.Spikes))
	b = binary.LittleEndian.AppendUint32(b, e.CRC)
	return binary.LittleEndian.AppendUint32(b, 0)
}

// rawEntry is an entry as read, before validation.
type rawEntry struct {
	image, layer, firstStep, steps uint32
	offset, length, spikes         uint64
	crc, reserved                  uint32
}

func decodeEntry(b []byte) rawEntry {
	le := binary.LittleEndian
	return rawEntry{
		image: le.Uint32(b), layer: le.Uint32(b[4:]), firstStep: le.Uint32(b[8:]), steps: le.Uint32(b[12:]),
		offset: le.Uint64(b[16:]), length: le.Uint64(b[24:]), spikes: le.Uint64(b[32:]),
		crc: le.Uint32(b[40:]), reserved: le.Uint32(b[44:]),
	}
}

// footer is the last 32 bytes of a recording.
type footer struct {
	indexOffset, entries uint64
	indexCRC, headerCRC  uint32
}

func appendFooter(b []byte, f footer) []byte {
	b = binary.LittleEndian.AppendUint64(b, f.indexOffset)
	b = binary.LittleEndian.AppendUint64(b, f.entries)
	b = binary.LittleEndian.AppendUint32(b, f.indexCRC)
	b = binary.LittleEndian.AppendUint32(b, f.headerCRC)
	return append(b, EndMagic...)
}

// appendPrefix appends the first 16 bytes of a recording.
func appendPrefix(b []byte, headerLen int) []byte {
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint32(b, Version)
	return binary.LittleEndian.AppendUint32(b, uint32(headerLen))
}
