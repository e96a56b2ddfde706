//go:build amd64 && !purego

#include "textflag.h"

// func sparseEventsAVX(acc *float32, touched, top *uint64, evs *ev, nev int, ptr *int32, targets *int32, weights *float32)
// For each event e of evs[:nev] (pos int32, amp float32) and each synapse i
// in ptr[e.pos] ≤ i < ptr[e.pos+1]:
//	acc[targets[i]] += amp·weights[i]   (product rounded, then added)
// and, when touched is not nil, sets bit targets[i] of touched, and when
// top is not nil too, bit targets[i]>>6 of top (a two-level set). The plan
// checked every target against acc and every list against ptr, so nothing
// is checked here. Unrolled by four; scalar, as the targets are arbitrary.
TEXT ·sparseEventsAVX(SB), NOSPLIT, $0-64
	MOVQ acc+0(FP), DI
	MOVQ touched+8(FP), R8
	MOVQ top+16(FP), R12
	MOVQ evs+24(FP), R9
	MOVQ nev+32(FP), R10
	MOVQ ptr+40(FP), R11
	MOVQ targets+48(FP), SI
	MOVQ weights+56(FP), DX
	TESTQ R8, R8
	JEQ  p_event
	TESTQ R12, R12
	JNE  t_event
	JMP  m_event

p_event:
	TESTQ        R10, R10
	JEQ          done
	MOVLQSX      (R9), AX          // pos
	VBROADCASTSS 4(R9), X0         // amp
	MOVLQSX      (R11)(AX*4), CX   // first synapse
	MOVLQSX      4(R11)(AX*4), BX  // end
	ADDQ         $8, R9
	DECQ         R10
	LEAQ         -3(BX), R12
	LEAQ         -1(BX), R15

p_four:
	CMPQ    CX, R12
	JGE     p_two
	MOVLQSX (SI)(CX*4), AX
	MOVLQSX 4(SI)(CX*4), R13
	MOVLQSX 8(SI)(CX*4), R14
	VMULSS  (DX)(CX*4), X0, X1
	VMULSS  4(DX)(CX*4), X0, X2
	VMULSS  8(DX)(CX*4), X0, X3
	VADDSS  (DI)(AX*4), X1, X1
	VMOVSS  X1, (DI)(AX*4)
	MOVLQSX 12(SI)(CX*4), AX
	VMULSS  12(DX)(CX*4), X0, X4
	VADDSS  (DI)(R13*4), X2, X2
	VMOVSS  X2, (DI)(R13*4)
	VADDSS  (DI)(R14*4), X3, X3
	VMOVSS  X3, (DI)(R14*4)
	VADDSS  (DI)(AX*4), X4, X4
	VMOVSS  X4, (DI)(AX*4)
	ADDQ    $4, CX
	JMP     p_four

p_two:
	CMPQ    CX, R15
	JGE     p_one
	MOVLQSX (SI)(CX*4), AX
	MOVLQSX 4(SI)(CX*4), R13
	VMULSS  (DX)(CX*4), X0, X1
	VMULSS  4(DX)(CX*4), X0, X2
	VADDSS  (DI)(AX*4), X1, X1
	VMOVSS  X1, (DI)(AX*4)
	VADDSS  (DI)(R13*4), X2, X2
	VMOVSS  X2, (DI)(R13*4)
	ADDQ    $2, CX
	JMP     p_two

p_one:
	CMPQ    CX, BX
	JGE     p_event
	MOVLQSX (SI)(CX*4), AX
	VMULSS  (DX)(CX*4), X0, X1
	VADDSS  (DI)(AX*4), X1, X1
	VMOVSS  X1, (DI)(AX*4)
	JMP     p_event

m_event:
	TESTQ        R10, R10
	JEQ          done
	MOVLQSX      (R9), AX
	VBROADCASTSS 4(R9), X0
	MOVLQSX      (R11)(AX*4), CX
	MOVLQSX      4(R11)(AX*4), BX
	ADDQ         $8, R9
	DECQ         R10
	MOVQ         $1, R14

m_syn:
	CMPQ    CX, BX
	JGE     m_event
	MOVLQSX (SI)(CX*4), AX
	VMULSS  (DX)(CX*4), X0, X1
	VADDSS  (DI)(AX*4), X1, X1
	VMOVSS  X1, (DI)(AX*4)
	SHLXQ   AX, R14, R13           // 1 << (t & 63)
	SHRQ    $6, AX
	ORQ     R13, (R8)(AX*8)
	INCQ    CX
	JMP     m_syn

	// Two levels: the word's bit in top as well.
t_event:
	TESTQ        R10, R10
	JEQ          done
	MOVLQSX      (R9), AX
	VBROADCASTSS 4(R9), X0
	MOVLQSX      (R11)(AX*4), CX
	MOVLQSX      4(R11)(AX*4), BX
	ADDQ         $8, R9
	DECQ         R10
	MOVQ         $1, R14

t_syn:
	CMPQ    CX, BX
	JGE     t_event
	MOVLQSX (SI)(CX*4), AX
	VMULSS  (DX)(CX*4), X0, X1
	VADDSS  (DI)(AX*4), X1, X1
	VMOVSS  X1, (DI)(AX*4)
	SHLXQ   AX, R14, R13
	SHRQ    $6, AX
	ORQ     R13, (R8)(AX*8)
	SHLXQ   AX, R14, R13           // 1 << (word & 63)
	SHRQ    $6, AX
	ORQ     R13, (R12)(AX*8)
	INCQ    CX
	JMP     t_syn

done:
	VZEROUPPER
	RET
