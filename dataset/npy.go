package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// NumPy's .npy format (numpy.lib.format): the magic "\x93NUMPY", a major
// and a minor version byte, the header length (uint16 little-endian in
// version 1, uint32 in versions 2 and 3), the header (a Python dict
// literal with keys 'descr', 'fortran_order' and 'shape', padded with
// spaces, ending in '\n'), then the data.

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// MaxNPYElements bounds the elements one array may declare (2^30: 4 GiB of
// float32; CIFAR-10's training images are 1.5·10^8). Larger headers are
// refused before anything is allocated.
const MaxNPYElements = 1 << 30

// maxNPYHeader bounds the header length (numpy's own reader refuses more
// than 10,000 bytes unless told otherwise).
const maxNPYHeader = 1 << 16

// maxNPYDims bounds the number of dimensions.
const maxNPYDims = 32

// npyHeader is what a .npy header says.
type npyHeader struct {
	descr    string // as written, e.g. "<f4"
	kind     byte   // 'f', 'i', 'u', 'b' (bool), or another numpy kind
	itemSize int
	order    binary.ByteOrder
	fortran  bool
	shape    []int
	count    int   // elements: the product of shape
	dataLen  int64 // count·itemSize
}

// dtypeName is the numpy name of the dtype, e.g. "float32".
func (h *npyHeader) dtypeName() string {
	switch h.kind {
	case 'f':
		return fmt.Sprintf("float%d", 8*h.itemSize)
	case 'i':
		return fmt.Sprintf("int%d", 8*h.itemSize)
	case 'u':
		return fmt.Sprintf("uint%d", 8*h.itemSize)
	case 'b':
		return "bool"
	}
	return strconv.Quote(h.descr)
}

// shapeText prints a shape as numpy does, e.g. (10, 3, 32, 32).
func shapeText(shape []int) string {
	var b bytes.Buffer
	b.WriteByte('(')
	for i, d := range shape {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// readNPYHeader reads a .npy header from r. size is the number of bytes r
// holds in all (the file size), or -1 if unknown; if known, the data must
// fill exactly the rest.
func readNPYHeader(r io.Reader, size int64) (*npyHeader, error) {
	var pre [10]byte
	if _, err := io.ReadFull(r, pre[:8]); err != nil {
		return nil, truncated(err, "the magic number and version")
	}
	if string(pre[:6]) != npyMagic {
		return nil, fmt.Errorf("not a .npy file: it starts with %q, not %q", pre[:6], npyMagic)
	}
	major, minor := pre[6], pre[7]
	var hlen, pos int64
	switch major {
	case 1:
		if _, err := io.ReadFull(r, pre[8:10]); err != nil {
			return nil, truncated(err, "the header length")
		}
		hlen, pos = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return nil, truncated(err, "the header length")
		}
		hlen, pos = int64(binary.LittleEndian.Uint32(l[:])), 12
	default:
		return nil, fmt.Errorf(".npy format version %d.%d: want 1.0, 2.0 or 3.0", major, minor)
	}
	if hlen > maxNPYHeader {
		return nil, fmt.Errorf("header of %d bytes: refusing more than %d", hlen, maxNPYHeader)
	}
	if size >= 0 && pos+hlen > size {
		return nil, fmt.Errorf("truncated: the header needs %d bytes, the file has %d", pos+hlen, size)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, truncated(err, "the header")
	}
	h, err := parseNPYDict(hdr)
	if err != nil {
		return nil, fmt.Errorf("header %q: %v", clip(hdr), err)
	}
	if err := h.parseDescr(); err != nil {
		return nil, err
	}
	h.count = 1
	for _, d := range h.shape {
		if d != 0 && h.count > MaxNPYElements/d {
			return nil, fmt.Errorf("shape %s declares more than %d elements: refusing", shapeText(h.shape), MaxNPYElements)
		}
		h.count *= d
	}
	h.dataLen = int64(h.count) * int64(h.itemSize)
	if size >= 0 {
		if have := size - pos - hlen; have != h.dataLen {
			if have < h.dataLen {
				return nil, fmt.Errorf("truncated: shape %s of %s needs %d bytes of data, the file has %d", shapeText(h.shape), h.dtypeName(), h.dataLen, have)
			}
			return nil, fmt.Errorf("the file goes on after the %d bytes of data its shape %s of %s needs (%d more)", h.dataLen, shapeText(h.shape), h.dtypeName(), have-h.dataLen)
		}
	}
	return h, nil
}

func truncated(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("truncated: the file ends inside %s", what)
	}
	return fmt.Errorf("reading %s: %w", what, err)
}

// clip shortens a header for an error message.
func clip(b []byte) string {
	b = bytes.TrimRight(b, " \n")
	if len(b) > 120 {
		return string(b[:120]) + "…"
	}
	return string(b)
}

