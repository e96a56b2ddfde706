package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseNormalize parses the value of --normalize:
//
//	MEAN,STD                 one mean and one standard deviation for every channel ("0.1307,0.3081")
//	M1,M2,...;S1,S2,...      a mean per channel, then a deviation per channel
//	                         ("0.4914,0.4822,0.4465;0.2470,0.2435,0.2616")
//
// Numbers are decimal (spaces around them are allowed), finite, and every
// deviation is positive.
func ParseNormalize(s string) (mean, std []float32, err error) {
	const syntax = "want MEAN,STD (every channel) or M1,M2,...;S1,S2,... (one per channel)"
	if means, stds, ok := strings.Cut(s, ";"); ok {
		if mean, err = parseFloats(means); err == nil {
			std, err = parseFloats(stds)
		}
		if err == nil && len(mean) != len(std) {
			err = fmt.Errorf("%d means but %d deviations", len(mean), len(std))
		}
	} else {
		var v []float32
		if v, err = parseFloats(s); err == nil {
			if len(v) != 2 {
				err = fmt.Errorf("%d numbers without a ';'", len(v))
			} else {
				mean, std = v[:1], v[1:]
			}
		}
	}
	if err == nil {
		err = checkNormalize(mean, std)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("--normalize %q: %v: %s", s, err, syntax)
	}
	return mean, std, nil
}

func parseFloats(s string) ([]float32, error) {
	var out []float32
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		v, err := strconv.ParseFloat(f, 32)
		if err != nil {
			return nil, fmt.Errorf("%q is not a number", f)
		}
		out = append(out, float32(v))
	}
	return out, nil
}

// checkNormalize checks that mean and std have the same length, at least
// 1, all finite, std positive.
func checkNormalize(mean, std []float32) error {
	if len(mean) == 0 || len(mean) != len(std) {
		return fmt.Errorf("%d means and %d deviations", len(mean), len(std))
	}
	for c := range mean {
		if m := float64(mean[c]); math.IsNaN(m) || math.IsInf(m, 0) {
			return fmt.Errorf("mean %v", mean[c])
		}
		if d := float64(std[c]); !(d > 0) || math.IsInf(d, 0) {
			return fmt.Errorf("deviation %v: want a positive number", std[c])
		}
	}
	return nil
}

// Normalize replaces every pixel x of channel c by (x − mean[c]) / std[c],
// computed in float32 as torchvision's Normalize does. mean and std hold
// one value per channel, or one value for every channel. It records them
// in Mean and Std (one per channel) and refuses a set already normalized.
// The pixels go to a new Images slice: sets sliced from s before keep
// theirs.
func (s *Set) Normalize(mean, std []float32) error {
	if s.Normalized() {
		return fmt.Errorf("dataset: %s is already normalized (mean %v, std %v)", s.label(), s.Mean, s.Std)
	}
	if err := checkNormalize(mean, std); err != nil {
		return fmt.Errorf("dataset: normalize: %v", err)
	}
	if err := s.Check(); err != nil {
		return err
	}
	c, h, w := s.shape()
	if len(mean) != 1 && len(mean) != c {
		return fmt.Errorf("dataset: normalize: %d means and deviations for the %d channels of %s", len(mean), c, s.label())
	}
	m, d := make([]float32, c), make([]float32, c)
	for k := range m {
		m[k], d[k] = mean[min(k, len(mean)-1)], std[min(k, len(std)-1)]
	}
	out := make([]float32, len(s.Images))
	plane := h * w
	for i := 0; i < len(out); i += plane {
		k := (i / plane) % c
		mk, dk := m[k], d[k]
		for j, x := range s.Images[i : i+plane] {
			out[i+j] = (x - mk) / dk
		}
	}
	if i, v := firstNonFinite(out); i >= 0 {
		return fmt.Errorf("dataset: normalize: image %d becomes %v", i/(c*h*w), v)
	}
	s.Images, s.Mean, s.Std = out, m, d
	return nil
}
