package engines_test

import (
	"fmt"

	"github.com/evsnn/evsnn/engines"
)

// Engines are found by the names a command line uses.
func ExampleByName() {
	for _, name := range engines.Names() {
		e, err := engines.ByName(name)
		if err != nil {
			panic(err)
		}
		fmt.Println(e.Name(), engines.IsDense(name))
	}
	_, err := engines.ByName("brian2")
	fmt.Println(err)
	// Output:
	// event false
	// dense true
	// dense-skip true
	// unknown engine "brian2" (want event, dense or dense-skip)
}
