package queue_test

import (
	"fmt"

	"github.com/evsnn/evsnn/queue"
)

// ExampleRing delays events by two steps, as a synaptic delay does.
func ExampleRing() {
	r := queue.NewRing[string](4)
	for t := 0; t < 5; t++ {
		r.Push(t+2, fmt.Sprintf("spike of step %d", t))
		for _, e := range r.Pop(t) {
			fmt.Printf("step %d: %s\n", t, e)
		}
	}
	// Output:
	// step 2: spike of step 0
	// step 3: spike of step 1
	// step 4: spike of step 2
}

// ExampleBitset marks runs of neurons and lists them in order.
func ExampleBitset() {
	b := queue.NewBitset(200)
	b.AddRange(60, 70)
	b.Add(3)
	b.AddRange(64, 66)
	fmt.Println(b.Count(), b.DrainTo(nil), b.Count())
	// Output:
	// 11 [3 60 61 62 63 64 65 66 67 68 69] 0
}
