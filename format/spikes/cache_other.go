//go:build !linux

package spikes

import "os"

// cacheDropper keeps a recording out of the page cache on Linux (see
// cache_linux.go); elsewhere the operating system's cache is left alone.
type cacheDropper struct{}

func newCacheDropper(*os.File) *cacheDropper { return &cacheDropper{} }

func (*cacheDropper) advance(int64) {}
