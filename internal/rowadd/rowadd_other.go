//go:build !amd64 || purego

package rowadd

const hasAVX = false

func axpyRowsAVX(a float32, x *float32, xStride int, y *float32, yStride int, n int, rows int) {
	panic("unreachable")
}
