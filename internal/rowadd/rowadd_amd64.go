//go:build amd64 && !purego

package rowadd

//go:noescape
func axpyRowsAVX(a float32, x *float32, xStride int, y *float32, yStride int, n int, rows int)

func cpuHasAVX() bool

var hasAVX = cpuHasAVX()
