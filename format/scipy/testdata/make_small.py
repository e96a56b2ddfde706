# Writes the small CSR matrices the tests of package scipy check in
# (run with /usr/bin/python3, which has scipy: python3 make_small.py).
#
# small_csr.npz: W [3, 6] float32 as save_npz writes it by default
# (deflated):
#
#     [[0, 1.5, 0,  -0.25, 0,  0],
#      [0, 0,   0*, 0,     0,  0],      0* an explicit zero: a synapse
#      [2, 0,   0,  0,     -3, 0]]      column 5 has no entry
#
# small_csr_f64_unsorted.npz: the same matrix in float64, saved
# uncompressed, with the columns of row 2 out of order.
import numpy as np
import scipy.sparse as sp

data = np.array([1.5, -0.25, 0.0, 2.0, -3.0], dtype=np.float32)
indices = np.array([1, 3, 2, 0, 4], dtype=np.int32)
indptr = np.array([0, 2, 3, 5], dtype=np.int32)
m = sp.csr_matrix((data, indices, indptr), shape=(3, 6))
sp.save_npz("small_csr.npz", m)

u = sp.csr_matrix((np.array([1.5, -0.25, 0.0, -3.0, 2.0]), np.array([1, 3, 2, 4, 0], dtype=np.int32),
                   indptr), shape=(3, 6))
assert not u.has_sorted_indices and (u.toarray() == m.toarray()).all()
sp.save_npz("small_csr_f64_unsorted.npz", u, compressed=False)
