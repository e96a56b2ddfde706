package nir

import (
	"container/heap"
	"fmt"
)

// The structure of a graph: which nodes feed which, in what order.

// Chain returns the node names from the single Input node to the single
// Output node, following the edges, or an error naming the node where the
// graph is not a simple chain (a branch, a merge, a cycle, a node off the
// chain).
func (g *Graph) Chain() ([]string, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	var inputs, outputs []string
	for _, name := range g.Order {
		switch g.Nodes[name].Type {
		case "Input":
			inputs = append(inputs, name)
		case "Output":
			outputs = append(outputs, name)
		}
	}
	if len(inputs) != 1 {
		return nil, fmt.Errorf("graph has %d Input nodes %q, evsnn needs exactly one", len(inputs), inputs)
	}
	if len(outputs) != 1 {
		return nil, fmt.Errorf("graph has %d Output nodes %q, evsnn needs exactly one", len(outputs), outputs)
	}
	next := map[string]string{}
	prev := map[string]string{}
	for _, e := range g.Edges {
		if e[0] == e[1] {
			return nil, fmt.Errorf("node %q: edge to itself", e[0])
		}
		if t, dup := next[e[0]]; dup {
			if t == e[1] {
				return nil, fmt.Errorf("node %q: edge to %q listed twice", e[0], e[1])
			}
			return nil, fmt.Errorf("node %q: feeds both %q and %q; evsnn imports only chains", e[0], t, e[1])
		}
		if s, dup := prev[e[1]]; dup {
			return nil, fmt.Errorf("node %q: fed by both %q and %q; evsnn imports only chains", e[1], s, e[0])
		}
		next[e[0]], prev[e[1]] = e[1], e[0]
	}
	if s, ok := prev[inputs[0]]; ok {
		return nil, fmt.Errorf("node %q: the Input node is fed by %q", inputs[0], s)
	}
	chain := []string{inputs[0]}
	seen := map[string]bool{inputs[0]: true}
	for cur := inputs[0]; cur != outputs[0]; {
		n, ok := next[cur]
		if !ok {
			return nil, fmt.Errorf("node %q: no edge leaves it, so the chain never reaches the Output node %q", cur, outputs[0])
		}
		if seen[n] {
			return nil, fmt.Errorf("node %q: edges form a cycle", n)
		}
		seen[n] = true
		chain = append(chain, n)
		cur = n
	}
	if t, ok := next[outputs[0]]; ok {
		return nil, fmt.Errorf("node %q: the Output node feeds %q", outputs[0], t)
	}
	for _, name := range g.Order {
		if !seen[name] {
			return nil, fmt.Errorf("node %q: not on the chain from %q to %q", name, inputs[0], outputs[0])
		}
	}
	return chain, nil
}

// DAG is the structure of a graph as evsnn imports it: one Input node, one
// Output node, every other node on a path from the one to the other, no
// cycles.
type DAG struct {
	// Order lists every node in a topological order: among the nodes
	// whose sources are all listed, the one whose first incoming edge
	// comes first in Graph.Edges goes next. For a graph evsnn wrote, that
	// is the order it wrote the nodes in, even after a file (whose node
	// groups come back sorted by name).
	Order []string
	// In lists, per node, the sources of its incoming edges in the order
	// of Graph.Edges; Out the targets of its outgoing edges.
	In, Out       map[string][]string
	Input, Output string
}

// DAG checks that the graph is a directed acyclic graph from one Input node
// to one Output node and returns its structure, or an error naming a node
// where it is not: a second Input or Output, an edge to itself or listed
// twice, a node no edge enters or leaves, a cycle.
func (g *Graph) DAG() (*DAG, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	d := &DAG{In: map[string][]string{}, Out: map[string][]string{}}
	var inputs, outputs []string
	for _, name := range g.Order {
		switch g.Nodes[name].Type {
		case "Input":
			inputs = append(inputs, name)
		case "Output":
			outputs = append(outputs, name)
		}
	}
	if len(inputs) != 1 {
		return nil, fmt.Errorf("graph has %d Input nodes %q, evsnn needs exactly one", len(inputs), inputs)
	}
	if len(outputs) != 1 {
		return nil, fmt.Errorf("graph has %d Output nodes %q, evsnn needs exactly one", len(outputs), outputs)
	}
	d.Input, d.Output = inputs[0], outputs[0]
	first := map[string]int{}
	seen := map[[2]string]bool{}
	for k, e := range g.Edges {
		switch {
		case e[0] == e[1]:
			return nil, fmt.Errorf("node %q: edge to itself", e[0])
		case seen[e]:
			return nil, fmt.Errorf("node %q: edge to %q listed twice", e[0], e[1])
		case e[1] == d.Input:
			return nil, fmt.Errorf("node %q: the Input node is fed by %q", e[1], e[0])
		case e[0] == d.Output:
			return nil, fmt.Errorf("node %q: the Output node feeds %q", e[0], e[1])
		}
		seen[e] = true
		if _, ok := first[e[1]]; !ok {
			first[e[1]] = k
		}
		d.Out[e[0]] = append(d.Out[e[0]], e[1])
		d.In[e[1]] = append(d.In[e[1]], e[0])
	}
	for _, name := range g.Order {
		if name != d.Input && len(d.In[name]) == 0 {
			return nil, fmt.Errorf("node %q: no edge leads into it, so it is not on a path from the Input node %q", name, d.Input)
		}
		if name != d.Output && len(d.Out[name]) == 0 {
			return nil, fmt.Errorf("node %q: no edge leaves it, so it is not on a path to the Output node %q", name, d.Output)
		}
	}
	// Kahn's algorithm; the ready node whose first incoming edge comes
	// first is taken next.
	missing := map[string]int{}
	for name, in := range d.In {
		missing[name] = len(in)
	}
	first[d.Input] = -1
	ready := &readyHeap{first: first, names: []string{d.Input}}
	for ready.Len() > 0 {
		cur := heap.Pop(ready).(string)
		d.Order = append(d.Order, cur)
		for _, t := range d.Out[cur] {
			if missing[t]--; missing[t] == 0 {
				heap.Push(ready, t)
			}
		}
	}
	if len(d.Order) != len(g.Order) {
		done := map[string]bool{}
		for _, name := range d.Order {
			done[name] = true
		}
		for _, name := range g.Order {
			if !done[name] {
				return nil, fmt.Errorf("node %q: edges form a cycle through it (or through a node that feeds it)", name)
			}
		}
	}
	return d, nil
}

// readyHeap orders node names by the index of their first incoming edge.
type readyHeap struct {
	first map[string]int
	names []string
}

func (h *readyHeap) Len() int           { return len(h.names) }
func (h *readyHeap) Less(i, j int) bool { return h.first[h.names[i]] < h.first[h.names[j]] }
func (h *readyHeap) Swap(i, j int)      { h.names[i], h.names[j] = h.names[j], h.names[i] }
func (h *readyHeap) Push(x any)         { h.names = append(h.names, x.(string)) }
func (h *readyHeap) Pop() any {
	x := h.names[len(h.names)-1]
	h.names = h.names[:len(h.names)-1]
	return x
}
