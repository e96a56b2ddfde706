//go:build amd64 && !purego

#include "textflag.h"

// func stepAVX2(v, acc, drift, theta *float32, bits *uint8, n int, alpha float32, flags int)
// One step of n (a multiple of 8) neurons: I = acc + drift (acc zeroed
// after) when flags&4, else I = drift; v = alpha*v + I (the multiply only
// when flags&2, rounded before the add); spike = v >= theta; soft reset
// v -= theta (flags&1 == 0) or hard reset v = 0 (flags&1); one bit per
// neuron in bits.
TEXT ·stepAVX2(SB), NOSPLIT, $0-64
	MOVQ         v+0(FP), DI
	MOVQ         acc+8(FP), SI
	MOVQ         drift+16(FP), DX
	MOVQ         theta+24(FP), R8
	MOVQ         bits+32(FP), R10
	MOVQ         n+40(FP), CX
	VBROADCASTSS alpha+48(FP), Y7
	MOVQ         flags+56(FP), R9
	VXORPS       Y6, Y6, Y6

s_loop:
	CMPQ    CX, $8
	JLT     s_done
	VMOVUPS (DX), Y1
	TESTQ   $4, R9
	JEQ     s_noacc
	VADDPS  (SI), Y1, Y1
	VMOVUPS Y6, (SI)
	ADDQ    $32, SI

s_noacc:
	VMOVUPS (DI), Y0
	TESTQ   $2, R9
	JEQ     s_noleak
	VMULPS  Y7, Y0, Y0

s_noleak:
	VADDPS  Y1, Y0, Y0
	VMOVUPS (R8), Y2
	VCMPPS  $0x1D, Y2, Y0, Y3
	TESTQ   $1, R9
	JNE     s_hard
	VANDPS  Y3, Y2, Y4
	VSUBPS  Y4, Y0, Y0
	JMP     s_store

s_hard:
	VANDNPS Y0, Y3, Y0

s_store:
	VMOVUPS   Y0, (DI)
	VMOVMSKPS Y3, AX
	MOVB      AL, (R10)
	ADDQ      $32, DI
	ADDQ      $32, DX
	ADDQ      $32, R8
	INCQ      R10
	SUBQ      $8, CX
	JMP       s_loop

s_done:
	VZEROUPPER
	RET

// func convGroupAVX2(acc *float32, yStride int, n int, rows int, w *float32, wStride int, offs *int32, amps *float32, m int)
// For r < rows, i < n:
//	acc[r*yStride + i] += amps[0]*w[offs[0] + r*wStride + i]
//	                   += amps[1]*w[offs[1] + r*wStride + i] ... (in order)
// i.e. m row-adds into the same target rows, done with the target kept in
// registers: per element the same sequence of rounded products and adds
// as m separate axpyRows calls.
TEXT ·convGroupAVX2(SB), NOSPLIT, $0-72
	MOVQ acc+0(FP), DI
	MOVQ yStride+8(FP), R8
	MOVQ n+16(FP), R9
	MOVQ rows+24(FP), R10
	MOVQ w+32(FP), SI
	MOVQ wStride+40(FP), R11
	MOVQ offs+48(FP), R12
	MOVQ amps+56(FP), R13
	MOVQ m+64(FP), R14
	SHLQ $2, R8
	SHLQ $2, R11

g_row:
	TESTQ R10, R10
	JEQ   g_done
	XORQ  BX, BX            // byte offset within the row
	MOVQ  R9, DX            // elements left

	// 64 elements at a time: eight accumulators, so that the per-event
	// work (broadcast, offset, address) is spread over eight vectors.
g_chunk64:
	CMPQ    DX, $64
	JLT     g_chunk32
	VMOVUPS (DI)(BX*1), Y0
	VMOVUPS 32(DI)(BX*1), Y1
	VMOVUPS 64(DI)(BX*1), Y2
	VMOVUPS 96(DI)(BX*1), Y3
	VMOVUPS 128(DI)(BX*1), Y8
	VMOVUPS 160(DI)(BX*1), Y9
	VMOVUPS 192(DI)(BX*1), Y10
	VMOVUPS 224(DI)(BX*1), Y11
	XORQ    CX, CX
	LEAQ    (SI)(BX*1), R15 // weights of this chunk, offset 0