// parseNPYDict parses the header dict: exactly the keys 'descr' (a
// string), 'fortran_order' (True or False) and 'shape' (a tuple of
// non-negative ints), in any order, as Python's literal syntax writes
// them.
func parseNPYDict(b []byte) (*npyHeader, error) {
	p := &pyLit{b: b}
	h := &npyHeader{}
	seen := map[string]bool{}
	p.space()
	if !p.eat('{') {
		return nil, errors.New("not a dict")
	}
	for {
		p.space()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return nil, fmt.Errorf("key: %v", err)
		}
		if seen[key] {
			return nil, fmt.Errorf("key %q twice", key)
		}
		seen[key] = true
		p.space()
		if !p.eat(':') {
			return nil, fmt.Errorf("no ':' after key %q", key)
		}
		p.space()
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return nil, fmt.Errorf("'descr' is not a plain dtype string (a structured array?): %v", err)
			}
		case "fortran_order":
			if h.fortran, err = p.boolean(); err != nil {
				return nil, fmt.Errorf("'fortran_order': %v", err)
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return nil, fmt.Errorf("'shape': %v", err)
			}
		default:
			return nil, fmt.Errorf("unknown key %q", key)
		}
		p.space()
		if p.eat('}') {
			break
		}
		if !p.eat(',') {
			return nil, fmt.Errorf("no ',' or '}' after the value of %q", key)
		}
	}
	for p.i < len(b) {
		if c := b[p.i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return nil, errors.New("text after the dict")
		}
		p.i++
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return nil, fmt.Errorf("no key %q", k)
		}
	}
	return h, nil
}

// parseDescr reads a plain dtype string: a byte order ('<', '>', or '|'
// for single bytes), a kind letter and the item size, e.g. "<f4", "|u1".
func (h *npyHeader) parseDescr() error {
	d := h.descr
	if len(d) < 3 {
		return fmt.Errorf("dtype %q: want a byte order, a kind and a size, like '<f4'", d)
	}
	switch d[0] {
	case '<':
		h.order = binary.LittleEndian
	case '>':
		h.order = binary.BigEndian
	case '|':
		h.order = binary.LittleEndian // single bytes: no order
	default:
		return fmt.Errorf("dtype %q: byte order %q: want '<', '>' or '|'", d, d[0])
	}
	h.kind = d[1]
	size, err := strconv.Atoi(d[2:])
	if err != nil || size < 1 || size > 64 || d[2] == '+' || d[2] == '-' {
		return fmt.Errorf("dtype %q: item size %q", d, d[2:])
	}
	h.itemSize = size
	if h.kind == 'U' {
		h.itemSize = 4 * size // numpy counts UCS-4 characters
	}
	if d[0] == '|' && size != 1 && (h.kind == 'f' || h.kind == 'i' || h.kind == 'u') {
		return fmt.Errorf("dtype %q: a %d-byte number needs a byte order", d, size)
	}
	return nil
}

// pyLit scans the Python literals of a .npy header.
type pyLit struct {
	b []byte
	i int
}

func (p *pyLit) space() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\t' || p.b[p.i] == '\n' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *pyLit) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a quoted string without escapes.
func (p *pyLit) str() (string, error) {
	if p.i >= len(p.b) || p.b[p.i] != '\'' && p.b[p.i] != '"' {
		return "", errors.New("not a quoted string")
	}
	q := p.b[p.i]
	end := bytes.IndexByte(p.b[p.i+1:], q)
	if end < 0 {
		return "", errors.New("unterminated string")
	}
	s := p.b[p.i+1 : p.i+1+end]
	if bytes.IndexByte(s, '\\') >= 0 {
		return "", errors.New("escapes in a string")
	}
	p.i += end + 2
	return string(s), nil
}

func (p *pyLit) boolean() (bool, error) {
	for _, w := range []string{"True", "False"} {
		if bytes.HasPrefix(p.b[p.i:], []byte(w)) {
			p.i += len(w)
			return w == "True", nil
		}
	}
	return false, errors.New("want True or False")
}

// tuple reads a tuple of non-negative ints: (), (5,), (5, 3), (5, 3,).
func (p *pyLit) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("not a tuple")
	}
	dims := []int{}
	for {
		p.space()
		if p.eat(')') {
			return dims, nil
		}
		start := p.i
		p.eat('-')
		digits := p.i
		for p.i < len(p.b) && '0' <= p.b[p.i] && p.b[p.i] <= '9' {
			p.i++
		}
		if p.i == digits {
			return nil, errors.New("a dimension is not an integer")
		}
		if p.b[start] == '-' {
			return nil, fmt.Errorf("negative dimension %s", p.b[start:p.i])
		}
		d, err := strconv.Atoi(string(p.b[digits:p.i]))
		if err != nil {
			return nil, fmt.Errorf("dimension %s: %v", p.b[digits:p.i], err)
		}
		p.eat('L') // Python 2 long
		if len(dims) == maxNPYDims {
			return nil, fmt.Errorf("more than %d dimensions", maxNPYDims)
		}
		dims = append(dims, d)
		p.space()
		if p.eat(')') {
			return dims, nil
		}
		if !p.eat(',') {
			return nil, errors.New("no ',' or ')' after a dimension")
		}
	}
}

