package calibrate

import (
	"context"
	"errors"
	"testing"
)

// A cancelled context stops the calibration with its error, naming the
// layer, and returns no network.
func TestCalibrateContextCancelled(t *testing.T) {
	net := smallNet(3)
	images := randomImages(4, 16, net.Input.Size())
	light, err := ParseMethod("light")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	snn, rep, err := CalibrateContext(ctx, net, images, Options{T: 4, Method: light})
	if !errors.Is(err, context.Canceled) || snn != nil || rep != nil {
		t.Fatalf("got %v, %v, %v; want context.Canceled and nothing", snn, rep, err)
	}
	// The same call without cancellation succeeds.
	if _, _, err := CalibrateContext(context.Background(), net, images, Options{T: 4, Method: light}); err != nil {
		t.Fatal(err)
	}
}