g_ev64:
	VBROADCASTSS (R13)(CX*4), Y4
	MOVLQSX      (R12)(CX*4), AX
	LEAQ         (R15)(AX*4), AX
	VMULPS       (AX), Y4, Y5
	VMULPS       32(AX), Y4, Y6
	VMULPS       64(AX), Y4, Y7
	VMULPS       96(AX), Y4, Y12
	VADDPS       Y5, Y0, Y0
	VADDPS       Y6, Y1, Y1
	VADDPS       Y7, Y2, Y2
	VADDPS       Y12, Y3, Y3
	VMULPS       128(AX), Y4, Y13
	VMULPS       160(AX), Y4, Y14
	VMULPS       192(AX), Y4, Y15
	VMULPS       224(AX), Y4, Y5
	VADDPS       Y13, Y8, Y8
	VADDPS       Y14, Y9, Y9
	VADDPS       Y15, Y10, Y10
	VADDPS       Y5, Y11, Y11
	INCQ         CX
	CMPQ         CX, R14
	JLT          g_ev64

	VMOVUPS Y0, (DI)(BX*1)
	VMOVUPS Y1, 32(DI)(BX*1)
	VMOVUPS Y2, 64(DI)(BX*1)
	VMOVUPS Y3, 96(DI)(BX*1)
	VMOVUPS Y8, 128(DI)(BX*1)
	VMOVUPS Y9, 160(DI)(BX*1)
	VMOVUPS Y10, 192(DI)(BX*1)
	VMOVUPS Y11, 224(DI)(BX*1)
	ADDQ    $256, BX
	SUBQ    $64, DX
	JMP     g_chunk64

g_chunk32:
	CMPQ    DX, $32
	JLT     g_chunk16
	VMOVUPS (DI)(BX*1), Y0
	VMOVUPS 32(DI)(BX*1), Y1
	VMOVUPS 64(DI)(BX*1), Y2
	VMOVUPS 96(DI)(BX*1), Y3
	XORQ    CX, CX

g_ev32:
	CMPQ         CX, R14
	JGE          g_store32
	VBROADCASTSS (R13)(CX*4), Y4
	MOVLQSX      (R12)(CX*4), AX
	SHLQ         $2, AX
	ADDQ         SI, AX
	ADDQ         BX, AX
	VMULPS       (AX), Y4, Y5
	VMULPS       32(AX), Y4, Y6
	VMULPS       64(AX), Y4, Y7
	VMULPS       96(AX), Y4, Y8
	VADDPS       Y5, Y0, Y0
	VADDPS       Y6, Y1, Y1
	VADDPS       Y7, Y2, Y2
	VADDPS       Y8, Y3, Y3
	INCQ         CX
	JMP          g_ev32

g_store32:
	VMOVUPS Y0, (DI)(BX*1)
	VMOVUPS Y1, 32(DI)(BX*1)
	VMOVUPS Y2, 64(DI)(BX*1)
	VMOVUPS Y3, 96(DI)(BX*1)
	ADDQ    $128, BX
	SUBQ    $32, DX
	JMP     g_chunk32

	// 16 elements (once at most: fewer than 32 are left), so that rows
	// of 16·k floats (16 output channels) take one pass fewer.
g_chunk16:
	CMPQ    DX, $16
	JLT     g_chunk8
	VMOVUPS (DI)(BX*1), Y0
	VMOVUPS 32(DI)(BX*1), Y1
	XORQ    CX, CX

g_ev16:
	CMPQ         CX, R14
	JGE          g_store16
	VBROADCASTSS (R13)(CX*4), Y4
	MOVLQSX      (R12)(CX*4), AX
	SHLQ         $2, AX
	ADDQ         SI, AX
	ADDQ         BX, AX
	VMULPS       (AX), Y4, Y5
	VMULPS       32(AX), Y4, Y6
	VADDPS       Y5, Y0, Y0
	VADDPS       Y6, Y1, Y1
	INCQ         CX
	JMP          g_ev16

