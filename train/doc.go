// Package train trains the feed-forward networks of SPEC §1 in Go, with a
// softmax cross-entropy loss, for `evsnn train`: chains of Conv2d (stride,
// padding), AvgPool2d, MaxPool2d, GlobalAvgPool, BatchNorm, Linear, ReLU
// and Flatten, and residual networks — the VGG- and ResNet-style networks
// people convert.
//
// # Building a network
//
// DefaultArchitecture(seed) is the fixture's LeNet-like MNIST network
// (conv 1→16 5×5 pad 2, ReLU, avgpool 2, conv 16→32 5×5 pad 2, ReLU,
// avgpool 2, flatten, fc 1568→128, ReLU, fc 128→10). Other networks come
// from a small JSON description (ReadArchitecture, see Architecture) or a
// compact list (ParseLayers), on the input shape of the data:
//
//	conv<OUT>k<K>[s<S>][p<P>]   convolution            conv16k3p1, conv32k3s2p1
//	pool<K>[s<S>]               average pooling        pool2
//	maxpool<K>[s<S>][p<P>]      max pooling            maxpool2, maxpool3s2p1
//	bn                          BatchNorm2d/1d of the conv or fc right before it
//	res<OUT>[s<S>]              residual basic block   res16, res32s2
//	gap                         global average pooling ([C,H,W] → [C,1,1])
//	fc<OUT>, fc                 linear; a bare fc as the readout has one
//	                            output per class of the data (WithClasses)
//	relu, flatten
//
// A residual block is the post-activation basic block of ResNet-18:
// conv3×3 (stride S, pad 1) → bn → relu → conv3×3 (pad 1) → bn, plus the
// shortcut — the identity, or conv1×1 (stride S) → bn when the channels or
// the stride change — then add → relu. Examples:
//
//	VGG-style net for Fashion-MNIST (4 conv with BN, two max-pools, fc128):
//	  conv16k3p1,bn,relu,conv16k3p1,bn,relu,maxpool2,conv32k3p1,bn,relu,conv32k3p1,bn,relu,maxpool2,flatten,fc128,bn,relu,fc
//	small ResNet, the network of testdata/mnist_resnet.onnx:
//	  conv16k3p1,bn,relu,maxpool2,res16,res32s2,gap,flatten,fc10
//	BatchNorm net with stride-2 convolutions instead of pooling:
//	  conv16k3s2p1,bn,relu,conv32k3s2p1,bn,relu,flatten,fc10
//
// Weights are drawn as PyTorch draws them (uniform in ±1/sqrt(fan_in)),
// from a PCG generator seeded with the seed, layer by layer in order; a
// Conv2d or Linear followed by a BatchNorm has no bias (PyTorch's
// bias=False, the BatchNorm's β is the bias), a BatchNorm starts at γ = 1,
// β = 0, running mean 0, running variance 1.
//
// Build makes a network.Network of an architecture without BatchNorm;
// NewTrainer trains any architecture. The placement rules are SPEC §1's,
// checked by network.Validate on the network a run exports: a BatchNorm
// directly after a Conv2d or Linear, a MaxPool after a ReLU (conv, bn,
// relu, maxpool — not conv, maxpool, relu), a flatten before a Linear.
//
// # BatchNorm and the exported network
//
// A BatchNorm trains in training mode: it normalises with the mean and
// (biased) variance of its input over the whole mini-batch (and the plane,
// for BatchNorm2d), ε = 1e-5, and updates running statistics with momentum
// 0.1 and the unbiased variance, as PyTorch does. Eval mode (Trainer's
// evaluation of Config.Test) uses the running statistics.
//
// package network has no BatchNorm: Trainer.Net exports the network with
// every BatchNorm folded into the Conv2d or Linear before it, in float64,
// with the running statistics (SPEC §1: W' = W·γ/sqrt(var+ε),
// b' = (b−mean)·γ/sqrt(var+ε) + β), and residual blocks as Add nodes of a
// graph (network.Network.Inputs). That network passes network.Validate and
// computes the trainer's eval-mode function up to float32 rounding. Net
// always returns the same *network.Network and keeps its weights up to date
// (at every epoch end, and when Run returns), so a caller may set its Meta
// before Run and save it after.
//
// # Training
//
// Train (or New, or NewTrainer, and Trainer.Run) runs minibatch training
// with Adam or SGD with momentum, and a cosine, step or constant
// learning-rate schedule. Backward passes lower the convolution to matrix
// products as the forward pass does: the weight gradient is dY·colsᵀ, the
// input gradient col2im(Wᵀ·dY), both blas32 products. A MaxPool routes its
// gradient to the maximum of each window, the first on ties (PyTorch's
// choice); a node read by several others (a residual block's input) sums
// their gradients. Data comes as a Dataset, or from package dataset with
// DatasetOf (any image shape and class count: Fashion-MNIST, CIFAR, ...).
//
// # Determinism
//
// The same network, data and Config give the same weights bit for bit, on
// any number of cores: every minibatch is split into shards of a fixed size
// (Config.ShardSize, independent of Config.Workers), the workers compute
// each shard's gradient into its own buffer, and the buffers are summed in
// shard order. A BatchNorm's batch statistics are reduced the same way, in
// two passes over the shards — the mean from the shards' float64 sums added
// in shard order, then the variance from their sums of squared deviations
// from that mean — and so are its backward sums Σdy and Σdy·x̂; the step
// runs in phases split at the BatchNorms, each shard keeping its
// activations between them. Each epoch's sample order is a Fisher–Yates
// shuffle driven by PCG seeded with (seed, epoch), so nothing else needs
// saving to resume. The optimiser's and the BatchNorm's arithmetic is
// written so that no compiler setting fuses it into FMAs.
//
// # Checkpoints
//
// With Config.Checkpoint set, the weights, the optimiser state, the
// BatchNorm running statistics and the position in the run are written
// atomically after every epoch and when the context is cancelled (Ctrl-C);
// Resume continues from such a file to the same result, byte for byte, as
// an uninterrupted run.
package train
