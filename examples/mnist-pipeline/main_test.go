package main

import "testing"

func TestPipeline(t *testing.T) {
	acc, err := run(16, 100, 128)
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.9 {
		t.Errorf("accuracy %.3f after 16 steps on 100 images, want ≥ 0.9", acc)
	}
}
