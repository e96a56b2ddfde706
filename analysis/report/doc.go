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
//
// For an analysis.Analysis (what `evsnn report` and `evsnn demo` make),
// WriteRun writes the whole report directory — report.html, profile.json,
// compare.json, the CSV files and every figure — rendering everything
// before it writes the first file; RunFigures, RunSettings and
// CompareTables are its parts, WriteFigures writes the figures alone
// (`evsnn profile --plots`).
package report
