package testenv

import "os"

// Full reports whether EVSNN_FULL=1 asks for the long checks (all 10k
// images, every T): they are too slow for CI and run by hand.
func Full() bool { return os.Getenv("EVSNN_FULL") == "1" }
