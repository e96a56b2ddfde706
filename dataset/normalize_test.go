package dataset

import (
	"math"
	"slices"
	"testing"
)

func TestParseNormalize(t *testing.T) {
	for _, c := range []struct {
		in        string
		mean, std []float32
	}{
		{"0.1307,0.3081", []float32{0.1307}, []float32{0.3081}},
		{" 0.5 , 0.25 ", []float32{0.5}, []float32{0.25}},
		{"0.485,0.456,0.406;0.229,0.224,0.225", []float32{0.485, 0.456, 0.406}, []float32{0.229, 0.224, 0.225}},
		{"0.5;0.5", []float32{0.5}, []float32{0.5}},
		{"-1,2e-3", []float32{-1}, []float32{0.002}},
	} {
		mean, std, err := ParseNormalize(c.in)
		if err != nil || !slices.Equal(mean, c.mean) || !slices.Equal(std, c.std) {
			t.Errorf("ParseNormalize(%q) = %v, %v, %v; want %v, %v", c.in, mean, std, err, c.mean, c.std)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"", `"" is not a number`},
		{"0.5", "1 numbers without a ';'"},
		{"0.1,0.2,0.3", "3 numbers without a ';'"},
		{"0.1,0.2;0.3", "2 means but 1 deviations"},
		{"a,b", `"a" is not a number`},
		{"0.5,0", "deviation 0: want a positive number"},
		{"0.5,-1", "deviation -1"},
		{"NaN,1", "mean NaN"},
		{"0,Inf", "deviation +Inf"},
		{"0,1e39", "1e39"}, // out of float32's range
		{"0,1;", `"" is not a number`},
		{";", `"" is not a number`},
	} {
		_, _, err := ParseNormalize(c.in)
		wantErr(t, err, "--normalize ", c.want, "want MEAN,STD (every channel) or M1,M2,...;S1,S2,... (one per channel)")
	}
}

func TestNormalize(t *testing.T) {
	s := rgbSet(4)
	raw := slices.Clone(s.Images)
	before := s.Slice(1, 2)
	mean, std := []float32{0.1, 0.2, 0.3}, []float32{0.5, 0.25, 0.125}
	if err := s.Normalize(mean, std); err != nil {
		t.Fatal(err)
	}
	if !s.Normalized() || !slices.Equal(s.Mean, mean) || !slices.Equal(s.Std, std) {
		t.Fatalf("Mean %v Std %v", s.Mean, s.Std)
	}
	for i, v := range s.Images {
		c := i / 8 % 3
		if want := (raw[i] - mean[c]) / std[c]; math.Float32bits(v) != math.Float32bits(want) {
			t.Fatalf("pixel %d (channel %d) = %v, want %v", i, c, v, want)
		}
	}
	if lo, _ := s.PixelRange(); lo >= 0 {
		t.Errorf("no negative pixel after normalising: %v", lo)
	}
	// A set sliced before keeps the raw pixels; one sliced after is normalized.
	if before.Normalized() || !slices.Equal(before.Images, raw[24:72]) {
		t.Error("Normalize changed the pixels of a slice taken before")
	}
	if after := s.Slice(1, 1); !after.Normalized() || after.Images[0] != s.Images[24] {
		t.Error("a slice of a normalized set is not")
	}
	wantErr(t, s.Normalize(mean, std), "dataset: rgb is already normalized (mean [0.1 0.2 0.3], std [0.5 0.25 0.125])")

	// One pair for every channel.
	s = rgbSet(2)
	if err := s.Normalize([]float32{0.5}, []float32{2}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Mean, []float32{0.5, 0.5, 0.5}) || s.Images[47] != (float32(47)/1000-0.5)/2 {
		t.Fatalf("Mean %v, last pixel %v", s.Mean, s.Images[47])
	}

	for _, c := range []struct {
		name      string
		mean, std []float32
		want      string
	}{
		{"two channels of three", []float32{0, 0}, []float32{1, 1}, "2 means and deviations for the 3 channels of rgb"},
		{"lengths differ", []float32{0, 0, 0}, []float32{1}, "3 means and 1 deviations"},
		{"none", nil, nil, "0 means and 0 deviations"},
		{"zero std", []float32{0}, []float32{0}, "deviation 0"},
		{"NaN std", []float32{0}, []float32{float32(math.NaN())}, "deviation NaN"},
		{"overflow", []float32{0}, []float32{1e-45}, "image 0 becomes +Inf"},
	} {
		s := rgbSet(2)
		s.Images[47] = 1
		wantErr(t, s.Normalize(c.mean, c.std), "dataset: ", c.want)
		if s.Normalized() || s.Images[0] != 0 {
			t.Errorf("%s: a failed Normalize changed the set", c.name)
		}
	}
	bad := rgbSet(2)
	bad.Images = bad.Images[:5]
	wantErr(t, bad.Normalize([]float32{0}, []float32{1}), "dataset: rgb: 5 pixel values")
}
