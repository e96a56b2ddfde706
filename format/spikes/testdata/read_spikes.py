import json, struct, sys, zlib
import numpy as np
from pyroaring import BitMap

def read_spikes(path):
    """Yields (image, layer name, steps, neurons) per bitmap: numpy arrays
    of the 1-based step and the C,H,W neuron index of every spike."""
    data = open(path, "rb").read()
    magic, version, hlen = struct.unpack_from("<8sII", data, 0)
    index, entries, _, _, end = struct.unpack_from("<QQII8s", data, len(data) - 32)
    if magic != b"EVSNNSPK" or version != 1 or end != b"EVSPKEND":
        raise ValueError(path + ": not a version 1 spike recording")
    layers = json.loads(data[16:16 + hlen])["layers"]
    for e in range(entries):
        image, k, t0, S, off, n, spikes, crc, _ = struct.unpack_from("<IIIIQQQII", data, index + 48 * e)
        blob = data[off:off + n]
        if zlib.crc32(blob) != crc:
            raise ValueError("%s: bitmap %d: CRC mismatch" % (path, e))
        ids = np.fromiter(BitMap.deserialize(blob), dtype=np.int64, count=spikes)
        shape = layers[k]["shape"]
        C, H, W = shape if len(shape) == 3 else (layers[k]["neurons"], 1, 1)
        p, dt = np.divmod(ids, S)
        q, c = np.divmod(p, C)
        w, h = np.divmod(q, H)
        yield image, layers[k]["name"], t0 + dt, (c * H + h) * W + w

if __name__ == "__main__":
    print("image,layer,step,neuron")
    for image, layer, steps, neurons in read_spikes(sys.argv[1]):
        for t, n in zip(steps.tolist(), neurons.tolist()):
            print("%d,%s,%d,%d" % (image, layer, t, n))