// npyChunk is how many bytes the decoders read at a time.
const npyChunk = 64 << 10

// readData streams h.dataLen bytes of data from r in chunks of whole
// items, calling use with each chunk and the index of its first element,
// until use returns false; then it reads the rest (to check that it is
// there: a zip entry checks its CRC at its end) and requires the end of r.
func (h *npyHeader) readData(r io.Reader, use func(first int, chunk []byte) bool) error {
	per := max(1, npyChunk/h.itemSize)
	buf := make([]byte, min(int64(per*h.itemSize), h.dataLen))
	var done int64
	wanted := true
	for done < h.dataLen {
		chunk := buf[:min(int64(len(buf)), h.dataLen-done)]
		if _, err := io.ReadFull(r, chunk); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return fmt.Errorf("truncated: shape %s of %s needs %d bytes of data, the file ends before", shapeText(h.shape), h.dtypeName(), h.dataLen)
			}
			return fmt.Errorf("reading the data: %w", err)
		}
		if wanted {
			wanted = use(int(done/int64(h.itemSize)), chunk)
		}
		done += int64(len(chunk))
	}
	var one [1]byte
	if n, err := io.ReadFull(r, one[:]); n > 0 {
		return fmt.Errorf("the file goes on after the %d bytes of data its shape %s of %s needs", h.dataLen, shapeText(h.shape), h.dtypeName())
	} else if err != io.EOF {
		return fmt.Errorf("reading the end of the file: %w", err)
	}
	return nil
}

// pixelType refuses dtypes other than float32 and uint8.
func (h *npyHeader) pixelType() error {
	switch {
	case h.kind == 'u' && h.itemSize == 1:
	case h.kind == 'f' && h.itemSize == 4:
	default:
		hint := ""
		if h.kind == 'f' || h.kind == 'i' || h.kind == 'u' {
			hint = " (save x.astype(numpy.float32), or uint8 pixels 0..255)"
		}
		return fmt.Errorf("dtype %s: images must be float32 or uint8%s", h.dtypeName(), hint)
	}
	return nil
}

// readPixels reads the data of an array of float32 or uint8 (the latter
// as Pixel(b)) into dst, its first len(dst) elements, refusing NaN and
// infinite values; per is the number of elements in one image, for errors.
func (h *npyHeader) readPixels(r io.Reader, dst []float32, per int) error {
	if err := h.pixelType(); err != nil {
		return err
	}
	var bad error
	err := h.readData(r, func(first int, chunk []byte) bool {
		n := min(len(chunk)/h.itemSize, len(dst)-first)
		if n <= 0 {
			return false
		}
		out := dst[first : first+n]
		if h.itemSize == 1 {
			bytesToPixels(out, chunk)
			return true
		}
		for i := range out {
			out[i] = math.Float32frombits(h.order.Uint32(chunk[4*i:]))
		}
		if i, v := firstNonFinite(out); i >= 0 {
			bad = fmt.Errorf("image %d has the pixel value %v (element %d)", (first+i)/per, v, first+i)
			return false
		}
		return true
	})
	if bad != nil {
		return bad
	}
	return err
}

// MaxLabel bounds the labels of a .npy file (about a million classes).
const MaxLabel = 1 << 20

// labelType refuses dtypes other than integers of 1, 2, 4 or 8 bytes.
func (h *npyHeader) labelType() error {
	if (h.kind != 'i' && h.kind != 'u') || (h.itemSize != 1 && h.itemSize != 2 && h.itemSize != 4 && h.itemSize != 8) {
		return fmt.Errorf("dtype %s: labels must be integers (int64, int32, uint8, ...)", h.dtypeName())
	}
	return nil
}

// readLabels reads the data of an array of integers into dst (all of it),
// refusing negative values and values above MaxLabel.
func (h *npyHeader) readLabels(r io.Reader, dst []int) error {
	if err := h.labelType(); err != nil {
		return err
	}
	var bad error
	err := h.readData(r, func(first int, chunk []byte) bool {
		for i := 0; i < len(chunk)/h.itemSize; i++ {
			var u uint64
			b := chunk[i*h.itemSize:]
			switch h.itemSize {
			case 1:
				u = uint64(b[0])
			case 2:
				u = uint64(h.order.Uint16(b))
			case 4:
				u = uint64(h.order.Uint32(b))
			case 8:
				u = h.order.Uint64(b)
			}
			if shift := 64 - 8*h.itemSize; h.kind == 'i' && int64(u<<shift) < 0 {
				bad = fmt.Errorf("label %d of image %d is negative", int64(u<<shift)>>shift, first+i)
				return false
			}
			if u > MaxLabel {
				bad = fmt.Errorf("label %d of image %d is above %d", u, first+i, MaxLabel)
				return false
			}
			v := int64(u)
			dst[first+i] = int(v)
		}
		return true
	})
	if bad != nil {
		return bad
	}
	return err
}
