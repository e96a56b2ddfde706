package nir

import (
	"math"
	"slices"

	"github.com/evsnn/evsnn/network"
)

// Reading node parameters: each helper checks type, shape and finiteness
// and names the node in its error.

// param fetches a parameter; required ones must exist.
func (im *importer) param(name, key string, required bool) (Param, bool, error) {
	p, ok := im.g.Nodes[name].Params[key]
	if !ok && required {
		return Param{}, false, im.errf(name, "missing parameter %q", key)
	}
	return p, ok, nil
}

// floats fetches a numeric parameter as finite float64 values.
func (im *importer) floats(name, key string, required bool) ([]float64, Param, error) {
	p, ok, err := im.param(name, key, required)
	if err != nil || !ok {
		return nil, p, err
	}
	v, err := p.Floats()
	if err != nil {
		return nil, p, im.errf(name, "parameter %q %v", key, err)
	}
	for i, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, p, im.errf(name, "parameter %q: value %d is %v", key, i, x)
		}
	}
	return v, p, nil
}

// ints fetches an integer parameter.
func (im *importer) ints(name, key string, required bool) ([]int, bool, error) {
	p, ok, err := im.param(name, key, required)
	if err != nil || !ok {
		return nil, ok, err
	}
	v, err := p.Ints()
	if err != nil {
		return nil, true, im.errf(name, "parameter %q %v", key, err)
	}
	return v, true, nil
}

// pair reads a 2-D size parameter: a scalar or two values.
func (im *importer) pair(name, key string, required bool, def int) (int, int, error) {
	v, ok, err := im.ints(name, key, required)
	if err != nil {
		return 0, 0, err
	}
	switch {
	case !ok:
		return def, def, nil
	case len(v) == 1:
		return v[0], v[0], nil
	case len(v) == 2:
		return v[0], v[1], nil
	}
	return 0, 0, im.errf(name, "parameter %q has %d values, want 1 or 2", key, len(v))
}

// f32 fetches a float parameter of an exact shape as float32 (float32 data
// is taken bit for bit).
func (im *importer) f32(name, key string, shape []int) ([]float32, error) {
	v, p, err := im.floats(name, key, true)
	if err != nil {
		return nil, err
	}
	if !slices.Equal(p.Shape, shape) {
		return nil, im.errf(name, "parameter %q has shape %v, want %v", key, p.Shape, shape)
	}
	if p.DType == Float32 {
		return clone32(p.F32), nil
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
		if math.IsInf(float64(out[i]), 0) {
			return nil, im.errf(name, "parameter %q: value %d (%v) overflows float32", key, i, x)
		}
	}
	return out, nil
}

// shapeParam reads a "shape" parameter, dropping a leading batch dimension
// of 1 from a 2-D or 4-D shape.
func (im *importer) shapeParam(name, key string, required bool) (network.Shape, bool, error) {
	v, ok, err := im.ints(name, key, required)
	if err != nil || !ok {
		return nil, ok, err
	}
	if (len(v) == 2 || len(v) == 4) && v[0] == 1 {
		v = v[1:]
	}
	sh := network.Shape(v)
	if err := sh.Valid(); err != nil {
		return nil, true, im.errf(name, "parameter %q: %v", key, err)
	}
	return sh, true, nil
}
