package network

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxElements bounds the size of any tensor a model may declare. It keeps a
// hostile model file from asking for terabytes: 2^31-1 float32s is 8 GiB,
// already far beyond any network evsnn is meant for.
const MaxElements = 1<<31 - 1

// Shape is a per-sample tensor shape, without the batch dimension: [C,H,W]
// for a feature map, [N] for a vector.
type Shape []int

// Size is the number of elements of one sample of this shape.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Valid reports an error if a dimension is not positive or the element
// count is absurd. It checks for overflow before multiplying.
func (s Shape) Valid() error {
	if len(s) == 0 {
		return fmt.Errorf("empty shape")
	}
	n := 1
	for _, d := range s {
		if d <= 0 {
			return fmt.Errorf("shape %v has a non-positive dimension", []int(s))
		}
		if n > MaxElements/d {
			return fmt.Errorf("shape %v has more than %d elements", []int(s), MaxElements)
		}
		n *= d
	}
	return nil
}

// Equal reports whether two shapes are the same.
func (s Shape) Equal(o Shape) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		if s[i] != o[i] {
			return false
		}
	}
	return true
}

// String prints the shape as [a,b,c].
func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// Clone returns a copy of the shape.
func (s Shape) Clone() Shape { return append(Shape(nil), s...) }
