package onnx

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"google.golang.org/protobuf/proto"

	"github.com/evsnn/evsnn/format/onnx/onnxpb"
	"github.com/evsnn/evsnn/network"
)

// MaxFileSize is the largest ONNX file Import reads: protobuf itself
// cannot encode a message over 2 GiB.
const MaxFileSize = 2<<30 - 1

// ErrUnsupported is matched (errors.Is) by an *Error about a well-formed
// model that uses something evsnn cannot represent: another op, a
// placement SPEC §1 rules out, weights in an external file.
var ErrUnsupported = errors.New("unsupported by evsnn")

// Error is the error Decode and Import return for a model they cannot
// import. Its message is one line.
type Error struct {
	// Source is the file's base name (or the source given to Decode).
	Source string
	// Where names the node (`node "/0/Conv" (Conv)`) or initializer
	// (`initializer "0.weight"`) at fault; empty for the model as a whole.
	Where string
	// Msg says what is wrong.
	Msg string
	// Unsupported is set when the model is well-formed but uses something
	// evsnn cannot represent.
	Unsupported bool
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("onnx")
	if e.Source != "" {
		b.WriteString(" ")
		b.WriteString(e.Source)
	}
	b.WriteString(": ")
	if e.Where != "" {
		b.WriteString(e.Where)
		b.WriteString(": ")
	}
	if e.Unsupported {
		b.WriteString("unsupported: ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Is makes errors.Is(err, ErrUnsupported) true for unsupported models.
func (e *Error) Is(target error) bool { return target == ErrUnsupported && e.Unsupported }

// Import reads an ONNX file and returns the validated network it encodes
// (network.Validate passes on it).
// Errors opening or reading the file are returned as they are (wrapped
// with the path); errors about its content are *Error.
func Import(path string) (*network.Network, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, &Error{Source: clean(filepath.Base(path)), Msg: "not a regular file"}
	}
	if st.Size() > MaxFileSize {
		return nil, &Error{Source: clean(filepath.Base(path)),
			Msg: fmt.Sprintf("file has %d bytes, more than a protobuf message can hold (%d)", st.Size(), int64(MaxFileSize))}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("onnx: reading %s: %w", path, err)
	}
	return Decode(data, path)
}

// Decode imports an ONNX model held in memory. source names it in errors
// and in Meta.Source ("onnx:" + its base name); it may be a path.
func Decode(data []byte, source string) (*network.Network, error) {
	base := ""
	if source != "" {
		base = clean(filepath.Base(source))
	}
	if len(data) > MaxFileSize {
		return nil, &Error{Source: base, Msg: fmt.Sprintf("%d bytes, more than a protobuf message can hold", len(data))}
	}
	if len(data) == 0 {
		return nil, &Error{Source: base, Msg: "empty file: not an ONNX model"}
	}
	var m onnxpb.ModelProto
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &m); err != nil {
		return nil, &Error{Source: base, Msg: "not an ONNX model (or a truncated one): " + oneLine(err.Error())}
	}
	if m.GetIrVersion() <= 0 || m.GetGraph() == nil {
		return nil, &Error{Source: base, Msg: "not an ONNX model: no ir_version or no graph"}
	}
	im := &importer{src: base, model: &m, maxParams: len(data) + 1<<20}
	net, err := im.run()
	if err != nil {
		return nil, err
	}
	net.Meta.Source = "onnx:" + base
	return net, nil
}

// quote quotes a name read from the file for an error message: escaped, so
// the message stays one line, and cut short if long.
func quote(s string) string {
	const maxLen = 80
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return strconv.Quote(s)
}

// clean makes a file name safe for a one-line message.
func clean(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return quote(s)
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
