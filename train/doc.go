// Package train trains the feed-forward CNNs of SPEC §1 (Conv2d with
// stride and padding, AvgPool2d, Linear, ReLU, Flatten) in Go, with a
// softmax cross-entropy loss, for `evsnn train`.
//
// # Building a network
//
// DefaultArchitecture(seed) is the fixture's LeNet-like MNIST network
// (conv 1→16 5×5 pad 2, ReLU, avgpool 2, conv 16→32 5×5 pad 2, ReLU,
// avgpool 2, flatten, fc 1568→128, ReLU, fc 128→10). Other networks come
// from a small JSON description (ParseArchitecture, see Architecture) or a
// compact list such as "conv16k5p2,relu,pool2,flatten,fc10" (ParseLayers).
// Weights are drawn as PyTorch draws them (uniform in ±1/sqrt(fan_in)),
// from a PCG generator seeded with the seed.
//
// # Training
//
// Train (or New and Trainer.Run) runs minibatch training with Adam or SGD
// with momentum, and a cosine, step or constant learning-rate schedule.
// Backward passes lower the convolution to matrix products as the forward
// pass does: the weight gradient is dY·colsᵀ, the input gradient
// col2im(Wᵀ·dY), both blas32 products.
//
// # Determinism
//
// The same network, data and Config give the same weights bit for bit, on
// any number of cores: every minibatch is split into shards of a fixed size
// (Config.ShardSize, independent of Config.Workers), the workers compute
// each shard's gradient into its own buffer, and the buffers are summed in
// shard order. Each epoch's sample order is a Fisher–Yates shuffle driven
// by PCG seeded with (seed, epoch), so nothing else needs saving to resume.
// The optimiser's arithmetic is written so that no compiler setting fuses
// it into FMAs.
//
// # Checkpoints
//
// With Config.Checkpoint set, the weights, the optimiser state and the
// position in the run are written atomically after every epoch and when
// the context is cancelled (Ctrl-C); Resume continues from such a file to
// the same result, byte for byte, as an uninterrupted run.
package train
