//go:build hdf5

package main

// With the hdf5 tag, every command that takes a MODEL also reads NIR files.
func init() {
	modelLoaders = append(modelLoaders, modelLoader{name: "NIR", sniff: isNIRFile, load: loadNIR})
}
