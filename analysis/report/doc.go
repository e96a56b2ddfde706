// Package report writes one self-contained HTML page about a run: the
// settings and versions that produced it, key results, the profile's
// tables (analysis/profile), any further tables (such as a comparison of
// the ANN and the two engines) and figures (analysis/plot) embedded as
// data: URLs. The page has no script and loads nothing: it can be mailed,
// archived or opened offline.
//
// StandardFigures draws the figures of a profile; Panels gathers the
// activation-vs-rate data of a run; Versions states the Go and module
// versions for the settings.
package report
