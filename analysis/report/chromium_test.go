//go:build unix

package report_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evsnn/evsnn/analysis/report"
)

// chromiumFlags keep headless Chromium off the network and away from any
// profile: it only opens the file it is given.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--hide-scrollbars", "--enable-logging=stderr", "--v=0",
}

// chromium returns the browser to test with: $EVSNN_CHROMIUM, or Debian's
// chromium on the PATH.
func chromium() string {
	if p := os.Getenv("EVSNN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// runChromium runs the browser with a fresh profile directory and returns
// its stdout and stderr. The whole process group is killed on timeout.
func runChromium(t *testing.T, bin string, args ...string) (stdout, stderr string) {
	t.Helper()
	profileDir, err := os.MkdirTemp("", "evsnn-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(profileDir)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append(append([]string{}, chromiumFlags...), "--user-data-dir="+profileDir)
	cmd := exec.CommandContext(ctx, bin, append(all, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", bin, err, tail(errb.String(), 40))
	}
	return out.String(), errb.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// consoleProblems returns the browser log lines that report a console
// message, a script error or a failed load. The page has no script, so any
// console message at all is a problem.
func consoleProblems(stderr string) []string {
	var bad []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, ":CONSOLE") || strings.Contains(l, "Uncaught") ||
			strings.Contains(l, "net::ERR_") || strings.Contains(l, "Failed to load resource") {
			bad = append(bad, l)
		}
	}
	return bad
}

// probe is added to a copy of the page (never to the report itself): once
// the page has loaded it records how many figures decoded, and logs an
// error for each one that did not.
const probe = `<script>
window.addEventListener("load", function () {
  var imgs = document.querySelectorAll("img.figure"), ok = 0;
  imgs.forEach(function (img, i) {
    if (img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().width > 100) { ok++; }
    else { console.error("figure " + (i + 1) + " did not render"); }
  });
  document.body.setAttribute("data-figures", ok + "/" + imgs.length);
});
</script>
</body>`

// TestChromium renders a report in headless Chromium: the page must load
// with no console message, show every figure, and give a screenshot with
// content. It is skipped when Chromium is not installed (Debian:
// apt-get install -y chromium).
func TestChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no browser")
	}
	bin := chromium()
	if bin == "" {
		t.Skip("chromium not found (Debian: apt-get install -y chromium; or set EVSNN_CHROMIUM)")
	}
	dir := t.TempDir()
	r := sample(t)
	page := filepath.Join(dir, "report.html")
	if err := report.Write(page, r); err != nil {
		t.Fatal(err)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	// One browser run (a start costs seconds): load a copy of the page with
	// the probe, take a screenshot and dump the DOM once it has loaded. The
	// probe changes nothing on screen.
	probed := filepath.Join(dir, "probe.html")
	if err := os.WriteFile(probed, bytes.Replace(html, []byte("</body>"), []byte(probe), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "screenshot.png")
	dom, stderr := runChromium(t, bin, "--screenshot="+shot, "--dump-dom", "--virtual-time-budget=10000",
		"--window-size=1280,2400", "file://"+probed)
	if bad := consoleProblems(stderr); len(bad) > 0 {
		t.Errorf("console messages while loading the report:\n%s", strings.Join(bad, "\n"))
	}

	// The figures decode and are laid out.
	m := regexp.MustCompile(`data-figures="(\d+)/(\d+)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run; DOM starts:\n%.600s", dom)
	}
	if want := len(r.Figures); m[1] != m[2] || m[2] != strconv.Itoa(want) {
		t.Errorf("%s of %s figures rendered, the report has %d", m[1], m[2], want)
	}
	if !strings.Contains(dom, "<h1>"+r.Title+"</h1>") {
		t.Error("title missing from the DOM")
	}

	// The screenshot shows content, not a blank or error page: many
	// colours and a good share of non-white pixels.
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v\nstderr:\n%s", err, tail(stderr, 20))
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	rb := img.Bounds()
	if rb.Dx() != 1280 || rb.Dy() != 2400 {
		t.Errorf("screenshot is %v", rb)
	}
	colours, ink, total := map[uint32]bool{}, 0, 0
	for y := rb.Min.Y; y < rb.Max.Y; y += 2 {
		for x := rb.Min.X; x < rb.Max.X; x += 2 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			colours[cr>>11<<10|cg>>11<<5|cb>>11] = true
			if cr < 0xf000 || cg < 0xf000 || cb < 0xf000 {
				ink++
			}
			total++
		}
	}
	if len(colours) < 40 || ink < total/50 {
		t.Errorf("screenshot looks empty: %d colours, %d of %d pixels not white", len(colours), ink, total)
	}
	if *keep != "" {
		for name, data := range map[string][]byte{"report.html": html, "screenshot.png": b} {
			if err := os.WriteFile(filepath.Join(*keep, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
