#!/usr/bin/python3
"""Writes the NumPy test files of package dataset, with numpy itself.

    /usr/bin/python3 gen_npy.py OUT MNIST5

MNIST5 is a directory with t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte
(dataset/testdata/mnist5: the first 5 MNIST test images). The checked-in
files under dataset/testdata/npy were made by

    cd dataset/testdata && /usr/bin/python3 gen_npy.py npy mnist5

and TestNumPyWritten runs this script again into a temporary directory when
python3-numpy is installed, and checks that both read the same. Every file is
deterministic except the zip timestamps inside .npz files.
"""
import os
import struct
import sys

import numpy as np

out, mnist5 = sys.argv[1], sys.argv[2]


def idx(path):
    with open(path, "rb") as f:
        raw = f.read()
    magic = struct.unpack(">I", raw[:4])[0]
    nd = magic & 0xFF
    dims = struct.unpack(">" + "I" * nd, raw[4 : 4 + 4 * nd])
    return np.frombuffer(raw[4 + 4 * nd :], dtype=np.uint8).reshape(dims)


def save(path, arr, version=None):
    path = os.path.join(out, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if version is None:
        np.save(path, arr)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, arr, version=version)


def savez(path, compressed, **arrays):
    path = os.path.join(out, path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    (np.savez_compressed if compressed else np.savez)(path, **arrays)


images = idx(os.path.join(mnist5, "t10k-images-idx3-ubyte"))  # (5, 28, 28) uint8
labels = idx(os.path.join(mnist5, "t10k-labels-idx1-ubyte"))  # (5,) uint8
as_float = images.astype(np.float32) / np.float32(255)  # what Pixel gives, in float32

# Good files.
save("mnist5u8/x_test.npy", images)  # [N, H, W] uint8
save("mnist5u8/y_test.npy", labels.astype(np.int64))
savez("mnist5f32.npz", True, x=as_float.reshape(5, 1, 28, 28), y=labels)  # [N, C, H, W] float32
savez("keras.npz", True, x_train=images[:3], y_train=labels[:3].astype(np.int64),
      x_test=images, y_test=labels.astype(np.int32))  # Keras' mnist.npz layout
rgb = (np.arange(4 * 3 * 2 * 5, dtype=np.float32) / 100).reshape(4, 3, 2, 5)
savez("rgb/test.npz", False, x=rgb.astype(">f4"), y=np.array([[3], [0], [2], [1]], dtype=np.int16))
save("pair/x.npy", np.arange(8, dtype=np.uint8).reshape(2, 1, 2, 2) * 30)
save("pair/y.npy", np.array([1, 0], dtype=np.uint64))
save("v23/x_test.npy", images[:2], version=(2, 0))
save("v23/y_test.npy", labels[:2].astype(np.uint16), version=(3, 0))


# Bad files: bad/x_NAME.npy with its labels bad/y_NAME.npy.
def bad(name, x, y):
    save("bad/x_%s.npy" % name, x)
    save("bad/y_%s.npy" % name, y)


f4 = np.zeros((2, 1, 3, 3), dtype=np.float32)
y2 = np.array([0, 1], dtype=np.int64)
bad("fortran", np.asfortranarray(np.arange(18, dtype=np.float32).reshape(2, 1, 3, 3)), y2)
bad("float64", f4.astype(np.float64), y2)
bad("nhwc", np.zeros((2, 8, 8, 3), dtype=np.float32), y2)
bad("ndim2", np.zeros((2, 9), dtype=np.float32), y2)
bad("count", np.zeros((3, 1, 2, 2), dtype=np.float32), y2)
bad("negative", f4, np.array([-1, 0], dtype=np.int64))
bad("floatlabels", f4, y2.astype(np.float32))
bad("labels2d", f4, np.zeros((2, 2), dtype=np.int64))
nan = f4.copy()
nan[1, 0, 2, 1] = np.nan
bad("nan", nan, y2)
inf = f4.copy()
inf[0, 0, 0, 0] = np.inf
bad("inf", inf, y2)
bad("bool", np.zeros((2, 1, 3, 3), dtype=bool), y2)
bad("empty", np.zeros((0, 1, 2, 2), dtype=np.float32), np.zeros((0,), dtype=np.int64))
