//go:build hdf5

package nir

// A few HDF5 calls gonum.org/v1/hdf5 does not offer: reading a dataset
// converted to a chosen native type (Dataset.Read always reads in the
// file's own type), and reading variable-length strings (what h5py and so
// NIR's Python writer use for every string). The include and library paths
// are those of gonum.org/v1/hdf5 and Debian's libhdf5-dev.

/*
#cgo LDFLAGS: -lhdf5
#cgo linux,!arm64 CFLAGS: -I/usr/include/hdf5/serial -I/usr/lib/x86_64-linux-gnu/hdf5/serial/include
#cgo linux,!arm64 LDFLAGS: -L/usr/lib/x86_64-linux-gnu/hdf5/serial
#cgo linux,arm64 CFLAGS: -I/usr/include/hdf5/serial -I/usr/lib/aarch64-linux-gnu/hdf5/serial/include
#cgo linux,arm64 LDFLAGS: -L/usr/lib/aarch64-linux-gnu/hdf5/serial
#cgo darwin CFLAGS: -I/usr/local/include -I/opt/homebrew/include
#cgo darwin LDFLAGS: -L/usr/local/lib -L/opt/homebrew/lib
#include <stdlib.h>
#include "hdf5.h"

// evsnn_read_native reads a whole dataset converted to float (kind 0),
// double (1) or long long (2).
static int evsnn_read_native(hid_t ds, int kind, void *buf) {
	hid_t mt = kind == 0 ? H5T_NATIVE_FLOAT : kind == 1 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_LLONG;
	return H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ? -1 : 0;
}

// evsnn_is_vlen_str reports 1 for a variable-length string type, 0 for a
// fixed-length one, -1 on error.
static int evsnn_is_vlen_str(hid_t t) { return H5Tis_variable_str(t) > 0 ? 1 : H5Tis_variable_str(t) == 0 ? 0 : -1; }

// evsnn_read_vlen_strings reads n variable-length strings into out (n
// pointers HDF5 allocates; free them with evsnn_free_strings).
static int evsnn_read_vlen_strings(hid_t ds, hid_t ftype, char **out) {
	hid_t mt = H5Tcopy(H5T_C_S1);
	if (mt < 0) return -1;
	H5Tset_size(mt, H5T_VARIABLE);
	H5Tset_cset(mt, H5Tget_cset(ftype));
	herr_t e = H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, out);
	H5Tclose(mt);
	return e < 0 ? -1 : 0;
}

// evsnn_write_dataset creates the dataset name in loc, scalar (rank 0) or
// of the given dims, with the element type t, and writes buf (if not NULL)
// in that type. It closes everything it opens. (gonum's CreateDataset
// leaks a copy of the datatype per dataset.)
static int evsnn_write_dataset(hid_t loc, const char *name, hid_t t, int rank, const hsize_t *dims, const void *buf) {
	hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
	if (sp < 0) return -1;
	hid_t ds = H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = -1;
	if (ds >= 0) {
		rc = (buf == NULL || H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0) ? 0 : -1;
		if (H5Dclose(ds) < 0) rc = -1;
	}
	H5Sclose(sp);
	return rc;
}

// evsnn_set_utf8 marks a string type as UTF-8.
static int evsnn_set_utf8(hid_t t) { return H5Tset_cset(t, H5T_CSET_UTF8) < 0 ? -1 : 0; }

// evsnn_write_vlen_strings creates the dataset name in loc holding n
// variable-length UTF-8 strings, scalar (rank 0) or of the given dims, as
// h5py writes strings.
static int evsnn_write_vlen_strings(hid_t loc, const char *name, int rank, const hsize_t *dims, const char **data) {
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0) return -1;
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t sp = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
	hid_t ds = sp < 0 ? -1 : H5Dcreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	int rc = ds < 0 ? -1 : (H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0);
	if (ds >= 0) H5Dclose(ds);
	if (sp >= 0) H5Sclose(sp);
	H5Tclose(t);
	return rc;
}

// evsnn_open_objects counts the HDF5 objects (files, groups, datasets,
// datatypes, attributes) open in the whole library.
static long evsnn_open_objects(void) { return (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL); }
static long evsnn_open_kind(unsigned k) { return (long)H5Fget_obj_count(H5F_OBJ_ALL, k); }

static void evsnn_free_strings(char **s, size_t n) {
	for (size_t i = 0; i < n; i++) {
		if (s[i] != NULL) H5free_memory(s[i]);
	}
}
*/
import "C"

import (
	"fmt"
	"unsafe"

	"gonum.org/v1/hdf5"
)

