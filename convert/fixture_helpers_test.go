package convert_test

// The LeNet fixture helpers live in internal/fixture, shared with the other
// packages that check against it.

import (
	"testing"

	"github.com/evsnn/evsnn/internal/fixture"
	"github.com/evsnn/evsnn/network"
)

type expected = fixture.Expected

func repoRoot() string { return fixture.Root() }

func loadMNIST(tb testing.TB, split string, n int) ([]float32, []int) {
	return fixture.MNIST(tb, split, n)
}

func loadLeNet(tb testing.TB) *network.Network { return fixture.LeNet(tb) }

func loadExpected(tb testing.TB) *expected { return fixture.LoadExpected(tb) }