g_store16:
	VMOVUPS Y0, (DI)(BX*1)
	VMOVUPS Y1, 32(DI)(BX*1)
	ADDQ    $64, BX
	SUBQ    $16, DX

g_chunk8:
	CMPQ    DX, $8
	JLT     g_chunk1
	VMOVUPS (DI)(BX*1), Y0
	XORQ    CX, CX

g_ev8:
	CMPQ         CX, R14
	JGE          g_store8
	VBROADCASTSS (R13)(CX*4), Y4
	MOVLQSX      (R12)(CX*4), AX
	SHLQ         $2, AX
	ADDQ         SI, AX
	ADDQ         BX, AX
	VMULPS       (AX), Y4, Y5
	VADDPS       Y5, Y0, Y0
	INCQ         CX
	JMP          g_ev8

g_store8:
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ    $32, BX
	SUBQ    $8, DX
	JMP     g_chunk8

g_chunk1:
	TESTQ  DX, DX
	JEQ    g_rowend
	VMOVSS (DI)(BX*1), X0
	XORQ   CX, CX

g_ev1:
	CMPQ    CX, R14
	JGE     g_store1
	VMOVSS  (R13)(CX*4), X4
	MOVLQSX (R12)(CX*4), AX
	SHLQ    $2, AX
	ADDQ    SI, AX
	ADDQ    BX, AX
	VMULSS  (AX), X4, X5
	VADDSS  X5, X0, X0
	INCQ    CX
	JMP     g_ev1

g_store1:
	VMOVSS X0, (DI)(BX*1)
	ADDQ   $4, BX
	DECQ   DX
	JMP    g_chunk1

g_rowend:
	ADDQ R8, DI
	ADDQ R11, SI
	DECQ R10
	JMP  g_row

g_done:
	VZEROUPPER
	RET

// func constStepsAVX2(v, drift, theta *float32, bits *uint8, n int, steps int, bitStride int, alpha float32, flags int)
// steps time steps of n (a multiple of 8) neurons driven by their constant
// current alone, neuron-major: each block of 8 keeps v in a register for
// all steps. Per step exactly stepAVX2 without acc: v = alpha*v (flags&2,
// rounded) + drift; spike = v >= theta; soft reset v -= theta (flags&1 ==
// 0) or hard v = 0; the 8 spike bits of step s go to bits[s*bitStride].
TEXT ·constStepsAVX2(SB), NOSPLIT, $0-72
	MOVQ         v+0(FP), DI
	MOVQ         drift+8(FP), DX
	MOVQ         theta+16(FP), R8
	MOVQ         bits+24(FP), R10
	MOVQ         n+32(FP), CX
	MOVQ         steps+40(FP), R11
	MOVQ         bitStride+48(FP), R12
	VBROADCASTSS alpha+56(FP), Y7
	MOVQ         flags+64(FP), R9

c_block:
	CMPQ    CX, $8
	JLT     c_done
	VMOVUPS (DI), Y0
	VMOVUPS (DX), Y1
	VMOVUPS (R8), Y2
	MOVQ    R10, BX // bits of this block, step 0
	MOVQ    R11, R13

c_step:
	TESTQ  R13, R13
	JEQ    c_blockend
	TESTQ  $2, R9
	JEQ    c_noleak
	VMULPS Y7, Y0, Y0

c_noleak:
	VADDPS Y1, Y0, Y0
	VCMPPS $0x1D, Y2, Y0, Y3
	TESTQ  $1, R9
	JNE    c_hard
	VANDPS Y3, Y2, Y4
	VSUBPS Y4, Y0, Y0
	JMP    c_bits

c_hard:
	VANDNPS Y0, Y3, Y0

c_bits:
	VMOVMSKPS Y3, AX
	MOVB      AL, (BX)
	ADDQ      R12, BX
	DECQ      R13
	JMP       c_step

c_blockend:
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, DX
	ADDQ    $32, R8
	INCQ    R10
	SUBQ    $8, CX
	JMP     c_block

c_done:
	VZEROUPPER
	RET
