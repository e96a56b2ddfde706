"""A stand-in for pyroaring (not installable here: no PyPI) with the one
call read_spikes.py makes, BitMap.deserialize, decoding roaring's portable
format (github.com/RoaringBitmap/RoaringFormatSpec) in pure Python, so the
test can run the documented reader script unchanged."""
import struct


class BitMap:
    def __init__(self, values):
        self._values = values

    def __iter__(self):
        return iter(self._values)

    def __len__(self):
        return len(self._values)

    @classmethod
    def deserialize(cls, buf):
        buf = bytes(buf)
        (cookie,) = struct.unpack_from("<I", buf, 0)
        pos, runs = 4, None
        if cookie & 0xFFFF == 12347:
            n = (cookie >> 16) + 1
            runs = buf[pos:pos + (n + 7) // 8]
            pos += (n + 7) // 8
        elif cookie == 12346:
            (n,) = struct.unpack_from("<I", buf, pos)
            pos += 4
        else:
            raise ValueError("not a portable roaring bitmap")
        desc = struct.unpack_from("<%dH" % (2 * n), buf, pos)
        pos += 4 * n
        if runs is None or n >= 4:
            pos += 4 * n  # offset header
        values = []
        for i in range(n):
            key, card = desc[2 * i] << 16, desc[2 * i + 1] + 1
            if runs is not None and runs[i // 8] >> (i % 8) & 1:
                (nr,) = struct.unpack_from("<H", buf, pos)
                iv = struct.unpack_from("<%dH" % (2 * nr), buf, pos + 2)
                pos += 2 + 4 * nr
                for j in range(nr):
                    values.extend(range(key + iv[2 * j], key + iv[2 * j] + iv[2 * j + 1] + 1))
            elif card > 4096:
                words = struct.unpack_from("<1024Q", buf, pos)
                pos += 8192
                for j, w in enumerate(words):
                    while w:
                        low = w & -w
                        values.append(key + 64 * j + low.bit_length() - 1)
                        w ^= low
            else:
                values.extend(key + v for v in struct.unpack_from("<%dH" % card, buf, pos))
                pos += 2 * card
        if pos != len(buf):
            raise ValueError("trailing bytes")
        return cls(values)
