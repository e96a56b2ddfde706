// Package plot draws the figures of a profiled run with gonum.org/v1/plot,
// as PNG or SVG:
//
//   - NewAccuracyVsStep: accuracy after t steps, one line per engine or
//     variant, the ANN's accuracy as a dashed reference line;
//   - NewFiringRates: spikes per neuron per step of each spiking layer;
//   - NewSpikesPerStep: the fraction of each layer's neurons firing at
//     each step (when each layer starts firing and how it settles);
//   - NewRaster: every spike of one image, layers stacked;
//   - NewActivationVsRate and NewActivationVsRateGrid: the SNN rate
//     θ·count/T of each (image, neuron) pair against its ANN activation,
//     with the y = x line of a perfect conversion: the plot to debug a
//     conversion with (clipping above θ, flooring in steps of θ/T);
//   - NewStepsHistogram: how many steps the images of a run with an
//     early-exit rule ran;
//   - NewExitFront: accuracy against mean steps per image of an early-exit
//     sweep, its Pareto front and the full run, exact rule and oracle.
//
// Each New* function returns a Figure, which Save writes to a path (format
// by extension, written atomically) and Encode renders to bytes (for
// inline HTML). The functions named without New do both in one call.
//
// The package is apart from the rest of evsnn because gonum/plot and its
// fonts add about 10 MB to a binary.
package plot
