package dataset

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// rgbSet returns n images of [3, 2, 4] whose values are their indices/1000.
func rgbSet(n int) *Set {
	s := newSet("rgb", "test", n, 3, 2, 4, 5)
	for i := range s.Images {
		s.Images[i] = float32(i) / 1000
	}
	for i := range s.Labels {
		s.Labels[i] = i % 5
	}
	return s
}

func TestSetShape(t *testing.T) {
	s := rgbSet(6)
	if s.Size() != 24 || !slices.Equal(s.Shape(), []int{3, 2, 4}) || s.Rows != 2 || s.Cols != 4 {
		t.Fatalf("Size %d Shape %v Rows %d Cols %d", s.Size(), s.Shape(), s.Rows, s.Cols)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	img := s.Image(2)
	if len(img) != 24 || cap(img) != 24 || &img[0] != &s.Images[48] {
		t.Fatalf("Image(2): len %d cap %d", len(img), cap(img))
	}
	sl := s.Slice(1, 3)
	if sl.N != 3 || sl.C != 3 || sl.H != 2 || sl.W != 4 || sl.Classes != 5 || sl.Name != "rgb" || len(sl.Images) != 72 || cap(sl.Images) != 72 || cap(sl.Labels) != 3 {
		t.Fatalf("Slice(1, 3): %+v", sl)
	}
	if &sl.Image(0)[0] != &s.Image(1)[0] || sl.Labels[0] != 1 {
		t.Fatal("Slice does not share memory")
	}
	if got := s.Slice(4, 100); got.N != 2 {
		t.Fatalf("Slice(4, 100) of 6: N = %d", got.N)
	}
	if got := s.Slice(6, 1); got.N != 0 || len(got.Images) != 0 {
		t.Fatalf("Slice(6, 1) of 6: N = %d", got.N)
	}
	for _, f := range []func(){func() { s.Slice(7, 1) }, func() { s.Slice(-1, 1) }, func() { s.Slice(0, -1) }, func() { s.Image(6) }, func() { s.Image(-1) }} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("out-of-range Slice or Image did not panic")
				}
			}()
			f()
		}()
	}
}

// A Set built with only the deprecated Rows and Cols, as models/data.go
// builds the embedded MNIST, is read as [1, Rows, Cols].
func TestSetRowsCols(t *testing.T) {
	s := &Set{Images: make([]float32, 2*6), Labels: []int{1, 2}, N: 2, Rows: 2, Cols: 3}
	if s.Size() != 6 || !slices.Equal(s.Shape(), []int{1, 2, 3}) || len(s.Image(1)) != 6 || s.Slice(1, 1).Size() != 6 {
		t.Fatalf("Size %d Shape %v", s.Size(), s.Shape())
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if err := s.Normalize([]float32{0.5}, []float32{2}); err != nil || s.Images[0] != -0.25 {
		t.Fatalf("Normalize: %v, %v", err, s.Images[0])
	}
}

func TestSetCheck(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(s *Set)
		want string
	}{
		{"zero channels", func(s *Set) { s.C = 0 }, "shape [0 2 4] is not positive"},
		{"short images", func(s *Set) { s.Images = s.Images[:10] }, "10 pixel values for 6 images of [3 2 4]"},
		{"short labels", func(s *Set) { s.Labels = s.Labels[:5] }, "5 labels for 6 images"},
		{"label too big", func(s *Set) { s.Labels[3] = 5 }, "image 3 has label 5, outside [0, 5)"},
		{"negative label", func(s *Set) { s.Labels[4] = -1 }, "image 4 has label -1"},
		{"negative label, no classes", func(s *Set) { s.Classes, s.Labels[0] = 0, -2 }, "label -2"},
		{"NaN", func(s *Set) { s.Images[30] = float32(math.NaN()) }, "image 1 has the pixel value NaN"},
		{"Inf", func(s *Set) { s.Images[143] = float32(math.Inf(-1)) }, "image 5 has the pixel value -Inf"},
		{"negative classes", func(s *Set) { s.Classes = -1 }, "-1 classes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := rgbSet(6)
			c.edit(s)
			err := s.Check()
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "dataset: rgb: ") {
				t.Fatalf("Check = %v, want %q", err, c.want)
			}
		})
	}
}

func TestSetClassesAndRange(t *testing.T) {
	s := rgbSet(6)
	if err := s.SetClasses(4); err == nil || !strings.Contains(err.Error(), "4 classes, but a label is 4") {
		t.Fatalf("SetClasses(4): %v", err)
	}
	if err := s.SetClasses(10); err != nil || s.Classes != 10 {
		t.Fatalf("SetClasses(10): %v, %d", err, s.Classes)
	}
	if err := (&Set{}).SetClasses(0); err == nil {
		t.Fatal("SetClasses(0) of an empty set")
	}
	if lo, hi := s.PixelRange(); lo != 0 || hi != float32(143)/1000 {
		t.Fatalf("PixelRange = %v, %v", lo, hi)
	}
	if lo, hi := (&Set{}).PixelRange(); lo != 0 || hi != 0 {
		t.Fatalf("empty PixelRange = %v, %v", lo, hi)
	}
}

func TestPixel(t *testing.T) {
	if Pixel(0) != 0 || Pixel(255) != 1 {
		t.Fatalf("Pixel(0) = %v, Pixel(255) = %v", Pixel(0), Pixel(255))
	}
	for k := range 256 {
		// A correctly rounded float32 division equals the float64 quotient
		// rounded to float32 (double rounding is harmless for division).
		if want := float32(float64(k) / 255); math.Float32bits(Pixel(byte(k))) != math.Float32bits(want) {
			t.Errorf("Pixel(%d) = %v, want %v", k, Pixel(byte(k)), want)
		}
	}
}
