package calibrate

import (
	"fmt"
	"strings"
)

// Method is the set of calibration steps to apply to every spiking layer.
// Whatever the order they are named in, they run in the canonical order
// search, shift, wc, bc, pc (the order of Li et al.'s "advanced" pipeline:
// weights first, then the mean-error corrections on top of them).
type Method struct {
	// Search picks the threshold θ_l among θmax·(1−0.01·i), i = 0..94,
	// that minimises the layer's conversion error ||x_l − s̄_l||² of the
	// simulated SNN on the calibration set.
	Search bool
	// Shift adds θ_l/(2T) to the bias (Deng & Gu 2021).
	Shift bool
	// WC is weight calibration: Adam on the layer's weights (and bias)
	// through the straight-through clip-floor rate function.
	WC bool
	// BC is bias correction: b_c += μ_c(e_l).
	BC bool
	// PC is potential correction: v_l(0) += T·mean_batch(e_l).
	PC bool
}

// The named pipelines of Li et al. (ICML 2021, "A Free Lunch From ANN").
var (
	// Light is threshold search + bias shift + bias correction.
	Light = Method{Search: true, Shift: true, BC: true}
	// Advanced is threshold search + bias shift + potential correction.
	Advanced = Method{Search: true, Shift: true, PC: true}
	// AdvancedWC is Advanced with weight calibration before the potential
	// correction.
	AdvancedWC = Method{Search: true, Shift: true, WC: true, PC: true}
)

// ParseMethod reads a comma-separated list of steps (search, shift, wc,
// bc, pc) and pipeline names (light, advanced, none); the result is their
// union. "advanced+wc" and "advanced,wc" both mean AdvancedWC.
func ParseMethod(s string) (Method, error) {
	var m Method
	s = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "+", ",")
	if s == "" {
		return m, fmt.Errorf("empty calibration method: want light, advanced or a list of search, shift, wc, bc, pc")
	}
	for _, tok := range strings.Split(s, ",") {
		switch strings.TrimSpace(tok) {
		case "light":
			m = m.union(Light)
		case "advanced":
			m = m.union(Advanced)
		case "search":
			m.Search = true
		case "shift":
			m.Shift = true
		case "wc":
			m.WC = true
		case "bc":
			m.BC = true
		case "pc":
			m.PC = true
		case "none":
		default:
			return Method{}, fmt.Errorf("calibration method %q: unknown step %q (want light, advanced, none or search, shift, wc, bc, pc)", s, tok)
		}
	}
	return m, nil
}

func (m Method) union(o Method) Method {
	return Method{
		Search: m.Search || o.Search,
		Shift:  m.Shift || o.Shift,
		WC:     m.WC || o.WC,
		BC:     m.BC || o.BC,
		PC:     m.PC || o.PC,
	}
}

// String lists the steps in the order they run, e.g. "search,shift,bc";
// "none" for the empty method.
func (m Method) String() string {
	var steps []string
	for _, s := range []struct {
		on   bool
		name string
	}{{m.Search, "search"}, {m.Shift, "shift"}, {m.WC, "wc"}, {m.BC, "bc"}, {m.PC, "pc"}} {
		if s.on {
			steps = append(steps, s.name)
		}
	}
	if len(steps) == 0 {
		return "none"
	}
	return strings.Join(steps, ",")
}

// Name is the pipeline name when the method is one ("light", "advanced",
// "advanced+wc"), else String().
func (m Method) Name() string {
	switch m {
	case Light:
		return "light"
	case Advanced:
		return "advanced"
	case AdvancedWC:
		return "advanced+wc"
	}
	return m.String()
}
