//go:build amd64 && !purego

#include "textflag.h"

// func axpyRowsAVX(a float32, x *float32, xStride int, y *float32, yStride int, n int, rows int)
// For r < rows: y[r·yStride + i] += a·x[r·xStride + i], i < n (strides in
// float32s, may be negative). The caller checks the bounds. Each product is
// rounded to float32 before the add (VMULPS then VADDPS, no FMA), so the
// result is bit for bit that of gonum's SSE AxpyUnitary and of the Go loop.
TEXT ·axpyRowsAVX(SB), NOSPLIT, $0-56
	VBROADCASTSS a+0(FP), Y0
	MOVQ x+8(FP), R8
	MOVQ xStride+16(FP), R9
	SHLQ $2, R9
	MOVQ y+24(FP), R10
	MOVQ yStride+32(FP), R11
	SHLQ $2, R11
	MOVQ n+40(FP), R12
	MOVQ rows+48(FP), R13

rows:
	TESTQ R13, R13
	JE    rdone
	MOVQ  R8, SI
	MOVQ  R10, DI
	MOVQ  R12, CX

r32:
	CMPQ CX, $32
	JL   r8
	VMULPS (SI), Y0, Y1
	VMULPS 32(SI), Y0, Y2
	VMULPS 64(SI), Y0, Y3
	VMULPS 96(SI), Y0, Y4
	VADDPS (DI), Y1, Y1
	VADDPS 32(DI), Y2, Y2
	VADDPS 64(DI), Y3, Y3
	VADDPS 96(DI), Y4, Y4
	VMOVUPS Y1, (DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  r32

r8:
	CMPQ CX, $8
	JL   r1
	VMULPS (SI), Y0, Y1
	VADDPS (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  r8

r1:
	TESTQ CX, CX
	JE    rnext
	VMOVSS (SI), X1
	VMULSS X0, X1, X1
	VADDSS (DI), X1, X1
	VMOVSS X1, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  r1

rnext:
	ADDQ R9, R8
	ADDQ R11, R10
	DECQ R13
	JMP  rows

rdone:
	VZEROUPPER
	RET

// func cpuHasAVX() bool
// CPUID.1:ECX.OSXSAVE[27] and AVX[28], and the OS saves the XMM and YMM
// state (XGETBV(0) bits 1 and 2).
TEXT ·cpuHasAVX(SB), NOSPLIT, $0-1
	MOVL $1, AX
	MOVL $0, CX
	CPUID
	MOVL CX, BX
	ANDL $0x18000000, BX
	CMPL BX, $0x18000000
	JNE  no
	MOVL $0, CX
	XGETBV
	ANDL $6, AX
	CMPL AX, $6
	JNE  no
	MOVB $1, ret+0(FP)
	RET
no:
	MOVB $0, ret+0(FP)
	RET
