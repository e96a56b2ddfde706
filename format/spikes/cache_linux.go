//go:build linux

package spikes

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropChunk is the unit in which a recording's written pages leave the
// page cache.
const dropChunk = 8 << 20

// cacheDropper keeps a recording out of the page cache while it is
// written: each 8 MB that reached the file is handed to the disk
// (sync_file_range), and two chunks later waited for and dropped
// (posix_fadvise DONTNEED). A recording of hundreds of MB is written once
// and read later, if at all; left in the cache it would evict what the
// machine does use, and every page of it would be fresh memory to the
// kernel — on a VM whose memory the guest has not touched yet that
// costs 13–30 µs a page, 3–4 s of system time for the LeNet test set,
// against under 0.2 s when the dropped pages are reused. Advisory: a file
// system that refuses stops it, nothing else.
type cacheDropper struct {
	fd               int
	started, dropped int64 // bytes handed to the disk, and dropped
	off              bool
}

func newCacheDropper(f *os.File) *cacheDropper {
	return &cacheDropper{fd: int(f.Fd())}
}

// advance notes that the file holds its first flushed bytes.
func (d *cacheDropper) advance(flushed int64) {
	for !d.off && flushed >= d.started+dropChunk {
		if unix.SyncFileRange(d.fd, d.started, dropChunk, unix.SYNC_FILE_RANGE_WRITE) != nil {
			d.off = true
			return
		}
		d.started += dropChunk
		if d.dropped+dropChunk <= d.started-2*dropChunk {
			const wait = unix.SYNC_FILE_RANGE_WAIT_BEFORE | unix.SYNC_FILE_RANGE_WRITE | unix.SYNC_FILE_RANGE_WAIT_AFTER
			if unix.SyncFileRange(d.fd, d.dropped, dropChunk, wait) != nil || unix.Fadvise(d.fd, d.dropped, dropChunk, unix.FADV_DONTNEED) != nil {
				d.off = true
				return
			}
			d.dropped += dropChunk
		}
	}
}
