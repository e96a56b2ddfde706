// Package models holds what evsnn has built in, so that an installed
// binary works anywhere, offline:
//
//   - Default, the MNIST CNN of SPEC §1 (conv 1→16 5×5 pad 2, ReLU,
//     avgpool 2, conv 16→32 5×5 pad 2, ReLU, avgpool 2, flatten,
//     fc 1568→128, ReLU, fc 128→10) trained in Go by `evsnn train`.
//     DefaultCommand records the command and seed that made default.evsnn;
//     re-running it reproduces the file byte for byte, on any number of
//     cores.
//   - TestSet, the 10,000 MNIST test images, and CalibrationSet, the first
//     1,024 training images (the calibration set of SPEC §3): 1.8 MB of
//     gzipped IDX files, so that the demo needs neither a data directory
//     nor a Go toolchain to fetch the GoMNIST module.
//   - LoadData, dataset.Load that serves MNIST from those copies when no
//     data path is given and they hold what is asked: the data policy of
//     the command line (without --data, the demo runs offline).
package models
