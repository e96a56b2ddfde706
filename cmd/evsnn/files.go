package main

import (
	"encoding/json"
	"io"

	"github.com/evsnn/evsnn/internal/fsutil"
)

func writeFileAtomic(path string, data []byte) error { return fsutil.WriteFileAtomic(path, data) }

// writeJSONFile writes v as indented JSON, atomically.
func writeJSONFile(path string, v any) error {
	return fsutil.WriteAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	})
}