func readNativeF32(ds *hdf5.Dataset, n int) ([]float32, error) {
	out := make([]float32, max(n, 1))
	if C.evsnn_read_native(C.hid_t(ds.ID()), 0, unsafe.Pointer(&out[0])) != 0 {
		return nil, fmt.Errorf("cannot read as float32")
	}
	return out[:n], nil
}

func readNativeF64(ds *hdf5.Dataset, n int) ([]float64, error) {
	out := make([]float64, max(n, 1))
	if C.evsnn_read_native(C.hid_t(ds.ID()), 1, unsafe.Pointer(&out[0])) != 0 {
		return nil, fmt.Errorf("cannot read as float64")
	}
	return out[:n], nil
}

func readNativeI64(ds *hdf5.Dataset, n int) ([]int64, error) {
	out := make([]C.longlong, max(n, 1))
	if C.evsnn_read_native(C.hid_t(ds.ID()), 2, unsafe.Pointer(&out[0])) != 0 {
		return nil, fmt.Errorf("cannot read as integers")
	}
	res := make([]int64, n)
	for i := range res {
		res[i] = int64(out[i])
	}
	return res, nil
}

func isVarString(t *hdf5.Datatype) (bool, error) {
	switch C.evsnn_is_vlen_str(C.hid_t(t.ID())) {
	case 1:
		return true, nil
	case 0:
		return false, nil
	}
	return false, fmt.Errorf("cannot tell the string kind")
}

// openObjects is the number of HDF5 objects open anywhere (tests check
// that reading and writing leave none).
func openObjects() int {
	h5mu.Lock()
	defer h5mu.Unlock()
	return int(C.evsnn_open_objects())
}

func openKinds() string {
	return fmt.Sprintf("files %d datasets %d groups %d datatypes %d attrs %d", C.evsnn_open_kind(C.H5F_OBJ_FILE), C.evsnn_open_kind(C.H5F_OBJ_DATASET), C.evsnn_open_kind(C.H5F_OBJ_GROUP), C.evsnn_open_kind(C.H5F_OBJ_DATATYPE), C.evsnn_open_kind(C.H5F_OBJ_ATTR))
}

// writeDataset writes one dataset of element type t from buf (nil for no
// elements); shape nil means a scalar.
func writeDataset(loc *hdf5.CommonFG, name string, t *hdf5.Datatype, shape []int, buf unsafe.Pointer) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	dims := make([]C.hsize_t, max(len(shape), 1))
	for i, d := range shape {
		dims[i] = C.hsize_t(d)
	}
	if C.evsnn_write_dataset(C.hid_t(loc.ID()), cname, C.hid_t(t.ID()), C.int(len(shape)), &dims[0], buf) != 0 {
		return fmt.Errorf("cannot write dataset %q", name)
	}
	return nil
}

func setUTF8(t *hdf5.Datatype) error {
	if C.evsnn_set_utf8(C.hid_t(t.ID())) != 0 {
		return fmt.Errorf("cannot set the UTF-8 character set")
	}
	return nil
}

// writeVarStrings writes a dataset of variable-length strings (as h5py
// does; evsnn itself writes fixed-length strings, see writeVarLen).
func writeVarStrings(loc *hdf5.CommonFG, name string, p Param) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	dims := make([]C.hsize_t, max(len(p.Shape), 1))
	for i, d := range p.Shape {
		dims[i] = C.hsize_t(d)
	}
	strs := make([]*C.char, max(len(p.Str), 1))
	for i, s := range p.Str {
		strs[i] = C.CString(s)
	}
	defer func() {
		for _, s := range strs {
			C.free(unsafe.Pointer(s))
		}
	}()
	// strs lives in Go memory but holds only C pointers: allowed by cgo.
	if C.evsnn_write_vlen_strings(C.hid_t(loc.ID()), cname, C.int(len(p.Shape)), &dims[0], &strs[0]) != 0 {
		return fmt.Errorf("cannot write variable-length strings")
	}
	return nil
}

func readVarStrings(ds *hdf5.Dataset, t *hdf5.Datatype, n int) ([]string, error) {
	if n == 0 {
		return nil, nil
	}
	ptrs := (**C.char)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	if ptrs == nil {
		return nil, fmt.Errorf("out of memory")
	}
	defer C.free(unsafe.Pointer(ptrs))
	if C.evsnn_read_vlen_strings(C.hid_t(ds.ID()), C.hid_t(t.ID()), ptrs) != 0 {
		return nil, fmt.Errorf("cannot read variable-length strings")
	}
	defer C.evsnn_free_strings(ptrs, C.size_t(n))
	out := make([]string, n)
	for i, p := range unsafe.Slice(ptrs, n) {
		if p != nil {
			out[i] = C.GoString(p)
		}
	}
	return out, nil
}
