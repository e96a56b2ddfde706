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

// func sparseEventsTailAVX(acc *float32, evs *ev, nev int, ptr *int32, targets *int32, weights *float32)
// The unmarked path of sparseEventsAVX for short, uneven lists, as a
// pruned layer's are: the last one to three synapses of each event are
// done without branches (each of three lanes takes synapse i, clamped to
// the last of the list, and adds its product to acc or, past the list's
// end, to a scratch slot on the stack), so that a list's length costs one
// unpredictable branch (the end of the loop of four) instead of three; and
// the next event's list bounds and amplitude are loaded while the current
// one runs, so that a mispredicted end does not wait for them.
TEXT ·sparseEventsTailAVX(SB), NOSPLIT, $8-48
	MOVQ acc+0(FP), DI
	MOVQ evs+8(FP), R9
	MOVQ nev+16(FP), R10
	MOVQ ptr+24(FP), R11
	MOVQ targets+32(FP), SI
	MOVQ weights+40(FP), DX
	LEAQ scratch-8(SP), R8
	TESTQ R10, R10
	JEQ   e_done
	// The first event's bounds in R12, R15 and amplitude in X5.
	MOVLQSX      (R9), AX
	VBROADCASTSS 4(R9), X5
	MOVLQSX      (R11)(AX*4), R12
	MOVLQSX      4(R11)(AX*4), R15

e_event:
	MOVQ    R12, CX                // this event
	MOVQ    R15, BX
	VMOVAPS X5, X0
	DECQ    R10
	JEQ     e_last
	MOVLQSX      8(R9), AX         // the next one's
	VBROADCASTSS 12(R9), X5
	MOVLQSX      (R11)(AX*4), R12
	MOVLQSX      4(R11)(AX*4), R15

e_last:
	ADDQ    $8, R9
	CMPQ    CX, BX
	JGE     e_next                 // no synapses

e_four:
	LEAQ    4(CX), R13
	CMPQ    R13, BX
	JGT     e_tail
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
	JMP     e_four

	// 0–3 synapses left (CX ≤ BX): lanes CX, CX+1, CX+2, each index
	// clamped to the last synapse BX−1 and, past it, the sum going to the
	// scratch (one compare sets both).
e_tail:
	LEAQ    -1(BX), R14

	LEAQ    0(CX), R13
	CMPQ    R13, R14               // past the end ⟺ above the last
	CMOVQGT R14, R13
	MOVLQSX (SI)(R13*4), AX
	LEAQ    (DI)(AX*4), AX
	CMOVQGT R8, AX                 // (the flags of the CMPQ)
	VMULSS  (DX)(R13*4), X0, X1
	VADDSS  (AX), X1, X1
	VMOVSS  X1, (AX)

	LEAQ    1(CX), R13
	CMPQ    R13, R14               // past the end ⟺ above the last
	CMOVQGT R14, R13
	MOVLQSX (SI)(R13*4), AX
	LEAQ    (DI)(AX*4), AX
	CMOVQGT R8, AX                 // (the flags of the CMPQ)
	VMULSS  (DX)(R13*4), X0, X2
	VADDSS  (AX), X2, X2
	VMOVSS  X2, (AX)

	LEAQ    2(CX), R13
	CMPQ    R13, R14               // past the end ⟺ above the last
	CMOVQGT R14, R13
	MOVLQSX (SI)(R13*4), AX
	LEAQ    (DI)(AX*4), AX
	CMOVQGT R8, AX                 // (the flags of the CMPQ)
	VMULSS  (DX)(R13*4), X0, X3
	VADDSS  (AX), X3, X3
	VMOVSS  X3, (AX)

e_next:
	TESTQ   R10, R10
	JNE     e_event

e_done:
	VZEROUPPER
	RET
