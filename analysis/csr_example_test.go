package analysis_test

import (
	"fmt"
	"os"

	"github.com/evsnn/evsnn/analysis"
	"github.com/evsnn/evsnn/internal/fixture"
)

// ImportCSR makes a Linear layer a SparseLinear with the weights SciPy
// saved (scipy.sparse.save_npz of W [out, in]).
func ExampleImportCSR() {
	net := fixture.TinyANN(6) // fc1: [3, 6]
	_, rep, err := analysis.ImportCSR(net, "fc1", "../format/scipy/testdata/small_csr.npz")
	if err != nil {
		fmt.Println(err)
		return
	}
	rep.FromFile = "small_csr.npz"
	rep.WriteText(os.Stdout)
	// A matrix of another shape is refused.
	_, _, err = analysis.ImportCSR(net, "fc2", "../format/scipy/testdata/small_csr.npz")
	fmt.Println(err)
	// Output:
	// fc1 (layer 0, linear [3, 6]): 3 synapses → 5 from small_csr.npz (density 0.2778)
	// scipy: ../format/scipy/testdata/small_csr.npz as the weights of "fc2": layer 2 (linear "fc2") has weights [2, 3] (out, in), the matrix is [3, 6]
}
