// Command gendata writes the MNIST files package models embeds: the test
// split as published (copied byte for byte) and the first 1,024 training
// images and labels (the calibration set of SPEC §3) as gzipped IDX files.
// Run from the repository root:
//
//	go run ./models/internal/gendata
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"log"
	"os"
	"path/filepath"

	"github.com/evsnn/evsnn/dataset/mnist"
	"github.com/evsnn/evsnn/internal/fsutil"
)

const calibration = 1024

func main() {
	src, err := mnist.DefaultDir()
	if err != nil {
		log.Fatal(err)
	}
	dst := filepath.Join("models", "mnist")
	for _, f := range []string{"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			log.Fatal(err)
		}
		if err := fsutil.WriteFileAtomic(filepath.Join(dst, f), data); err != nil {
			log.Fatal(err)
		}
	}
	for _, f := range []struct {
		in, out string
		magic   uint32
		size    int // bytes per item
	}{
		{"train-images-idx3-ubyte.gz", "train1024-images-idx3-ubyte.gz", mnist.MagicImages, 28 * 28},
		{"train-labels-idx1-ubyte.gz", "train1024-labels-idx1-ubyte.gz", mnist.MagicLabels, 1},
	} {
		r, err := os.Open(filepath.Join(src, f.in))
		if err != nil {
			log.Fatal(err)
		}
		dims, data, err := mnist.ReadIDX(r)
		r.Close()
		if err != nil {
			log.Fatal(err)
		}
		var raw bytes.Buffer
		binary.Write(&raw, binary.BigEndian, f.magic)
		binary.Write(&raw, binary.BigEndian, uint32(calibration))
		for _, d := range dims[1:] {
			binary.Write(&raw, binary.BigEndian, uint32(d))
		}
		raw.Write(data[:calibration*f.size])
		err = fsutil.WriteAtomic(filepath.Join(dst, f.out), func(w io.Writer) error {
			zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
			if err != nil {
				return err
			}
			zw.Name = f.out[:len(f.out)-3]
			if _, err := zw.Write(raw.Bytes()); err != nil {
				return err
			}
			return zw.Close()
		})
		if err != nil {
			log.Fatal(err)
		}
	}
}
