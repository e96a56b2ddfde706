// Package convert turns a trained ANN into an SNN by threshold balancing
// (SPEC §3), chains and graph networks alike.
//
// The ANN is run on a calibration set (by default the first 1,024 MNIST
// training images, pixels/255) and, for each ReLU layer, a statistic of its
// activations becomes the firing threshold θ of the spiking layer that
// replaces it: the maximum, any percentile (numpy's default linear
// interpolation over all elements, zeros included, in float64), or either
// per channel. Weights and biases are copied; each ReLU becomes a
// *network.Spiking layer of IF or LIF neurons with soft or hard reset and
// initial potential v(0) = 0, 0.5·θ or given per neuron. On a graph there
// is one θ per ReLU, the ReLU after a residual Add included (the statistic
// of the ReLU of the sum). The optional bias shift of Deng & Gu (2021) adds
// θ/(2T) once to each spiking layer's input current — to the bias of the
// Conv2d or Linear feeding it, or, after an Add, to the Add's bias — which
// fits the SNN to one T.
//
// The steps are separate so that calibration can reuse them:
//
//	stat, _ := convert.ParseStatistic("p99.99")
//	th, _ := convert.Thresholds(ann, calib, 1024, stat)   // or Activations(...).Thresholds(stat)
//	snn, _ := convert.Convert(ann, th, convert.Options{Statistic: stat.String(), Images: 1024})
//
// or in one call, convert.FromANN(ann, calib, 1024, opts). The SNN records
// how it was made in Meta.Conversion.
package convert
