// Package dataset reads image classification data into one in-memory form,
// Set, from MNIST-like IDX files, CIFAR's binary files and NumPy arrays.
//
// # The contract
//
// A Set is N labelled images of one shape [C, H, W]:
//
//   - Images holds N·C·H·W float32 values, image after image, each in CHW
//     order (channel planes, each row-major): a PyTorch tensor [N, C, H, W]
//     as it lies in memory. Image(i) is image i, Size() = C·H·W.
//   - Labels holds N class indices in [0, Classes).
//   - Byte pixels b are read as Pixel(b) = float32(b)/255, a correctly
//     rounded float32 division, as the PyTorch reference fixtures compute
//     it (torchvision's ToTensor scales by 1/255 too). Nothing else is done
//     to them (no mean/std normalisation, no resizing); images stay in file
//     order.
//   - Normalize, if called, applies (x − mean_c)/std_c per channel and
//     records mean and std in Mean and Std; Normalized() says whether it
//     was. PixelRange tells whether the pixels lie in [0, 1], which rate
//     (Poisson) encoding needs.
//   - Name says which set and split ("cifar10 test"), Source where it came
//     from.
//
// A loader either returns a Set that passes Check, or an error of one line
// that starts with the set's name and names the file and what is wrong with
// it: wrong size, wrong type or shape, label out of range, truncated. No
// input makes a loader panic, and no header makes it allocate more than the
// file can hold (see MaxIDXBytes, MaxNPYElements); the fuzz tests hold
// them to that.
//
// # Sets and their files
//
// Load(name, path, split, n) reads split "train" or "test" of a set by
// name; path is --data ("" for the default, where the set has one) and n
// the number of images to keep, from the first (0: all).
//
//	mnist            IDX files; default: the GoMNIST Go module (DefaultMNISTDir)
//	fashion-mnist    IDX files; default: /usr/share/datasets/fashion-mnist,
//	                 from Debian's package dataset-fashion-mnist
//	kmnist           IDX files; --data DIR
//	cifar10          CIFAR-10 binary version; --data DIR
//	cifar100         CIFAR-100 binary version, the 100 fine labels; --data DIR
//	cifar100-coarse  the same files, the 20 coarse labels
//	npy              NumPy .npy/.npz arrays; --data DIR or FILE
//
// IDX (MNIST, Fashion-MNIST, KMNIST): a directory with
//
//	train-images-idx3-ubyte  train-labels-idx1-ubyte   (60,000 images)
//	t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte    (10,000 images)
//
// each plain or gzipped with a .gz suffix (the plain one wins if both are
// there), or a directory holding them under MNIST/raw, FashionMNIST/raw or
// KMNIST/raw, where torchvision.datasets keeps them. IDX is the format Yann LeCun distributed MNIST in: a 4-byte
// big-endian magic 0x000008nn (0x08: unsigned bytes, nn: the number of
// dimensions), nn big-endian uint32 dimensions, then the bytes in row-major
// order; images are 0x00000803 [N, rows, cols], labels 0x00000801 [N].
// Images are [1, rows, cols]; labels must be below 10. ReadIDX reads one
// file.
//
// CIFAR-10: the directory cifar-10-batches-bin that cifar-10-binary.tar.gz
// unpacks to, or the directory holding it, with data_batch_1.bin …
// data_batch_5.bin (train) and test_batch.bin (test). Each file is a
// sequence of 3,073-byte records: a label byte (0–9), then 3,072 pixel
// bytes: the red plane, the green, the blue, each 32×32 row-major. That is
// CHW order, so an image is [3, 32, 32] as stored. CIFAR-100: the
// directory cifar-100-binary (or its parent), with train.bin and test.bin,
// records of 3,074 bytes: the coarse label (0–19), the fine label (0–99),
// then the pixels. A file must be a whole, non-zero number of records (the
// real ones hold 10,000 or 50,000); every label of every file read is
// checked. With n > 0, files are read in order until n images are in, so
// 1,024 training images read data_batch_1.bin only (the other files' sizes
// are still checked). The Python (pickle) versions are not read: their
// directories are recognised and the error says so. No copy of CIFAR can
// be fetched where evsnn is developed and tested: the tests write files in
// this format themselves, so the reader is checked against the format as
// documented on the CIFAR page, not against the published files.
//
// NumPy (npy): --data is one of
//
//	DIR              holding SPLIT.npz (arrays x and y), or x_SPLIT.npy and y_SPLIT.npy
//	                 (e.g. test.npz, or x_test.npy and y_test.npy); both: an error
//	FILE.npz         arrays x_SPLIT and y_SPLIT (the layout of Keras' mnist.npz),
//	                 or else x and y, used for either split
//	PATH/x….npy      images, with their labels in PATH/y….npy (the same name with
//	                 y for x: x.npy and y.npy, x_val.npy and y_val.npy), either split
//
// where x is float32 or uint8 (read as Pixel(b)), of shape [N, C, H, W], or
// [N, H, W] for one channel, in C order (np.save's default), either byte
// order; y holds N integers of any integer dtype, shape [N] or [N, 1], each
// in [0, MaxLabel]. Classes is the largest label + 1; SetClasses raises it
// (to a model's output count, say). Refused, each with its own error: other
// dtypes (float64: save x.astype(numpy.float32)), Fortran order, other
// shapes, [N, H, W, C] (channels last: the error says to transpose), N
// differing between x and y, negative labels, NaN or infinite pixels,
// truncated or overlong files, headers of more than 64 KiB or declaring
// more than MaxNPYElements elements, and .npz entries declaring more
// bytes than their compressed data can hold. .npz files are zip archives
// as np.savez and np.savez_compressed write them. The tests read files
// that numpy wrote (testdata/npy, made by testdata/gen_npy.py), and, where
// /usr/bin/python3 has numpy, write them afresh and compare.
//
// The .npy reader is evsnn's own (npy.go): the maintained Go reader,
// codeberg.org/sbinet/npyio v0.14.0, panics on some malformed headers
// (slice bounds), silently reads the shape (2, 3) as (2,) from a header
// without numpy's trailing ", ", and allocates what the header declares
// before reading, so a header declaring 2^40 elements kills the process
// with an out-of-memory error that no recover catches.
//
// # Normalisation
//
// ParseNormalize reads --normalize: "MEAN,STD" (one pair for every
// channel: "0.1307,0.3081" for MNIST) or "M1,M2,M3;S1,S2,S3" (one mean per
// channel, then one deviation per channel:
// "0.4914,0.4822,0.4465;0.2470,0.2435,0.2616" for CIFAR-10).
// Set.Normalize applies it.
package dataset
