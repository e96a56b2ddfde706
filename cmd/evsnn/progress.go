package main

import (
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/evsnn/evsnn/analysis"
)

// progress reports how far a long task is: a bar when stderr is a
// terminal, a log line every few seconds otherwise (CI logs, pipes).
type progress struct {
	g     *Globals
	name  string
	total int
	start time.Time

	mu       sync.Mutex
	lastLog  time.Time
	done     int
	bars     *mpb.Progress
	bar      *mpb.Bar
	finished bool
}

// logEvery is how often a non-terminal progress writes a log line.
const logEvery = 5 * time.Second

// Progress starts reporting a task of total units (images, steps, ...).
// Call Update with the units done so far and Done at the end. It is the
// library's progress callback (analysis.Env.Progress).
func (g *Globals) Progress(name string, total int) analysis.Tracker {
	p := &progress{g: g, name: name, total: total, start: time.Now(), lastLog: time.Now()}
	if !g.Quiet {
		p.bars = mpb.New(mpb.WithOutput(os.Stderr), mpb.WithWidth(40))
		p.bar = p.bars.AddBar(int64(total),
			mpb.PrependDecorators(decor.Name(name+" ", decor.WCSyncSpaceR), decor.CountersNoUnit("%d/%d", decor.WCSyncSpace)),
			mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace), decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO)),
		)
	}
	return p
}

// Update records that done units are finished. It is safe to call from
// several goroutines.
func (p *progress) Update(done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done <= p.done || p.finished {
		return
	}
	p.done = done
	if p.bar != nil {
		p.bar.SetCurrent(int64(done))
		return
	}
	if now := time.Now(); now.Sub(p.lastLog) >= logEvery {
		p.lastLog = now
		elapsed := now.Sub(p.start)
		eta := time.Duration(float64(elapsed) * float64(p.total-done) / float64(done))
		p.g.Log.Info().Str("task", p.name).Int("done", done).Int("total", p.total).
			Dur("elapsed", elapsed.Round(time.Second)).Dur("eta", eta.Round(time.Second)).Msg("progress")
	}
}

// Done ends the report.
func (p *progress) Done() {
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return
	}
	p.finished = true
	bar, bars := p.bar, p.bars
	p.mu.Unlock()
	if bar != nil {
		bar.SetTotal(int64(p.total), true)
		bars.Wait()
	}
}
