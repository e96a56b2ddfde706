// Package onnx imports a trained CNN from an ONNX file into a
// network.Network (SPEC §1).
//
// It reads what PyTorch's exporter (torch.onnx.export, opsets 9 to 18)
// writes for the feed-forward networks evsnn converts: a chain of
// convolutions, ReLUs, average pools, flattens and fully connected layers
// from a single float input [N,C,H,W] (or [N,F]) to a single output.
//
// Supported ONNX ops and how they map:
//
//   - Conv → Conv2d: 2-D, dilations 1, group 1, auto_pad NOTSET (or VALID),
//     pads symmetric per axis; the bias input is optional.
//   - BatchNormalization (inference mode) directly after a Conv (or a
//     Gemm/MatMul) is folded into it: W' = W·g/sqrt(var+eps),
//     b' = (b−mean)·g/sqrt(var+eps)+beta, computed in float64.
//   - Relu → ReLU.
//   - AveragePool → AvgPool2d: no pads of its own; ceil_mode=1 only where it
//     gives the floor output size. GlobalAveragePool → AvgPool2d over the
//     whole map.
//   - Pad with all-zero pads (what PyTorch writes before each AveragePool;
//     pads from a Constant node, an initializer, or the opset<11 attribute)
//     is dropped; nonzero pads are an error.
//   - Gemm → Linear (transA 0, transB 0 or 1, alpha and beta folded into
//     the weights and bias); MatMul by a constant [F,K] → Linear, and a
//     following Add of a constant is its bias (an Add of a per-channel
//     constant after a Conv is folded the same way).
//   - Flatten (axis 1) → Flatten; Reshape to [N,-1] / [-1,C·H·W] with the
//     shape a constant or computed by the Shape→Gather→Unsqueeze→Concat
//     chain of x.view(x.size(0), -1) → Flatten.
//   - Identity and Dropout are dropped; Constant nodes supply values.
//
// Anything else — another op, a branch, a residual Add of two activations,
// a node in another domain, weights stored outside the file — stops the
// import with an *Error that names the node (or initializer) and says
// what is wrong, in one line. errors.Is(err, ErrUnsupported) tells a model
// evsnn cannot represent from a malformed file. Decode checks sizes before
// it allocates, so a hostile file cannot make it allocate more than a small
// multiple of its own size, and it never panics.
//
// Layers are named like PyTorch modules: conv1, relu1, pool1, flatten,
// fc1, ... The network's Meta.Source is "onnx:<file base name>".
//
// The Go types in onnxpb are generated from ONNX's onnx.proto (copied from
// Debian's libonnx-dev 1.12) by protoc and protoc-gen-go; the generated
// file is committed, so building needs neither.
package onnx

//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) -I onnxpb --go_out=onnxpb --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/evsnn/evsnn/format/onnx/onnxpb onnxpb/onnx.proto"
