// Package onnx imports a trained CNN from an ONNX file into a
// network.Network (SPEC §1): a chain, or a directed acyclic graph
// (Network.Inputs) for residual networks.
//
// It reads what PyTorch's exporter (torch.onnx.export, opsets 9 to 18)
// writes for the feed-forward networks evsnn converts — LeNet- and
// VGG-style chains, torchvision-style ResNets with basic blocks — from a
// single float input [N,C,H,W] (or [N,F]) to a single output.
//
// Supported ONNX ops and how they map:
//
//   - Conv → Conv2d: 2-D, dilations 1, group 1, auto_pad NOTSET (or VALID),
//     pads symmetric per axis; the bias input is optional.
//   - Gemm → Linear (transA 0, transB 0 or 1, alpha and beta folded into
//     the weights and bias); MatMul by a constant [F,K] → Linear.
//   - Relu → ReLU.
//   - MaxPool → MaxPool2d: kernel_shape, strides, symmetric pads of at most
//     half the kernel; storage_order 0; dilations 1; its Indices output
//     unused; ceil_mode=1 only where it gives the floor mode's output size.
//   - AveragePool → AvgPool2d: the same geometry rules, pads with
//     count_include_pad as given.
//   - GlobalAveragePool → GlobalAvgPool.
//   - Add of two activations of one shape → Add (the residual join); a
//     chain of Adds read by nothing else becomes one Add of all branches.
//   - Flatten (axis 1) → Flatten; Reshape to [N,-1] / [-1,C·H·W] with the
//     shape a constant or computed by the Shape→Gather→Unsqueeze→Concat
//     chain of x.view(x.size(0), -1) → Flatten.
//   - Constant nodes and initializers supply values; Identity and Dropout
//     (inference mode) are dropped.
//
// Folded at import, in float64 and rounded to float32 once:
//
//   - BatchNormalization (inference mode) that reads a Conv or Gemm/MatMul
//     whose result nothing else reads — on the main path or a shortcut —
//     goes into its weights: W' = W·g/sqrt(var+eps),
//     b' = (b−mean)·g/sqrt(var+eps)+beta.
//   - Add of a constant is a bias: a scalar or per-channel constant ([C,1,1],
//     [1,C,1,1]; [K] or [1,K] on a vector) is added to the bias of the
//     Conv, Gemm/MatMul or residual Add it reads, when nothing else reads
//     that layer's result. Anywhere else it is refused: evsnn has no
//     layer for a bare bias.
//   - Pad with all-zero pads (what PyTorch writes before each AveragePool;
//     pads from a Constant node, an initializer, or the opset<11
//     attribute) is dropped. A Pad of zeros on the two spatial axes,
//     symmetric, read by one AveragePool alone (what nn.AvgPool2d(k, s,
//     padding=p) exports) becomes that AvgPool2d's padding with
//     CountIncludePad. Other nonzero pads are refused.
//
// Placement (SPEC §1): Conv → MaxPool → ReLU (and Add → MaxPool → ReLU,
// and Conv → BatchNormalization → MaxPool → ReLU once the BN is folded)
// is imported as Conv → ReLU → MaxPool, exact because ReLU is monotone;
// otherwise a MaxPool must read the input or a ReLU. An Add must feed one
// ReLU, and only it; a Conv or Linear feeds one ReLU or Add; every node
// must lead to the graph output (no dangling branch); the last layer is
// the Linear (or Conv) readout. The imported network passes
// network.Validate.
//
// Anything else — another op (Concat, Mul, Sigmoid, Upsample, ...), a
// placement above, an Add of tensors of different shapes, a BatchNormalization
// after anything but a Conv or Gemm (e.g. after a MaxPool or an Add), a
// node in another domain, weights stored outside the file, a cycle —
// stops the import with an *Error that names the node (or initializer)
// and its op and says what is wrong, in one line. errors.Is(err,
// ErrUnsupported) tells a well-formed model evsnn cannot represent from a
// malformed file. Decode checks sizes before it allocates, so a hostile
// file cannot make it allocate more than a small multiple of its own size,
// and it never panics.
//
// Layers keep the order of the file's nodes (which ONNX requires to be
// topological), but for a reordered MaxPool and ReLU. Their names:
//
//   - a chain gets PyTorch-like names counted by kind, as evsnn always
//     named imported chains: conv1, relu1, pool1 (average or max), gap,
//     flatten, fc1, ...;
//   - a graph gets the PyTorch module path read from the ONNX node name
//     ("/blocks/blocks.1/down/down.0/Conv" → "blocks.1.down.0", "/fc/Gemm"
//     → "fc"): a Conv, Gemm or MatMul is named by its module alone (whose
//     weights are "<name>.weight"); another op by its module and the op in
//     lower case ("/blocks/blocks.0/Relu_1" → "blocks.0.relu_1",
//     "/blocks/blocks.0/Add" → "blocks.0.add", "/stem/stem.2/Relu" →
//     "stem.2.relu"), or the module alone when its name says the op already
//     (torchvision's "/relu/Relu" → "relu"), or the op alone at the top
//     level ("flatten", "globalaveragepool"). A layer folded away (a
//     BatchNormalization) leaves no name; a node without a name is
//     counted by kind; a repeated name gets "_2", "_3", ...
//
// The network's Meta.Source is "onnx:<file base name>".
//
// The Go types in onnxpb are generated from ONNX's onnx.proto (copied from
// Debian's libonnx-dev 1.12) by protoc and protoc-gen-go; the generated
// file is committed, so building needs neither.
package onnx

//go:generate sh -c "protoc --plugin=protoc-gen-go=$(go tool -n protoc-gen-go) -I onnxpb --go_out=onnxpb --go_opt=paths=source_relative --go_opt=Monnx.proto=github.com/evsnn/evsnn/format/onnx/onnxpb onnxpb/onnx.proto"
