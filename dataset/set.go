package dataset

import (
	"fmt"
	"math"
)

// Split names.
const (
	Train = "train"
	Test  = "test"
)

// Set is N labelled images of one shape [C, H, W], in memory as float32.
type Set struct {
	// Name says what the set is, e.g. "cifar10 test"; Source where it was
	// read from (a directory, a file, "embedded").
	Name, Source string
	// Images holds N images of C×H×W values each, one after the other,
	// each in CHW order (channel planes, each row-major), as a PyTorch
	// tensor [N, C, H, W] lies in memory.
	Images []float32
	// Labels holds the N class indices, each in [0, Classes).
	Labels []int
	N      int
	// C, H, W is the shape of one image: channels, rows, columns.
	C, H, W int
	// Classes is the number of classes (10 for MNIST and CIFAR-10); 0 if
	// unknown.
	Classes int
	// Mean and Std are what Normalize applied per channel; nil if it was
	// not called (the pixels are as read: [0, 1] for byte images).
	Mean, Std []float32

	// Rows and Cols are H and W under their old names, set by every loader
	// here.
	//
	// Deprecated: use H and W. A Set built with Rows and Cols but no
	// C, H, W is read as [1, Rows, Cols]; this goes once no composite
	// literal sets Rows or Cols.
	Rows, Cols int
}

// newSet allocates a set of n images of shape [c, h, w].
func newSet(name, source string, n, c, h, w, classes int) *Set {
	return &Set{Name: name, Source: source, Images: make([]float32, n*c*h*w), Labels: make([]int, n),
		N: n, C: c, H: h, W: w, Classes: classes, Rows: h, Cols: w}
}

// shape returns C, H, W (or 1, Rows, Cols for a Set that only has the
// deprecated fields).
func (s *Set) shape() (c, h, w int) {
	if s.C == 0 && s.H == 0 && s.W == 0 && s.Rows > 0 && s.Cols > 0 {
		return 1, s.Rows, s.Cols
	}
	return s.C, s.H, s.W
}

// Shape returns the shape of one image, [C, H, W].
func (s *Set) Shape() []int {
	c, h, w := s.shape()
	return []int{c, h, w}
}

// Size returns the number of values in one image, C·H·W (784 for MNIST,
// 3072 for CIFAR). The number of images is N.
func (s *Set) Size() int {
	c, h, w := s.shape()
	return c * h * w
}

// Image returns image i (Size() values, CHW order). It shares memory with
// the set; appending to it does not spill into image i+1. It panics if i
// is outside [0, N).
func (s *Set) Image(i int) []float32 {
	if i < 0 || i >= s.N {
		panic(fmt.Sprintf("dataset: image %d of a set of %d", i, s.N))
	}
	sz := s.Size()
	return s.Images[i*sz : (i+1)*sz : (i+1)*sz]
}

// Slice returns images start, start+1, ... as a set of at most n images:
// fewer if the set ends first (so Slice(0, 1024) of a smaller set is the
// whole set). It shares memory with s. It panics if start is outside
// [0, N] or n is negative.
func (s *Set) Slice(start, n int) *Set {
	if start < 0 || start > s.N || n < 0 {
		panic(fmt.Sprintf("dataset: Slice(%d, %d) of a set of %d", start, n, s.N))
	}
	n = min(n, s.N-start)
	sz := s.Size()
	out := *s
	out.Images = s.Images[start*sz : (start+n)*sz : (start+n)*sz]
	out.Labels = s.Labels[start : start+n : start+n]
	out.N = n
	return &out
}

// Check reports the first inconsistency of s: a shape that is not
// positive, Images or Labels of the wrong length, a label outside
// [0, Classes) (or negative when Classes is 0), a NaN or infinite pixel.
func (s *Set) Check() error {
	c, h, w := s.shape()
	switch {
	case c <= 0 || h <= 0 || w <= 0:
		return fmt.Errorf("dataset: %s: image shape [%d %d %d] is not positive", s.label(), c, h, w)
	case s.N < 0 || len(s.Images) != s.N*c*h*w:
		return fmt.Errorf("dataset: %s: %d pixel values for %d images of [%d %d %d]", s.label(), len(s.Images), s.N, c, h, w)
	case len(s.Labels) != s.N:
		return fmt.Errorf("dataset: %s: %d labels for %d images", s.label(), len(s.Labels), s.N)
	case s.Classes < 0:
		return fmt.Errorf("dataset: %s: %d classes", s.label(), s.Classes)
	}
	for i, l := range s.Labels {
		if l < 0 || s.Classes > 0 && l >= s.Classes {
			return fmt.Errorf("dataset: %s: image %d has label %d, outside [0, %d)", s.label(), i, l, s.Classes)
		}
	}
	if i, v := firstNonFinite(s.Images); i >= 0 {
		return fmt.Errorf("dataset: %s: image %d has the pixel value %v", s.label(), i/(c*h*w), v)
	}
	return nil
}

// SetClasses sets the number of classes to k (e.g. a model's output
// count), which must exceed every label.
func (s *Set) SetClasses(k int) error {
	hi := -1
	for _, l := range s.Labels {
		hi = max(hi, l)
	}
	if k <= hi {
		return fmt.Errorf("dataset: %s: %d classes, but a label is %d", s.label(), k, hi)
	}
	if k < 1 {
		return fmt.Errorf("dataset: %d classes: want at least 1", k)
	}
	s.Classes = k
	return nil
}

// PixelRange returns the smallest and the largest pixel value (0, 0 for an
// empty set). Byte images read here lie in [0, 1]; after Normalize, or
// from a float .npy file, they may not: rate (Poisson) encoding needs
// [0, 1].
func (s *Set) PixelRange() (lo, hi float32) {
	if len(s.Images) == 0 {
		return 0, 0
	}
	lo, hi = s.Images[0], s.Images[0]
	for _, v := range s.Images[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// Normalized reports whether Normalize was applied.
func (s *Set) Normalized() bool { return s.Mean != nil }

func (s *Set) label() string {
	if s.Name == "" {
		return "set"
	}
	return s.Name
}

// pixelValue[b] is float32(b)/255, divided in float32.
var pixelValue [256]float32

func init() {
	for b := range pixelValue {
		pixelValue[b] = float32(b) / 255
	}
}

// Pixel is the value a pixel byte is read as: float32(b)/255, a float32
// division.
func Pixel(b byte) float32 { return pixelValue[b] }

// bytesToPixels returns Pixel(b) for each byte.
func bytesToPixels(dst []float32, src []byte) {
	for i, b := range src[:len(dst)] {
		dst[i] = pixelValue[b]
	}
}

// firstNonFinite returns the index and value of the first NaN or infinite
// value, or -1.
func firstNonFinite(x []float32) (int, float32) {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i, v
		}
	}
	return -1, 0
}
