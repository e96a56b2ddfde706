//go:build amd64 && !purego

#include "textflag.h"

DATA gl_iota<>+0(SB)/4, $0
DATA gl_iota<>+4(SB)/4, $1
DATA gl_iota<>+8(SB)/4, $2
DATA gl_iota<>+12(SB)/4, $3
DATA gl_iota<>+16(SB)/4, $4
DATA gl_iota<>+20(SB)/4, $5
DATA gl_iota<>+24(SB)/4, $6
DATA gl_iota<>+28(SB)/4, $7
GLOBL gl_iota<>(SB), RODATA|NOPTR, $32

DATA gl_eight<>+0(SB)/4, $8
GLOBL gl_eight<>(SB), RODATA|NOPTR, $4

// func gatherAVX2(v, d, th *float32, one, fan *int32, n int, cand *int32, cv, cd, cth *float32, fused *winCount, cfan *int32, lut *int32) int
// Left-packs the neurons q < n (a multiple of 8) with v[q] >= th[q] or
// d[q] > 0: their index q, v, d, th (and, when one is not nil, the pair
// (one[q], 0) and fan[q]) go to cand, cv, cd, cth (fused, cfan) in
// increasing q; returns how many. Per block of
// 8 the 8-bit mask selects a permutation from lut (256 × 8 int32: the set
// bits' positions in increasing order) that moves the selected lanes to
// the front; whole vectors are stored, so the outputs need 8 elements of
// slack.
TEXT ·gatherAVX2(SB), NOSPLIT, $0-112
	MOVQ v+0(FP), DI
	MOVQ d+8(FP), DX
	MOVQ th+16(FP), R8
	MOVQ one+24(FP), R9
	MOVQ n+40(FP), CX
	MOVQ cand+48(FP), R10
	MOVQ cv+56(FP), R11
	MOVQ cd+64(FP), R12
	MOVQ cth+72(FP), R13
	MOVQ fused+80(FP), R14
	MOVQ lut+96(FP), R15
	XORQ BX, BX // neurons kept
	XORQ SI, SI // byte offset of the block

	// Y8: the indices of the block's lanes; Y9: 8 in every lane.
	VMOVDQU      gl_iota<>(SB), Y8
	VPBROADCASTD gl_eight<>(SB), Y9
	VXORPS       Y10, Y10, Y10

gl_block:
	CMPQ CX, $8
	JLT  gl_done
	VMOVUPS   (DI)(SI*1), Y0
	VMOVUPS   (DX)(SI*1), Y1
	VMOVUPS   (R8)(SI*1), Y2
	VCMPPS    $0x1D, Y2, Y0, Y3 // v >= th
	VCMPPS    $0x1E, Y10, Y1, Y4 // d > 0
	VORPS     Y4, Y3, Y3
	VMOVMSKPS Y3, AX
	SHLQ      $5, AX
	VMOVDQU   (R15)(AX*1), Y5 // permutation
	SHRQ      $5, AX
	POPCNTL   AX, AX
	VPERMPS   Y0, Y5, Y0
	VPERMPS   Y1, Y5, Y1
	VPERMPS   Y2, Y5, Y2
	VPERMD    Y8, Y5, Y6
	VMOVUPS   Y0, (R11)(BX*4)
	VMOVUPS   Y1, (R12)(BX*4)
	VMOVUPS   Y2, (R13)(BX*4)
	VMOVDQU   Y6, (R10)(BX*4)
	TESTQ     R9, R9
	JEQ       gl_next
	VMOVDQU   (R9)(SI*1), Y7
	VPERMD    Y7, Y5, Y7
	// (win, 0) pairs: interleave with zeros within the 128-bit lanes,
	// then put the lanes in order.
	VPUNPCKLDQ Y10, Y7, Y12
	VPUNPCKHDQ Y10, Y7, Y13
	VPERM2I128 $0x20, Y13, Y12, Y14
	VPERM2I128 $0x31, Y13, Y12, Y15
	VMOVDQU    Y14, (R14)(BX*8)
	VMOVDQU    Y15, 32(R14)(BX*8)
	MOVQ      fan+32(FP), R14
	VMOVDQU   (R14)(SI*1), Y7
	VPERMD    Y7, Y5, Y7
	MOVQ      cfan+88(FP), R14
	VMOVDQU   Y7, (R14)(BX*4)
	MOVQ      fused+80(FP), R14

gl_next:
	ADDQ  AX, BX
	VPADDD Y9, Y8, Y8
	ADDQ  $32, SI
	SUBQ  $8, CX
	JMP   gl_block

gl_done:
	MOVQ BX, ret+104(FP)
	VZEROUPPER
	RET
